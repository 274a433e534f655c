// Every argument check of the public API, once. Each failure is a TypeError (wrong type) or a RangeError (value out
// of its domain) whose message names the argument, what was expected and what came. Checks that would need a pass
// over large arrays are left to the kernels, which flag bad values as they read (src/core/locate.ts names them).
import { detachedError } from '../core/arena.js';
import type { Float16Like } from '../core/public-types.js';
import { HalfFloats, halfValues } from '../core/half.js';
import { show } from '../core/describe.js';
import type { Reduction } from '../core/elementwise.js';
import { isInt32 } from '../core/rows.js';

export { show };
export type { Reduction };

/**
 * The arrays of numbers the API takes: Float32Array, Float64Array, plain arrays, and float16 ones (a Float16Array
 * where the runtime has it; a Uint16Array of binary16 bits with `options.float16: true`).
 */
export type Floats = Float32Array | Float64Array | readonly number[] | Float16Like;

/** The runtime's Float16Array, where it has one (ES2025; current browsers). */
const Float16Array = (globalThis as { Float16Array?: new (...args: never[]) => Float16Like }).Float16Array;

const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

export function isFloats(value: unknown): value is Floats {
  return value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value) ||
    (Float16Array !== undefined && value instanceof Float16Array);
}

/**
 * A large input array (logits, targets, weights): floats, or with `float16` a Uint16Array read as binary16 bits,
 * converted exactly while it is staged. A Uint16Array without it is refused: its values could be either.
 */
export function inputFloats(value: unknown, name: string, float16: boolean): Floats | HalfFloats {
  if (value instanceof Uint16Array) {
    if (!float16) {
      throw new TypeError(
        `${name}: a Uint16Array is ambiguous: expected a Float32Array, a Float64Array or an array of numbers, or ` +
          'binary16 bits with options.float16 = true (as onnxruntime-web hands over float16 tensors)',
      );
    }
    checkLive(value, name);
    return new HalfFloats(value);
  }
  return checkFloats(value, name);
}

/** A short array of numbers (per class): as inputFloats, binary16 bits decoded at once. */
export function smallFloats(value: unknown, name: string, float16: boolean): Floats {
  const floats = inputFloats(value, name, float16);
  return floats instanceof HalfFloats ? halfValues(floats) : floats;
}

/** The values of an input as numbers (binary16 bits decoded), for messages. */
export function readable(values: Floats | HalfFloats): Floats {
  return values instanceof HalfFloats ? halfValues(values) : values;
}

/** The array whose memory an input occupies (binary16 bits: their Uint16Array), for overlap checks. */
export function memoryOf(values: unknown): unknown {
  return values instanceof HalfFloats ? values.bits : values;
}

/** options.float16: whether Uint16Array arguments hold binary16 bits. Default false. */
export function float16Option(options: Record<string, unknown>): boolean {
  return booleanOption(options.float16, 'options.float16', false);
}

/**
 * A typed array whose ArrayBuffer is detached reads as empty: refused, not taken for N = 0. (Constructing a view
 * on a detached buffer throws; on a live empty one it does not.)
 */
export function checkLive(value: ArrayBufferView & { length: number }, name: string): void {
  if (value.length > 0) return; // length, not byteLength: the cheaper read in V8, and 0 exactly when it is
  try {
    new Uint8Array(value.buffer, 0, 0);
  } catch {
    throw detachedError(name);
  }
}

export function checkFloats(value: unknown, name: string): Floats {
  if (!isFloats(value)) {
    throw new TypeError(`${name}: expected a Float32Array, a Float64Array or an array of numbers, got ${show(value)}`);
  }
  if (!Array.isArray(value)) checkLive(value as Float32Array, name);
  return value;
}

export function checkLength(value: { length: number }, name: string, expected: number, of: string): void {
  if (value.length !== expected) {
    throw new RangeError(`${name}.length = ${value.length}: expected ${expected} (${of})`);
  }
}

export function checkNumber(value: unknown, name: string, expected = 'a number'): number {
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected ${expected}`);
  return value;
}

/**
 * alpha as the kernels take it: a weight in [0, 1], or -1 for "no alpha weighting" (null or any negative number,
 * as torchvision's `alpha < 0`). Greater than 1 would weigh the negatives below zero, so it is refused.
 */
export function alphaOption(value: unknown, name: string, fallback: number | null): number {
  if (value === undefined) value = fallback;
  if (value === null) return -1;
  const alpha = checkNumber(value, name);
  if (Number.isNaN(alpha) || alpha > 1) {
    throw new RangeError(`${name} = ${show(alpha)}: expected a number in [0, 1], or null (or negative) for no weighting`);
  }
  return alpha < 0 ? -1 : alpha;
}

export function gammaOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const gamma = checkNumber(value, name);
  // The kernels take gamma as float32: a gamma beyond float32 range (1e39) would reach them as Infinity (NaN losses).
  if (!(gamma >= 0) || !Number.isFinite(Math.fround(gamma))) {
    throw new RangeError(`${name} = ${show(gamma)}: expected a finite number >= 0 (within float32 range)`);
  }
  return gamma;
}

/** A finite number within float32 range (the kernels take it as float32). */
export function finiteOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = checkNumber(value, name, 'a finite number');
  if (!Number.isFinite(Math.fround(v))) throw new RangeError(`${name} = ${show(v)}: expected a finite number (within float32 range)`);
  return v;
}

export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} = ${show(value)}: expected true or false`);
  return value;
}

