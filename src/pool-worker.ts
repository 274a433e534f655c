// The worker side of createFocalPool (src/pool.ts): one engine per worker, answering the pool's messages. Bundled
// at build time by scripts/build-wasm.mjs into src/wasm/pool-worker.ts (a string), so it starts from a Blob URL
// or Node's `eval: true` with no file path. It runs unchanged as a Web Worker and as a Node worker_threads worker.
import { loadEngineSync, type Engine } from './engine.js';
import { Focal } from './focal.js';
import { CHUNK } from './memory.js';
import { run, type SigmoidPlan } from './sigmoid.js';

/** The pool's requests: start an engine, run whole chunks of a sigmoid call, or run a whole call here. */
export type WorkerRequest =
  | { id: number; kind: 'init'; simd: boolean }
  | { id: number; kind: 'sigmoid'; plan: SigmoidPlan; withGrad: boolean; from: number; to: number }
  | { id: number; kind: 'call'; method: string; args: unknown[] };

/** One reply per request: a value, or an error as its class name and message (rebuilt on the pool's side). */
export type WorkerReply =
  | { id: number; value: unknown }
  | { id: number; error: { name: string; message: string } };

interface Port {
  post(reply: WorkerReply, transfer: Transferable[]): void;
  listen(handle: (request: WorkerRequest) => void): void;
}

/** The channel to the pool: the worker's global scope in browsers, worker_threads' parentPort in Node. */
async function connect(): Promise<Port> {
  const scope = globalThis as unknown as {
    postMessage?: (message: unknown, transfer: Transferable[]) => void;
    addEventListener?: (type: 'message', listener: (event: MessageEvent<WorkerRequest>) => void) => void;
  };
  if (typeof scope.postMessage === 'function' && typeof scope.addEventListener === 'function') {
    return {
      post: (reply, transfer) => scope.postMessage!(reply, transfer),
      listen: (handle) => scope.addEventListener!('message', (event) => handle(event.data)),
    };
  }
  // A variable specifier, so that no bundler tries to resolve a Node built-in for the browser build.
  const specifier = 'node:worker_threads';
  const { parentPort } = (await import(/* @vite-ignore */ specifier)) as typeof import('node:worker_threads');
  if (!parentPort) throw new Error('focal-wasm pool worker: not started as a worker');
  return {
    post: (reply, transfer) => parentPort.postMessage(reply, transfer as never),
    listen: (handle) => parentPort.on('message', handle),
  };
}

let engine: Engine | undefined;
let focal: Focal | undefined;

function serve(request: WorkerRequest): { value: unknown; transfer: Transferable[] } {
  if (request.kind === 'init') {
    engine = loadEngineSync({ simd: request.simd });
    focal = new Focal(engine);
    return { value: engine.simd, transfer: [] };
  }
  if (!engine || !focal) throw new Error('focal-wasm pool worker: no engine (init never arrived)');
  if (request.kind === 'sigmoid') {
    // Whole chunks [from, to) of the caller's call; the outputs are shared, so only the chunk sums travel back.
    const sums = new Float64Array(Math.ceil((request.to - request.from) / CHUNK));
    run(engine, request.plan, request.withGrad, { from: request.from, to: request.to, sums });
    return { value: sums, transfer: [sums.buffer] };
  }
  const method = (focal as unknown as Record<string, (...args: unknown[]) => unknown>)[request.method];
  if (typeof method !== 'function') throw new Error(`focal-wasm pool worker: no method ${request.method}`);
  const value = method.apply(focal, request.args);
  return { value, transfer: transferables(value) };
}

/** The result's own (unshared) buffers move to the pool instead of being copied. */
function transferables(value: unknown): Transferable[] {
  const arrays = value instanceof Float32Array ? [value] : typeof value === 'object' && value !== null
    ? Object.values(value).filter((v): v is Float32Array => v instanceof Float32Array) : [];
  const buffers = arrays.map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  return [...new Set(buffers)];
}

connect().then((port) => {
  port.listen((request) => {
    let reply: WorkerReply;
    let transfer: Transferable[] = [];
    try {
      const served = serve(request);
      reply = { id: request.id, value: served.value };
      transfer = served.transfer;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      reply = { id: request.id, error: { name: error.name, message: error.message } };
    }
    port.post(reply, transfer);
  });
}, (e: unknown) => {
  // Nothing to answer on: make the failure visible as the worker's error event.
  throw e;
});
