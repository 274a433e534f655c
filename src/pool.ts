// createFocalPool: the sigmoid focal loss split across workers (Node worker_threads or Web Workers), each with its
// own engine (src/pool-worker.ts). Inputs are shared through SharedArrayBuffer; each worker runs a contiguous range
// of whole chunks (CHUNK elements) and returns one float64 sum per chunk, which are added here in chunk order —
// the order the single-thread loop adds them — so every result is the single-thread engine's, bit for bit.
import { loadEngine, type EngineOptions } from './engine.js';
import { Focal } from './focal.js';
import { CHUNK } from './memory.js';
import { plan, type SigmoidFocalGradOptions, type SigmoidFocalOptions, type SigmoidPlan } from './sigmoid.js';
import { usesFocalExtras } from './sigmoid-variants.js';
import type { SoftmaxFocalGradOptions, SoftmaxFocalOptions, SoftmaxTargets } from './softmax.js';
import { show, type Floats } from './validate.js';
import type { WorkerReply, WorkerRequest } from './pool-worker.js';
import { poolWorkerSource } from './wasm/pool-worker.js';

/** Options of createFocalPool. */
export interface FocalPoolOptions extends EngineOptions {
  /** Number of workers, an integer in [1, 256]. Default: the number of logical cores (navigator.hardwareConcurrency,
   * or os.availableParallelism() in Node). */
  threads?: number;
}

/** How a worker is driven, whichever kind it is. */
interface Thread {
  post(request: WorkerRequest): void;
  terminate(): Promise<void>;
  /** Node only: whether a running worker keeps the process alive (only while a call is in flight). */
  hold(busy: boolean): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type LossAndGrad = { loss: number | Float32Array; grad: Float32Array };

/**
 * A pool of focal-loss engines on worker threads, from createFocalPool. Its methods take the arguments of the
 * matching Focal methods, throw (reject with) the same errors, and resolve to the same results bit for bit.
 * Calls may overlap; each call's work queues behind the calls before it on every worker.
 */
export class FocalPool {
  /** Number of workers. */
  readonly threads: number;
  /** true when the workers run the SIMD build. */
  readonly simd: boolean;
  readonly #threads: Thread[];
  readonly #pending = new Map<number, Pending>();
  /** A main-thread engine of the same build, for the one call a worker cannot take (arguments that cannot be cloned). */
  readonly #local: Focal;
  #nextId: number;
  #closed: Error | undefined;

  /** @internal use createFocalPool(). Request ids below `firstId` were used to start the workers. */
  constructor(threads: Thread[], local: Focal, firstId: number) {
    this.#threads = threads;
    this.#local = local;
    this.threads = threads.length;
    this.simd = local.simd;
    this.#nextId = firstId;
  }

