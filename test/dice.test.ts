// diceLoss, tverskyLoss and diceFocalLoss (issue 15, item 1), both builds, against overlapRef, the float64 reference
// of MONAI 1.5 DiceLoss / TverskyLoss / DiceFocalLoss in test/reference.ts: every option, both target forms, class
// axis 1 and last, the reductions; the reference gradient against central differences; a hand-computed case; SIMD
// and scalar bit for bit; extreme logits; the errors.
import { afterAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { bits, builds, rng, thrown } from './engines.js';
import { centralDifference, overlapRef, OVERLAP_REF_DEFAULTS, type OverlapRefOptions } from './reference.js';

const LOSS_TOLERANCE = 1e-5; // relative, per value
const GRAD_TOLERANCE = 1e-5; // relative to the largest gradient entry of the call

type Loss = 'diceLoss' | 'tverskyLoss' | 'diceFocalLoss';
const REF_NAME = { diceLoss: 'dice', tverskyLoss: 'tversky', diceFocalLoss: 'diceFocal' } as const;
type Call = (x: unknown, t: unknown, o: object) => { loss: number | Float32Array; grad: Float32Array };
const withGrad = (fl: Focal, loss: Loss): Call => (fl as unknown as Record<string, Call>)[`${loss}WithGrad`]!.bind(fl);

/** Logits [N, C, ...spatial] (scales from 0.3 to 12), class indices and soft targets for them. */
function inputs(shape: number[], seed: number, classAxis = 1) {
  const random = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const C = shape[classAxis < 0 ? classAxis + shape.length : classAxis]!;
  const scales = [0.3, 2, 6, 12];
  const logits = Float32Array.from({ length: n }, (_, i) => (random() - 0.5) * 2 * scales[i % 4]!);
  const labels = Int32Array.from({ length: n / C }, () => Math.floor(random() * C));
  const soft = Float32Array.from({ length: n }, () => (random() < 0.3 ? (random() < 0.5 ? 0 : 1) : random()));
  const probs = Float32Array.from({ length: n }, () => random());
  return { logits, labels, soft, probs };
}

/** The engine's options for a reference option set (the names differ only for diceFocal's alpha). */
function engineOptions(loss: Loss, o: Partial<OverlapRefOptions> & { shape: readonly number[] }): Record<string, unknown> {
  const { focalAlpha, alpha, beta, exponent, lambdaDice, lambdaFocal, gamma, squaredPred, jaccard, classWeights, ...common } = o;
  if (loss === 'tverskyLoss') return { ...common, alpha, beta, exponent };
  const dice = { ...common, squaredPred, jaccard, classWeights: classWeights ?? undefined };
  if (loss === 'diceLoss') return dice;
  return { ...dice, lambdaDice, lambdaFocal, gamma, alpha: focalAlpha };
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}
afterAll(() => {
  console.log('worst relative error against overlapRef (loss per value; gradient against the largest entry):');
  for (const [what, row] of Object.entries(worst)) {
    console.log(`  ${what.padEnd(28)} ${Object.entries(row).map(([b, e]) => `${b} ${e.toExponential(2)}`).join('  ')}`);
  }
});

/** Compares one call with the reference; returns the engine's result. */
function check(fl: Focal, build: string, loss: Loss, x: Float32Array, t: Float32Array | Int32Array, o: Partial<OverlapRefOptions> & { shape: readonly number[] }) {
  const got = withGrad(fl, loss)(x, t, engineOptions(loss, o));
  const ref = overlapRef(x, t, t instanceof Int32Array, { ...OVERLAP_REF_DEFAULTS, ...o, loss: REF_NAME[loss] } as OverlapRefOptions);
  let lossError = 0;
  if (typeof ref.loss === 'number') {
    lossError = Math.abs((got.loss as number) - ref.loss) / Math.max(Math.abs(ref.loss), 1e-30);
  } else {
    const values = got.loss as Float32Array;
    expect(values.length).toBe(ref.loss.length);
    ref.loss.forEach((v, i) => { lossError = Math.max(lossError, Math.abs(values[i]! - v) / Math.max(Math.abs(v), 1e-30)); });
  }
  let scale = 0;
  for (const g of ref.grad) scale = Math.max(scale, Math.abs(g));
  let gradError = 0;
  ref.grad.forEach((g, i) => { gradError = Math.max(gradError, Math.abs(got.grad[i]! - g) / Math.max(scale, 1e-30)); });
  record(`${loss} loss`, build, lossError);
  record(`${loss} gradient`, build, gradError);
  const label = `${loss} ${JSON.stringify({ ...o, shape: undefined })}`;
  expect(lossError, label).toBeLessThanOrEqual(LOSS_TOLERANCE);
  expect(gradError, label).toBeLessThanOrEqual(GRAD_TOLERANCE);
  for (const g of got.grad) expect(Number.isFinite(g)).toBe(true);
  return got;
}

const OPTION_SETS: Partial<OverlapRefOptions>[] = [
  {},
  { activation: 'sigmoid' },
  { includeBackground: false },
  { includeBackground: false, activation: 'sigmoid' },
  { squaredPred: true },
  { jaccard: true },
  { jaccard: true, squaredPred: true, activation: 'sigmoid' },
  { batch: true },
  { batch: true, includeBackground: false, reduction: 'none' },
  { smoothNr: 0, smoothDr: 1e-3 },
  { smoothNr: 1, smoothDr: 1 },
  { reduction: 'sum' },
  { reduction: 'none' },
  { reduction: 'none', activation: 'sigmoid', squaredPred: true },
  { alpha: 0.3, beta: 0.7 },
  { alpha: 0, beta: 1, batch: true },
  { exponent: 0.75 },
  { exponent: 2, alpha: 0.7, beta: 0.3, reduction: 'sum' },
  { lambdaDice: 0.3, lambdaFocal: 2 },
  { gamma: 0, focalAlpha: 0.25 },
  { gamma: 0.5, focalAlpha: 0.75, reduction: 'sum' },
  { gamma: 3, lambdaDice: 0 },
];
const LOSSES: Loss[] = ['diceLoss', 'tverskyLoss', 'diceFocalLoss'];
const SHAPE = [3, 4, 5, 7]; // N, C, H, W: 35 positions, not a multiple of 4 (the vector tails)

describe.each(builds)('$name build', ({ name, create }) => {
  test.each(LOSSES)('%s: every option set, class indices and soft targets, against the reference', async (loss) => {
    const fl = await create();
    const { logits, labels, soft } = inputs(SHAPE, 11);
    for (const o of OPTION_SETS) {
      for (const t of [labels, soft]) check(fl, name, loss, logits, t, { ...o, shape: SHAPE });
    }
  });

  test.each(LOSSES)("%s: activation 'none' takes probabilities", async (loss) => {
    const fl = await create();
    const { probs, labels, soft } = inputs(SHAPE, 12);
    for (const t of [labels, soft]) {
      check(fl, name, loss, probs, t, { activation: 'none', shape: SHAPE });
      check(fl, name, loss, probs, t, { activation: 'none', includeBackground: false, reduction: 'none', shape: SHAPE });
    }
  });

  test.each(LOSSES)('%s: classWeights (a number, one per class; ignored for one counted class, as MONAI)', async (loss) => {
    if (loss === 'tverskyLoss') return; // MONAI's TverskyLoss has no weight
    const fl = await create();
    const { logits, labels } = inputs(SHAPE, 13);
    check(fl, name, loss, logits, labels, { classWeights: [0.5, 2, 0, 1.5], shape: SHAPE });
    check(fl, name, loss, logits, labels, { classWeights: [2, 0.1, 3], includeBackground: false, reduction: 'sum', shape: SHAPE });
    const call = withGrad(fl, loss);
    const three = call(logits, labels, { shape: SHAPE, classWeights: 3 });
    const each = call(logits, labels, { shape: SHAPE, classWeights: [3, 3, 3, 3] });
    expect(three.loss).toBe(each.loss);
    // Two classes without the background: one counted, the weight is ignored.
    const two = inputs([2, 2, 9], 14);
    const plain = call(two.logits, two.labels, { shape: [2, 2, 9], includeBackground: false });
    const weighted = call(two.logits, two.labels, { shape: [2, 2, 9], includeBackground: false, classWeights: [7] });
    expect(weighted.loss).toBe(plain.loss);
  });

  test.each(LOSSES)('%s: class axis last (and 2 of a rank-4 shape) agrees with the reference and with class axis 1, bit for bit', async (loss) => {
    const fl = await create();
    const [N, C, H, W] = SHAPE as [number, number, number, number];
    const { logits, labels, soft } = inputs(SHAPE, 15);
    // The same data, classes last: [N, H, W, C].
    const last = new Float32Array(logits.length);
    const softLast = new Float32Array(logits.length);
    for (let b = 0; b < N; b++) for (let c = 0; c < C; c++) for (let s = 0; s < H * W; s++) {
      last[(b * H * W + s) * C + c] = logits[(b * C + c) * H * W + s]!;
      softLast[(b * H * W + s) * C + c] = soft[(b * C + c) * H * W + s]!;
    }
    const lastShape = [N, H, W, C];
    for (const o of [{}, { reduction: 'none' as const }, { activation: 'sigmoid' as const, includeBackground: false }]) {
      const a = check(fl, name, loss, last, labels, { ...o, shape: lastShape, classAxis: -1 });
      const b = withGrad(fl, loss)(logits, labels, engineOptions(loss, { ...o, shape: SHAPE }));
      if (typeof a.loss === 'number') expect(a.loss).toBe(b.loss);
      else if (loss !== 'diceFocalLoss') expect(bits(a.loss).equals(bits(b.loss as Float32Array))).toBe(true);
      for (let bb = 0; bb < N; bb++) for (let c = 0; c < C; c++) for (let s = 0; s < H * W; s++) {
        expect(Object.is(a.grad[(bb * H * W + s) * C + c], b.grad[(bb * C + c) * H * W + s])).toBe(true);
      }
      check(fl, name, loss, softLast, labels, { ...o, shape: lastShape, classAxis: 3 }); // soft as logits: any values
      check(fl, name, loss, last, softLast, { ...o, shape: lastShape, classAxis: -1 });
    }
    // Classes on axis 2 of [N, H, C, W] (inner W = 7, outer slices per item H = 5).
    const mid = inputs([2, 5, 3, 7], 16, 2);
    check(fl, name, loss, mid.logits, mid.labels, { shape: [2, 5, 3, 7], classAxis: 2 });
    check(fl, name, loss, mid.logits, mid.soft, { shape: [2, 5, 3, 7], classAxis: 2, reduction: 'none' });
  });

  test.each(LOSSES)('%s: 2 to 5 classes (the softmax of up to four classes in registers, of more in blocks), against the reference', async (loss) => {
    const fl = await create();
    for (const C of [2, 3, 4, 5]) {
      const shape = [2, C, 9, 13]; // 117 positions: vector body and tail
      const { logits, labels, soft } = inputs(shape, 20 + C);
      for (const t of [labels, soft]) {
        check(fl, name, loss, logits, t, { shape });
        check(fl, name, loss, logits, t, { shape, includeBackground: false, squaredPred: true });
      }
    }
  });

  test.each(LOSSES)('%s: larger than a chunk (several chunks per item), against the reference', async (loss) => {
    const fl = await create();
    for (const [shape, axis] of [[[2, 3, 70, 90], 1], [[2, 70, 90, 3], -1]] as const) {
      const { logits, labels } = inputs([...shape], 17, axis);
      check(fl, name, loss, logits, labels, { shape, classAxis: axis });
    }
  });

  test.each(LOSSES)('%s: extreme logits give a finite loss and gradient', async (loss) => {
    const fl = await create();
    const shape = [2, 3, 4, 4];
    const values = [0, 1e4, -1e4, 3e38, -3e38, 88.7, -103, 1e-40, 17, -17];
    const logits = Float32Array.from({ length: 96 }, (_, i) => values[i % values.length]!);
    const { labels, soft } = inputs(shape, 18);
    for (const activation of ['softmax', 'sigmoid'] as const) {
      for (const t of [labels, soft]) {
        for (const extra of [{}, { gamma: 0.5 }, { exponent: 0.5 }, { squaredPred: true, jaccard: true }]) {
          const o = { shape, activation, ...extra };
          const options = loss === 'diceFocalLoss' ? { ...o, exponent: undefined } : loss === 'tverskyLoss' ? { shape, activation, exponent: (extra as { exponent?: number }).exponent } : { ...o, gamma: undefined, exponent: undefined };
          for (const reduction of ['mean', 'none'] as const) {
            const r = withGrad(fl, loss)(logits, t, { ...options, reduction });
            const losses = typeof r.loss === 'number' ? [r.loss] : Array.from(r.loss);
            for (const v of losses) expect(Number.isFinite(v)).toBe(true);
            for (const g of r.grad) expect(Number.isFinite(g)).toBe(true);
          }
        }
      }
    }
  });
});

describe('the reference', () => {
  test.each(LOSSES)('%s: its gradient matches central differences of its loss', (loss) => {
    const shape = [2, 3, 3, 2];
    const { logits, labels, soft } = inputs(shape, 21);
    const x = Float64Array.from(logits);
    for (const o of [{}, { activation: 'sigmoid' }, { squaredPred: true, jaccard: true, includeBackground: false }, { batch: true, reduction: 'sum' },
      { exponent: 0.75, alpha: 0.2, beta: 0.8 }, { gamma: 0.5, focalAlpha: 0.3, lambdaFocal: 2 }, { reduction: 'none' }] as Partial<OverlapRefOptions>[]) {
      for (const t of [labels, soft]) {
        const opts = { ...OVERLAP_REF_DEFAULTS, ...o, shape, loss: REF_NAME[loss] } as OverlapRefOptions;
        const total = (v: Float64Array): number => {
          const l = overlapRef(v, t, t instanceof Int32Array, opts).loss;
          return typeof l === 'number' ? l : l.reduce((a, b) => a + b, 0);
        };
        const { grad } = overlapRef(x, t, t instanceof Int32Array, opts);
        for (let i = 0; i < x.length; i += 5) {
          const numeric = centralDifference((v) => { const y = Float64Array.from(x); y[i] = v; return total(y); }, x[i]!);
          expect(Math.abs(numeric - grad[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(grad[i]!)));
        }
      }
    }
  });
});

describe('numbers from the anchor formulas, by hand', () => {
  // N = 1, C = 2, two positions; probabilities given (activation 'none'); class indices [0, 1].
  // class 0: p = [0.8, 0.4], t = [1, 0]: I = 0.8, P = 1.2, G = 1;  class 1: p = [0.2, 0.6], t = [0, 1]: I = 0.6, P = 0.8, G = 1.
  const p = new Float32Array([0.8, 0.4, 0.2, 0.6]);
  const t = new Int32Array([0, 1]);
  const f = Math.fround;
  const [I0, P0, I1, P1] = [f(0.8), f(0.8) + f(0.4), f(0.6), f(0.2) + f(0.6)];
  test.each(builds)('$name: dice, jaccard and tversky with MONAI defaults', async ({ create }) => {
    const fl = await create();
    const dice = (1 - (2 * I0 + 1e-5) / (P0 + 1 + 1e-5) + 1 - (2 * I1 + 1e-5) / (P1 + 1 + 1e-5)) / 2;
    expect(fl.diceLoss(p, t, { shape: [1, 2, 2], activation: 'none' })).toBeCloseTo(dice, 7);
    expect(dice).toBeCloseTo((1 - 1.60001 / 2.20001 + 1 - 1.20001 / 1.80001) / 2, 6); // 0.3030
    const jaccard = (1 - (2 * I0 + 1e-5) / (2 * (P0 + 1 - I0) + 1e-5) + 1 - (2 * I1 + 1e-5) / (2 * (P1 + 1 - I1) + 1e-5)) / 2;
    expect(fl.diceLoss(p, t, { shape: [1, 2, 2], activation: 'none', jaccard: true })).toBeCloseTo(jaccard, 7);
    // Tversky alpha 0.3, beta 0.7: FP0 = 0.4, FN0 = 0.2; FP1 = 0.2, FN1 = 0.4.
    const tv = (1 - (I0 + 1e-5) / (I0 + 0.3 * f(0.4) + 0.7 * f(0.2) + 1e-5) + 1 - (I1 + 1e-5) / (I1 + 0.3 * f(0.2) + 0.7 * f(0.4) + 1e-5)) / 2;
    expect(fl.tverskyLoss(p, t, { shape: [1, 2, 2], activation: 'none', alpha: 0.3, beta: 0.7 })).toBeCloseTo(tv, 7);
    // The focal half of diceFocal, on the raw input as logits, gamma 2 (no alpha), MONAI's 'sum': spatial mean.
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const sp = (v: number) => Math.log1p(Math.exp(v));
    const fe = (x: number, y: number) => sig(-x * (2 * y - 1)) ** 2 * (y * sp(-x) + (1 - y) * sp(x));
    const focalSum = (fe(f(0.8), 1) + fe(f(0.4), 0)) / 2 + (fe(f(0.2), 0) + fe(f(0.6), 1)) / 2;
    expect(fl.diceFocalLoss(p, t, { shape: [1, 2, 2], activation: 'none', reduction: 'sum' })).toBeCloseTo(2 * dice + focalSum, 6);
  });
});

describe('SIMD and scalar builds', () => {
  test.each(LOSSES)('%s: bit for bit, every option set and both layouts', async (loss) => {
    const simd = await builds[0].create();
    const scalar = await builds[1].create();
    const shape = [2, 5, 33, 31]; // 1023 positions: vector body and tails
    const { logits, labels, soft } = inputs(shape, 31);
    for (const o of OPTION_SETS) {
      for (const t of [labels, soft]) {
        for (const [s, axis] of [[shape, 1], [[2, 33, 31, 5], -1]] as const) {
          const options = engineOptions(loss, { ...o, shape: s, classAxis: axis });
          const a = withGrad(simd, loss)(logits, t, options);
          const b = withGrad(scalar, loss)(logits, t, options);
          if (typeof a.loss === 'number') expect(Object.is(a.loss, b.loss)).toBe(true);
          else expect(bits(a.loss).equals(bits(b.loss as Float32Array))).toBe(true);
          expect(bits(a.grad).equals(bits(b.grad))).toBe(true);
        }
      }
    }
  });
});

describe('results and outputs', () => {
  test('the loss alone equals the loss of ...WithGrad; out and gradOut are filled and returned', async () => {
    const fl = await builds[0].create();
    const { logits, labels } = inputs(SHAPE, 41);
    expect(fl.diceLoss(logits, labels, { shape: SHAPE })).toBe(fl.diceLossWithGrad(logits, labels, { shape: SHAPE }).loss);
    const out = new Float32Array(12);
    const gradOut = new Float32Array(logits.length);
    const r = fl.tverskyLossWithGrad(logits, labels, { shape: SHAPE, reduction: 'none', out, gradOut });
    expect(r.loss).toBe(out);
    expect(r.grad).toBe(gradOut);
    const element = fl.diceFocalLoss(logits, labels, { shape: SHAPE, reduction: 'none', includeBackground: false });
    expect(element.length).toBe(3 * 3 * 35);
    expect(Array.from(labels)).toEqual(Array.from(labels)); // targets untouched
    // plain arrays: class indices (one per position) and same-shape targets
    expect(fl.diceLoss(Array.from(logits), Array.from(labels), { shape: SHAPE })).toBe(fl.diceLoss(logits, labels, { shape: SHAPE }));
  });
});

describe('errors name the argument, the index and what was expected', () => {
  const shape = [2, 3, 4];
  const { logits, labels, soft } = inputs(shape, 51);
  const cases: [string, unknown, unknown, object, RegExp, ErrorConstructor][] = [
    ['missing shape', logits, labels, {}, /options\.shape = undefined: expected the logits' shape/, TypeError],
    ['shape mismatch', logits, labels, { shape: [2, 3, 5] }, /options\.shape = \[2, 3, 5\]: expected dimensions whose product \(30\) is logits\.length = 24/, RangeError],
    ['targets too short', logits, new Float32Array(23), { shape }, /targets\.length = 23: expected 24/, RangeError],
    ['class indices too few', logits, new Int32Array(7), { shape }, /targets\.length = 7: expected 8, one class index per position/, RangeError],
    ['class axis 0', logits, soft, { shape, classAxis: 0 }, /options\.classAxis = 0: expected a class axis after the batch axis 0/, RangeError],
    ['label out of range', logits, Int32Array.from(labels, (v, i) => (i === 5 ? 3 : v)), { shape }, /targets\[5\] = 3: expected a class index in \[0, 2\]/, RangeError],
    ['negative label', logits, Int32Array.from(labels, (v, i) => (i === 2 ? -1 : v)), { shape }, /targets\[2\] = -1: expected a class index in \[0, 2\]/, RangeError],
    ['non-finite logit', Float32Array.from(logits, (v, i) => (i === 9 ? NaN : v)), labels, { shape }, /logits\[9\] = NaN: expected a finite number/, RangeError],
    ['infinite logit, class last', Float32Array.from(logits, (v, i) => (i === 13 ? Infinity : v)), labels, { shape: [2, 4, 3], classAxis: -1 }, /logits\[13\] = Infinity/, RangeError],
    ['soft target above 1', logits, Float32Array.from(soft, (v, i) => (i === 4 ? 1.5 : v)), { shape }, /targets\[4\] = 1\.5: expected a value in \[0, 1\]/, RangeError],
    ['probability above 1', Float32Array.from(soft, (v, i) => (i === 6 ? 1.25 : v)), labels, { shape, activation: 'none' }, /logits\[6\] = 1\.25: expected a probability in \[0, 1\]/, RangeError],
    ['unknown activation', logits, labels, { shape, activation: 'relu' }, /options\.activation = 'relu': expected 'softmax', 'sigmoid' or 'none'/, RangeError],
    ['smoothDr 0', logits, labels, { shape, smoothDr: 0 }, /options\.smoothDr = 0: expected a finite number > 0/, RangeError],
    ['smoothNr < 0', logits, labels, { shape, smoothNr: -1 }, /options\.smoothNr = -1: expected a finite number >= 0/, RangeError],
    ['classWeights length', logits, labels, { shape, classWeights: [1, 2] }, /options\.classWeights\.length = 2: expected 3/, RangeError],
    ['classWeights negative', logits, labels, { shape, classWeights: [1, -2, 1] }, /options\.classWeights\[1\] = -2: expected a finite number >= 0/, RangeError],
    ['batch not boolean', logits, labels, { shape, batch: 1 }, /options\.batch = 1: expected true or false/, TypeError],
    ['unknown option', logits, labels, { shape, smooth_nr: 1 }, /options\.smooth_nr: unknown option; did you mean 'smoothNr'\?/, TypeError],
    ['softmax over one class', new Float32Array(8), new Float32Array(8), { shape: [2, 1, 4] }, /a softmax over 1 class is 1/, RangeError],
  ];
  test.each(cases)('diceLoss: %s', async (_, x, t, options, message, type) => {
    const fl = await builds[0].create();
    const error = thrown(() => fl.diceLossWithGrad(x as Float32Array, t as Int32Array, options as never));
    expect(error).toBeInstanceOf(type);
    expect(error!.message).toMatch(message);
    expect(fl.diceLoss(logits, labels, { shape })).toBeGreaterThan(0); // still usable
  });
  test.each([
    ['tverskyLoss', { alpha: -0.5 }, /options\.alpha = -0\.5: expected a finite number >= 0/],
    ['tverskyLoss', { exponent: 0 }, /options\.exponent = 0: expected a finite number > 0/],
    ['tverskyLoss', { classWeights: [1, 1, 1] }, /options\.classWeights: not an option of tverskyLoss/],
    ['diceFocalLoss', { gamma: -1 }, /options\.gamma = -1: expected a finite number >= 0/],
    ['diceFocalLoss', { alpha: 2 }, /options\.alpha = 2: expected a number in \[0, 1\]/],
    ['diceFocalLoss', { lambdaDice: -1 }, /options\.lambdaDice = -1: expected a finite number >= 0/],
    ['diceLoss', { gamma: 2 }, /options\.gamma: not an option of diceLoss/],
  ] as const)('%s %o', async (loss, extra, message) => {
    const fl = await builds[0].create();
    const error = thrown(() => withGrad(fl, loss)(logits, labels, { shape, ...extra }));
    expect(error!.message).toMatch(message);
  });
});
