// Bad input, table-driven: every documented error (docs/numerics.md "Errors") on every public API, both builds. Each row
// gives the error class and a message that names the argument (and the index where there is one); after each
// error the same engine must still give, bit for bit, what a fresh engine gives for a good call that streams
// several chunks (so a half-written arena, dirty reduction lanes or a stale view would show).
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { CHUNK } from '../src/core/abi.js';
import { builds, rng } from './engines.js';
import { sigmoidFocalReduced, worstRelativeError } from './reference.js';

type ErrorClass = typeof TypeError | typeof RangeError;
interface BadCall {
  what: string;
  call: (fl: Focal) => unknown;
  error: ErrorClass;
  /** The message must match: it names the argument, and the index where there is one. */
  message: RegExp;
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs. Small ones for most rows; a multi-chunk one where the bad value sits in a later chunk, after the kernel
// has already written and accumulated earlier chunks.
const N = 8;
const x = (): Float32Array => Float32Array.from([0.5, -1, 2, -3, 4, -5, 6, -7]);
const t = (): Float32Array => Float32Array.from([1, 0, 1, 0, 1, 0, 0.25, 0.75]);
const LATE = 2 * CHUNK + 17; // an index in the third chunk
const BIG = 3 * CHUNK + 5;
function bigLogits(): Float32Array {
  const random = rng(11);
  return Float32Array.from({ length: BIG }, () => (random() - 0.5) * 20);
}
function bigTargets(): Float32Array {
  const random = rng(12);
  return Float32Array.from({ length: BIG }, () => (random() < 0.5 ? 0 : 1));
}
function withValue<T extends Float32Array | Float64Array | number[]>(a: T, at: number, v: unknown): T {
  (a as unknown as unknown[])[at] = v;
  return a;
}

/** A value of every wrong type an array argument can be given. */
const NOT_FLOATS: ReadonlyArray<readonly [string, unknown, RegExp]> = [
  ['a string', '0.5,1', /got '0\.5,1'/],
  ['an object', { length: 8 }, /got an Object/],
  ['a Uint8Array', new Uint8Array(8), /got a Uint8Array/],
  ['an Int32Array', new Int32Array(8), /got an Int32Array/],
  ['undefined', undefined, /got undefined/],
  ['null', null, /got null/],
  ['a number', 3, /got a number|got 3/],
];

// ---------------------------------------------------------------------------------------------------------------
// sigmoidFocalLoss and sigmoidFocalLossWithGrad share every check; the table runs on both.
type SigmoidFn = (fl: Focal, logits: unknown, targets: unknown, options?: unknown) => unknown;
const SIGMOID_APIS: ReadonlyArray<readonly [string, SigmoidFn]> = [
  ['sigmoidFocalLoss', (fl, a, b, o) => fl.sigmoidFocalLoss(a as never, b as never, o as never)],
  ['sigmoidFocalLossWithGrad', (fl, a, b, o) => fl.sigmoidFocalLossWithGrad(a as never, b as never, o as never)],
];

function sigmoidTable(api: SigmoidFn, withGrad: boolean): BadCall[] {
  const rows: BadCall[] = [];
  const row = (what: string, error: ErrorClass, message: RegExp, call: (fl: Focal) => unknown): void => {
    rows.push({ what, error, message, call });
  };
  // wrong types
  for (const [kind, value, got] of NOT_FLOATS) {
    row(`logits is ${kind}`, TypeError, new RegExp(`^logits: expected a Float32Array.*${got.source}`), (fl) => api(fl, value, t()));
    row(`targets is ${kind}`, TypeError, new RegExp(`^targets: expected a Float32Array.*${got.source}`), (fl) => api(fl, x(), value));
    if (value !== undefined) {
      row(`options.weights is ${kind}`, TypeError, /^options\.weights: expected a Float32Array/, (fl) => api(fl, x(), t(), { weights: value }));
    }
  }
  row('options is a string', TypeError, /^options: expected an object/, (fl) => api(fl, x(), t(), 'mean'));
  row('options is null', TypeError, /^options: expected an object/, (fl) => api(fl, x(), t(), null));
  row('options is an array', TypeError, /^options: expected an object/, (fl) => api(fl, x(), t(), ['mean']));
  row("options.gamma is '2'", TypeError, /^options\.gamma = '2': expected a number/, (fl) => api(fl, x(), t(), { gamma: '2' }));
  row("options.alpha is '0.25'", TypeError, /^options\.alpha = '0\.25'/, (fl) => api(fl, x(), t(), { alpha: '0.25' }));
  row('options.alpha is an array', TypeError, /^options\.alpha = an array/, (fl) => api(fl, x(), t(), { alpha: [0.25] }));
  row('options.reduction is 1', TypeError, /^options\.reduction = 1: expected 'none', 'mean' or 'sum'/, (fl) => api(fl, x(), t(), { reduction: 1 }));
  row("options.normalizer is '2'", TypeError, /^options\.normalizer = '2': expected a number/, (fl) => api(fl, x(), t(), { normalizer: '2' }));
  // plain arrays holding a non-number
  row('logits holds a string', TypeError, /^logits\[2\] = 'x': expected a number/, (fl) => api(fl, withValue([...x()], 2, 'x'), t()));
  row('logits has a hole', TypeError, /^logits\[3\] = undefined: expected a number/, (fl) => {
    const holey = [...x()];
    delete holey[3];
    return api(fl, holey, t());
  });
  row('targets holds null', TypeError, /^targets\[5\] = null: expected a number/, (fl) => api(fl, x(), withValue([...t()], 5, null)));
  row('weights holds a boolean', TypeError, /^options\.weights\[1\] = boolean: expected a number|^options\.weights\[1\] = (a )?boolean/, (fl) =>
    api(fl, x(), t(), { weights: withValue(new Array(N).fill(1), 1, true) }),
  );
  row('a string in a later chunk of a plain array', TypeError, new RegExp(`^logits\\[${LATE}\\] = '1': expected a number`), (fl) =>
    api(fl, withValue([...bigLogits()], LATE, '1'), bigTargets()),
  );
  // lengths
  row('targets shorter than logits', RangeError, /^targets\.length = 7: expected 8/, (fl) => api(fl, x(), t().subarray(0, 7)));
  row('targets longer than logits', RangeError, /^targets\.length = 9: expected 8/, (fl) => api(fl, x(), new Float32Array(9)));
  row('weights of the wrong length', RangeError, /^options\.weights\.length = 3: expected 8/, (fl) => api(fl, x(), t(), { weights: [1, 1, 1] }));
  // values the kernel flags, with the index
  row('a NaN logit', RangeError, /^logits\[4\] = NaN: expected a finite number/, (fl) => api(fl, withValue(x(), 4, NaN), t()));
  row('an Infinity logit', RangeError, /^logits\[0\] = Infinity: expected a finite number/, (fl) => api(fl, withValue(x(), 0, Infinity), t()));
  row('a -Infinity logit (scalar tail)', RangeError, /^logits\[7\] = -Infinity/, (fl) => api(fl, withValue(x(), 7, -Infinity), t()));
  row('a float64 logit beyond float32 range', RangeError, /^logits\[3\] = 3\.5e\+38: expected a finite number \(within float32 range\)/, (fl) =>
    api(fl, withValue(Float64Array.from(x()), 3, 3.5e38), t()),
  );
  row('a plain-array logit of -1e39', RangeError, /^logits\[1\] = -1e\+39/, (fl) => api(fl, withValue([...x()], 1, -1e39), t()));
  row('a NaN logit in a later chunk', RangeError, new RegExp(`^logits\\[${LATE}\\] = NaN`), (fl) => api(fl, withValue(bigLogits(), LATE, NaN), bigTargets()));
  row('target 1.5', RangeError, /^targets\[6\] = 1\.5: expected a value in \[0, 1\]/, (fl) => api(fl, x(), withValue(t(), 6, 1.5)));
  row('target -0.1', RangeError, /^targets\[0\] = -0\.1: expected a value in \[0, 1\]/, (fl) => api(fl, x(), withValue([...t()], 0, -0.1)));
  row('target NaN', RangeError, /^targets\[2\] = NaN: expected a value in \[0, 1\]/, (fl) => api(fl, x(), withValue(t(), 2, NaN)));
  row('target 2 in a later chunk', RangeError, new RegExp(`^targets\\[${LATE}\\] = 2`), (fl) => api(fl, bigLogits(), withValue(bigTargets(), LATE, 2)));
  row('the first bad index is reported (target before logit)', RangeError, /^targets\[1\] = 7/, (fl) =>
    api(fl, withValue(x(), 5, NaN), withValue(t(), 1, 7)),
  );
  row('a NaN weight', RangeError, /^options\.weights\[2\] = NaN: expected a finite number/, (fl) =>
    api(fl, x(), t(), { weights: withValue(new Float32Array(N).fill(1), 2, NaN) }),
  );
  row('an Infinity weight', RangeError, /^options\.weights\[6\] = Infinity/, (fl) => api(fl, x(), t(), { weights: withValue(new Array(N).fill(1), 6, Infinity) }));
  // options out of their domain
  for (const gamma of [-1, NaN, Infinity, -Infinity, -1e-30]) {
    row(`gamma ${gamma}`, RangeError, new RegExp(`^options\\.gamma = ${String(gamma).replace('+', '\\+')}: expected a finite number >= 0`), (fl) =>
      api(fl, x(), t(), { gamma }),
    );
  }
  // 1e39 is finite in float64 but Infinity in float32, where the kernels take gamma: it gave NaN everywhere.
  row('gamma 1e39 (beyond float32 range)', RangeError, /^options\.gamma = 1e\+39: expected a finite number >= 0/, (fl) => api(fl, x(), t(), { gamma: 1e39 }));
  for (const alpha of [1.5, NaN, Infinity]) {
    row(`alpha ${alpha}`, RangeError, new RegExp(`^options\\.alpha = ${alpha}: expected a number in \\[0, 1\\]`), (fl) => api(fl, x(), t(), { alpha }));
  }
  for (const reduction of ['avg', 'MEAN', '', 'none ']) {
    row(`reduction '${reduction}'`, RangeError, /^options\.reduction = '.*': expected 'none', 'mean' or 'sum'/, (fl) => api(fl, x(), t(), { reduction }));
  }
  for (const normalizer of [0, -0, -2, NaN, Infinity]) {
    row(`normalizer ${Object.is(normalizer, -0) ? '-0' : normalizer}`, RangeError, /^options\.normalizer = (-?0|-2|NaN|Infinity): expected a finite number > 0/, (fl) =>
      api(fl, x(), t(), { normalizer }),
    );
  }
  // 1 / 1e-39 is Infinity in float32, the scale the gradient is multiplied by: it gave NaN and -Infinity gradients.
  row('normalizer 1e-39 (its reciprocal overflows float32)', RangeError, /^options\.normalizer = 1e-39: expected a finite number/, (fl) =>
    api(fl, x(), t(), { normalizer: 1e-39 }),
  );
  row("normalizer with reduction 'sum'", RangeError, /^options\.normalizer = 4: .*'mean' only, not 'sum'/, (fl) => api(fl, x(), t(), { normalizer: 4, reduction: 'sum' }));
  row("normalizer with reduction 'none'", RangeError, /^options\.normalizer = 4: .*'mean' only, not 'none'/, (fl) => api(fl, x(), t(), { normalizer: 4, reduction: 'none' }));
  // caller-owned outputs
  const none = { reduction: 'none' };
  row('out is a Float64Array', TypeError, /^options\.out: expected a Float32Array, got a Float64Array/, (fl) => api(fl, x(), t(), { ...none, out: new Float64Array(N) }));
  row('out is a plain array', TypeError, /^options\.out: expected a Float32Array/, (fl) => api(fl, x(), t(), { ...none, out: new Array(N).fill(0) }));
  // An option of the wrong type is a TypeError even where the option is not used (docs/numerics.md "Errors").
  row("out is a string with reduction 'mean'", TypeError, /^options\.out: expected a Float32Array/, (fl) => api(fl, x(), t(), { out: 'out' }));
  row('out too short', RangeError, /^options\.out\.length = 7: expected at least 8/, (fl) => api(fl, x(), t(), { ...none, out: new Float32Array(7) }));
  row('out is logits', RangeError, /^options\.out: shares memory with logits/, (fl) => {
    const logits = x();
    return api(fl, logits, t(), { ...none, out: logits });
  });
  row('out overlaps targets (subarray)', RangeError, /^options\.out: shares memory with targets/, (fl) => {
    const buffer = new Float32Array(2 * N);
    buffer.set(t(), 0);
    return api(fl, x(), buffer.subarray(0, N), { ...none, out: buffer.subarray(N - 1) });
  });
  row('out overlaps weights (float64 view of the same buffer)', RangeError, /^options\.out: shares memory with options\.weights/, (fl) => {
    const weights = new Float64Array(N).fill(1);
    return api(fl, x(), t(), { ...none, weights, out: new Float32Array(weights.buffer, 0, N) });
  });
  if (withGrad) {
    row('gradOut is a Float64Array', TypeError, /^options\.gradOut: expected a Float32Array, got a Float64Array/, (fl) => api(fl, x(), t(), { gradOut: new Float64Array(N) }));
    row('gradOut is a Uint8Array', TypeError, /^options\.gradOut: expected a Float32Array, got a Uint8Array/, (fl) => api(fl, x(), t(), { gradOut: new Uint8Array(4 * N) }));
    row('gradOut too short', RangeError, /^options\.gradOut\.length = 0: expected at least 8/, (fl) => api(fl, x(), t(), { gradOut: new Float32Array(0) }));
    row('gradOut is logits', RangeError, /^options\.gradOut: shares memory with logits/, (fl) => {
      const logits = x();
      return api(fl, logits, t(), { gradOut: logits });
    });
    row('gradOut is targets', RangeError, /^options\.gradOut: shares memory with targets/, (fl) => {
      const targets = t();
      return api(fl, x(), targets, { gradOut: targets });
    });
    row('gradOut is out', RangeError, /^options\.gradOut: shares memory with options\.out/, (fl) => {
      const out = new Float32Array(N);
      return api(fl, x(), t(), { ...none, out, gradOut: out });
    });
    row('gradOut overlaps out by one element', RangeError, /^options\.gradOut: shares memory with options\.out/, (fl) => {
      const both = new Float32Array(2 * N - 1);
      return api(fl, x(), t(), { ...none, out: both.subarray(0, N), gradOut: both.subarray(N - 1) });
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// softmaxFocalLoss and softmaxFocalLossWithGrad: 3 rows of C = 3.
type AnyFn = (fl: Focal, a: unknown, b: unknown, o?: unknown) => unknown;
const SOFTMAX_APIS: ReadonlyArray<readonly [string, AnyFn]> = [
  ['softmaxFocalLoss', (fl, a, b, o) => fl.softmaxFocalLoss(a as never, b as never, o as never)],
  ['softmaxFocalLossWithGrad', (fl, a, b, o) => fl.softmaxFocalLossWithGrad(a as never, b as never, o as never)],
];
const z = (): Float32Array => Float32Array.from([1, 2, 3, -1, 0, 1, 0.5, 0.5, -2]);
const y = (): Int32Array => Int32Array.from([2, 0, 1]);
const soft = (): Float32Array => Float32Array.from([0, 0, 1, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);

function softmaxTable(api: AnyFn, withGrad: boolean): BadCall[] {
  const rows: BadCall[] = [];
  const row = (what: string, error: ErrorClass, message: RegExp, call: (fl: Focal) => unknown): void => {
    rows.push({ what, error, message, call });
  };
  for (const [kind, value, got] of NOT_FLOATS) {
    row(`logits is ${kind}`, TypeError, new RegExp(`^logits: expected a Float32Array.*${got.source}`), (fl) => api(fl, value, y()));
    if (kind !== 'an Int32Array') {
      row(`targets is ${kind}`, TypeError, new RegExp(`^targets: expected class indices.*${got.source}`), (fl) => api(fl, z(), value));
    }
  }
  row('soft targets without options.classes', TypeError, /^options\.classes = undefined: expected the number of classes/, (fl) => api(fl, z(), soft()));
  row("classes is '3'", TypeError, /^options\.classes = '3': expected a positive integer/, (fl) => api(fl, z(), y(), { classes: '3' }));
  for (const classes of [0, -3, 2.5, NaN, Infinity]) {
    row(`classes ${classes}`, RangeError, /^options\.classes = .*: expected a positive integer/, (fl) => api(fl, z(), y(), { classes }));
  }
  row('logits not a whole number of rows of targets', RangeError, /^logits\.length = 9: expected a whole number of rows of targets\.length = 4/, (fl) => api(fl, z(), [0, 1, 2, 0]));
  row('logits not a multiple of classes', RangeError, /^logits\.length = 9: expected a multiple of the number of classes \(4\)/, (fl) => api(fl, z(), y(), { classes: 4 }));
  row('targets of the wrong length for classes', RangeError, /^targets\.length = 3: expected 9 \(one class index per row of 1\)/, (fl) => api(fl, z(), y(), { classes: 1 }));
  row('soft targets of the wrong length', RangeError, /^targets\.length = 6: expected 9/, (fl) => api(fl, z(), soft().subarray(0, 6), { classes: 3 }));
  // class indices
  row('class index = C', RangeError, /^targets\[1\] = 3: expected a class index in \[0, 3\) or ignoreIndex \(-100\)/, (fl) => api(fl, z(), Int32Array.from([2, 3, 1])));
  row('class index -1', RangeError, /^targets\[2\] = -1: expected a class index in \[0, 3\)/, (fl) => api(fl, z(), [2, 0, -1]));
  row('class index 2.5', RangeError, /^targets\[0\] = 2\.5: expected an integer class index/, (fl) => api(fl, z(), [2.5, 0, 1]));
  row('class index NaN', RangeError, /^targets\[1\] = NaN: expected an integer class index/, (fl) => api(fl, z(), [2, NaN, 1]));
  row('class index 2^31', RangeError, /^targets\[1\] = 2147483648: expected an integer class index/, (fl) => api(fl, z(), [2, 2 ** 31, 1]));
  row("class index '1'", TypeError, /^targets\[1\] = '1': expected a class index/, (fl) => api(fl, z(), [2, '1', 1]));
  row('class indices with a hole', TypeError, /^targets\[0\] = undefined: expected a class index/, (fl) => {
    const holey = [2, 0, 1];
    delete holey[0];
    return api(fl, z(), holey);
  });
  row('class index out of range with labelSmoothing', RangeError, /^targets\[1\] = 7: expected a class index/, (fl) => api(fl, z(), [2, 7, 1], { labelSmoothing: 0.1 }));
  row('class index out of range in a later chunk', RangeError, new RegExp(`^targets\\[${LATE}\\] = 5: expected a class index in \\[0, 2\\)`), (fl) => {
    const labels = new Int32Array(BIG).fill(1);
    labels[LATE] = 5;
    return api(fl, new Float32Array(2 * BIG).fill(0.5), labels, { classes: 2 });
  });
  // values
  row('a NaN logit', RangeError, /^logits\[4\] = NaN: expected a finite number/, (fl) => api(fl, withValue(z(), 4, NaN), y()));
  row('an Infinity logit', RangeError, /^logits\[8\] = Infinity/, (fl) => api(fl, withValue(z(), 8, Infinity), y()));
  row('a float64 logit beyond float32 range', RangeError, /^logits\[0\] = 1e\+39: expected a finite number \(within float32 range\)/, (fl) => api(fl, withValue(Float64Array.from(z()), 0, 1e39), y()));
  row("a logit that is a string", TypeError, /^logits\[3\] = 'a': expected a number/, (fl) => api(fl, withValue([...z()], 3, 'a'), y()));
  row('a soft target 1.5', RangeError, /^targets\[5\] = 1\.5: expected a value in \[0, 1\]/, (fl) => api(fl, z(), withValue(soft(), 5, 1.5), { classes: 3 }));
  row('a soft target NaN (float64)', RangeError, /^targets\[0\] = NaN: expected a value in \[0, 1\]/, (fl) => api(fl, z(), withValue(Float64Array.from(soft()), 0, NaN), { classes: 3 }));
  row('a soft target -1e-3', RangeError, /^targets\[7\] = -0\.001/, (fl) => api(fl, z(), withValue(soft(), 7, -1e-3), { classes: 3 }));
  // options
  row('alpha array of the wrong length', RangeError, /^options\.alpha\.length = 2: expected 3 \(one weight per class\)/, (fl) => api(fl, z(), y(), { alpha: [0.5, 0.5] }));
  row('alpha array with a negative weight', RangeError, /^options\.alpha\[1\] = -0\.5: expected a finite number >= 0/, (fl) => api(fl, z(), y(), { alpha: [0.5, -0.5, 1] }));
  row('alpha array with NaN', RangeError, /^options\.alpha\[2\] = NaN/, (fl) => api(fl, z(), y(), { alpha: Float64Array.from([0.5, 0.5, NaN]) }));
  row('alpha array with 1e39', RangeError, /^options\.alpha\[0\] = 1e\+39/, (fl) => api(fl, z(), y(), { alpha: [1e39, 1, 1] }));
  row('alpha array with a string', TypeError, /^options\.alpha\[0\] = 'a': expected a number/, (fl) => api(fl, z(), y(), { alpha: ['a', 1, 1] }));
  row('alpha a Uint8Array', TypeError, /^options\.alpha: expected null, a number, or an array of 3 class weights, got a Uint8Array/, (fl) => api(fl, z(), y(), { alpha: new Uint8Array(3) }));
  row("alpha '0.25'", TypeError, /^options\.alpha: expected null, a number/, (fl) => api(fl, z(), y(), { alpha: '0.25' }));
  row('alpha 1.5', RangeError, /^options\.alpha = 1\.5: expected a number in \[0, 1\]/, (fl) => api(fl, z(), y(), { alpha: 1.5 }));
  for (const gamma of [-1, NaN, 1e39]) {
    row(`gamma ${gamma}`, RangeError, /^options\.gamma = .*: expected a finite number >= 0/, (fl) => api(fl, z(), y(), { gamma }));
  }
  row("gamma '2'", TypeError, /^options\.gamma = '2': expected a number/, (fl) => api(fl, z(), y(), { gamma: '2' }));
  row("reduction 'avg'", RangeError, /^options\.reduction = 'avg'/, (fl) => api(fl, z(), y(), { reduction: 'avg' }));
  for (const normalizer of [0, -1, NaN, 1e-39]) {
    row(`normalizer ${normalizer}`, RangeError, /^options\.normalizer = .*: expected a finite number/, (fl) => api(fl, z(), y(), { normalizer }));
  }
  row("normalizer with 'sum'", RangeError, /^options\.normalizer = 2: .*'mean' only/, (fl) => api(fl, z(), y(), { normalizer: 2, reduction: 'sum' }));
  row("ignoreIndex '1'", TypeError, /^options\.ignoreIndex = '1': expected an integer/, (fl) => api(fl, z(), y(), { ignoreIndex: '1' }));
  for (const ignoreIndex of [1.5, NaN, 2 ** 31]) {
    row(`ignoreIndex ${ignoreIndex}`, RangeError, /^options\.ignoreIndex = .*: expected an integer/, (fl) => api(fl, z(), y(), { ignoreIndex }));
  }
  for (const labelSmoothing of [-0.1, 1.5, NaN]) {
    row(`labelSmoothing ${labelSmoothing}`, RangeError, /^options\.labelSmoothing = .*: expected a number in \[0, 1\]/, (fl) => api(fl, z(), y(), { labelSmoothing }));
  }
  row("labelSmoothing '0.1'", TypeError, /^options\.labelSmoothing = '0\.1'/, (fl) => api(fl, z(), y(), { labelSmoothing: '0.1' }));
  row('weights of length C, not N', RangeError, /^options\.weights\.length = 4: expected 3 \(one weight per row\)/, (fl) => api(fl, z(), y(), { weights: [1, 1, 1, 1] }));
  row('a NaN weight', RangeError, /^options\.weights\[1\] = NaN/, (fl) => api(fl, z(), y(), { weights: [1, NaN, 1] }));
  const none = { reduction: 'none' };
  row('out too short', RangeError, /^options\.out\.length = 2: expected at least 3/, (fl) => api(fl, z(), y(), { ...none, out: new Float32Array(2) }));
  row('out is logits', RangeError, /^options\.out: shares memory with logits/, (fl) => {
    const logits = z();
    return api(fl, logits, y(), { ...none, out: logits });
  });
  row('out is the soft targets', RangeError, /^options\.out: shares memory with targets/, (fl) => {
    const t = soft();
    return api(fl, z(), t, { ...none, classes: 3, out: t });
  });
  row("out is a string with reduction 'mean'", TypeError, /^options\.out: expected a Float32Array/, (fl) => api(fl, z(), y(), { out: 'out' }));
  if (withGrad) {
    row('gradOut of N, not N x C', RangeError, /^options\.gradOut\.length = 3: expected at least 9/, (fl) => api(fl, z(), y(), { gradOut: new Float32Array(3) }));
    row('gradOut a Float64Array', TypeError, /^options\.gradOut: expected a Float32Array, got a Float64Array/, (fl) => api(fl, z(), y(), { gradOut: new Float64Array(9) }));
    row('gradOut is logits', RangeError, /^options\.gradOut: shares memory with logits/, (fl) => {
      const logits = z();
      return api(fl, logits, y(), { gradOut: logits });
    });
    row('gradOut overlaps out', RangeError, /^options\.gradOut: shares memory with options\.out/, (fl) => {
      const both = new Float32Array(12);
      return api(fl, z(), y(), { ...none, out: both.subarray(0, 3), gradOut: both.subarray(2, 11) });
    });
  }
  return rows;
}

// binaryFocalLoss and binaryFocalLossWithGrad.
const BINARY_APIS: ReadonlyArray<readonly [string, AnyFn]> = [
  ['binaryFocalLoss', (fl, a, b, o) => fl.binaryFocalLoss(a as never, b as never, o as never)],
  ['binaryFocalLossWithGrad', (fl, a, b, o) => fl.binaryFocalLossWithGrad(a as never, b as never, o as never)],
];
const probs = (): Float32Array => Float32Array.from([0.9, 0.1, 0.5, 0, 1, 0.3, 0.7, 0.2]);

function binaryTable(api: AnyFn, withGrad: boolean): BadCall[] {
  const rows: BadCall[] = [];
  const row = (what: string, error: ErrorClass, message: RegExp, call: (fl: Focal) => unknown): void => {
    rows.push({ what, error, message, call });
  };
  for (const [kind, value, got] of NOT_FLOATS) {
    row(`probs is ${kind}`, TypeError, new RegExp(`^probs: expected a Float32Array.*${got.source}`), (fl) => api(fl, value, t()));
    row(`targets is ${kind}`, TypeError, new RegExp(`^targets: expected a Float32Array.*${got.source}`), (fl) => api(fl, probs(), value));
  }
  row('targets shorter than probs', RangeError, /^targets\.length = 5: expected 8 \(the length of probs\)/, (fl) => api(fl, probs(), t().subarray(0, 5)));
  for (const [v, at] of [[1.5, 2], [-0.1, 0], [NaN, 7], [Infinity, 3]] as const) {
    row(`probability ${v}`, RangeError, new RegExp(`^probs\\[${at}\\] = ${String(v).replace('.', '\\.')}: expected a value in \\[0, 1\\]`), (fl) => api(fl, withValue([...probs()], at, v), t()));
  }
  row('a probability 1.5 in a later chunk', RangeError, new RegExp(`^probs\\[${LATE}\\] = 1\\.5`), (fl) => api(fl, withValue(new Float32Array(BIG).fill(0.5), LATE, 1.5), bigTargets()));
  row('target 2', RangeError, /^targets\[4\] = 2: expected a value in \[0, 1\]/, (fl) => api(fl, probs(), withValue(t(), 4, 2)));
  row("a probability that is a string", TypeError, /^probs\[1\] = '0\.5': expected a number/, (fl) => api(fl, withValue([...probs()], 1, '0.5'), t()));
  row("epsilon '1e-7'", TypeError, /^options\.epsilon = '1e-7'/, (fl) => api(fl, probs(), t(), { epsilon: '1e-7' }));
  for (const epsilon of [0, -1e-7, 0.5, 1e-9, NaN]) {
    row(`epsilon ${epsilon}`, RangeError, /^options\.epsilon = .*: expected a number in \[2\^-24, 0\.5\)/, (fl) => api(fl, probs(), t(), { epsilon }));
  }
  for (const gamma of [-1, NaN, 1e39]) row(`gamma ${gamma}`, RangeError, /^options\.gamma = /, (fl) => api(fl, probs(), t(), { gamma }));
  row('alpha 2', RangeError, /^options\.alpha = 2: expected a number in \[0, 1\]/, (fl) => api(fl, probs(), t(), { alpha: 2 }));
  row("reduction 'batch'", RangeError, /^options\.reduction = 'batch'/, (fl) => api(fl, probs(), t(), { reduction: 'batch' }));
  for (const normalizer of [0, -1, 1e-39]) row(`normalizer ${normalizer}`, RangeError, /^options\.normalizer = /, (fl) => api(fl, probs(), t(), { normalizer }));
  row('a NaN weight', RangeError, /^options\.weights\[3\] = NaN/, (fl) => api(fl, probs(), t(), { weights: withValue(new Float32Array(N).fill(1), 3, NaN) }));
  row('out is probs', RangeError, /^options\.out: shares memory with probs/, (fl) => {
    const p = probs();
    return api(fl, p, t(), { reduction: 'none', out: p });
  });
  row("out is a string with reduction 'mean'", TypeError, /^options\.out: expected a Float32Array/, (fl) => api(fl, probs(), t(), { out: 'out' }));
  if (withGrad) {
    row('gradOut too short', RangeError, /^options\.gradOut\.length = 7: expected at least 8/, (fl) => api(fl, probs(), t(), { gradOut: new Float32Array(7) }));
    row('gradOut is targets', RangeError, /^options\.gradOut: shares memory with targets/, (fl) => {
      const targets = t();
      return api(fl, probs(), targets, { gradOut: targets });
    });
  }
  return rows;
}

// The primitives softmax, logSoftmax (rows of C) and sigmoid.
function primitiveTable(): BadCall[] {
  const rows: BadCall[] = [];
  const row = (what: string, error: ErrorClass, message: RegExp, call: (fl: Focal) => unknown): void => {
    rows.push({ what, error, message, call });
  };
  for (const name of ['softmax', 'logSoftmax'] as const) {
    const api = (fl: Focal, a: unknown, o?: unknown): unknown => fl[name](a as never, o as never);
    for (const [kind, value, got] of NOT_FLOATS) {
      row(`${name}: logits is ${kind}`, TypeError, new RegExp(`^logits: expected a Float32Array.*${got.source}`), (fl) => api(fl, value));
    }
    row(`${name}: classes '3'`, TypeError, /^options\.classes = '3'/, (fl) => api(fl, z(), { classes: '3' }));
    row(`${name}: classes 0`, RangeError, /^options\.classes = 0: expected a positive integer/, (fl) => api(fl, z(), { classes: 0 }));
    row(`${name}: logits not a multiple of classes`, RangeError, /^logits\.length = 9: expected a multiple of the number of classes \(2\)/, (fl) => api(fl, z(), { classes: 2 }));
    row(`${name}: a NaN logit`, RangeError, /^logits\[5\] = NaN: expected a finite number/, (fl) => api(fl, withValue(z(), 5, NaN), { classes: 3 }));
    row(`${name}: -Infinity in a later chunk`, RangeError, new RegExp(`^logits\\[${LATE}\\] = -Infinity`), (fl) => api(fl, withValue(bigLogits(), LATE, -Infinity), { classes: 1 }));
    row(`${name}: a string logit`, TypeError, /^logits\[2\] = 'x': expected a number/, (fl) => api(fl, withValue([...z()], 2, 'x'), { classes: 3 }));
    row(`${name}: out too short`, RangeError, /^options\.out\.length = 8: expected at least 9/, (fl) => api(fl, z(), { classes: 3, out: new Float32Array(8) }));
    row(`${name}: out is logits`, RangeError, /^options\.out: shares memory with logits/, (fl) => {
      const logits = z();
      return api(fl, logits, { out: logits });
    });
    row(`${name}: options a number`, TypeError, /^options: expected an object/, (fl) => api(fl, z(), 3));
  }
  for (const [kind, value, got] of NOT_FLOATS) {
    row(`sigmoid: x is ${kind}`, TypeError, new RegExp(`^x: expected a Float32Array.*${got.source}`), (fl) => fl.sigmoid(value as never));
  }
  row('sigmoid: out a Float64Array', TypeError, /^options\.out: expected a Float32Array, got a Float64Array/, (fl) => fl.sigmoid(z(), { out: new Float64Array(9) as never }));
  row('sigmoid: out overlaps x', RangeError, /^options\.out: shares memory with x/, (fl) => {
    const x = z();
    return fl.sigmoid(x.subarray(0, 5), { out: x.subarray(4) });
  });
  row('sigmoid: a hole in x', TypeError, /^x\[1\] = undefined: expected a number/, (fl) => {
    const holey = [1, 2, 3];
    delete holey[1];
    return fl.sigmoid(holey);
  });
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// The good call after each error: multi-chunk, weighted, every output, compared bit for bit with a fresh engine.
interface GoodAnswer {
  none: Float32Array;
  grad: Float32Array;
  mean: number;
  sum: number;
  softmaxNone: Float32Array;
  softmaxGrad: Float32Array;
  softmaxMean: number;
  binaryGrad: Float32Array;
  binarySum: number;
  logSoftmax: Float32Array;
}
const good = (() => {
  const random = rng(99);
  const n = 2 * CHUNK + 301;
  const logits = Float32Array.from({ length: n }, () => (random() - 0.5) * 30);
  const targets = Float32Array.from({ length: n }, () => (random() < 0.3 ? random() : random() < 0.5 ? 0 : 1));
  const weights = Float32Array.from({ length: n }, () => random() * 2);
  const C = 7;
  const rows = Math.floor(n / C);
  const labels = Int32Array.from({ length: rows }, () => (random() < 0.1 ? -100 : Math.floor(random() * C)));
  const probs = Float32Array.from({ length: n }, () => random());
  return { logits, targets, weights, C, rows, labels, probs };
})();
function goodCall(fl: Focal): GoodAnswer {
  const { logits, targets, weights } = good;
  const fused = fl.sigmoidFocalLossWithGrad(logits, targets, { reduction: 'none', gamma: 1.5, weights });
  return {
    none: fused.loss as Float32Array,
    grad: fused.grad,
    mean: fl.sigmoidFocalLoss(logits, targets, { gamma: 2, alpha: 0.4 }) as number,
    sum: fl.sigmoidFocalLoss(logits, targets, { gamma: 0.5, reduction: 'sum', weights }) as number,
    ...goodOthers(fl),
  };
}
function goodOthers(fl: Focal): Omit<GoodAnswer, 'none' | 'grad' | 'mean' | 'sum'> {
  const { logits, targets, weights, C, rows, labels, probs } = good;
  const z = logits.subarray(0, rows * C);
  const softmax = fl.softmaxFocalLossWithGrad(z, labels, { classes: C, reduction: 'none', gamma: 1.5, alpha: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], weights: weights.subarray(0, rows) });
  const binary = fl.binaryFocalLossWithGrad(probs, targets, { reduction: 'sum', gamma: 2.5, weights });
  return {
    softmaxNone: softmax.loss as Float32Array,
    softmaxGrad: softmax.grad,
    softmaxMean: fl.softmaxFocalLoss(z, labels, { classes: C }) as number,
    binaryGrad: binary.grad,
    binarySum: binary.loss as number,
    logSoftmax: fl.logSoftmax(z, { classes: C }),
  };
}
function expectSameAnswer(got: GoodAnswer, want: GoodAnswer): void {
  for (const key of Object.keys(want) as (keyof GoodAnswer)[]) {
    const [g, w] = [got[key], want[key]];
    if (typeof w === 'number') expect(Object.is(g, w), `${key}: ${String(g)} vs ${w}`).toBe(true);
    else expect(Buffer.from((g as Float32Array).buffer).equals(Buffer.from(w.buffer)), key).toBe(true);
  }
}

let tried = 0;
describe.each(builds)('bad input, $name build', ({ create }) => {
  let fl: Focal;
  let fresh: GoodAnswer;
  beforeAll(async () => {
    fl = await create();
    fresh = goodCall(await create());
  });

  test('the good call itself matches the float64 reference', () => {
    const { logits, targets, weights } = good;
    const ref = sigmoidFocalReduced(logits, targets, { alpha: 0.25, gamma: 1.5, reduction: 'none', weights });
    expect(worstRelativeError(fresh.none, ref.loss as Float64Array).error).toBeLessThan(1e-5);
    const mean = sigmoidFocalReduced(logits, targets, { alpha: 0.4, gamma: 2, reduction: 'mean' }).loss as number;
    expect(Math.abs(fresh.mean - mean) / mean).toBeLessThan(1e-6);
  });

  const tables: ReadonlyArray<readonly [string, BadCall[]]> = [
    ...SIGMOID_APIS.map(([apiName, api]) => [apiName, sigmoidTable(api, apiName.endsWith('WithGrad'))] as const),
    ...SOFTMAX_APIS.map(([apiName, api]) => [apiName, softmaxTable(api, apiName.endsWith('WithGrad'))] as const),
    ...BINARY_APIS.map(([apiName, api]) => [apiName, binaryTable(api, apiName.endsWith('WithGrad'))] as const),
    ['primitives', primitiveTable()] as const,
  ];
  for (const [apiName, table] of tables) {
    test.each(table)(`${apiName}: $what`, ({ call, error, message }) => {
      tried++;
      let thrown: unknown;
      try {
        call(fl);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, 'it must throw').toBeInstanceOf(error);
      // the other class must not match either (RangeError is not a TypeError, but be explicit)
      expect((thrown as Error).constructor).toBe(error);
      expect((thrown as Error).message).toMatch(message);
      expectSameAnswer(goodCall(fl), fresh);
    });
  }

  test('edges that are not errors: -0 target, targets that round into [0, 1], alpha negative or null, N = 0', () => {
    expect(fl.sigmoidFocalLoss([1, 2], [-0, 1])).toBeTypeOf('number');
    // 1 + 1e-9 rounds to 1 in float32 and -1e-50 to -0: the checks are on the float32 value the kernel sees
    expect(fl.sigmoidFocalLoss(new Float64Array([1, 2]), new Float64Array([1 + 1e-9, -1e-50]))).toBeTypeOf('number');
    expect(fl.sigmoidFocalLoss([1], [1], { alpha: -3 })).toBe(fl.sigmoidFocalLoss([1], [1], { alpha: null }));
    expect(fl.sigmoidFocalLoss([], [])).toBe(0);
    expect(fl.sigmoidFocalLoss([], [], { normalizer: 5 })).toBe(0);
    // an option set to undefined counts as absent (a misspelt one is a TypeError: test/options.test.ts)
    expect(fl.sigmoidFocalLoss([1], [1], { gamma: undefined })).toBe(fl.sigmoidFocalLoss([1], [1]));
    // the largest gamma and smallest normalizer still accepted give finite results
    const big = fl.sigmoidFocalLossWithGrad([1, -2, 30], [1, 0, 1], { gamma: 3e38, normalizer: 3e-39, weights: [0, 1e-30, 1] });
    expect(Number.isFinite(big.loss)).toBe(true);
    for (const g of big.grad) expect(Number.isFinite(g)).toBe(true);
  });
});

test('error rows tried', () => {
  // printed for the report: every row ran on both builds and both sigmoid APIs
  console.log(`bad inputs tried: ${tried}`);
  expect(tried).toBeGreaterThan(100);
});