  /**
   * Focal.sigmoidFocalLoss on the pool. Inputs longer than one chunk (16384 elements) are split across the workers
   * at chunk boundaries. Float32Arrays backed by a SharedArrayBuffer are read in place; other inputs are copied
   * into shared memory once per call. With reduction 'none' and no `out`, the losses come back in a Float32Array
   * backed by a SharedArrayBuffer. Calls with mask or class-weight options (SigmoidFocalExtraOptions) run whole
   * on one worker.
   * @throws (rejects with) the TypeError or RangeError that Focal.sigmoidFocalLoss throws for the same arguments;
   *   an Error once the pool is terminated or a worker has died.
   */
  async sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): Promise<number | Float32Array> {
    return (await this.#sigmoid('sigmoidFocalLoss', logits, targets, options, false)).loss;
  }

  /**
   * Focal.sigmoidFocalLossWithGrad on the pool: split and shared as sigmoidFocalLoss. Without `gradOut`, the
   * gradient comes back in a Float32Array backed by a SharedArrayBuffer; with a `gradOut` that is one, the workers
   * write into it directly (no copy).
   * @throws (rejects with) the errors of Focal.sigmoidFocalLossWithGrad, as sigmoidFocalLoss.
   */
  async sigmoidFocalLossWithGrad(
    logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions,
  ): Promise<LossAndGrad> {
    return (await this.#sigmoid('sigmoidFocalLossWithGrad', logits, targets, options, true)) as LossAndGrad;
  }

  /**
   * Focal.softmaxFocalLoss on the pool: the whole call runs on one worker (off the calling thread, not split: the
   * softmax reduction carries its float64 lanes from one chunk of rows to the next, so a split could not be
   * bit-identical). The arguments are copied to the worker; results and errors are Focal.softmaxFocalLoss's.
   */
  async softmaxFocalLoss(
    logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalOptions,
  ): Promise<number | Float32Array> {
    return (await this.#whole('softmaxFocalLoss', [logits, targets, options])).loss;
  }

  /** Focal.softmaxFocalLossWithGrad on the pool, run whole on one worker as softmaxFocalLoss. */
  async softmaxFocalLossWithGrad(
    logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalGradOptions,
  ): Promise<LossAndGrad> {
    return (await this.#whole('softmaxFocalLossWithGrad', [logits, targets, options])) as LossAndGrad;
  }

  /** Ends every worker; calls in flight and later calls reject. Resolves when the workers have stopped. */
  async terminate(): Promise<void> {
    if (!this.#closed) this.#fail(new Error('FocalPool: terminated (create a new pool with createFocalPool)'));
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }

  async #sigmoid(
    method: string, logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean,
  ): Promise<{ loss: number | Float32Array; grad?: Float32Array }> {
    if (this.#closed) throw this.#closed;
    // Masks, class weights and the other variant options: the whole call on one worker (not split).
    if (usesFocalExtras(optionsArg)) return this.#whole(method, [logitsArg, targetsArg, optionsArg]);
    // Every argument check, here, before any work: the same errors as the single-thread engine.
    const p = plan(logitsArg, targetsArg, optionsArg, withGrad);
    const logits = shareInput(p.logits);
    const targets = shareInput(p.targets);
    const weights = p.weights && shareInput(p.weights);
    if (!logits || !targets || weights === null) {
      // A plain array with an entry that is not a number: the single-thread code finds it in its own order.
      return this.#whole(method, [logitsArg, targetsArg, optionsArg]);
    }
    const n = p.n;
    const lossOut = p.reduction === 'none' ? shareOutput(p.out, n) : undefined;
    const gradOut = withGrad ? shareOutput(p.gradOut, n) : undefined;
    const shared: SigmoidPlan = { ...p, logits, targets, weights, out: lossOut, gradOut };

    // Contiguous ranges of whole chunks, as even as chunks allow; worker w takes the w-th range.
    const chunks = Math.ceil(n / CHUNK);
    const parts = Math.min(this.#threads.length, chunks);
    const tasks: Promise<unknown>[] = [];
    for (let w = 0; w < parts; w++) {
      const from = Math.floor((w * chunks) / parts) * CHUNK;
      const to = Math.min(Math.floor(((w + 1) * chunks) / parts) * CHUNK, n);
      tasks.push(this.#send(this.#threads[w]!, { kind: 'sigmoid', plan: shared, withGrad, from, to }));
    }
    // Wait for every part, so that no worker still writes into the outputs once the call has settled.
    const settled = await Promise.allSettled(tasks);
    let total = 0;
    for (const part of settled) {
      // The first failing range holds the first bad element: the error the single-thread loop throws.
      if (part.status === 'rejected') throw part.reason;
      const sums = part.value as Float64Array;
      for (let c = 0; c < sums.length; c++) total += sums[c]!;
    }
    // The outputs and the reduction exactly as src/sigmoid.ts `run` forms them.
    if (lossOut && p.out && lossOut !== p.out) p.out.set(lossOut.subarray(0, n));
    if (gradOut && p.gradOut && gradOut !== p.gradOut) p.gradOut.set(gradOut.subarray(0, n));
    const loss = p.reduction === 'none' ? p.out ?? lossOut! : p.reduction === 'sum' ? total : p.divisor > 0 ? total / p.divisor : 0;
    return { loss, grad: withGrad ? p.gradOut ?? gradOut : undefined };
  }

  /**
   * One call run whole by a worker; out / gradOut are cloned there and copied back here. Arguments that cannot be
   * cloned (a function inside an options object, say) run on the main-thread engine instead: same result or error.
   */
  async #whole(method: string, args: unknown[]): Promise<{ loss: number | Float32Array; grad?: Float32Array }> {
    const thread = this.#threads[this.#nextId % this.#threads.length]!;
    let result: unknown;
    try {
      result = await this.#send(thread, { kind: 'call', method, args });
    } catch (e) {
      if ((e as Error | undefined)?.name !== 'DataCloneError') throw e;
      result = (this.#local as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args);
    }
    const options = args[2] as { out?: unknown; gradOut?: unknown } | undefined;
    if (typeof result === 'number') return { loss: result };
    if (result instanceof Float32Array) return { loss: adopt(result, options?.out) };
    const { loss, grad } = result as LossAndGrad;
    return { loss: loss instanceof Float32Array ? adopt(loss, options?.out) : loss, grad: adopt(grad, options?.gradOut) };
  }

  #send(thread: Thread, request: DistributiveOmit<WorkerRequest, 'id'>): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    const done = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    if (this.#pending.size === 1) for (const t of this.#threads) t.hold(true);
    try {
      thread.post({ ...request, id } as WorkerRequest);
    } catch (e) {
      this.#settle(id, undefined, e instanceof Error ? e : new Error(String(e)));
    }
    return done;
  }

  /** @internal Delivers a worker's reply to the call waiting for it. */
  settleReply(reply: WorkerReply): void {
    this.#settle(reply.id, 'value' in reply ? reply.value : undefined, 'error' in reply ? rebuild(reply.error) : undefined);
  }

  #settle(id: number, value: unknown, error: Error | undefined): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) for (const t of this.#threads) t.hold(false);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /** @internal A worker died or the pool was terminated: every call in flight and every later call rejects. */
  fail(error: Error): void {
    if (!this.#closed) this.#fail(error);
  }

  #fail(error: Error): void {
    this.#closed = error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function isShared(buffer: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
}

function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

/**
 * The input as a Float32Array in shared memory: itself when it already is one, else a copy (float64 rounds to
 * float32 here, as the engine rounds it on the way in). null when a plain array has an entry that is not a number.
 */
function shareInput(values: Floats): Float32Array | null {
  if (values instanceof Float32Array && isShared(values.buffer)) return values;
  const view = sharedFloat32(values.length);
  if (ArrayBuffer.isView(values)) {
    view.set(values as Float32Array | Float64Array);
    return view;
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') return null;
    view[i] = v;
  }
  return view;
}

/** Where the workers write an output: the caller's array when it is shared, else a shared one copied out after. */
function shareOutput(out: Float32Array | undefined, n: number): Float32Array {
  return out && isShared(out.buffer) ? out : sharedFloat32(n);
}

/** A result cloned back from a worker, copied into the caller's out / gradOut when one was given. */
function adopt(result: Float32Array, target: unknown): Float32Array {
  if (!(target instanceof Float32Array)) return result;
  target.set(result);
  return target;
}

function rebuild({ name, message }: { name: string; message: string }): Error {
  const Class = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
  return new Class(message);
}

/** A Node built-in, imported by a variable specifier so that browser bundlers leave it alone. */
function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

interface Spawner {
  spawn(onReply: (reply: WorkerReply) => void, onFailure: (error: Error) => void): Thread;
  cores: number;
  done(): void;
}

/** Web Workers from a Blob URL (browsers, Deno, Bun), or worker_threads with `eval: true` (Node). */
async function spawner(): Promise<Spawner> {
  if (typeof Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function') {
    const url = URL.createObjectURL(new Blob([poolWorkerSource], { type: 'text/javascript' }));
    return {
      cores: globalThis.navigator?.hardwareConcurrency ?? 1,
      done: () => URL.revokeObjectURL(url),
      spawn(onReply, onFailure) {
        const worker = new Worker(url);
        worker.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          onFailure(new Error(`FocalPool: a worker failed: ${event.message || 'it could not start (a Content-Security-Policy without worker-src blob:?)'}`));
        };
        worker.onmessageerror = () => onFailure(new Error('FocalPool: a worker reply could not be deserialized'));
        return {
          post: (request) => worker.postMessage(request),
          terminate: async () => worker.terminate(),
          hold: () => {},
        };
      },
    };
  }
  type WorkerThreads = typeof import('node:worker_threads');
  let threads: WorkerThreads;
  let cores: number;
  try {
    threads = await importNode<WorkerThreads>('node:worker_threads');
    cores = (await importNode<typeof import('node:os')>('node:os')).availableParallelism();
  } catch (e) {
    throw new Error('createFocalPool: this runtime has neither Web Workers nor node:worker_threads', { cause: e });
  }
  return {
    cores,
    done: () => {},
    spawn(onReply, onFailure) {
      const worker = new threads.Worker(poolWorkerSource, { eval: true });
      let terminating = false;
      worker.on('message', onReply);
      worker.on('error', (e) => onFailure(new Error(`FocalPool: a worker failed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => {
        if (!terminating) onFailure(new Error(`FocalPool: a worker exited (code ${code})`));
      });
      worker.unref(); // idle workers never keep the process alive; see hold()
      return {
        post: (request) => worker.postMessage(request),
        terminate: async () => {
          terminating = true;
          await worker.terminate();
        },
        hold: (busy) => (busy ? worker.ref() : worker.unref()),
      };
    },
  };
}

function threadsOption(value: unknown, fallback: number): number {
  if (value === undefined) return Math.max(1, Math.min(256, fallback));
  if (typeof value !== 'number') throw new TypeError(`options.threads = ${show(value)}: expected an integer in [1, 256]`);
  if (!Number.isInteger(value) || value < 1 || value > 256) {
    throw new RangeError(`options.threads = ${show(value)}: expected an integer in [1, 256]`);
  }
  return value;
}

/**
 * Creates a pool of workers, each with its own engine, that split large sigmoid focal-loss calls between them:
 * Node (worker_threads) and browsers (Web Workers, started from a Blob URL; no file path, no bundler config).
 * Results equal the single-thread engine's bit for bit (whole chunks per worker, chunk sums added in order).
 * Needs SharedArrayBuffer: in browsers, a cross-origin isolated page (COOP same-origin + COEP require-corp).
 * End it with `terminate()` (in Node, idle workers never keep the process alive).
 * @param options `threads` (default: the number of cores) and `simd` (as createFocal).
 * @throws (rejects with) TypeError / RangeError for a bad option (as createFocal, plus `threads`); an Error where
 *   SharedArrayBuffer or workers are unavailable, or a worker cannot start.
 */
export async function createFocalPool(options?: FocalPoolOptions): Promise<FocalPool> {
  // The build is chosen (and the simd option checked) exactly as createFocal does; the workers load the same one.
  const engine = await loadEngine(options);
  const { simd } = engine;
  const threadsArg = options?.threads;
  if (typeof SharedArrayBuffer !== 'function' || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    throw new Error(
      'createFocalPool: SharedArrayBuffer is unavailable here. Browsers provide it only to cross-origin isolated ' +
        'pages (serve them with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: ' +
        'require-corp); elsewhere use createFocal()',
    );
  }
  const spawn = await spawner();
  const count = threadsOption(threadsArg, spawn.cores);
  // Replies and failures go to the pool once it exists; until then to the start-up below (init has ids 1..count).
  let pool: FocalPool | undefined;
  const starting: Pending[] = [];
  let failStart: (error: Error) => void = () => {};
  const onReply = (reply: WorkerReply): void => {
    if (pool) return pool.settleReply(reply);
    const waiter = starting[reply.id - 1];
    if ('error' in reply) waiter?.reject(rebuild(reply.error));
    else waiter?.resolve(reply.value);
  };
  const onFailure = (error: Error): void => (pool ? pool.fail(error) : failStart(error));
  const threads = Array.from({ length: count }, () => spawn.spawn(onReply, onFailure));
  try {
    await new Promise<void>((resolve, reject) => {
      failStart = reject;
      const ready = threads.map((thread, i) => new Promise((ok, fail) => {
        starting[i] = { resolve: ok, reject: fail };
        thread.hold(true); // an unref'd worker would let Node exit before it answers
        thread.post({ id: i + 1, kind: 'init', simd });
      }));
      Promise.all(ready).then(() => resolve(), reject);
    });
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate().catch(() => {})));
    throw e;
  } finally {
    spawn.done();
  }
  for (const t of threads) t.hold(false);
  pool = new FocalPool(threads, new Focal(engine), count + 1);
  return pool;
}
