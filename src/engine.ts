// Loading the engine: decode the embedded wasm, compile each build once per realm (the compiled
// WebAssembly.Module is cached and shared by every engine), instantiate with @assemblyscript/loader, and pick the
// SIMD build wherever the runtime validates its bytes. Each instance owns its memory and its arena.
import { instantiate, instantiateSync } from '@assemblyscript/loader';
import { simdWasmBase64 } from './wasm/simd.js';
import { scalarWasmBase64 } from './wasm/scalar.js';
import { Arena } from './memory.js';

/** The kernels exported by assembly/index.ts (pointers and counts are numbers on this side). */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  sigmoidFocal(
    logits: number, targets: number, weights: number, lossOut: number, gradOut: number, n: number,
    alpha: number, gammaMode: number, gamma: number, gradScale: number, acc: number,
  ): number;
  mapExp(src: number, dst: number, n: number): void;
  mapLog(src: number, dst: number, n: number): void;
  mapLog1p(src: number, dst: number, n: number): void;
  mapSigmoid(src: number, dst: number, n: number): void;
  mapSoftplus(src: number, dst: number, n: number): void;
  mapPow(src: number, dst: number, n: number, y: number): void;
}

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
    throw new TypeError(`options: expected an object such as { simd: false }, got ${describe(options)}`);
  }
  const want = options?.simd;
  if (want !== undefined && typeof want !== 'boolean') {
    throw new TypeError(`options.simd = ${describe(want)}: expected true, false or undefined`);
  }
  if (want === false) return 'scalar';
  const has = runtimeHasSimd();
  if (want === true && !has) throw new RangeError('options.simd = true: this runtime has no WebAssembly SIMD');
  return has ? 'simd' : 'scalar';
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : value === null ? 'null' : typeof value;
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
  const { exports } = await instantiate<Record<string, unknown>>(module, {});
  return makeEngine(exports as unknown as Kernels, build);
}

/** Compiles (once) and instantiates a build synchronously: Node, workers, and browsers that allow it. */
export function loadEngineSync(options?: EngineOptions): Engine {
  const build = chooseBuild(options);
  const module = (moduleCache[build] ??= new WebAssembly.Module(wasmBytes(build) as BufferSource));
  const { exports } = instantiateSync<Record<string, unknown>>(module, {});
  return makeEngine(exports as unknown as Kernels, build);
}

/** Instantiates caller-supplied bytes (the debug build in tests); not part of the public API. */
export async function loadEngineFromBytes(bytes: Uint8Array, simd: boolean): Promise<Engine> {
  const { exports } = await instantiate<Record<string, unknown>>(bytes as BufferSource, {});
  return makeEngine(exports as unknown as Kernels, simd ? 'simd' : 'scalar');
}
