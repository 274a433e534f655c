// Generalized focusing (issue 15, item 4): a per-class gamma (sigmoidFocalLoss over N x C multi-label logits,
// softmaxFocalLoss by class index or per class with soft targets) and `detachModulator` (sigmoidFocalLoss,
// softmaxFocalLoss, varifocalLoss: the modulating factor a constant of the gradient, RT-DETR's weight.detach()).
// Both builds against the float64 reference (test/reference.ts). A detached gradient is not the derivative of the
// loss, so central differences do not apply: it is checked against the stopgrad formula the reference writes out.
// A per-class gamma takes the scalar gamma's exact forms for 0, 1/2, 1 and 2 (1, sqrt x, x, x x), products for 3
// and 4, and the general pow otherwise: for the softmax loss an array of the exact forms' values gives the scalar
// call's bits; otherwise (the sigmoid loss's scalar call takes the tuned plain kernel; a scalar 3 or 4 takes pow)
// an array of equal values matches the scalar call to 1e-6.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocalPool, type Focal, type FocalPool } from '../src/index.js';
import { builds, rng } from './engines.js';
import { logitGrid } from './grids.js';
import {
  familyReduced, focalExtrasRef, relativeError, sigmoid, sigmoidFocalGradMagnitude, softmaxFocalReduced, varifocalRef,
  worstRelativeError, type FamilyReduceOptions,
} from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
/** Per-class exponents: the exact forms' values (0, 1/2, 1, 2), general ones and the products' (3, 4), as float32. */
const GAMMAS = [0, 0.5, 1, 2, 3.7, 0.3, 2.6, 3, 4].map(Math.fround);
const C = GAMMAS.length;

type Result = { loss: number | Float32Array; grad: Float32Array };
type Method = 'sigmoidFocalLossWithGrad' | 'softmaxFocalLossWithGrad' | 'varifocalLossWithGrad';
function call(fl: Focal, method: Method, x: unknown, t: unknown, options: Record<string, unknown>): Result {
  return (fl as unknown as Record<string, (...a: unknown[]) => Result>)[method]!.call(fl, x, t, options);
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}
afterAll(() => {
  console.log('worst relative errors (generalized focusing):');
  for (const [what, row] of Object.entries(worst)) {
    console.log(`  ${what}: ${Object.entries(row).map(([b, e]) => `${b} ${e.toExponential(2)}`).join(', ')}`);
  }
});

/** Logits from -1e4 to 1e4 with the edges of the other sigmoid tests, as float32. */
function logitGridOf(): number[] {
  const edges = [0, 1e-30, 1e-7, 1e-3, 0.5, 1, 2, 5, 10, 15, 17, 23, 30, 40, 80, 87.3, 88, 89, 100, 104, 150, 1e3, 1e4];
  return Array.from(logitGrid(edges, 41, 200));
}

/**
 * N x C multi-label cases: every grid logit at every class, against t = 0 and t = 1 (hard), or against soft targets
 * with the edges near 0 and 1 (soft).
 */
function multiLabel(kind: 'hard' | 'soft'): { x: Float32Array; t: Float32Array } {
  const grid = logitGridOf();
  const G = grid.length;
  const rows = kind === 'hard' ? 2 * G : G;
  const x = new Float32Array(rows * C);
  const t = new Float32Array(rows * C);
  const random = rng(43);
  const edges = [0, 1, 0.5, 1e-7, 1 - 1e-7, 0.999, 0.001];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < C; c++) {
      const i = r * C + c;
      x[i] = grid[(r + 3 * c) % G]!;
      t[i] = kind === 'hard' ? (r >= G ? 1 : 0) : i < edges.length ? edges[i]! : i % 4 === 0 ? 0 : random();
    }
  }
  return { x, t };
}

/** Worst |got - want| / max(|want|, the size of the gradient's terms), the sigmoid tests' measure near p = t. */
function worstGrad(got: Float32Array, want: ArrayLike<number>, size: (i: number) => number): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const e = got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!) / Math.max(Math.abs(want[i]!), size(i), 1e-37);
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

// ---- sigmoidFocalLoss ---------------------------------------------------------------------------------------------

interface SigmoidCase {
  name: string;
  options: Record<string, unknown>;
  alpha: number | null;
  /** The exponent of element i (class i mod C). */
  gammaOf: (i: number) => number;
  detach: boolean;
}