export function reductionOption(value: unknown, name: string, fallback: Reduction = 'mean'): Reduction {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new TypeError(`${name} = ${show(value)}: expected 'none', 'mean' or 'sum'`);
  if (!(REDUCTIONS as readonly string[]).includes(value)) {
    throw new RangeError(`${name} = ${show(value)}: expected 'none', 'mean' or 'sum'`);
  }
  return value as Reduction;
}

/** A positive finite divisor for 'mean'; only meaningful with reduction 'mean'. */
export function normalizerOption(value: unknown, name: string, reduction: Reduction): number | undefined {
  if (value === undefined) return undefined;
  const normalizer = checkNumber(value, name);
  if (!(normalizer > 0) || !Number.isFinite(normalizer)) {
    throw new RangeError(`${name} = ${show(normalizer)}: expected a finite number > 0`);
  }
  // The gradient is scaled by 1 / normalizer in float32: below ~2.9e-39 that is Infinity (NaN, -Infinity gradients).
  if (!Number.isFinite(Math.fround(1 / normalizer))) {
    throw new RangeError(`${name} = ${show(normalizer)}: expected a finite number >= 2.94e-39 (1 / normalizer must be a finite float32)`);
  }
  if (reduction !== 'mean') {
    throw new RangeError(`${name} = ${show(normalizer)}: a normalizer applies to reduction 'mean' only, not '${reduction}'`);
  }
  return normalizer;
}

export function weightsOption(
  value: unknown, name: string, expected: number, of: string, float16 = false,
): Floats | HalfFloats | undefined {
  if (value === undefined) return undefined;
  const weights = inputFloats(value, name, float16);
  checkLength(weights, name, expected, of);
  return weights;
}

/** A positive integer option (`classes`), at most 2^28: the same check, TypeError or RangeError, everywhere. */
export function classesOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a positive integer`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 28) {
    throw new RangeError(`${name} = ${show(value)}: expected a positive integer`);
  }
  return value;
}

/** Rows of `classes` in `length` values: the length must be a whole number of rows. */
export function rowCount(length: number, classes: number, name: string): number {
  if (length % classes !== 0) {
    throw new RangeError(`${name}.length = ${length}: expected a multiple of the number of classes (${classes})`);
  }
  return length / classes;
}

/** Per-class values: finite and >= 0, length C, as float32. */
export function perClass(value: Floats, name: string, classes: number, of = 'options.classes'): Float32Array {
  checkLength(value, name, classes, of);
  const out = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    const v = value[c];
    if (typeof v !== 'number') throw new TypeError(`${name}[${c}] = ${show(v)}: expected a number`);
    if (!(v >= 0) || !Number.isFinite(Math.fround(v))) {
      throw new RangeError(`${name}[${c}] = ${show(v)}: expected a finite number >= 0`);
    }
    out[c] = v;
  }
  return out;
}

/** A class index rows are ignored by: a 32-bit integer. */
export function ignoreIndexOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected an integer`);
  if (!isInt32(value)) {
    throw new RangeError(`${name} = ${show(value)}: expected an integer (a 32-bit one)`);
  }
  return value;
}

/**
 * A per-class gamma: an array of numbers, or binary16 bits in a Uint16Array with `options.float16` (read only for an
 * array), as float32 values; undefined for a number or an absent gamma.
 */
export function perClassGammas(value: unknown, options: Record<string, unknown>): Floats | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return isFloats(value) || (value instanceof Uint16Array && float16Option(options))
    ? smallFloats(value, 'options.gamma', float16Option(options))
    : undefined;
}

/** A number in [0, 1] (label smoothing, the matching cost's alpha). */
export function unitOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a number in [0, 1]`);
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} = ${show(value)}: expected a number in [0, 1]`);
  return value;
}

/** alpha: null / a number (as sigmoidFocalLoss, no weighting when negative) / C non-negative class weights. */
export function classAlphaOption(
  value: unknown, name: string, classes: number, fallback: number | null,
): { alpha: number; alphas?: Floats } {
  if (value === undefined || value === null || typeof value === 'number') {
    return { alpha: alphaOption(value, name, fallback) };
  }
  if (!isFloats(value)) {
    throw new TypeError(`${name}: expected null, a number, or an array of ${classes} class weights, got ${show(value)}`);
  }
  if (!Array.isArray(value)) checkLive(value as Float32Array, name);
  return { alpha: -1, alphas: perClass(value, name, classes, 'one weight per class') };
}

