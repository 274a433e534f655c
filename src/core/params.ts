// The parameter block and the stream table on this side of the ABI (src/core/abi.ts): a kernel's scalars by name,
// written at the offsets both compilers read, and the byte addresses of the arrays a chunk reads and writes.
import {
  GAMMA_GENERAL, GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO, PARAM_ALPHA, PARAM_BLOCK_BYTES, PARAM_CLIP_HI,
  PARAM_CLIP_LO, PARAM_DF_COEF, PARAM_EPSILON, PARAM_FLAGS, PARAM_GAMMA, PARAM_GAMMA_MODE, PARAM_GRAD_SCALE,
  PARAM_IGNORE_INDEX, PARAM_IGNORE_VALUE, PARAM_INV_S, PARAM_SHIFT, PARAM_SMOOTH_KEEP, PARAM_SMOOTH_LO,
  PARAM_THRESHOLD, PARAM_THRESHOLD_SCALE, STREAM_TABLE_BYTES,
} from './abi.js';
import type { Arena } from './arena.js';

/** A kernel's scalars, by the names of the parameter block; a kernel reads the ones its doc names (0 otherwise). */
export interface KernelParams {
  alpha?: number;
  gamma?: number;
  gammaMode?: number;
  gradScale?: number;
  flags?: number;
  shift?: number;
  epsilon?: number;
  threshold?: number;
  thresholdScale?: number;
  ignoreValue?: number;
  invS?: number;
  dfCoef?: number;
  clipLo?: number;
  clipHi?: number;
  ignoreIndex?: number;
  smoothKeep?: number;
  smoothLo?: number;
}

const F32 = 0;
const I32 = 1;
/** Each field's offset and type: float32 fields round the number as a Float32Array store does (as a wasm call). */
const FIELDS: Record<keyof KernelParams, readonly [offset: number, type: typeof F32 | typeof I32]> = {
  alpha: [PARAM_ALPHA, F32],
  gamma: [PARAM_GAMMA, F32],
  gammaMode: [PARAM_GAMMA_MODE, I32],
  gradScale: [PARAM_GRAD_SCALE, F32],
  flags: [PARAM_FLAGS, I32],
  shift: [PARAM_SHIFT, F32],
  epsilon: [PARAM_EPSILON, F32],
  threshold: [PARAM_THRESHOLD, F32],
  thresholdScale: [PARAM_THRESHOLD_SCALE, F32],
  ignoreValue: [PARAM_IGNORE_VALUE, F32],
  invS: [PARAM_INV_S, F32],
  dfCoef: [PARAM_DF_COEF, F32],
  clipLo: [PARAM_CLIP_LO, F32],
  clipHi: [PARAM_CLIP_HI, F32],
  ignoreIndex: [PARAM_IGNORE_INDEX, I32],
  smoothKeep: [PARAM_SMOOTH_KEEP, F32],
  smoothLo: [PARAM_SMOOTH_LO, F32],
};

/** Writes the parameter block: every field zeroed, then the given ones. */
export function writeParams(arena: Arena, params: KernelParams): void {
  const f32 = arena.f32;
  const i32 = arena.i32;
  const at = arena.params >>> 2;
  f32.fill(0, at, at + PARAM_BLOCK_BYTES / 4);
  for (const key in params) {
    const value = params[key as keyof KernelParams];
    if (value === undefined) continue;
    const [offset, type] = FIELDS[key as keyof KernelParams];
    if (type === F32) f32[at + offset / 4] = value;
    else i32[at + offset / 4] = value;
  }
}

/** Writes the stream table: the byte address of each stream (abi.ts STREAM_*) the chunk uses, 0 for the others. */
export function writeStreams(arena: Arena, addresses: ReadonlyMap<number, number>): void {
  const i32 = arena.i32;
  const at = arena.streams >>> 2;
  i32.fill(0, at, at + STREAM_TABLE_BYTES / 4);
  for (const [stream, address] of addresses) i32[at + stream / 4] = address;
}

/** How a kernel forms x^gamma (abi.ts GAMMA_*): the common exponents skip pow. */
export function gammaMode(gamma: number): number {
  if (gamma === 0) return GAMMA_ZERO;
  if (gamma === 1) return GAMMA_ONE;
  if (gamma === 2) return GAMMA_TWO;
  if (gamma === 0.5) return GAMMA_HALF;
  return GAMMA_GENERAL;
}
