// Loading the engine: decode the embedded wasm, compile each build once per realm (the compiled
// WebAssembly.Module is cached and shared by every engine), instantiate it (the module imports nothing), and pick
// the SIMD build wherever the runtime validates its bytes. Each instance owns its memory and its arena.
import { simdWasmBase64 } from '../wasm/simd.js';
import { scalarWasmBase64 } from '../wasm/scalar.js';
import { Arena } from './arena.js';
import { show } from './describe.js';

/** A loss kernel over elements: (stream table, count, parameter block) -> kept count or STATUS_INVALID (abi.ts). */
export type ElementwiseKernel = (streams: number, n: number, params: number) => number;
/** A kernel over rows of `classes`: row i of the call is global row rowBase + i; same status. */
export type RowKernel = (streams: number, rows: number, classes: number, rowBase: number, params: number) => number;

/** The kernels exported by assembly/index.ts (pointers and counts are numbers on this side). */
export interface Kernels {
  memory: WebAssembly.Memory;
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
  softmaxFocal: RowKernel;
  softmaxFocalSoft: RowKernel;
  softmaxRows: RowKernel;
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
  | 'asymmetricFocal' | 'binaryFocal' | 'sigmoidMap';
export type RowKernelName = 'softmaxFocal' | 'softmaxFocalSoft' | 'softmaxRows';

/** One instantiated module: its kernels, its arena, and which build it is. */
export interface Engine {
  readonly kernels: Kernels;
  readonly arena: Arena;
  readonly simd: boolean;
}

export interface EngineOptions {
  /** true forces the SIMD build (an error where the runtime lacks SIMD), false the scalar build; default: detect. */
  simd?: boolean;
}

type Build = 'simd' | 'scalar';

const bytesCache: Partial<Record<Build, Uint8Array>> = {};
const moduleCache: Partial<Record<Build, WebAssembly.Module>> = {};
const compiling: Partial<Record<Build, Promise<WebAssembly.Module>>> = {};
let simdSupported: boolean | undefined;

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function wasmBytes(build: Build): Uint8Array {
  return (bytesCache[build] ??= decodeBase64(build === 'simd' ? simdWasmBase64 : scalarWasmBase64));
}

/** Feature detection on the real thing: the runtime has 128-bit SIMD when it validates our SIMD build. */
export function runtimeHasSimd(): boolean {
  return (simdSupported ??= WebAssembly.validate(wasmBytes('simd') as BufferSource));
}

function chooseBuild(options: EngineOptions | undefined): Build {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`options: expected an object such as { simd: false }, got ${show(options)}`);
  }
  const want = options?.simd;
  if (want !== undefined && typeof want !== 'boolean') {
    throw new TypeError(`options.simd = ${show(want)}: expected true, false or undefined`);
  }
  if (want === false) return 'scalar';
  const has = runtimeHasSimd();
  if (want === true && !has) throw new RangeError('options.simd = true: this runtime has no WebAssembly SIMD');
  return has ? 'simd' : 'scalar';
}


function makeEngine(exports: Kernels, build: Build): Engine {
  return { kernels: exports, arena: new Arena(exports.memory, exports.heapBase()), simd: build === 'simd' };
}

/** Compiles (once) and instantiates a build asynchronously: works on every runtime and browser main thread. */
export async function loadEngine(options?: EngineOptions): Promise<Engine> {
  const build = chooseBuild(options);
  const module = (moduleCache[build] ??= await (compiling[build] ??= WebAssembly.compile(
    wasmBytes(build) as BufferSource,
  )));
  const instance = await WebAssembly.instantiate(module, {});
  return makeEngine(instance.exports as unknown as Kernels, build);
}

/** Compiles (once) and instantiates a build synchronously: Node, workers, and browsers that allow it. */
export function loadEngineSync(options?: EngineOptions): Engine {
  const build = chooseBuild(options);
  const module = (moduleCache[build] ??= compileSync(build));
  const instance = new WebAssembly.Instance(module, {});
  return makeEngine(instance.exports as unknown as Kernels, build);
}

/**
 * Synchronous compilation, where the runtime allows it. Some browser main threads refuse it above a size limit
 * (Chrome did above 4 KB before version 114, with a RangeError): that becomes an error saying what to do instead.
 */
function compileSync(build: Build): WebAssembly.Module {
  try {
    return new WebAssembly.Module(wasmBytes(build) as BufferSource);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new Error(
      `createFocalSync: this runtime refuses to compile WebAssembly synchronously on this thread (${e.message}); ` +
        'use `await createFocal()` here, or createFocalSync in a Web Worker',
      { cause: e },
    );
  }
}

/** Instantiates caller-supplied bytes (the debug build in tests); not part of the public API. */
export async function loadEngineFromBytes(bytes: Uint8Array, simd: boolean): Promise<Engine> {
  const { instance } = await WebAssembly.instantiate(bytes as BufferSource, {});
  return makeEngine(instance.exports as unknown as Kernels, simd ? 'simd' : 'scalar');
}
