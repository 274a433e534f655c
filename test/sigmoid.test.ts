// sigmoidFocalLoss and sigmoidFocalLossWithGrad, both builds, against the float64 reference (test/reference.ts)
// on ordinary and extreme logits, hard and soft targets, every gamma/alpha/reduction the issue names.
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { hardCase, logitGrid } from './grids.js';
import {
  centralDifference, relativeError, sigmoid, sigmoidFocalGradMagnitude, sigmoidFocalReduced, sigmoidFocalRef,
  softplus, worstRelativeError,
} from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const GAMMAS = [0, 0.5, 1, 2, 5];
const ALPHAS = [null, 0.25, 0.75];

/** Logits from -1e4 to 1e4 with the edges the issue names (signed zero and signed tiny ones too), as float32. */
const logitGridOf = () => logitGrid([0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 1e-3, 0.5, 1, 2, 5, 10, 15, 17, 23, 30, 40, 80,
  87.3, 88, 88.7, 89, 100, 103, 104, 150, 1e3, 1e4], 7);

function hardTargets(n: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: n }, () => (random() < 0.5 ? 0 : 1));
}

function softTargets(n: number, seed: number): Float32Array {
  const random = rng(seed);
  const edges = [0, 1, 0.5, 1e-7, 1 - 1e-7, 0.999, 0.001];
  return Float32Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i]! : random()));
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

