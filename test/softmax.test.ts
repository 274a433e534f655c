// softmaxFocalLoss and softmaxFocalLossWithGrad, both builds, against the float64 reference (test/reference.ts):
// class indices with ignoreIndex, soft targets, label smoothing; every C the issue names, extreme rows, the
// reductions, the cross-checks (gamma = 0 is cross-entropy, C = 2 is sigmoid focal), and the errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, type Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import {
  centralDifference, logSoftmaxRef, relativeError, smoothedTargetRef, softmaxFocalRef, softmaxFocalReduced,
  softmaxFocalSoftRef, softmaxRef, worstRelativeError,
} from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const GAMMAS = [0, 0.3, 0.5, 1, 2, 2.7];
const CLASSES = [1, 2, 3, 10, 80, 1000];

/** N x C float32 logits; each row gets a scale from 0.1 to 40, so p_y runs from ~1/C to within 1e-9 of 1. */
function randomLogits(rows: number, classes: number, seed: number): Float32Array {
  const random = rng(seed);
  const z = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const scale = [0.1, 1, 4, 12, 40][i % 5]!;
    const shift = (random() - 0.5) * 100;
    for (let j = 0; j < classes; j++) z[i * classes + j] = shift + (random() - 0.5) * 2 * scale;
  }
  return z;
}

/** Class indices, about one row in ten ignored; half of the others point at the row's largest logit. */
function randomLabels(logits: Float32Array, classes: number, seed: number, ignoreIndex = -100): Int32Array {
  const random = rng(seed);
  const rows = logits.length / classes;
  return Int32Array.from({ length: rows }, (_, i) => {
    if (random() < 0.1) return ignoreIndex;
    if (random() < 0.5) {
      let top = 0;
      for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + top]!) top = j;
      return top;
    }
    return Math.floor(random() * classes);
  });
}

/** Soft targets: each row a random distribution, some sparse (zeros), some one-hot. */
function randomDistributions(rows: number, classes: number, seed: number): Float32Array {
  const random = rng(seed);
  const t = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) {
    const row = t.subarray(i * classes, (i + 1) * classes);
    if (i % 4 === 3) {
      row[Math.floor(random() * classes)] = 1;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < classes; j++) {
      row[j] = i % 4 === 2 && random() < 0.7 ? 0 : random();
      sum += row[j]!;
    }
    for (let j = 0; j < classes; j++) row[j] = sum > 0 ? row[j]! / sum : 1 / classes;
  }
  return t;
}

function classWeights(classes: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: classes }, () => 0.1 + random());
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

/** Worst error of a gradient judged against the size of the terms it is the difference of. */
function worstAgainstMagnitude(got: ArrayLike<number>, want: ArrayLike<number>, magnitude: ArrayLike<number>): number {
  let error = 0;
  for (let i = 0; i < want.length; i++) {
    const e = got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!) / Math.max(magnitude[i]!, 1e-37);
    error = Math.max(error, e);
  }
  return error;
}

