// The parameter block and the stream table on this side of the ABI (src/core/abi.ts): a kernel's scalars by name,
// written at the offsets both compilers read, and the byte addresses of the arrays a chunk reads and writes.
import {
  GAMMA_GENERAL, GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO, PARAM_ACTIVATION, PARAM_ALPHA, PARAM_CLIP_HI,
  PARAM_CLIP, PARAM_CLIP_LO, PARAM_COST_EPS, PARAM_DF_COEF, PARAM_EPS, PARAM_EPSILON, PARAM_FIRST_CLASS, PARAM_FLAGS, PARAM_CLASSES, PARAM_DISTINCT, PARAM_TARGETS, PARAM_GAMMA, PARAM_GAMMA_MODE,
  PARAM_GAMMA_NEG, PARAM_GRAD_SCALE, PARAM_IGNORE_INDEX, PARAM_IGNORE_VALUE, PARAM_INV_S, PARAM_SHIFT,
  PARAM_SMOOTH_KEEP, PARAM_SMOOTH_LO, PARAM_THRESHOLD, PARAM_THRESHOLD_SCALE, PARAM_BLOCK_BYTES, STREAM_TABLE_BYTES,
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
  gammaNeg?: number;
  clip?: number;
  eps?: number;
  costEps?: number;
  activation?: number;
  firstClass?: number;
  classes?: number;
  distinct?: number;
  targets?: number;
}

// Word offsets of the fields (the byte offsets of abi.ts over 4), for the stores below.
const ALPHA = PARAM_ALPHA >> 2;
const GAMMA = PARAM_GAMMA >> 2;
const GAMMA_MODE = PARAM_GAMMA_MODE >> 2;
const GRAD_SCALE = PARAM_GRAD_SCALE >> 2;
const FLAGS = PARAM_FLAGS >> 2;
const SHIFT = PARAM_SHIFT >> 2;
const EPSILON = PARAM_EPSILON >> 2;
const THRESHOLD = PARAM_THRESHOLD >> 2;
const THRESHOLD_SCALE = PARAM_THRESHOLD_SCALE >> 2;
const IGNORE_VALUE = PARAM_IGNORE_VALUE >> 2;
const INV_S = PARAM_INV_S >> 2;
const DF_COEF = PARAM_DF_COEF >> 2;
const CLIP_LO = PARAM_CLIP_LO >> 2;
const CLIP_HI = PARAM_CLIP_HI >> 2;
const IGNORE_INDEX = PARAM_IGNORE_INDEX >> 2;
const SMOOTH_KEEP = PARAM_SMOOTH_KEEP >> 2;
const SMOOTH_LO = PARAM_SMOOTH_LO >> 2;
const GAMMA_NEG = PARAM_GAMMA_NEG >> 2;
const CLIP = PARAM_CLIP >> 2;
const EPS = PARAM_EPS >> 2;
const COST_EPS = PARAM_COST_EPS >> 2;
const ACTIVATION = PARAM_ACTIVATION >> 2;
const FIRST_CLASS = PARAM_FIRST_CLASS >> 2;
const CLASSES = PARAM_CLASSES >> 2;
const DISTINCT = PARAM_DISTINCT >> 2;
const TARGETS = PARAM_TARGETS >> 2;

/**
 * Writes the parameter block: every field, 0 where not given. `pass` overrides fields per pass: gradScale, flags,
 * invS and dfCoef (the gradient scale, the normalized focal loss's second pass, a region pass's flags) only. Float32 fields round the number as a wasm call's f32
 * argument would; no allocation (this runs on every call). The block is zeroed, then the fields each object has are
 * written by name: reading all 21 names from every family's parameter object (each its own shape) would make every
 * read a megamorphic miss in V8 once an application calls several losses (about 1 µs per call).
 */