const sigmoidCases: SigmoidCase[] = [
  { name: 'per-class gamma', options: { gamma: GAMMAS }, alpha: 0.25, gammaOf: (i) => GAMMAS[i % C]!, detach: false },
  { name: 'per-class gamma, alpha null, classes given', options: { gamma: Float32Array.from(GAMMAS), alpha: null, classes: C },
    alpha: null, gammaOf: (i) => GAMMAS[i % C]!, detach: false },
  { name: 'per-class gamma, detached', options: { gamma: GAMMAS, detachModulator: true }, alpha: 0.25,
    gammaOf: (i) => GAMMAS[i % C]!, detach: true },
  ...[0, 0.5, 2, 3.7].map((g): SigmoidCase => ({
    name: `gamma ${g}, detached`, options: { gamma: g, detachModulator: true, alpha: 0.4 }, alpha: 0.4,
    gammaOf: () => Math.fround(g), detach: true,
  })),
];

describe.each(builds)('sigmoidFocalLoss: per-class gamma and detachModulator, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  test.each(sigmoidCases)('$name: every element and its gradient, hard and soft targets', (c) => {
    for (const kind of ['hard', 'soft'] as const) {
      const { x, t } = multiLabel(kind);
      const { loss, grad } = fl.sigmoidFocalLossWithGrad(x, t, { ...c.options, reduction: 'none' });
      const want = familyReduced(x, t, (xi, ti, i) => focalExtrasRef(xi, ti, {
        alpha: c.alpha, gamma: c.gammaOf(i), detachModulator: c.detach,
      }), { reduction: 'none' });
      const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
      // Near p = t (soft targets) the gradient is a difference of terms: judged against their size.
      const size = (i: number): number => (kind === 'soft' ? sigmoidFocalGradMagnitude(x[i]!, t[i]!, { alpha: c.alpha, gamma: c.gammaOf(i) }) : 0);
      const gradError = worstGrad(grad, want.grad, size);
      record(`sigmoid ${c.detach ? 'detached' : 'attached'} loss (${kind})`, build, lossError.error);
      record(`sigmoid ${c.detach ? 'detached' : 'attached'} grad (${kind})`, build, gradError.error);
      expect(lossError.error, `${kind} loss at x = ${x[lossError.index]}, t = ${t[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(gradError.error, `${kind} grad at x = ${x[gradError.index]}, t = ${t[gradError.index]}, i = ${gradError.index}`)
        .toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite((loss as Float32Array)[i]) || !Number.isFinite(grad[i])) throw new Error(`not finite at ${i}`);
      }
    }
  });

  test('the detached gradient is the stopgrad formula alpha_t (1 - p_t)^gamma (p - t), and the loss is unchanged', () => {
    const random = rng(5);
    const n = 20_003 - (20_003 % C); // more than one chunk, chunks not starting at class 0
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 16);
    const t = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? random() : random() < 0.3 ? 1 : 0));
    const ones = new Uint8Array(n).fill(1);
    for (const gamma of [2, 0.5, GAMMAS]) {
      const attached = fl.sigmoidFocalLossWithGrad(x, t, { gamma, mask: ones, reduction: 'none' });
      const detached = fl.sigmoidFocalLossWithGrad(x, t, { gamma, detachModulator: true, reduction: 'none' });
      // Same kernel, same loss arithmetic: the same bits.
      expect(bits(detached.loss as Float32Array)).toEqual(bits(attached.loss as Float32Array));
      for (let i = 0; i < n; i += 97) {
        const g = typeof gamma === 'number' ? gamma : GAMMAS[i % C]!;
        const p = sigmoid(x[i]!);
        const q = t[i]! * (1 - p) + (1 - t[i]!) * p;
        const alphaT = 0.25 * t[i]! + 0.75 * (1 - t[i]!);
        const want = alphaT * q ** g * (p - t[i]!);
        const size = alphaT * q ** g * (x[i]! > 0 ? 1 - t[i]! + sigmoid(-x[i]!) : t[i]! + p);
        expect(Math.abs(detached.grad[i]! - want), `i = ${i}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE * Math.max(Math.abs(want), 1e-6 * size, 1e-37));
      }
    }
    // A detached modulator with the mask (or any option of the variant kernel) and without: the same bits.
    const a = fl.sigmoidFocalLossWithGrad(x, t, { detachModulator: true, reduction: 'sum' });
    const b = fl.sigmoidFocalLossWithGrad(x, t, { detachModulator: true, mask: ones, reduction: 'sum' });
    expect(a.loss).toBe(b.loss);
    expect(bits(a.grad)).toEqual(bits(b.grad));
  });

  test('reductions with weights, mask, classWeights, posWeight and normalized, per-class gamma and detached', () => {
    const random = rng(9);
    const rows = 2_500;
    const n = rows * C;
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 24);
    const t = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? random() : random() < 0.2 ? 1 : 0));
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    const mask = Float32Array.from({ length: n }, () => (random() < 0.85 ? 1 : 0));
    const classWeights = Float32Array.from({ length: C }, (_, c) => 0.5 + c / 4);
    const posWeight = Float32Array.from({ length: C }, (_, c) => 1 + c / 2);
    const settings: { options: Record<string, unknown>; ref: Partial<FamilyReduceOptions>; pw?: boolean; detach: boolean; perClass: boolean }[] = [
      { options: { gamma: GAMMAS, weights, mask }, ref: { weights, mask }, detach: false, perClass: true },
      { options: { gamma: GAMMAS, classWeights, detachModulator: true }, ref: { classWeights }, detach: true, perClass: true },
      { options: { gamma: GAMMAS, posWeight, mask }, ref: { mask }, pw: true, detach: false, perClass: true },
      { options: { gamma: 1.5, posWeight, classes: C, detachModulator: true, weights }, ref: { weights }, pw: true, detach: true, perClass: false },
      { options: { gamma: GAMMAS, normalized: true }, ref: { normalized: true }, detach: false, perClass: true },
      { options: { gamma: GAMMAS, normalized: true, detachModulator: true, mask }, ref: { normalized: true, mask }, detach: true, perClass: true },
      { options: { gamma: 2, normalized: true, detachModulator: true }, ref: { normalized: true }, detach: true, perClass: false },
    ];
    for (const s of settings) {
      const gammaOf = (i: number): number => (s.perClass ? GAMMAS[i % C]! : Math.fround(s.options.gamma as number));
      const element = (xi: number, ti: number, i: number) => focalExtrasRef(xi, ti, {
        alpha: 0.25, gamma: gammaOf(i), detachModulator: s.detach, posWeight: s.pw ? posWeight[i % C] : undefined,
      });
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const { loss, grad } = fl.sigmoidFocalLossWithGrad(x, t, { ...s.options, reduction });
        const want = familyReduced(x, t, element, { ...s.ref, reduction });
        const label = `${JSON.stringify(Object.keys(s.options))} ${s.detach ? 'detached' : ''} ${reduction}`;
        if (reduction === 'none') {
          const e = worstRelativeError(loss as Float32Array, want.loss as Float64Array).error;
          record('sigmoid reductions: per-element loss', build, e);
          expect(e, label).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        } else {
          const e = relativeError(loss as number, want.loss as number);
          record(`sigmoid reductions: ${reduction}`, build, e);
          expect(e, label).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        }
        // The gradient judged against the size of the terms it is the difference of: the focal gradient's (soft
        // targets), and for the normalized loss its S term, -(sum of losses) / S^2 df; each scaled as the reference's.
        const kept = (i: number): boolean => !(s.ref.mask && mask[i] === 0);
        const w = (i: number): number => (s.ref.weights ? weights[i]! : 1) * (s.ref.classWeights ? classWeights[i % C]! : 1);
        let S = 1;
        let L = 0;
        if (s.ref.normalized) {
          S = 0;
          for (let i = 0; i < n; i++) {
            if (!kept(i)) continue;
            const r = element(x[i]!, t[i]!, i);
            S += r.f;
            L += w(i) * r.loss;
          }
        }
        let count = 0;
        for (let i = 0; i < n; i++) count += kept(i) ? 1 : 0;
        const divisor = reduction === 'mean' ? count : 1;
        const size = (i: number): number => {
          if (!kept(i)) return 0;
          const focal = w(i) * (s.pw ? 1 + C : 1) * sigmoidFocalGradMagnitude(x[i]!, t[i]!, { alpha: 0.25, gamma: gammaOf(i) }) / S;
          const sTerm = s.ref.normalized ? Math.abs((reduction === 'none' ? w(i) * element(x[i]!, t[i]!, i).loss : L) / (S * S) * element(x[i]!, t[i]!, i).df) : 0;
          return (focal + sTerm) / divisor;
        };
        const e = worstGrad(grad, want.grad, size);
        record('sigmoid reductions: gradient', build, e.error);
        expect(e.error, `${label}: gradient at ${e.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      }
    }
  });

  test('a per-class gamma of equal values gives the scalar call (to 1e-6: the scalar call takes the tuned plain kernel)', () => {
    const random = rng(13);
    const n = 6 * 3001;
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
    const t = Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? random() : random() < 0.3 ? 1 : 0));
    for (const g of [0, 0.5, 1, 2, 2.5, 4]) {
      const same = new Array<number>(6).fill(g);
      for (const extra of [{}, { detachModulator: true }, { alpha: null }] as const) {
        const scalar = fl.sigmoidFocalLossWithGrad(x, t, { gamma: g, ...extra });
        const perClass = fl.sigmoidFocalLossWithGrad(x, t, { gamma: same, ...extra });
        const e = relativeError(perClass.loss as number, scalar.loss as number);
        record('sigmoid: equal per-class gamma vs scalar (mean)', build, e);
        expect(e, `gamma ${g} ${JSON.stringify(extra)}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        const size = (i: number): number => sigmoidFocalGradMagnitude(x[i]!, t[i]!, { alpha: 0.25, gamma: g }) / n;
        const ge = worstGrad(perClass.grad, scalar.grad, size);
        record('sigmoid: equal per-class gamma vs scalar (gradient)', build, ge.error);
        expect(ge.error, `gamma ${g} gradient`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      }
    }
  });

  test('a gamma array gives C when nothing else does; errors name options.gamma', () => {
    const x = Float32Array.from({ length: 12 }, (_, i) => i - 6);
    const t = Float32Array.from({ length: 12 }, (_, i) => i % 2);
    // C = gamma.length (3): the same as classes: 3.
    expect(fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3] })).toBe(fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3], classes: 3 }));
    // classWeights fixes C; the gamma array must have that length.
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3], classWeights: [1, 1, 1, 1] }))
      .toThrow('options.gamma.length = 3: expected 4 (options.classes)');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2], classes: 3 })).toThrow(RangeError);
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2], classes: 3 })).toThrow('options.gamma.length = 2: expected 3');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3, 4, 5] })).toThrow('logits.length = 12: expected a multiple of 5');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [] })).toThrow('options.gamma.length = 0: expected at least one class');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, -1, 2] })).toThrow('options.gamma[1] = -1: expected a finite number >= 0');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, NaN, 2] })).toThrow('options.gamma[1] = NaN');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, Infinity] })).toThrow('options.gamma[2] = Infinity');
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 1e39] })).toThrow(RangeError);
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 'a', 2] as never })).toThrow(TypeError);
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3], reducedThreshold: 0.5 })).toThrow(RangeError);
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: [1, 2, 3], reducedThreshold: 0.5 })).toThrow('options.reducedThreshold');
    expect(() => fl.sigmoidFocalLoss(x, t, { detachModulator: 1 as never })).toThrow(TypeError);
    expect(() => fl.sigmoidFocalLoss(x, t, { detachModulator: 'yes' as never })).toThrow('options.detachModulator');
    expect(() => fl.sigmoidFocalLoss(x, t, { detachModulater: true } as never)).toThrow("did you mean 'detachModulator'?");
    // A number gamma keeps its old checks and messages.
    expect(() => fl.sigmoidFocalLoss(x, t, { gamma: -1 })).toThrow('options.gamma = -1');
  });
});

