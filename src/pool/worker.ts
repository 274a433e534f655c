// The worker side of createFocalPool (src/pool/pool.ts): one engine per worker, running the parts of calls the pool
// planned: whole chunks of an elementwise pass, or whole sum blocks of a row call, through the same drivers as the
// single-thread engine. Bundled at build time by scripts/build-wasm.mjs into src/wasm/pool-worker.ts (a string
// without imports or exports: a module worker, a classic one, or Node's `eval: true`), so it starts with no file
// path. It embeds no wasm: the pool sends the compiled WebAssembly.Module it already has (or, where a runtime cannot
// post a module, the build's bytes).
import { runPass, type ElementwiseCall, type Outputs, type Pass } from '../core/elementwise.js';
import { instantiateEngine, type Engine } from '../core/instance.js';
import type { WasmModule } from '../core/public-types.js';
import { runRows, type RowCall, type RowOutputs } from '../core/rows.js';

/** The pool's requests: start an engine, or run chunks [first, last) of a pass, or rows [first, last) of a call. */
export type WorkerRequest =
  | { id: number; kind: 'init'; simd: boolean; module?: WasmModule; bytes?: Uint8Array }
  | { id: number; kind: 'elementwise'; call: ElementwiseCall; outputs: Outputs; pass: Pass; first: number; last: number }
  | { id: number; kind: 'rows'; call: RowCall; outputs: RowOutputs; first: number; last: number };

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
    engine = instantiateEngine(module, request.simd);
    return { value: engine.simd, transfer: [] };
  }
  if (!engine) throw new Error('focal-wasm pool worker: no engine (init never arrived)');
  // The outputs are shared, so only the per-unit sums travel back.
  const value = request.kind === 'elementwise'
    ? runPass(engine, request.call, request.outputs, request.pass, request.first, request.last, true)
    : runRows(engine, request.call, request.outputs, request.first, request.last, true);
  const sums = [value.sums, 'focalSums' in value ? value.focalSums : undefined].filter((a) => a !== undefined);
  return { value, transfer: sums.map((a) => a.buffer) };
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
