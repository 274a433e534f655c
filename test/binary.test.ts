// binaryFocalLoss and binaryFocalLossWithGrad (probabilities in, Keras BinaryFocalCrossentropy semantics), both
// builds, against the float64 reference (test/reference.ts): the clip edges, hard and soft targets, every gamma,
// alpha and reduction, the gradient through the clip, Keras' documented values, and the errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, type Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { binaryFocalRef, centralDifference, relativeError, sigmoid, worstRelativeError } from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const GAMMAS = [0, 0.3, 0.5, 1, 2, 2.7, 5];
const ALPHAS = [null, 0.25, 0.75];
const EPSILON = 1e-7;

/** Probabilities over [0, 1] with the clip edges, values inside the clip zone, and 0 and 1 exactly, as float32. */
function probabilityGrid(): Float32Array {
  const edges = [0, 1, 1e-45, 1e-38, 1e-20, 1e-9, 5e-8, 1e-7, 1.5e-7, 1e-6, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9,
    0.99, 0.9999, 0.999999, 0.99999988, 0.99999994];
  const values = [...edges];
  for (let k = 1; k < 200; k++) values.push(k / 200);
  const random = rng(5);
  for (let i = 0; i < 300; i++) values.push(random() < 0.5 ? sigmoid((random() - 0.5) * 40) : random());
  return Float32Array.from(values);
}

function tiled(grid: Float32Array, targets: readonly number[]): { p: Float32Array; t: Float32Array } {
  const p = new Float32Array(grid.length * targets.length);
  const t = new Float32Array(grid.length * targets.length);
  targets.forEach((target, k) => {
    p.set(grid, k * grid.length);
    t.fill(target, k * grid.length, (k + 1) * grid.length);
  });
  return { p, t };
}

