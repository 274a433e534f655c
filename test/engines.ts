// The builds every kernel test runs on: the SIMD and scalar release builds through the public API, and the
// debug build (assertions kept, abort messages decoded by the loader) through the internal loader.
import { readFileSync } from 'node:fs';
import { createFocal, type Focal } from '../src/index.js';
import { loadEngineFromBytes, type Engine } from '../src/core/engine.js';

export const builds = [
  { name: 'simd', create: (): Promise<Focal> => createFocal({ simd: true }) },
  { name: 'scalar', create: (): Promise<Focal> => createFocal({ simd: false }) },
] as const;

/** The raw engine (kernels and arena) of a build, for tests of the vector math itself. */
export async function rawEngine(build: 'simd' | 'scalar' | 'debug'): Promise<Engine> {
  const bytes = readFileSync(new URL(`../build/${build}.wasm`, import.meta.url));
  return loadEngineFromBytes(bytes, build !== 'scalar');
}

// Deterministic pseudo-random numbers: the demo's seeded generator (mulberry32), so every failure reproduces.
export { rng } from '../demo/data.js';

/** A float32 array's bytes, for bit-for-bit comparisons (`bits(a).equals(bits(b))`, or toEqual). */
export function bits(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The error a call throws (undefined when it returns). */
export function thrown(call: () => unknown): Error | undefined {
  try {
    call();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}