describe.each(builds)('sigmoid focal loss, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  const { x, t } = hardCase(logitGridOf());
  const combos = GAMMAS.flatMap((gamma) => ALPHAS.map((alpha) => ({ gamma, alpha })));

  test.each(combos)('hard targets, gamma $gamma, alpha $alpha: every element and its gradient', ({ gamma, alpha }) => {
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(x, t, { gamma, alpha, reduction: 'none' });
    const want = sigmoidFocalReduced(x, t, { gamma, alpha, reduction: 'none' });
    const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
    const gradError = worstRelativeError(grad, want.grad);
    record('loss, hard targets', build, lossError.error);
    record('grad, hard targets', build, gradError.error);
    expect(lossError.error, `loss at x = ${x[lossError.index]}, t = ${t[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(gradError.error, `grad at x = ${x[gradError.index]}, t = ${t[gradError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    for (let i = 0; i < x.length; i++) {
      expect(Number.isFinite(grad[i]) && Number.isFinite((loss as Float32Array)[i])).toBe(true);
    }
  });

  test.each(combos)('soft targets, gamma $gamma, alpha $alpha', ({ gamma, alpha }) => {
    const grid = logitGridOf();
    const soft = softTargets(grid.length, 11);
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(grid, soft, { gamma, alpha, reduction: 'none' });
    const want = sigmoidFocalReduced(grid, soft, { gamma, alpha, reduction: 'none' });
    const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
    record('loss, soft targets', build, lossError.error);
    expect(lossError.error, `loss at x = ${grid[lossError.index]}, t = ${soft[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // Near p = t the gradient is a difference of terms: judged relative to their size (see the reference).
    let gradError = 0;
    for (let i = 0; i < grid.length; i++) {
      const magnitude = sigmoidFocalGradMagnitude(grid[i]!, soft[i]!, { gamma, alpha });
      const e = Math.abs(grad[i]! - want.grad[i]!) / Math.max(magnitude, 1e-37);
      gradError = Math.max(gradError, e);
    }
    record('grad, soft targets (vs term size)', build, gradError);
    expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });

  test.each(['mean', 'sum'] as const)('reduction %s, with and without weights and normalizer', (reduction) => {
    const random = rng(3);
    const n = 10_007;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 30);
    const ts = hardTargets(n, 5);
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    for (const options of [
      { gamma: 2, alpha: 0.25 },
      { gamma: 0.5, alpha: null, weights },
      { gamma: 5, alpha: 0.75, weights },
      ...(reduction === 'mean' ? [{ gamma: 2, alpha: 0.25, normalizer: 17 }] : []),
    ]) {
      const { loss, grad } = fl.sigmoidFocalLossWithGrad(xs, ts, { ...options, reduction });
      const want = sigmoidFocalReduced(xs, ts, { ...options, reduction });
      const error = relativeError(loss as number, want.loss as number);
      record(`${reduction} (reduction)`, build, error);
      expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      const gradError = worstRelativeError(grad, want.grad).error;
      record(`${reduction} gradient`, build, gradError);
      expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      // The forward-only entry point gives the same number, bit for bit.
      expect(fl.sigmoidFocalLoss(xs, ts, { ...options, reduction })).toBe(loss);
    }
  });

  test('N = 0: mean is 0 (not NaN), sum is 0, none is empty', () => {
    const empty = new Float32Array(0);
    expect(fl.sigmoidFocalLoss(empty, empty)).toBe(0);
    expect(fl.sigmoidFocalLoss([], [], { reduction: 'sum' })).toBe(0);
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(empty, empty, { reduction: 'none' });
    expect((loss as Float32Array).length).toBe(0);
    expect(grad.length).toBe(0);
  });

  test.each([1, 2, 3, 5, 7, 16_383, 16_385, 32_771])('N = %i (not a multiple of 4, across chunk edges)', (n) => {
    const random = rng(n);
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 40);
    const ts = softTargets(n, n + 1);
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(xs, ts, { reduction: 'sum', gamma: 2 });
    const want = sigmoidFocalReduced(xs, ts, { reduction: 'sum', gamma: 2, alpha: 0.25 });
    expect(relativeError(loss as number, want.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
    for (let i = 0; i < n; i++) {
      const magnitude = sigmoidFocalGradMagnitude(xs[i]!, ts[i]!, { gamma: 2, alpha: 0.25 });
      expect(Math.abs(grad[i]! - want.grad[i]!)).toBeLessThanOrEqual(ELEMENT_TOLERANCE * magnitude);
    }
  });

  test('N = 1e6 + 3: mean and gradient of the mean', () => {
    const n = 1_000_003;
    const random = rng(99);
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 200);
    const ts = hardTargets(n, 98);
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(xs, ts);
    const want = sigmoidFocalReduced(xs, ts, { reduction: 'mean', gamma: 2, alpha: 0.25 });
    const error = relativeError(loss as number, want.loss as number);
    record('mean, N = 1e6 + 3', build, error);
    expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
    expect(worstRelativeError(grad, want.grad).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });

  test('float64 and plain-array input give the float32-rounded answer', () => {
    const random = rng(21);
    const x64 = Float64Array.from({ length: 1001 }, () => (random() - 0.5) * 20);
    const t = hardTargets(1001, 22);
    const x32 = Float32Array.from(x64);
    const viaF32 = fl.sigmoidFocalLoss(x32, t, { reduction: 'sum' });
    expect(fl.sigmoidFocalLoss(x64, t, { reduction: 'sum' })).toBe(viaF32);
    expect(fl.sigmoidFocalLoss(Array.from(x64), Array.from(t), { reduction: 'sum' })).toBe(viaF32);
  });

  test('out and gradOut are written and returned, and reused without allocation', () => {
    const xs = Float32Array.of(-3, -0.5, 0, 0.5, 3);
    const ts = Float32Array.of(0, 1, 1, 0, 1);
    const out = new Float32Array(5);
    const gradOut = new Float32Array(5);
    const r = fl.sigmoidFocalLossWithGrad(xs, ts, { reduction: 'none', out, gradOut });
    expect(r.loss).toBe(out);
    expect(r.grad).toBe(gradOut);
    const want = sigmoidFocalReduced(xs, ts, { reduction: 'none', gamma: 2, alpha: 0.25 });
    expect(worstRelativeError(out, want.loss as Float64Array).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(worstRelativeError(gradOut, want.grad).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });
});

describe('semantics and the paper, through the API', () => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await builds[0].create();
  });

  test('gamma = 0 is alpha-balanced binary cross-entropy', () => {
    const random = rng(31);
    const n = 999;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 60);
    const ts = hardTargets(n, 32);
    const losses = fl.sigmoidFocalLoss(xs, ts, { gamma: 0, alpha: 0.25, reduction: 'none' }) as Float32Array;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(xs[i]!);
      // -[t log p + (1 - t) log(1 - p)], each log in its overflow-free form, weighted 0.25 / 0.75.
      const bce = ts[i] === 1 ? softplus(-xs[i]!) : softplus(xs[i]!);
      const weight = ts[i] === 1 ? 0.25 : 0.75;
      expect(relativeError(losses[i]!, weight * bce)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(p).toBeGreaterThanOrEqual(0);
    }
  });

  test.each([
    { pT: 0.9, ratio: 100 },
    { pT: 0.968, ratio: 1 / 0.032 ** 2 },
  ])('with gamma = 2, p_t = $pT gives a loss $ratio x below CE', ({ pT, ratio }) => {
    const logit = Math.fround(Math.log(pT / (1 - pT)));
    const ce = fl.sigmoidFocalLoss([logit], [1], { gamma: 0, alpha: null }) as number;
    const focal = fl.sigmoidFocalLoss([logit], [1], { gamma: 2, alpha: null }) as number;
    const q = sigmoid(-logit); // 1 - p_t for the float32 logit actually used
    expect(relativeError(ce / focal, 1 / q ** 2)).toBeLessThanOrEqual(1e-5);
    expect(ce / focal).toBeCloseTo(ratio, ratio > 500 ? -1 : 1);
  });

  test('a tiny loss keeps its relative precision: 2.7e-31 is not 0', () => {
    const loss = fl.sigmoidFocalLoss([23], [1], { reduction: 'sum' }) as number;
    const want = sigmoidFocalRef(Math.fround(23), 1, { alpha: 0.25, gamma: 2 }).loss;
    expect(want).toBeGreaterThan(1e-31);
    expect(want).toBeLessThan(1e-30);
    expect(relativeError(loss, want)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });

  test('gamma in (0, 1) at saturated logits: finite gradient where the literal form is NaN', () => {
    const xs = Float32Array.of(30, 50, 88, 100, 1e4, -30, -100, -1e4);
    const ts = Float32Array.of(1, 1, 1, 1, 1, 0, 0, 0);
    for (const gamma of [0.1, 0.5, 0.9]) {
      const { grad } = fl.sigmoidFocalLossWithGrad(xs, ts, { gamma, reduction: 'none' });
      const want = sigmoidFocalReduced(xs, ts, { gamma, alpha: 0.25, reduction: 'none' }).grad;
      for (let i = 0; i < xs.length; i++) {
        expect(Number.isFinite(grad[i])).toBe(true);
        expect(relativeError(grad[i]!, want[i]!)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      }
      // The literal gamma (1-p_t)^(gamma-1) form is NaN here in float64 too: what the stable form avoids.
      const q = sigmoid(-1e4);
      expect(Number.isNaN(gamma * q ** (gamma - 1) * q)).toBe(true);
    }
  });

  test('SIMD and scalar builds agree bit for bit, reductions included', async () => {
    const scalar = await builds[1].create();
    const random = rng(41);
    const n = 50_001;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * 10 ** (random() * 4));
    const ts = softTargets(n, 42);
    for (const gamma of GAMMAS.concat(2.7)) {
      const a = fl.sigmoidFocalLossWithGrad(xs, ts, { gamma, reduction: 'none' });
      const b = scalar.sigmoidFocalLossWithGrad(xs, ts, { gamma, reduction: 'none' });
      expect(new Uint32Array((a.loss as Float32Array).buffer)).toEqual(new Uint32Array((b.loss as Float32Array).buffer));
      expect(new Uint32Array(a.grad.buffer)).toEqual(new Uint32Array(b.grad.buffer));
      expect(fl.sigmoidFocalLoss(xs, ts, { gamma })).toBe(scalar.sigmoidFocalLoss(xs, ts, { gamma }));
    }
  });

  // The SIMD kernel works in blocks of 512 elements with its own copy of the loop for the defaults (gamma 2, alpha,
  // no weights, a reduction): odd numbers of vectors in a block, and every path against the scalar build.
  test.each([4, 12, 516, 1_028, 2_060 + 3, 16_384 + 516 + 1])('N = %i: every kernel path equals the scalar build bit for bit', async (n) => {
    const scalar = await builds[1].create();
    const random = rng(n + 7);
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 60);
    const ts = softTargets(n, n + 8);
    const ws = Float32Array.from({ length: n }, () => random() * 2);
    const bits = (v: number | Float32Array) => (typeof v === 'number' ? [v] : Array.from(new Uint32Array(v.buffer)));
    for (const options of [{}, { reduction: 'sum' as const }, { weights: ws }, { alpha: null }, { gamma: 0.5, reduction: 'none' as const }]) {
      const a = fl.sigmoidFocalLossWithGrad(xs, ts, options);
      const b = scalar.sigmoidFocalLossWithGrad(xs, ts, options);
      expect(bits(a.loss)).toEqual(bits(b.loss));
      expect(bits(a.grad)).toEqual(bits(b.grad));
      expect(bits(fl.sigmoidFocalLoss(xs, ts, options))).toEqual(bits(scalar.sigmoidFocalLoss(xs, ts, options)));
    }
  });
});

describe('the reference itself', () => {
  test('its gradient matches central finite differences of its loss', () => {
    let worstError = 0;
    for (const gamma of GAMMAS.concat(2.7)) {
      for (const alpha of ALPHAS) {
        for (const t of [0, 1, 0.3, 0.85]) {
          for (const x of [-12, -3.3, -1, -0.2, 0.4, 1.7, 4, 9.5]) {
            const analytic = sigmoidFocalRef(x, t, { alpha, gamma }).grad;
            const numeric = centralDifference((v) => sigmoidFocalRef(v, t, { alpha, gamma }).loss, x);
            const error = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), 1e-8);
            worstError = Math.max(worstError, error);
          }
        }
      }
    }
    console.log(`reference gradient vs central differences: worst relative error ${worstError.toExponential(2)}`);
    expect(worstError).toBeLessThan(1e-6);
  });

  test('prints the worst relative errors per build', () => {
    console.table(worst);
    expect(Object.keys(worst).length).toBeGreaterThan(5);
  });
});