function reference(p: ArrayLike<number>, t: ArrayLike<number>, options: { alpha: number | null; gamma: number; epsilon?: number }) {
  return Array.from({ length: p.length }, (_, i) => binaryFocalRef(p[i]!, t[i]!, { epsilon: EPSILON, ...options }));
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

describe.each(builds)('binary focal loss from probabilities, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  test.each(GAMMAS)('gamma %s: elementwise losses and gradients, hard targets, every alpha', (gamma) => {
    const { p, t } = tiled(probabilityGrid(), [0, 1]);
    for (const alpha of ALPHAS) {
      const { loss, grad } = fl.binaryFocalLossWithGrad(p, t, { gamma, alpha, reduction: 'none' });
      const want = reference(p, t, { gamma, alpha });
      const lossError = worstRelativeError(loss as Float32Array, want.map((r) => r.loss));
      record('loss, hard targets', build, lossError.error);
      expect(lossError.error, `p = ${p[lossError.index]}, t = ${t[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      // 1 - p_t below the least normal float32 (p = t exactly, or p subnormal with t = 0) with gamma < 1: there
      // d(1-p_t)^gamma/dp is infinite or beyond float32, and the engine takes (1-p_t)^(gamma-1) at 2^-126 instead.
      const clamped = (i: number): boolean => gamma > 0 && gamma < 1 && Math.abs(p[i]! - t[i]!) < 2 ** -126;
      const judged = want.map((r, i) => (clamped(i) ? grad[i]! : r.grad));
      const gradError = worstRelativeError(grad, judged);
      record('grad, hard targets', build, gradError.error);
      expect(gradError.error, `p = ${p[gradError.index]}, t = ${t[gradError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(grad.every(Number.isFinite)).toBe(true);
    }
  });

  test.each(GAMMAS)('gamma %s: soft targets (the gradient judged against the size of its terms)', (gamma) => {
    const grid = probabilityGrid();
    const random = rng(17);
    const edges = [0.5, 1e-7, 1 - 1e-7, 0.999, 0.001, 0.3];
    const t = Float32Array.from(grid, (_, i) => (i < edges.length ? edges[i]! : random()));
    for (const alpha of ALPHAS) {
      const { loss, grad } = fl.binaryFocalLossWithGrad(grid, t, { gamma, alpha, reduction: 'none' });
      const want = reference(grid, t, { gamma, alpha });
      const lossError = worstRelativeError(loss as Float32Array, want.map((r) => r.loss));
      record('loss, soft targets', build, lossError.error);
      expect(lossError.error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      let gradError = 0;
      for (let i = 0; i < grid.length; i++) {
        if (gamma > 0 && gamma < 1 && Math.abs(grid[i]! - t[i]!) < 2 ** -126) continue; // clamped, as above
        const e = Math.abs(grad[i]! - want[i]!.grad) / Math.max(want[i]!.magnitude, 1e-37);
        gradError = Math.max(gradError, e);
      }
      record('grad, soft targets (vs term size)', build, gradError);
      expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  test.each(['mean', 'sum'] as const)('reduction %s over several chunks, with weights and normalizer', (reduction) => {
    const random = rng(3);
    const n = 40_009;
    const p = Float32Array.from({ length: n }, () => random());
    const t = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    for (const options of [
      { gamma: 2, alpha: 0.25 },
      { gamma: 0.5, alpha: null, weights },
      { gamma: 2.7, alpha: 0.75, weights },
      ...(reduction === 'mean' ? [{ gamma: 2, alpha: 0.25, normalizer: 17 }] : []),
    ]) {
      const { loss, grad } = fl.binaryFocalLossWithGrad(p, t, { ...options, reduction });
      const want = reference(p, t, options);
      const w = (i: number): number => (options.weights ? options.weights[i]! : 1);
      let sum = 0;
      for (let i = 0; i < n; i++) sum += w(i) * want[i]!.loss;
      const divisor = reduction === 'sum' ? 1 : options.normalizer ?? n;
      const error = relativeError(loss as number, sum / divisor);
      record(`${reduction} (reduction)`, build, error);
      expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      const gradError = worstRelativeError(grad, want.map((r, i) => (w(i) * r.grad) / divisor)).error;
      record(`grad of ${reduction}`, build, gradError);
      expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(fl.binaryFocalLoss(p, t, { ...options, reduction })).toBe(loss);
    }
  });

  test('the clip: [1e-7, 0.99999988] in the log terms (float32-rounded), the gradient blocked outside', () => {
    const p = Float32Array.from([0, 1e-9, 1e-7, 1, 0.99999994, 0.99999988]);
    const t = Float32Array.from([1, 1, 1, 0, 0, 0]);
    const { loss, grad } = fl.binaryFocalLossWithGrad(p, t, { gamma: 0, alpha: null, reduction: 'none' });
    const lo = Math.fround(1e-7);
    const hi = Math.fround(1 - 1e-7);
    expect(hi).toBe(0.9999998807907104);
    // t = 1, p <= epsilon: -log(epsilon), the same whatever p below the clip.
    for (const i of [0, 1, 2]) expect(relativeError((loss as Float32Array)[i]!, -Math.log(lo))).toBeLessThanOrEqual(1e-6);
    for (const i of [3, 4, 5]) expect(relativeError((loss as Float32Array)[i]!, -Math.log1p(-hi))).toBeLessThanOrEqual(1e-6);
    // Outside the clip the log terms are constant: gamma = 0 leaves no gradient there; on the bounds it passes.
    expect(grad[0]).toBe(0);
    expect(grad[1]).toBe(0);
    expect(relativeError(grad[2]!, -1 / lo)).toBeLessThanOrEqual(1e-6);
    expect(grad[3]).toBe(0);
    expect(grad[4]).toBe(0);
    expect(relativeError(grad[5]!, 1 / (1 - hi))).toBeLessThanOrEqual(1e-6);
    // A custom epsilon moves the clip.
    const wide = fl.binaryFocalLoss([0.001], [1], { gamma: 0, alpha: null, epsilon: 0.01 }) as number;
    expect(relativeError(wide, -Math.log(Math.fround(0.01)))).toBeLessThanOrEqual(1e-6);
  });

  test('Keras documented values (binary_focal_crossentropy, gamma 2, no class balancing)', () => {
    // keras.losses.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2) = [0.330, 0.206]
    // (each the mean of a row of two): our alpha null is Keras' apply_class_balancing=False.
    const losses = fl.binaryFocalLoss([0.6, 0.4, 0.4, 0.6], [0, 1, 0, 0], { alpha: null, gamma: 2, reduction: 'none' }) as Float32Array;
    expect((losses[0]! + losses[1]!) / 2).toBeCloseTo(0.330, 3);
    expect((losses[2]! + losses[3]!) / 2).toBeCloseTo(0.206, 3);
  });

  test('N = 0, N not a multiple of 4, float64 and plain-array input, out and gradOut', () => {
    expect(fl.binaryFocalLoss(new Float32Array(0), new Float32Array(0))).toBe(0);
    expect(fl.binaryFocalLoss([], [], { reduction: 'sum' })).toBe(0);
    for (const n of [1, 3, 5, 16_385]) {
      const random = rng(n);
      const p = Float64Array.from({ length: n }, () => random());
      const t = Array.from({ length: n }, () => (random() < 0.5 ? 0 : 1));
      const out = new Float32Array(n);
      const gradOut = new Float32Array(n);
      const got = fl.binaryFocalLossWithGrad(p, t, { reduction: 'none', out, gradOut });
      expect(got.loss).toBe(out);
      expect(got.grad).toBe(gradOut);
      const want = reference(Float32Array.from(p), t, { gamma: 2, alpha: 0.25 });
      expect(worstRelativeError(out, want.map((r) => r.loss)).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(worstRelativeError(gradOut, want.map((r) => r.grad)).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  test('errors name the argument, the index and what was expected; the engine is intact afterwards', () => {
    const p = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const t = Float32Array.from([0, 1, 0, 1, 0, 1]);
    const good = fl.binaryFocalLossWithGrad(p, t);
    const bad = Float32Array.from(p);
    bad[4] = 1.5;
    expect(() => fl.binaryFocalLoss(bad, t)).toThrow(new RangeError('probs[4] = 1.5: expected a value in [0, 1]'));
    bad[4] = -0.5;
    expect(() => fl.binaryFocalLossWithGrad(bad, t)).toThrow(/^probs\[4\] = -0\.5/);
    bad[4] = NaN;
    expect(() => fl.binaryFocalLoss(bad, t)).toThrow(/^probs\[4\] = NaN/);
    expect(() => fl.binaryFocalLoss(p, [0, 1, 0, 2, 0, 1])).toThrow(/^targets\[3\] = 2: expected a value in \[0, 1\]/);
    expect(() => fl.binaryFocalLoss(p, t.subarray(1))).toThrow(/targets\.length = 5/);
    expect(() => fl.binaryFocalLoss(p, t, { epsilon: 0 })).toThrow(RangeError);
    expect(() => fl.binaryFocalLoss(p, t, { epsilon: 1e-9 })).toThrow(/options\.epsilon/);
    expect(() => fl.binaryFocalLoss(p, t, { epsilon: 0.5 })).toThrow(RangeError);
    expect(() => fl.binaryFocalLoss(p, t, { epsilon: '1e-7' as never })).toThrow(TypeError);
    expect(() => fl.binaryFocalLoss(p, t, { alpha: 2 })).toThrow(RangeError);
    expect(() => fl.binaryFocalLoss('p' as never, t)).toThrow(TypeError);
    const after = fl.binaryFocalLossWithGrad(p, t);
    expect(after.loss).toBe(good.loss);
    expect(after.grad).toEqual(good.grad);
  });
});

describe('both builds', () => {
  test('SIMD and scalar builds give bit-identical losses and gradients', async () => {
    const [simd, scalar] = await Promise.all([createFocal({ simd: true }), createFocal({ simd: false })]);
    const { p, t } = tiled(probabilityGrid(), [0, 1, 0.3]);
    for (const gamma of GAMMAS) {
      const a = simd.binaryFocalLossWithGrad(p, t, { gamma, reduction: 'none' });
      const b = scalar.binaryFocalLossWithGrad(p, t, { gamma, reduction: 'none' });
      expect(a.loss).toEqual(b.loss);
      expect(a.grad).toEqual(b.grad);
    }
  });
});

describe('the reference itself', () => {
  test('its gradient matches central finite differences of its loss (inside and outside the clip)', () => {
    let worstError = 0;
    for (const gamma of GAMMAS) {
      for (const alpha of ALPHAS) {
        for (const t of [0, 1, 0.3, 0.85]) {
          for (const p of [0.003, 0.05, 0.2, 0.45, 0.7, 0.93, 0.996]) {
            const analytic = binaryFocalRef(p, t, { alpha, gamma, epsilon: EPSILON }).grad;
            const numeric = centralDifference((v) => binaryFocalRef(v, t, { alpha, gamma, epsilon: EPSILON }).loss, p);
            worstError = Math.max(worstError, Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), 1e-8));
          }
          // In the clip zone the log terms are constant: only the modulating factor moves.
          const p = 0.02;
          const wide = { alpha, gamma, epsilon: 0.05 };
          const analytic = binaryFocalRef(p, t, wide).grad;
          const numeric = centralDifference((v) => binaryFocalRef(v, t, wide).loss, p);
          worstError = Math.max(worstError, Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), 1e-8));
        }
      }
    }
    console.log(`binary reference gradient vs central differences: worst relative error ${worstError.toExponential(2)}`);
    expect(worstError).toBeLessThan(1e-6);
  });
});

afterAll(() => {
  console.log('binary focal loss (probabilities): worst relative error per function and build');
  console.table(worst);
});