export function writeParams(arena: Arena, params: KernelParams, pass: KernelParams): void {
  const i32 = arena.i32;
  const at = arena.params >>> 2;
  for (let k = 0; k < PARAM_WORDS; k++) i32[at + k] = 0;
  writeFields(arena, at, params);
  // A pass sets at most these four, from a handful of shapes: read by name.
  const f32 = arena.f32;
  if (pass.gradScale !== undefined) f32[at + GRAD_SCALE] = pass.gradScale;
  if (pass.flags !== undefined) i32[at + FLAGS] = pass.flags;
  if (pass.invS !== undefined) f32[at + INV_S] = pass.invS;
  if (pass.dfCoef !== undefined) f32[at + DF_COEF] = pass.dfCoef;
}

const PARAM_WORDS = PARAM_BLOCK_BYTES / 4;

function writeFields(arena: Arena, at: number, params: KernelParams): void {
  const f32 = arena.f32;
  const i32 = arena.i32;
  for (const key in params) {
    const value = params[key as keyof KernelParams];
    if (value === undefined) continue;
    switch (key) {
      case 'alpha': f32[at + ALPHA] = value; break;
      case 'gamma': f32[at + GAMMA] = value; break;
      case 'gammaMode': i32[at + GAMMA_MODE] = value; break;
      case 'gradScale': f32[at + GRAD_SCALE] = value; break;
      case 'flags': i32[at + FLAGS] = value; break;
      case 'shift': f32[at + SHIFT] = value; break;
      case 'epsilon': f32[at + EPSILON] = value; break;
      case 'threshold': f32[at + THRESHOLD] = value; break;
      case 'thresholdScale': f32[at + THRESHOLD_SCALE] = value; break;
      case 'ignoreValue': f32[at + IGNORE_VALUE] = value; break;
      case 'invS': f32[at + INV_S] = value; break;
      case 'dfCoef': f32[at + DF_COEF] = value; break;
      case 'clipLo': f32[at + CLIP_LO] = value; break;
      case 'clipHi': f32[at + CLIP_HI] = value; break;
      case 'ignoreIndex': i32[at + IGNORE_INDEX] = value; break;
      case 'smoothKeep': f32[at + SMOOTH_KEEP] = value; break;
      case 'smoothLo': f32[at + SMOOTH_LO] = value; break;
      case 'gammaNeg': f32[at + GAMMA_NEG] = value; break;
      case 'clip': f32[at + CLIP] = value; break;
      case 'eps': f32[at + EPS] = value; break;
      case 'costEps': f32[at + COST_EPS] = value; break;
      case 'activation': i32[at + ACTIVATION] = value; break;
      case 'firstClass': i32[at + FIRST_CLASS] = value; break;
      case 'classes': i32[at + CLASSES] = value; break;
      case 'distinct': i32[at + DISTINCT] = value; break;
      case 'targets': i32[at + TARGETS] = value; break;
      default: throw new Error(`writeParams: no parameter-block field '${key}'`);
    }
  }
}

/** Clears the stream table: every stream absent until `setStream` gives it an address. */
export function clearStreams(arena: Arena): void {
  const i32 = arena.i32;
  const at = arena.streams >>> 2;
  for (let k = 0; k < STREAM_TABLE_BYTES / 4; k++) i32[at + k] = 0; // stores: a fill() is a builtin call per call
}

/** The byte address of one stream (abi.ts STREAM_*) in the stream table. */
export function setStream(i32: Int32Array, arena: Arena, stream: number, address: number): void {
  i32[(arena.streams + stream) >>> 2] = address;
}

/** How a kernel forms x^gamma (abi.ts GAMMA_*): the common exponents skip pow. */
export function gammaMode(gamma: number): number {
  if (gamma === 0) return GAMMA_ZERO;
  if (gamma === 1) return GAMMA_ONE;
  if (gamma === 2) return GAMMA_TWO;
  if (gamma === 0.5) return GAMMA_HALF;
  return GAMMA_GENERAL;
}