// ---- varifocalLoss ----------------------------------------------------------------------------------------------

describe.each(builds)('varifocalLoss detachModulator, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  test.each([
    { alpha: 0.75, gamma: 2, iouWeighted: true }, { alpha: 1.5, gamma: 0.5, iouWeighted: false },
    { alpha: 0.6, gamma: Math.fround(2.6), iouWeighted: true }, { alpha: 0.25, gamma: 0, iouWeighted: true },
  ])('alpha $alpha gamma $gamma iouWeighted $iouWeighted: negatives alpha p^gamma p, positives unchanged', (o) => {
    for (const kind of ['hard', 'soft'] as const) {
      const { x, t } = multiLabel(kind);
      const attached = fl.varifocalLossWithGrad(x, t, { ...o, reduction: 'none' });
      const detached = fl.varifocalLossWithGrad(x, t, { ...o, detachModulator: true, reduction: 'none' });
      expect(bits(detached.loss)).toEqual(bits(attached.loss));
      const want = familyReduced(x, t, (xi, ti) => varifocalRef(xi, ti, { ...o, detachModulator: true }), { reduction: 'none' });
      // Positives' gradient w (p - t) cancels near p = t: judged against the size of its terms.
      const size = (i: number): number => (t[i]! > 0 ? (o.iouWeighted ? t[i]! : 1) * (x[i]! > 0 ? 1 - t[i]! + sigmoid(-x[i]!) : t[i]! + sigmoid(x[i]!)) : 0);
      const e = worstGrad(detached.grad, want.grad, size);
      record(`varifocal detached grad (${kind})`, build, e.error);
      expect(e.error, `at x = ${x[e.index]}, t = ${t[e.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      for (let i = 0; i < x.length; i++) {
        if (t[i]! > 0 && detached.grad[i] !== attached.grad[i]) throw new Error(`positive ${i}: the gradient moved`);
      }
    }
  });

  test('reductions and the option checks', () => {
    const random = rng(21);
    const n = 20_011;
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
    const t = Float32Array.from({ length: n }, () => (random() < 0.3 ? random() : 0));
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    for (const reduction of ['mean', 'sum'] as const) {
      const got = fl.varifocalLossWithGrad(x, t, { detachModulator: true, weights, reduction });
      const want = familyReduced(x, t, (xi, ti) => varifocalRef(xi, ti, { alpha: 0.75, gamma: 2, iouWeighted: true, detachModulator: true }), { weights, reduction });
      const e = relativeError(got.loss, want.loss as number);
      record(`varifocal ${reduction}`, build, e);
      expect(e).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      expect(fl.varifocalLoss(x, t, { detachModulator: true, weights, reduction })).toBe(fl.varifocalLoss(x, t, { weights, reduction }));
    }
    expect(() => fl.varifocalLoss(x, t, { detachModulator: 0 as never })).toThrow(TypeError);
    expect(() => fl.varifocalLoss(x, t, { gamma: [1, 2] as never })).toThrow(TypeError);
  });
});

// ---- softmaxFocalLoss -----------------------------------------------------------------------------------------

/** N x K logits: random rows, rows whose other classes sit far below (u tiny) and rows whose target sits far below
 * the max (taken again by the max), in an order that mixes the kernel's four-row vector path and its scalar rows. */
function softmaxCase(rows: number, K: number, seed: number): { z: Float32Array; y: Int32Array } {
  const random = rng(seed);
  const z = new Float32Array(rows * K);
  const y = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    y[r] = r % 11 === 10 ? -100 : Math.floor(random() * K);
    for (let j = 0; j < K; j++) z[r * K + j] = (random() - 0.5) * 12;
    if (r % 7 === 3) for (let j = 0; j < K; j++) if (j !== y[r]) z[r * K + j] = -40 - random() * 30;
    if (r % 13 === 5 && y[r]! >= 0) z[r * K + y[r]!] = -100;
  }
  return { z, y };
}

function softTargets(rows: number, K: number, seed: number): Float32Array {
  const random = rng(seed);
  const t = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < K; j++) sum += t[r * K + j] = random() < 0.4 ? 0 : random();
    for (let j = 0; j < K; j++) t[r * K + j] = sum > 0 ? t[r * K + j]! / sum : 1 / K;
  }
  return t;
}

describe.each(builds)('softmaxFocalLoss: per-class gamma and detachModulator, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });
  const alphas = Float32Array.from({ length: C }, (_, c) => 0.2 + c / 8);

  const cases = [
    { name: 'per-class gamma', options: { gamma: GAMMAS }, ref: { alpha: null, gamma: GAMMAS } },
    { name: 'per-class gamma, alpha per class', options: { gamma: GAMMAS, alpha: alphas }, ref: { alpha: alphas, gamma: GAMMAS } },
    { name: 'detached, gamma 2', options: { detachModulator: true }, ref: { alpha: null, gamma: 2, detachModulator: true } },
    { name: 'detached, gamma 0.5, alpha 0.25', options: { detachModulator: true, gamma: 0.5, alpha: 0.25 },
      ref: { alpha: 0.25, gamma: 0.5, detachModulator: true } },
    { name: 'detached, per-class gamma, alpha per class', options: { detachModulator: true, gamma: GAMMAS, alpha: alphas },
      ref: { alpha: alphas, gamma: GAMMAS, detachModulator: true } },
  ];

  test.each(cases)('$name: class indices, every row and its gradient', ({ options, ref }) => {
    const rows = 1_003;
    const { z, y } = softmaxCase(rows, C, 31);
    const { loss, grad } = fl.softmaxFocalLossWithGrad(z, y, { ...options, reduction: 'none' });
    const want = softmaxFocalReduced(z, y, C, { ...ref, reduction: 'none' });
    const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
    const gradError = worstRelativeError(grad, want.grad);
    const what = ref.detachModulator ? 'detached' : 'attached';
    record(`softmax ${what} loss (class indices)`, build, lossError.error);
    record(`softmax ${what} grad (class indices)`, build, gradError.error);
    expect(lossError.error, `row ${lossError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(gradError.error, `at ${gradError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    for (const reduction of ['mean', 'sum'] as const) {
      const weights = Float32Array.from({ length: rows }, (_, i) => 0.5 + (i % 5) / 4);
      const got = fl.softmaxFocalLossWithGrad(z, y, { ...options, weights, reduction });
      const wantR = softmaxFocalReduced(z, y, C, { ...ref, weights, reduction });
      const e = relativeError(got.loss as number, wantR.loss as number);
      record(`softmax ${reduction}`, build, e);
      expect(e).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      expect(worstRelativeError(got.grad, wantR.grad).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  test.each(cases)('$name: soft targets and label smoothing (class c uses gamma[c])', ({ options, ref }) => {
    const rows = 401;
    const { z, y } = softmaxCase(rows, C, 37);
    const t = softTargets(rows, C, 39);
    const soft = fl.softmaxFocalLossWithGrad(z, t, { ...options, classes: C, reduction: 'none' });
    const want = softmaxFocalReduced(z, t, C, { ...ref, soft: true, reduction: 'none' });
    const lossError = worstRelativeError(soft.loss as Float32Array, want.loss as Float64Array).error;
    const gradError = worstGrad(soft.grad, want.grad, (i) => want.magnitude[i]!).error;
    const what = ref.detachModulator ? 'detached' : 'attached';
    record(`softmax ${what} loss (soft targets)`, build, lossError);
    record(`softmax ${what} grad (soft targets, vs its terms)`, build, gradError);
    expect(lossError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const smoothed = fl.softmaxFocalLossWithGrad(z, y, { ...options, labelSmoothing: 0.1, reduction: 'mean' });
    const wantSmoothed = softmaxFocalReduced(z, y, C, { ...ref, labelSmoothing: 0.1, reduction: 'mean' });
    const e = relativeError(smoothed.loss as number, wantSmoothed.loss as number);
    record('softmax label smoothing mean', build, e);
    expect(e).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
    expect(worstGrad(smoothed.grad, wantSmoothed.grad, (i) => wantSmoothed.magnitude[i]!).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
  });

  test('detached: the loss is unchanged, the gradient is alpha_y (1 - p_y)^gamma (p_j - 1[j = y])', () => {
    const rows = 257;
    const { z, y } = softmaxCase(rows, C, 47);
    for (const gamma of [2, 0.5, GAMMAS]) {
      const attached = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha: alphas, reduction: 'none' });
      const detached = fl.softmaxFocalLossWithGrad(z, y, { gamma, alpha: alphas, detachModulator: true, reduction: 'none' });
      expect(bits(detached.loss as Float32Array)).toEqual(bits(attached.loss as Float32Array));
      for (let r = 0; r < rows; r += 3) {
        const yr = y[r]!;
        if (yr < 0) continue;
        const row = Array.from(z.subarray(r * C, r * C + C));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        const g = typeof gamma === 'number' ? gamma : GAMMAS[yr]!;
        let rest = 0; // 1 - p_y as the others' share: no cancellation where p_y rounds to 1
        for (let j = 0; j < C; j++) if (j !== yr) rest += e[j]!;
        const u = rest / s;
        const w = alphas[yr]! * u ** g;
        for (let j = 0; j < C; j++) {
          const want = w * (e[j]! / s - (j === yr ? 1 : 0));
          // p_y - 1 by subtraction in float64: good to ~1e-16 absolute there, hence the floor.
          expect(Math.abs(detached.grad[r * C + j]! - want), `row ${r}, class ${j}`)
            .toBeLessThanOrEqual(ELEMENT_TOLERANCE * Math.abs(want) + 1e-15 * w);
        }
      }
    }
  });

  test("a per-class gamma of the exact forms' values (0, 1/2, 1, 2) gives the scalar call's bits", () => {
    const rows = 2_001;
    const { z, y } = softmaxCase(rows, C, 61);
    for (const g of [0, 0.5, 1, 2]) {
      const same = new Float64Array(C).fill(g);
      for (const detachModulator of [false, true]) {
        const a = fl.softmaxFocalLossWithGrad(z, y, { gamma: g, detachModulator, reduction: 'none' });
        const b = fl.softmaxFocalLossWithGrad(z, y, { gamma: same, detachModulator, reduction: 'none' });
        expect(bits(b.loss), `gamma ${g}, detachModulator ${detachModulator}: loss`).toEqual(bits(a.loss));
        expect(bits(b.grad), `gamma ${g}, detachModulator ${detachModulator}: gradient`).toEqual(bits(a.grad));
      }
    }
  });

  test('a per-class gamma of equal values gives the scalar call (to 1e-6)', () => {
    const rows = 2_001;
    const { z, y } = softmaxCase(rows, C, 53);
    const t = softTargets(rows, C, 59);
    for (const g of [0, 0.5, 1, 2, 3]) {
      const same = new Float64Array(C).fill(g);
      for (const detachModulator of [false, true]) {
        const a = fl.softmaxFocalLossWithGrad(z, y, { gamma: g, detachModulator });
        const b = fl.softmaxFocalLossWithGrad(z, y, { gamma: same, detachModulator });
        const e = relativeError(b.loss, a.loss);
        record('softmax: equal per-class gamma vs scalar (mean)', build, e);
        expect(e, `gamma ${g}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        expect(worstRelativeError(b.grad, a.grad).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        const sa = fl.softmaxFocalLoss(z, t, { gamma: g, detachModulator, classes: C });
        const sb = fl.softmaxFocalLoss(z, t, { gamma: same, detachModulator, classes: C });
        expect(relativeError(sb, sa), `soft, gamma ${g}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      }
    }
  });

  test('class-axis layouts and views: a per-class gamma reads the same table', () => {
    const N = 3;
    const HW = 37;
    const random = rng(61);
    const nchw = Float32Array.from({ length: N * C * HW }, () => (random() - 0.5) * 8);
    const labels = Int32Array.from({ length: N * HW }, () => Math.floor(random() * C));
    const last = new Float32Array(N * HW * C); // the same logits, class axis last
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < HW; s++) last[(n * HW + s) * C + c] = nchw[(n * C + c) * HW + s]!;
    const a = fl.softmaxFocalLossWithGrad(nchw, labels, { gamma: GAMMAS, shape: [N, C, HW], classAxis: 1, reduction: 'sum' });
    const b = fl.softmaxFocalLossWithGrad(last, labels, { gamma: GAMMAS, reduction: 'sum' });
    expect(a.loss).toBe(b.loss);
  });

  test('errors name options.gamma and detachModulator', () => {
    const { z, y } = softmaxCase(4, C, 67);
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: [1, 2] })).toThrow(RangeError);
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: [1, 2] })).toThrow(`options.gamma.length = 2: expected ${C} (one gamma per class)`);
    const bad = [...GAMMAS];
    bad[3] = -0.5;
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: bad })).toThrow('options.gamma[3] = -0.5: expected a finite number >= 0');
    bad[3] = NaN;
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: bad })).toThrow('options.gamma[3] = NaN');
    expect(() => fl.softmaxFocalLoss(z, y, { detachModulator: 'no' as never })).toThrow(TypeError);
    expect(() => fl.softmaxFocalLoss(z, y, { gamma: -2 })).toThrow('options.gamma = -2');
  });
});

// ---- the two builds -----------------------------------------------------------------------------------------

describe('SIMD and scalar builds give the same bits', () => {
  let simd: Focal;
  let scalar: Focal;
  beforeAll(async () => {
    simd = await builds[0].create();
    scalar = await builds[1].create();
  });

  test('large random inputs: every new path, loss and gradient', () => {
    const random = rng(71);
    const rows = 7_001; // N x C = 49_007: three chunks, the last partial, chunks not starting at class 0
    const n = rows * C;
    const x = Float32Array.from({ length: n }, (_, i) => (i % 389 === 0 ? (random() - 0.5) * 2e3 : (random() - 0.5) * 30));
    const t = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? random() : random() < 0.25 ? 1 : 0));
    const iou = Float32Array.from({ length: n }, () => (random() < 0.3 ? random() : 0));
    const { z, y } = softmaxCase(rows, C, 73);
    const soft = softTargets(rows, C, 79);
    const calls: [Method, unknown, unknown, Record<string, unknown>][] = [
      ['sigmoidFocalLossWithGrad', x, t, { gamma: GAMMAS }],
      ['sigmoidFocalLossWithGrad', x, t, { gamma: GAMMAS, detachModulator: true, reduction: 'none' }],
      ['sigmoidFocalLossWithGrad', x, t, { gamma: 2.6, detachModulator: true }],
      ['sigmoidFocalLossWithGrad', x, t, { gamma: GAMMAS, normalized: true, classWeights: Float32Array.from(GAMMAS, (g) => g + 1) }],
      ['varifocalLossWithGrad', x, iou, { detachModulator: true, reduction: 'none' }],
      ['varifocalLossWithGrad', x, iou, { detachModulator: true, gamma: 1.7, reduction: 'sum' }],
      ['softmaxFocalLossWithGrad', z, y, { gamma: GAMMAS, reduction: 'none' }],
      ['softmaxFocalLossWithGrad', z, y, { gamma: GAMMAS, detachModulator: true }],
      ['softmaxFocalLossWithGrad', z, y, { detachModulator: true, gamma: 0.7, alpha: Float32Array.from(GAMMAS, (g) => g / 4) }],
      ['softmaxFocalLossWithGrad', z, soft, { gamma: GAMMAS, classes: C, reduction: 'none' }],
      ['softmaxFocalLossWithGrad', z, soft, { gamma: GAMMAS, classes: C, detachModulator: true }],
      ['softmaxFocalLossWithGrad', z, y, { gamma: GAMMAS, labelSmoothing: 0.2, detachModulator: true }],
    ];
    for (const [method, a, b, options] of calls) {
      const one = call(simd, method, a, b, options);
      const two = call(scalar, method, a, b, options);
      const label = `${method} ${JSON.stringify(Object.keys(options))}`;
      if (typeof one.loss === 'number') expect(Object.is(one.loss, two.loss), label).toBe(true);
      else expect(bits(one.loss), label).toEqual(bits(two.loss as Float32Array));
      expect(bits(one.grad), label).toEqual(bits(two.grad));
    }
  });
});

describe('the worker pool', () => {
  let pool: FocalPool;
  beforeAll(async () => {
    pool = await createFocalPool({ threads: 2 });
  });
  afterAll(() => pool?.terminate());

  test('a per-class gamma and a detached modulator give the engine bits (more than one chunk or block)', async () => {
    const fl = pool.simd ? await builds[0].create() : await builds[1].create();
    const random = rng(83);
    const rows = 6_001;
    const n = rows * C;
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
    const t = Float32Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0));
    const { z, y } = softmaxCase(rows, C, 89);
    const pooled = pool as unknown as Record<string, (...a: unknown[]) => Promise<Result>>;
    const calls: [Method, unknown, unknown, Record<string, unknown>][] = [
      ['sigmoidFocalLossWithGrad', x, t, { gamma: GAMMAS, detachModulator: true }],
      ['varifocalLossWithGrad', x, t, { detachModulator: true }],
      ['softmaxFocalLossWithGrad', z, y, { gamma: GAMMAS, detachModulator: true, reduction: 'sum' }],
    ];
    for (const [method, a, b, options] of calls) {
      const got = await pooled[method]!.call(pool, a, b, options);
      const want = call(fl, method, a, b, options);
      expect(Object.is(got.loss, want.loss), method).toBe(true);
      expect(bits(got.grad), method).toEqual(bits(want.grad));
    }
  });
});
