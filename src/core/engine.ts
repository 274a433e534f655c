// Loading the engine: decode and inflate the embedded wasm, compile each build once per realm (the compiled
// WebAssembly.Module is cached and shared by every engine), instantiate it (the module imports nothing), and pick
// the SIMD build wherever the runtime validates its bytes. Each instance owns its memory and its arena.
import { inflateSync } from '../wasm/inflate.js';
import { simdWasmBytes, simdWasmDeflated } from '../wasm/simd.js';
import { scalarWasmBytes, scalarWasmDeflated } from '../wasm/scalar.js';
import { instantiateEngine, instantiateEngineAsync, type Engine } from './instance.js';
import { show } from './describe.js';
import type { EngineOptions } from './public-types.js';

export type { EngineOptions };

export type {
  ElementwiseKernel, ElementwiseKernelName, Engine, Kernels, RegionKernelName, RowKernel, RowKernelName,
} from './instance.js';

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

/**
 * The bytes of a build, decoded once: the builds are embedded deflated (a quarter of the size in the package) and
 * inflated synchronously by fflate's inflateSync (bundled into src/wasm/inflate.ts at build), so createFocalSync works wherever WebAssembly compiles synchronously.
 */
export function buildBytes(build: Build): Uint8Array {
  return (bytesCache[build] ??= build === 'simd'
    ? inflateSync(decodeBase64(simdWasmDeflated), { out: new Uint8Array(simdWasmBytes) })
    : inflateSync(decodeBase64(scalarWasmDeflated), { out: new Uint8Array(scalarWasmBytes) }));
}

/** Feature detection on the real thing: the runtime has 128-bit SIMD when it validates our SIMD build. */
function runtimeHasSimd(): boolean {
  return (simdSupported ??= WebAssembly.validate(buildBytes('simd') as BufferSource));
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

/** Compiles (once) and instantiates a build asynchronously: works on every runtime and browser main thread. */
export async function loadEngine(options?: EngineOptions): Promise<Engine> {
  const build = chooseBuild(options);
  const module = (moduleCache[build] ??= await (compiling[build] ??= WebAssembly.compile(
    buildBytes(build) as BufferSource,
  )));
  return instantiateEngineAsync(module, build === 'simd');
}

/** Compiles (once) and instantiates a build synchronously: Node, workers, and browsers that allow it. */
export function loadEngineSync(options?: EngineOptions): Engine {
  const build = chooseBuild(options);
  const module = (moduleCache[build] ??= compileSync(build));
  return instantiateEngine(module, build === 'simd');
}

/**
 * Synchronous compilation, where the runtime allows it. Some browser main threads refuse it above a size limit
 * (Chrome did above 4 KB before version 114, with a RangeError): that becomes an error saying what to do instead.
 */
function compileSync(build: Build): WebAssembly.Module {
  try {
    return new WebAssembly.Module(buildBytes(build) as BufferSource);
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
  return instantiateEngineAsync(await WebAssembly.compile(bytes as BufferSource), simd);
}