/** epsilon, as the float32 clip bounds [lo, hi] the kernel uses (1 - 1e-7 rounds to 0.99999988). */
export function clipOption(value: unknown, name: string, fallback: number): { clipLo: number; clipHi: number } {
  const epsilon = value === undefined ? fallback : value;
  if (typeof epsilon !== 'number') throw new TypeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  const clipLo = Math.fround(epsilon);
  const clipHi = Math.fround(1 - epsilon);
  // Below 2^-24, 1 - epsilon rounds to 1 in float32 and log(1 - p) could be -infinity.
  if (!(epsilon >= 2 ** -24 && epsilon < 0.5) || !(clipHi < 1)) {
    throw new RangeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  }
  return { clipLo, clipHi };
}

/**
 * The asymmetric loss's probability shift `clip`: a number in [0, 1) (0: no shift, as the anchor's clip = 0 or None).
 * Kept as given: the kernel takes it as float32.
 */
export function shiftClipOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a number in [0, 1)`);
  if (!(value >= 0 && Math.fround(value) < 1)) throw new RangeError(`${name} = ${show(value)}: expected a number in [0, 1)`);
  return value;
}

/**
 * The asymmetric loss's `eps`, the lower clamp inside its logs: a number in (0, 0.5) that stays above 0 as a
 * float32 (>= 2^-149, so that no log sees 0).
 */
export function logClampOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a number in (0, 0.5)`);
  if (!(value > 0 && value < 0.5)) throw new RangeError(`${name} = ${show(value)}: expected a number in (0, 0.5)`);
  if (!(Math.fround(value) > 0)) {
    throw new RangeError(`${name} = ${show(value)}: expected a number in (0, 0.5) that is not 0 as a float32 (>= 1.4e-45)`);
  }
  return value;
}

/** A per-element mask (0 ignores the element): a Uint8Array, Float32Array, Float64Array or array of numbers, n long. */
export function maskOption(value: unknown, name: string, n: number): Floats | Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Uint8Array || isFloats(value))) {
    throw new TypeError(`${name}: expected a Uint8Array, Float32Array, Float64Array or an array of numbers, got ${show(value)}`);
  }
  if (!Array.isArray(value)) checkLive(value as Uint8Array, name);
  if (value.length !== n) throw new RangeError(`${name}.length = ${value.length}: expected ${n} (the length of logits)`);
  return value;
}

/** A caller-owned output: a Float32Array of at least `length` elements that overlaps none of the inputs. */
export function outputOption(
  value: unknown, name: string, length: number, inputs: readonly unknown[], names: readonly string[],
): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float32Array)) throw new TypeError(`${name}: expected a Float32Array, got ${show(value)}`);
  checkLive(value, name);
  if (value.length < length) {
    throw new RangeError(`${name}.length = ${value.length}: expected at least ${length}`);
  }
  const buffer = value.buffer; // read once: a typed array's buffer costs tens of ns per read in V8
  for (let k = 0; k < inputs.length; k++) {
    const input = memoryOf(inputs[k]);
    if (input !== undefined && ArrayBuffer.isView(input) && input.buffer === buffer && overlaps(value, input)) {
      throw new RangeError(`${name}: shares memory with ${names[k]!}; pass a separate Float32Array`);
    }
  }
  return value;
}

/**
 * The caller-owned outputs of a loss: `out` for 'none' (`lossLength` long; its type is checked whatever the
 * reduction, since a wrong-typed option is an error) and, with a gradient, `gradOut` (`gradLength` long); neither
 * may share memory with an input (`inputs`, named by `names`), nor with the other.
 */
export function lossOutputs(
  options: Record<string, unknown>, reduction: Reduction, withGrad: boolean, lossLength: number, gradLength: number,
  inputs: readonly unknown[], names: readonly string[],
): { out: Float32Array | undefined; gradOut: Float32Array | undefined } {
  if (options.out === undefined && (!withGrad || options.gradOut === undefined)) return NO_OUTPUTS;
  const none = reduction === 'none';
  const outOption = outputOption(options.out, 'options.out', none ? lossLength : 0, none ? inputs : NO_INPUTS, names);
  const out = none ? outOption : undefined;
  const gradOut = withGrad ? outputOption(options.gradOut, 'options.gradOut', gradLength, inputs, names) : undefined;
  if (gradOut && out && overlaps(gradOut, out)) {
    throw new RangeError('options.gradOut: shares memory with options.out; pass a separate Float32Array');
  }
  return { out, gradOut };
}

const NO_INPUTS: readonly unknown[] = [];
const NO_OUTPUTS = { out: undefined, gradOut: undefined } as const;

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
