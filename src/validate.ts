// Every argument check of the public API. Each failure is a TypeError (wrong type) or a RangeError (value out of
// its domain) whose message names the argument, what was expected and what came. Checks that would need a pass
// over large arrays are left to the kernels, which flag bad values as they read; `findInvalid` then locates them.

export type Floats = Float32Array | Float64Array | readonly number[];
export type Reduction = 'none' | 'mean' | 'sum';

const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

/** A short, exact rendering of a received value for messages. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${/^[AEIO]/.test(value.constructor.name) ? 'an' : 'a'} ${value.constructor.name}`;
  if (typeof value === 'object') return `an ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}

export function isFloats(value: unknown): value is Floats {
  return value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value);
}

export function checkFloats(value: unknown, name: string): Floats {
  if (!isFloats(value)) {
    throw new TypeError(`${name}: expected a Float32Array, a Float64Array or an array of numbers, got ${show(value)}`);
  }
  return value;
}

export function checkLength(value: Floats, name: string, expected: number, of: string): void {
  if (value.length !== expected) {
    throw new RangeError(`${name}.length = ${value.length}: expected ${expected} (${of})`);
  }
}

export function checkOptions(options: unknown, name = 'options'): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${name}: expected an object or undefined, got ${show(options)}`);
  }
  return options as Record<string, unknown>;
}

function checkNumber(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a number`);
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

export function reductionOption(value: unknown, name: string): Reduction {
  if (value === undefined) return 'mean';
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

export function weightsOption(value: unknown, name: string, expected: number, of: string): Floats | undefined {
  if (value === undefined) return undefined;
  const weights = checkFloats(value, name);
  checkLength(weights, name, expected, of);
  return weights;
}

/** A caller-owned output: a Float32Array of at least `length` elements that overlaps none of the inputs. */
export function outputOption(
  value: unknown, name: string, length: number, inputs: ReadonlyArray<readonly [unknown, string]>,
): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float32Array)) throw new TypeError(`${name}: expected a Float32Array, got ${show(value)}`);
  if (value.length < length) {
    throw new RangeError(`${name}.length = ${value.length}: expected at least ${length}`);
  }
  for (const [input, inputName] of inputs) {
    if (ArrayBuffer.isView(input) && overlaps(value, input)) {
      throw new RangeError(`${name}: shares memory with ${inputName}; pass a separate Float32Array`);
    }
  }
  return value;
}

/**
 * The caller-owned outputs of a loss: `out` for 'none' (`lossLength` long; its type is checked whatever the
 * reduction, since a wrong-typed option is an error) and, with a gradient, `gradOut` (`gradLength` long); neither
 * may share memory with an input, nor with the other.
 */
export function lossOutputs(
  options: Record<string, unknown>, reduction: Reduction, withGrad: boolean, lossLength: number, gradLength: number,
  inputs: ReadonlyArray<readonly [unknown, string]>,
): { out: Float32Array | undefined; gradOut: Float32Array | undefined } {
  const none = reduction === 'none';
  const outOption = outputOption(options.out, 'options.out', none ? lossLength : 0, none ? inputs : []);
  const out = none ? outOption : undefined;
  const gradOut = withGrad
    ? outputOption(options.gradOut, 'options.gradOut', gradLength, [...inputs, [out, 'options.out']])
    : undefined;
  return { out, gradOut };
}

function overlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** One array the kernel read, with the rule its values must satisfy (checked on their float32 rounding). */
export interface ValueRule {
  values: Floats;
  name: string;
  ok(v32: number): boolean;
  expected: string;
}

export const finiteRule = (values: Floats, name: string): ValueRule => ({
  values, name, ok: (v) => Number.isFinite(v), expected: 'a finite number (within float32 range)',
});

export const unitIntervalRule = (values: Floats, name: string): ValueRule => ({
  values, name, ok: (v) => v >= 0 && v <= 1, expected: 'a value in [0, 1]',
});

/**
 * After a kernel flagged a chunk [from, from + count): the error for its first offending element, the rules
 * tried in argument order at each index.
 */
export function findInvalid(rules: readonly ValueRule[], from: number, count: number): RangeError {
  for (let i = from; i < from + count; i++) {
    for (const rule of rules) {
      const v = rule.values[i] as number;
      if (!rule.ok(Math.fround(v))) {
        return new RangeError(`${rule.name}[${i}] = ${show(v)}: expected ${rule.expected}`);
      }
    }
  }
  return new RangeError(`invalid values between index ${from} and ${from + count - 1}`);
}