describe.each(builds)('softmax focal loss, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  // The class-index row pass finds non-finite logits through its max, its min and a NaN sum (no test per vector):
  // every position (the target's own included, whole vectors and the masked tail), and rows taken again by their
  // max (target 100 below it).
  // Rows of 4 to 88 classes also go four to a vector (lanes = rows): 9 rows put row 1 in such a group and row 8
  // alone.
  test.each([1, 3, 4, 8, 9, 10, 80, 130])('C = %i: a non-finite logit anywhere in a row is a RangeError naming it', (C) => {
    const rows = 9;
    for (const farBelow of [false, true]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (let j = 0; j < C; j++) {
          const z = randomLogits(rows, C, 7 + C);
          const y = Int32Array.from({ length: rows }, (_, r) => (r * 5) % C);
          if (farBelow && C > 1) z[C + ((y[1]! + 1) % C)] = z[C + y[1]!]! + 100;
          const at = C + j; // row 1
          z[at] = bad;
          const call = () => fl.softmaxFocalLoss(z, y, { classes: C });
          expect(call, `C ${C}, j ${j}, ${bad}`).toThrow(RangeError);
          expect(call, `C ${C}, j ${j}, ${bad}`).toThrow(`logits[${at}]`);
        }
      }
    }
  });

  // Weights are checked on every row, ignored ones included, as the facade's locator reads them (a row-blocked
  // kernel once checked them only on rows it computed, and returned a number for these).
  test('a non-finite weight on an ignored row is a RangeError too, in every block position', () => {
    const C = 5;
    const rows = 70; // more than two blocks of 32 rows
    const z = randomLogits(rows, C, 3);
    for (const r of [0, 31, 32, 69]) {
      const y = Int32Array.from({ length: rows }, (_, i) => (i === r ? -100 : i % C));
      const weights = new Float32Array(rows).fill(1);
      weights[r] = NaN;
      for (const call of [
        () => fl.softmaxFocalLoss(z, y, { classes: C, weights }),
        () => fl.softmaxFocalLossWithGrad(z, y, { classes: C, weights, reduction: 'none' }),
      ]) {
        expect(call, `row ${r}`).toThrow(RangeError);
        expect(call, `row ${r}`).toThrow(`options.weights[${r}]`);
      }
    }
  });

  test.each(CLASSES)('C = %i: row losses and gradients, every gamma and alpha form', (C) => {
    const rows = Math.max(8, Math.ceil(3000 / C));
    const z = randomLogits(rows, C, C);
    const y = randomLabels(z, C, C + 1);
    for (const gamma of GAMMAS) {
      for (const alpha of [null, 0.25, classWeights(C, 3)]) {
        const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha, reduction: 'none' });
        const want = softmaxFocalReduced(z, y, C, { gamma, alpha, reduction: 'none' });
        const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
        record('loss (class indices)', build, lossError.error);
        expect(lossError.error, `C = ${C}, gamma ${gamma}, row ${lossError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        const gradError = worstRelativeError(grad, want.grad);
        record('grad (class indices)', build, gradError.error);
        expect(gradError.error, `C = ${C}, gamma ${gamma}, at ${gradError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        // Ignored rows: exactly 0 loss and gradient.
        for (let i = 0; i < y.length; i++) {
          if (y[i] !== -100) continue;
          expect((loss as Float32Array)[i]).toBe(0);
          expect(grad.subarray(i * C, (i + 1) * C).every((g) => g === 0)).toBe(true);
        }
      }
    }
  });

  test('C = 21843 (ImageNet-21k): rows wider than a staging chunk', () => {
    const C = 21843;
    const z = randomLogits(4, C, 9);
    const y = Int32Array.from([5, 21842, -100, 17_000]);
    const alpha = classWeights(C, 4);
    for (const gamma of [0.5, 2]) {
      for (const reduction of ['none', 'mean'] as const) {
        const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha, reduction });
        const want = softmaxFocalReduced(z, y, C, { gamma, alpha, reduction });
        if (reduction === 'none') {
          const e = worstRelativeError(loss as Float32Array, want.loss as Float64Array).error;
          record('loss (class indices)', build, e);
          expect(e).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        } else {
          const e = relativeError(loss as number, want.loss as number);
          record('mean / sum (reduction)', build, e);
          expect(e).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        }
        const e = worstRelativeError(grad, want.grad).error;
        record('grad (class indices)', build, e);
        expect(e).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      }
    }
    // Soft targets and label smoothing at this width too.
    const t = new Float32Array(4 * C);
    for (let i = 0; i < 4; i++) {
      t[i * C + 5] = 0.6;
      t[i * C + 100 * i] = t[i * C + 100 * i]! + 0.3;
      t[i * C + C - 1] = 0.1;
    }
    const soft = fl.softmaxFocalLossWithGrad(z, t, { classes: C, gamma: 0.5, reduction: 'none' });
    const wantSoft = softmaxFocalReduced(z, t, C, { gamma: 0.5, alpha: null, reduction: 'none', soft: true });
    expect(worstRelativeError(soft.loss as Float32Array, wantSoft.loss as Float64Array).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(worstAgainstMagnitude(soft.grad, wantSoft.grad, wantSoft.magnitude)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const smoothed = fl.softmaxFocalLossWithGrad(z, y, { labelSmoothing: 0.1, reduction: 'sum' });
    const wantSmoothed = softmaxFocalReduced(z, y, C, { gamma: 2, alpha: null, labelSmoothing: 0.1, reduction: 'sum' });
    expect(relativeError(smoothed.loss as number, wantSmoothed.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
    expect(worstAgainstMagnitude(smoothed.grad, wantSmoothed.grad, wantSmoothed.magnitude)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });

  test.each(['mean', 'sum'] as const)('reduction %s over many chunks, with weights and normalizer', (reduction) => {
    const C = 10;
    const rows = 5003; // 1638 rows per chunk at C = 10: four chunks, the last one partial
    const z = randomLogits(rows, C, 21);
    const y = randomLabels(z, C, 22);
    const random = rng(23);
    const weights = Float32Array.from({ length: rows }, () => random() * 2);
    for (const options of [
      { gamma: 2, alpha: null },
      { gamma: 0.5, alpha: classWeights(C, 5), weights },
      { gamma: 2.7, alpha: 0.25, weights },
      ...(reduction === 'mean' ? [{ gamma: 2, alpha: null, normalizer: 17 }] : []),
    ]) {
      const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { ...options, reduction });
      const want = softmaxFocalReduced(z, y, C, { ...options, reduction });
      const error = relativeError(loss as number, want.loss as number);
      record('mean / sum (reduction)', build, error);
      expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      const gradError = worstRelativeError(grad, want.grad).error;
      record('grad of mean / sum', build, gradError);
      expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(fl.softmaxFocalLoss(z, y, { ...options, reduction })).toBe(loss);
    }
  });

  test('the sum is the row losses added in lanes by row index mod 4, whatever the chunking', () => {
    const C = 3;
    const rows = 16_411; // 5461 rows per chunk at C = 3: not a multiple of 4
    const z = randomLogits(rows, C, 31);
    const y = randomLabels(z, C, 32);
    const perRow = fl.softmaxFocalLoss(z, y, { reduction: 'none' }) as Float32Array;
    const lanes = [0, 0, 0, 0];
    for (let i = 0; i < rows; i++) lanes[i & 3]! += perRow[i]!;
    expect(fl.softmaxFocalLoss(z, y, { reduction: 'sum' })).toBe(lanes[0]! + lanes[1]! + (lanes[2]! + lanes[3]!));
  });

  test('extreme rows: spreads of 1e4, logits of +-1e4, all-equal rows, p_y -> 1; every gamma stays finite', () => {
    const rowsList: number[][] = [
      [1e4, 0, -1e4, 5, 1e4 - 1],
      [1e4, 1e4, 1e4, 1e4, 1e4],
      [-1e4, -1e4, -1e4, -1e4, -1e4],
      [3, 3, 3, 3, 3],
      [0, -20, -40, -90, -200], // u = 1 - p_y ~ 2e-9
      [0, -60, -80, -100, -1e3], // u ~ 1e-26: far below float32 epsilon
      [0, -88, -95, -103, -110], // the others' exps are subnormal
      [0, -104, -1e3, -1e4, -3e4], // they vanish: u = 0
      [-1e4, 1e4, -1e4, 1e4, 0],
    ];
    const C = 5;
    const z = Float32Array.from(rowsList.flat());
    for (const yAt of [0, 1, 4]) {
      const y = Int32Array.from(rowsList, () => yAt);
      for (const gamma of [0, 0.1, 0.5, 1, 2, 2.7]) {
        for (const alpha of [null, classWeights(C, 7)]) {
          const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha, reduction: 'none' });
          expect((loss as Float32Array).every(Number.isFinite)).toBe(true);
          expect(grad.every(Number.isFinite)).toBe(true);
          const want = softmaxFocalReduced(z, y, C, { gamma, alpha, reduction: 'none' });
          const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
          record('loss, extreme rows', build, lossError.error);
          expect(lossError.error, `y = ${yAt}, gamma ${gamma}, row ${lossError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          const gradError = worstRelativeError(grad, want.grad);
          record('grad, extreme rows', build, gradError.error);
          expect(gradError.error, `y = ${yAt}, gamma ${gamma}, at ${gradError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        }
      }
    }
  });

  test('a target far below the row max: either side of the kernel\'s shift limit (64), C = 5 and 1000', () => {
    // The class-index kernel shifts by the target's logit unless it lies more than 64 below the max.
    for (const C of [5, 1000]) {
      for (const gap of [10, 63.5, 64, 64.5, 80, 150]) {
        const rows = 3;
        const z = new Float32Array(rows * C);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < C; j++) z[i * C + j] = gap * (j === 0 ? 0 : 1) - (i === 2 ? (j % 7) / 3 : 0);
          z[i * C + 1] = z[i * C + 1]! + i; // row 1: one class above the others
        }
        const y = Int32Array.from([0, 0, 0]);
        for (const gamma of [0, 0.5, 2]) {
          const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma, reduction: 'none' });
          const want = softmaxFocalReduced(z, y, C, { gamma, alpha: null, reduction: 'none' });
          const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array).error;
          const gradError = worstRelativeError(grad, want.grad).error;
          record('loss, extreme rows', build, lossError);
          record('grad, extreme rows', build, gradError);
          expect(lossError, `C = ${C}, gap ${gap}, gamma ${gamma}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          expect(gradError, `C = ${C}, gap ${gap}, gamma ${gamma}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        }
      }
    }
  });

  test('soft targets: losses and gradients for every C and gamma', () => {
    for (const C of [1, 2, 3, 10, 80, 1000]) {
      const rows = Math.max(8, Math.ceil(1500 / C));
      const z = randomLogits(rows, C, 40 + C);
      const t = randomDistributions(rows, C, 50 + C);
      for (const gamma of GAMMAS) {
        for (const alpha of [null, classWeights(C, 6)]) {
          const { loss, grad } = fl.softmaxFocalLossWithGrad(z, t, { classes: C, gamma, alpha, reduction: 'none' });
          const want = softmaxFocalReduced(z, t, C, { gamma, alpha, reduction: 'none', soft: true });
          const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
          record('loss (soft targets)', build, lossError.error);
          expect(lossError.error, `C = ${C}, gamma ${gamma}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          // Where t_j is near p_j the gradient is a difference of two terms: judged against their size.
          const gradError = worstAgainstMagnitude(grad, want.grad, want.magnitude);
          record('grad (soft targets, vs term size)', build, gradError);
          expect(gradError, `C = ${C}, gamma ${gamma}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        }
      }
    }
  });

  test('soft one-hot targets give the class-index results; soft reductions', () => {
    const C = 10;
    const z = randomLogits(200, C, 61);
    const y = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % C);
    const t = new Float64Array(200 * C);
    y.forEach((c, i) => (t[i * C + c] = 1));
    const hard = fl.softmaxFocalLossWithGrad(z, y, { gamma: 2, reduction: 'none' });
    const soft = fl.softmaxFocalLossWithGrad(z, t, { classes: C, gamma: 2, reduction: 'none' });
    expect(worstRelativeError(soft.loss as Float32Array, hard.loss as Float32Array).error).toBeLessThanOrEqual(1e-6);
    expect(worstRelativeError(soft.grad, hard.grad).error).toBeLessThanOrEqual(1e-5);
    const weights = Float32Array.from({ length: 200 }, (_, i) => (i % 3) / 2);
    for (const reduction of ['mean', 'sum'] as const) {
      const tSoft = randomDistributions(200, C, 62);
      const got = fl.softmaxFocalLossWithGrad(z, tSoft, { classes: C, gamma: 1, weights, reduction });
      const want = softmaxFocalReduced(z, tSoft, C, { gamma: 1, alpha: null, weights, reduction, soft: true });
      const error = relativeError(got.loss as number, want.loss as number);
      record('mean / sum (reduction)', build, error);
      expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      expect(worstAgainstMagnitude(got.grad, want.grad, want.magnitude)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  test('labelSmoothing (Keras): class indices smoothed to y (1 - eps) + eps / C, ignoreIndex still applies', () => {
    for (const C of [2, 10, 80]) {
      const rows = 300;
      const z = randomLogits(rows, C, 70 + C);
      const y = randomLabels(z, C, 71 + C);
      for (const labelSmoothing of [0.1, 0.3]) {
        for (const gamma of [0, 0.5, 2]) {
          const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma, labelSmoothing, reduction: 'none' });
          const want = softmaxFocalReduced(z, y, C, { gamma, alpha: null, labelSmoothing, reduction: 'none' });
          const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array).error;
          record('loss (label smoothing)', build, lossError);
          expect(lossError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          const gradError = worstAgainstMagnitude(grad, want.grad, want.magnitude);
          record('grad (label smoothing, vs term size)', build, gradError);
          expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          const mean = fl.softmaxFocalLoss(z, y, { gamma, labelSmoothing });
          const wantMean = softmaxFocalReduced(z, y, C, { gamma, alpha: null, labelSmoothing, reduction: 'mean' });
          expect(relativeError(mean as number, wantMean.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        }
      }
      // labelSmoothing 0 is the class-index kernel, bit for bit.
      expect(fl.softmaxFocalLoss(z, y, { labelSmoothing: 0 })).toBe(fl.softmaxFocalLoss(z, y));
    }
  });

  test('gamma = 0 is (class-weighted) softmax cross-entropy, and its gradient alpha_y (p - onehot)', () => {
    const C = 7;
    const z = randomLogits(500, C, 81);
    const y = randomLabels(z, C, 82);
    const alpha = classWeights(C, 83);
    const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { gamma: 0, alpha, reduction: 'none' });
    for (let i = 0; i < y.length; i++) {
      const row = z.subarray(i * C, (i + 1) * C);
      const yi = y[i]!;
      const ce = yi < 0 ? 0 : -alpha[yi]! * logSoftmaxRef(row)[yi]!;
      expect(relativeError((loss as Float32Array)[i]!, ce)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      const p = softmaxRef(row);
      for (let j = 0; j < C; j++) {
        const want = yi < 0 ? 0 : alpha[yi]! * (j === yi ? -(1 - p[j]!) : p[j]!);
        const got = grad[i * C + j]!;
        // 1 - p_y in float64 loses digits as p_y -> 1; the engine's u is exact, so allow that float64 rounding.
        expect(Math.abs(got - want)).toBeLessThanOrEqual(ELEMENT_TOLERANCE * Math.abs(want) + 1e-15);
      }
    }
  });

  test('C = 2 equals sigmoid focal loss on the logit difference (alpha [1 - a, a] <-> alpha a)', () => {
    const random = rng(91);
    const rows = 2000;
    const z = new Float32Array(rows * 2);
    const x = new Float32Array(rows);
    for (let i = 0; i < rows; i++) {
      // Values on a 1/256 grid, so z1 - z0 is exact in float32.
      const z0 = Math.round((random() - 0.5) * 40 * 256) / 256;
      const diff = Math.round((random() - 0.5) * 60 * 256) / 256;
      z[2 * i] = z0;
      z[2 * i + 1] = z0 + diff;
      x[i] = diff;
    }
    const y = Int32Array.from({ length: rows }, () => (random() < 0.5 ? 0 : 1));
    const t = Float32Array.from(y);
    for (const gamma of [0, 0.5, 2, 2.7]) {
      for (const a of [0.25, 0.6]) {
        const softmax = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha: [1 - a, a], reduction: 'none' });
        const sigmoid = fl.sigmoidFocalLossWithGrad(x, t, { gamma, alpha: a, reduction: 'none' });
        const lossError = worstRelativeError(softmax.loss as Float32Array, sigmoid.loss as Float32Array).error;
        record('C = 2 vs sigmoid focal (loss)', build, lossError);
        expect(lossError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        const dz1 = softmax.grad.filter((_, k) => k % 2 === 1);
        const dz0 = softmax.grad.filter((_, k) => k % 2 === 0).map((g) => -g);
        const gradError = Math.max(
          worstRelativeError(dz1, sigmoid.grad).error, worstRelativeError(dz0, sigmoid.grad).error,
        );
        record('C = 2 vs sigmoid focal (grad)', build, gradError);
        expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      }
    }
  });

  test('N = 0 and all rows ignored: mean is 0 (not NaN), sum 0, none empty or zeros', () => {
    expect(fl.softmaxFocalLoss(new Float32Array(0), new Int32Array(0))).toBe(0);
    expect(fl.softmaxFocalLoss([], [], { reduction: 'sum' })).toBe(0);
    const empty = fl.softmaxFocalLossWithGrad(new Float32Array(0), new Int32Array(0), { classes: 5, reduction: 'none' });
    expect((empty.loss as Float32Array).length).toBe(0);
    expect(empty.grad.length).toBe(0);
    expect(fl.softmaxFocalLoss(new Float32Array(0), new Float32Array(0), { classes: 3 })).toBe(0);
    const z = randomLogits(6, 4, 95);
    const ignored = new Int32Array(6).fill(-100);
    const all = fl.softmaxFocalLossWithGrad(z, ignored);
    expect(all.loss).toBe(0);
    expect(all.grad.every((g) => g === 0)).toBe(true);
    // A custom ignoreIndex, negative or not.
    const y = Int32Array.from([0, 255, 3, 255, 1, 2]);
    const custom = fl.softmaxFocalLoss(z, y, { ignoreIndex: 255, reduction: 'mean' }) as number;
    const want = softmaxFocalReduced(z, y, 4, { gamma: 2, alpha: null, ignoreIndex: 255, reduction: 'mean' });
    expect(relativeError(custom, want.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
    const minusOne = fl.softmaxFocalLoss(z, [0, -1, 3, -1, 1, 2], { ignoreIndex: -1 });
    expect(minusOne).toBe(custom);
    // An ignoreIndex inside [0, C) ignores that class's rows (PyTorch allows it), loss and gradient alike.
    const inside = fl.softmaxFocalLossWithGrad(z, [0, 1, 3, 2, 1, 2], { ignoreIndex: 3, reduction: 'none' });
    expect((inside.loss as Float32Array)[2]).toBe(0);
    expect(inside.grad.subarray(8, 12).every((g) => g === 0)).toBe(true);
    const insideMean = fl.softmaxFocalLoss(z, Int32Array.from([0, 3, 3, 3, 1, 2]), { ignoreIndex: 3 }) as number;
    const wantInside = softmaxFocalReduced(z, [0, 3, 3, 3, 1, 2], 4, { gamma: 2, alpha: null, ignoreIndex: 3, reduction: 'mean' });
    expect(relativeError(insideMean, wantInside.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
  });

  test('Keras CategoricalFocalCrossentropy documented value (alpha 0.25, gamma 2)', () => {
    // keras.losses.categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.95, 0]]) = 3.2058331e-05
    const logits = Float32Array.from([Math.log(0.05), Math.log(0.95), -1e4]);
    const loss = fl.softmaxFocalLoss(logits, [1], { alpha: 0.25, gamma: 2 }) as number;
    expect(loss).toBeCloseTo(3.2058331e-5, 10);
  });

  test('float64, plain-array and Int32Array inputs; out and gradOut are filled and returned', () => {
    const C = 6;
    const z = randomLogits(50, C, 101);
    const y = randomLabels(z, C, 102);
    const base = fl.softmaxFocalLossWithGrad(z, y, { reduction: 'none' });
    const out = new Float32Array(50);
    const gradOut = new Float32Array(50 * C);
    const again = fl.softmaxFocalLossWithGrad(Float64Array.from(z), Array.from(y), { reduction: 'none', out, gradOut });
    expect(again.loss).toBe(out);
    expect(again.grad).toBe(gradOut);
    expect(out).toEqual(base.loss);
    expect(gradOut).toEqual(base.grad);
  });

  test('errors name the argument, the index and what was expected; the engine is intact afterwards', () => {
    const C = 4;
    const z = randomLogits(8, C, 111);
    const y = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
    const good = fl.softmaxFocalLossWithGrad(z, y);
    const bad = Int32Array.from(y);
    bad[5] = 4;
    expect(() => fl.softmaxFocalLoss(z, bad)).toThrow(
      new RangeError('targets[5] = 4: expected a class index in [0, 4) or ignoreIndex (-100)'),
    );
    expect(() => fl.softmaxFocalLossWithGrad(z, [0, 1, 2, 3, 0, -7, 2, 3])).toThrow(/targets\[5\] = -7/);
    expect(() => fl.softmaxFocalLoss(z, [0, 1, 2, 3, 0, 1.5, 2, 3])).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, [0, 1, 2, 3, 0, '1', 2, 3] as never)).toThrow(TypeError);
    expect(() => fl.softmaxFocalLoss(z, y, { alpha: [1, 2, 3] })).toThrow(
      new RangeError('options.alpha.length = 3: expected 4 (one weight per class)'),
    );
    expect(() => fl.softmaxFocalLoss(z, y, { alpha: [1, 2, -3, 1] })).toThrow(/options\.alpha\[2\] = -3/);
    expect(() => fl.softmaxFocalLoss(z, y, { alpha: 'x' as never })).toThrow(TypeError);
    const nan = Float32Array.from(z);
    nan[13] = NaN;
    expect(() => fl.softmaxFocalLoss(nan, y)).toThrow(/^logits\[13\] = NaN: expected a finite number/);
    expect(() => fl.softmaxFocalLoss(z.subarray(1), y)).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, y, { classes: 3 })).toThrow(/logits\.length = 32: expected a multiple/);
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: -1 })).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, y, { labelSmoothing: 2 })).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, y, { ignoreIndex: 0.5 })).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, y, { weights: new Float32Array(3) })).toThrow(/options\.weights\.length = 3/);
    expect(() => fl.softmaxFocalLoss(z, 'abc' as never)).toThrow(TypeError);
    const soft = new Float32Array(8 * C).fill(0.25);
    expect(() => fl.softmaxFocalLoss(z, soft)).toThrow(TypeError); // classes required
    soft[9] = 1.5;
    expect(() => fl.softmaxFocalLoss(z, soft, { classes: C })).toThrow(
      new RangeError('targets[9] = 1.5: expected a value in [0, 1] (row 2 of the soft targets)'),
    );
    soft[9] = -0.1;
    expect(() => fl.softmaxFocalLossWithGrad(z, soft, { classes: C })).toThrow(/targets\[9\] = -0\.1/);
    expect(() => fl.softmaxFocalLoss(z, new Float32Array(8), { classes: C })).toThrow(/targets\.length = 8/);
    // The engine is intact: the same call gives the same answer, bit for bit.
    const after = fl.softmaxFocalLossWithGrad(z, y);
    expect(after.loss).toBe(good.loss);
    expect(after.grad).toEqual(good.grad);
  });
});

