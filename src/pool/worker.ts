// The worker side of createFocalPool (src/pool/pool.ts): one engine per worker, running the parts of calls the pool
// planned: whole chunks of an elementwise pass, or whole sum blocks of a row call, through the same drivers as the
// single-thread engine. Bundled at build time by scripts/build-wasm.mjs into src/wasm/pool-worker.ts (a string
// without imports or exports: a module worker, a classic one, or Node's `eval: true`), so it starts with no file
// path. It embeds no wasm: the pool sends the compiled WebAssembly.Module it already has (or, where a runtime cannot
// post a module, the build's bytes).
import { runPass, type ElementwiseCall, type Outputs, type Pass } from '../core/elementwise.js';
import { instantiateEngine, instantiatePooledEngine, type Engine, type RegionKernelName } from '../core/instance.js';
import type { WasmMemory, WasmModule } from '../core/public-types.js';
import { runRegionPass, type RegionCall } from '../core/regions.js';
import { runRows, type RowCall, type RowOutputs } from '../core/rows.js';

/**
 * Arrays the pool has copied into this worker's memory (byte addresses): they replace the call's inputs (null: that
 * input is not placed; the call then carries an empty array in its place), class indices and outputs (each as long
 * as the call's), and are read and written in place.
 */
export interface Placed {
  inputs: readonly ({ at: number; length: number } | null)[];
  labels?: number;
  loss?: number;
  grad?: number;
}

/**
 * The pool's requests: start an engine (with `memory`: the shared memory of a build rewritten to import it), or
 * run chunks [first, last) of a pass, or rows [first, last) of a call.
 */
export type WorkerRequest =
  | { id: number; kind: 'init'; simd: boolean; module?: WasmModule; bytes?: Uint8Array; memory?: WasmMemory }
  | { id: number; kind: 'elementwise'; call: ElementwiseCall; outputs: Outputs; pass: Pass; first: number; last: number; placed?: Placed }
  | { id: number; kind: 'rows'; call: RowCall; outputs: RowOutputs; first: number; last: number; placed?: Placed }
  | {
    id: number; kind: 'regions'; call: RegionCall; kernel: RegionKernelName; coefs?: Float32Array; keepSoftmax: boolean;
    first: number; last: number;
  };

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

function serve(request: WorkerRequest): { value: unknown; transfer: Transferable[] } {
  if (request.kind === 'init') {
    const module = request.module ?? new WebAssembly.Module(request.bytes! as BufferSource);
    engine = request.memory ? instantiatePooledEngine(module, request.simd, request.memory) : instantiateEngine(module, request.simd);
    return { value: engine.simd, transfer: [] };
  }
  if (!engine) throw new Error('focal-wasm pool worker: no engine (init never arrived)');
  // The outputs are shared (or placed in this worker's memory), so only the per-unit sums travel back.
  let value;
  if (request.kind === 'regions') {
    // Items [first, last) of one pass of an overlap loss (its arrays are shared).
    const { call, kernel, coefs, keepSoftmax, first, last } = request;
    const result = runRegionPass(engine, call, kernel, coefs, keepSoftmax, first, last);
    return { value: result, transfer: [result.sums.buffer] };
  }
  // The pool's thread may have grown this worker's memory since the last request: views made after this see it all.
  if (request.placed) engine.arena.refresh();
  if (request.kind === 'elementwise') {
    const { call, placed } = request;
    const outputs = placeOutputs(engine, request.outputs, placed, call.n, call.n);
    value = runPass(engine, placeCall(engine, call, placed), outputs, request.pass, request.first, request.last, true);
  } else {
    const { call, placed } = request;
    const outputs = placeOutputs(engine, request.outputs, placed, call.lossPer === 'row' ? call.rows : call.rows * call.classes, call.rows * call.classes);
    value = runRows(engine, placeCall(engine, call, placed), outputs, request.first, request.last, true);
  }
  const sums = [value.sums, 'focalSums' in value ? value.focalSums : undefined].filter((a) => a !== undefined);
  return { value, transfer: sums.map((a) => a.buffer) };
}

/** The call with its placed arrays as views of this worker's memory (in place: see Arena's `pooled`). */
function placeCall<C extends ElementwiseCall | RowCall>(engine: Engine, call: C, placed: Placed | undefined): C {
  if (!placed) return call;
  const { arena } = engine;
  const inputs = call.inputs.map((input, k) => {
    const place = placed.inputs[k];
    return place ? { ...input, values: new Float32Array(arena.buffer, place.at, place.length) } : input;
  });
  const labels = placed.labels === undefined || !('rows' in call) ? undefined : new Int32Array(arena.buffer, placed.labels, call.rows);
  return { ...call, inputs, ...(labels ? { labels } : {}) };
}

/** The outputs, those placed as views of this worker's memory (written in place). */
function placeOutputs(engine: Engine, outputs: Outputs, placed: Placed | undefined, lossLength: number, gradLength: number): Outputs {
  if (!placed) return outputs;
  const buffer = engine.arena.buffer;
  return {
    loss: placed.loss === undefined ? outputs.loss : new Float32Array(buffer, placed.loss, lossLength),
    grad: placed.grad === undefined ? outputs.grad : new Float32Array(buffer, placed.grad, gradLength),
  };
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
