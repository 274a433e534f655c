// An engine from a compiled module: the instance, its kernels and its arena. No wasm bytes here, so the pool's
// worker (src/pool/worker.ts), which receives the compiled WebAssembly.Module from the pool, does not embed them
// again; src/core/engine.ts decodes, compiles and caches the embedded builds.
import { Arena } from './arena.js';
import type { WasmMemory, WasmModule } from './public-types.js';

/** A loss kernel over elements: (stream table, count, parameter block) -> kept count or STATUS_INVALID (abi.ts). */
export type ElementwiseKernel = (streams: number, n: number, params: number) => number;
/** A kernel over rows of `classes`: row i of the call is global row rowBase + i; same status. */
export type RowKernel = (streams: number, rows: number, classes: number, rowBase: number, params: number) => number;

/** The kernels exported by assembly/index.ts (pointers and counts are numbers on this side). */
export interface Kernels {
  memory: WasmMemory;
  heapBase(): number;
  sigmoidFocal: ElementwiseKernel;
  sigmoidFocalMasked: ElementwiseKernel;
  sigmoidFocalStar: ElementwiseKernel;
  qualityFocal: ElementwiseKernel;
  varifocal: ElementwiseKernel;
  polyFocal: ElementwiseKernel;
  asymmetricFocal: ElementwiseKernel;
  binaryFocal: ElementwiseKernel;
  sigmoidMap: ElementwiseKernel;
  /** The whole DETR matching cost matrix (assembly/detr/cost.ts): (stream table, queries, parameter block). */
  focalCostMatrix: ElementwiseKernel;
  softmaxFocal: RowKernel;
  softmaxFocalSoft: RowKernel;
  softmaxRows: RowKernel;
  distributionFocal: RowKernel;
  // Overlap losses (assembly/dice/overlap.ts): one item's positions, classes planar; the row shape with rowBase =
  // the spatial index of the first position.
  diceSums: RowKernel;
  diceGrad: RowKernel;
  // Class-axis layouts (assembly/layout/gather.ts): outer x classes x inner blocks to and from rows.
  layoutGather(src: number, dst: number, outer: number, classes: number, inner: number): void;
  layoutScatter(src: number, dst: number, outer: number, classes: number, inner: number): void;
  // The vector math over whole buffers (assembly/math/elementwise.ts), for the tests of vmath itself.
  mapExp(src: number, dst: number, n: number): void;
  mapExpNonPositive(src: number, dst: number, n: number): void;
  mapExpCapped(src: number, dst: number, n: number): void;
  mapLog(src: number, dst: number, n: number): void;
  mapLog1p(src: number, dst: number, n: number): void;
  mapSigmoid(src: number, dst: number, n: number): void;
  mapSoftplus(src: number, dst: number, n: number): void;
  mapPow(src: number, dst: number, n: number, y: number): void;
  /** The index of the first non-finite float32 at src[0, n), or -1 (the drivers' overflow scan). */
  firstNonFinite(src: number, n: number): number;
}

/** The names of the loss kernels of each shape. */
export type ElementwiseKernelName =
  | 'sigmoidFocal' | 'sigmoidFocalMasked' | 'sigmoidFocalStar' | 'qualityFocal' | 'varifocal' | 'polyFocal'
  | 'binaryFocal' | 'sigmoidMap' | 'asymmetricFocal';
export type RowKernelName = 'softmaxFocal' | 'softmaxFocalSoft' | 'softmaxRows' | 'distributionFocal';
export type RegionKernelName = 'diceSums' | 'diceGrad';

/** One instantiated module: its kernels, its arena, which build it is, and the compiled module it came from. */
export interface Engine {
  readonly kernels: Kernels;
  readonly arena: Arena;
  readonly simd: boolean;
  readonly module: WasmModule;
}

/** Instantiates a compiled build synchronously (the module imports nothing) and lays out its arena. */
export function instantiateEngine(module: WasmModule, simd: boolean): Engine {
  return engineOf(new WebAssembly.Instance(module as WebAssembly.Module, {}), module, simd);
}

/**
 * A pool worker's engine: a build rewritten to import its memory (src/pool/shared-module.ts) on a shared memory
 * the pool also holds, so the pool copies arrays straight into it (see Arena's `pooled`).
 */
export function instantiatePooledEngine(module: WasmModule, simd: boolean, memory: WasmMemory): Engine {
  const instance = new WebAssembly.Instance(module as WebAssembly.Module, { env: { memory: memory as WebAssembly.Memory } });
  const kernels = instance.exports as unknown as Kernels;
  return { kernels, arena: new Arena(kernels.memory, kernels.heapBase(), true), simd, module };
}

/** The same, asynchronously: browser main threads may refuse a synchronous instantiation of a large module. */
export async function instantiateEngineAsync(module: WasmModule, simd: boolean): Promise<Engine> {
  return engineOf(await WebAssembly.instantiate(module as WebAssembly.Module, {}), module, simd);
}

function engineOf(instance: WebAssembly.Instance, module: WasmModule, simd: boolean): Engine {
  const kernels = instance.exports as unknown as Kernels;
  return { kernels, arena: new Arena(kernels.memory, kernels.heapBase()), simd, module };
}