describe('both builds', () => {
  test('SIMD and scalar builds give bit-identical losses and gradients', async () => {
    const [simd, scalar] = await Promise.all([createFocal({ simd: true }), createFocal({ simd: false })]);
    for (const C of [1, 3, 4, 5, 10, 15, 83, 128, 129]) {
      const z = randomLogits(500, C, 120 + C);
      const y = randomLabels(z, C, 130 + C);
      const t = randomDistributions(500, C, 140 + C);
      for (const gamma of [0, 0.5, 2, 2.7]) {
        const options = { gamma, alpha: classWeights(C, 9), reduction: 'none' } as const;
        for (const targets of [y, t]) {
          const a = simd.softmaxFocalLossWithGrad(z, targets, { ...options, classes: C });
          const b = scalar.softmaxFocalLossWithGrad(z, targets, { ...options, classes: C });
          expect(a.loss).toEqual(b.loss);
          expect(a.grad).toEqual(b.grad);
        }
        expect(simd.softmaxFocalLoss(z, y, { gamma, reduction: 'sum' })).toBe(
          scalar.softmaxFocalLoss(z, y, { gamma, reduction: 'sum' }),
        );
      }
    }
  });
});

describe('the reference itself', () => {
  test('its gradients match central finite differences of its losses (class indices and soft targets)', () => {
    const random = rng(151);
    let worstError = 0;
    for (const gamma of [0, 0.3, 0.5, 1, 2, 2.7]) {
      for (const alpha of [null, [0.3, 1.2, 0.7, 0.9]]) {
        for (let trial = 0; trial < 6; trial++) {
          const z = Array.from({ length: 4 }, () => (random() - 0.5) * 8);
          const y = trial % 4;
          const t = smoothedTargetRef(y, 4, 0.2);
          const analytic = softmaxFocalRef(z, y, { alpha, gamma }).grad;
          const analyticSoft = softmaxFocalSoftRef(z, t, { alpha, gamma }).grad;
          for (let j = 0; j < 4; j++) {
            const at = (v: number): number[] => z.map((zk, k) => (k === j ? v : zk));
            const numeric = centralDifference((v) => softmaxFocalRef(at(v), y, { alpha, gamma }).loss, z[j]!);
            const numericSoft = centralDifference((v) => softmaxFocalSoftRef(at(v), t, { alpha, gamma }).loss, z[j]!);
            worstError = Math.max(
              worstError,
              Math.abs(analytic[j]! - numeric) / Math.max(Math.abs(analytic[j]!), 1e-8),
              Math.abs(analyticSoft[j]! - numericSoft) / Math.max(Math.abs(analyticSoft[j]!), 1e-8),
            );
          }
        }
      }
    }
    console.log(`softmax reference gradient vs central differences: worst relative error ${worstError.toExponential(2)}`);
    expect(worstError).toBeLessThan(1e-6);
  });
});

afterAll(() => {
  console.log('softmax focal loss: worst relative error per function and build');
  console.table(worst);
});
