// The sigmoid family beyond torchvision (issue 9): sigmoidFocalLossStar, qualityFocalLoss, varifocalLoss,
// polyFocalLoss, and sigmoidFocalLoss's masks and weights (mask, ignoreIndex, classWeights, posWeight,
// reducedThreshold, normalized), both builds, against the float64 reference (test/reference.ts).
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { hardCase as hardCaseOf, logitGrid, SIGMOID_EDGES, softCase as softCaseOf } from './grids.js';
import {
  centralDifference, familyReduced, focalExtrasRef, focalStarRef, polyFocalRef, qualityFocalRef, relativeError,
  sigmoid, sigmoidFocalGradMagnitude, sigmoidFocalReduced, varifocalRef, worstRelativeError,
  type FamilyReduceOptions, type VariantElement,
} from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;

const grid = logitGrid(SIGMOID_EDGES, 7);
const hardCase = () => hardCaseOf(grid);
const softCase = () => softCaseOf(grid, 11);

type Result = { loss: number | Float32Array; grad: Float32Array };
/** Calls a Focal method by name (the variant table names them). */
function call(fl: Focal, method: string, ...args: unknown[]): Result {
  return (fl as unknown as Record<string, (...a: unknown[]) => Result>)[method]!.apply(fl, args);
}
function lossOf(fl: Focal, method: string, ...args: unknown[]): number | Float32Array {
  return call(fl, method, ...args) as unknown as number | Float32Array;
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

type Method = 'sigmoidFocalLossStar' | 'qualityFocalLoss' | 'varifocalLoss' | 'polyFocalLoss';

interface VariantCase {
  name: string;
  method: Method;
  options: Record<string, unknown>;
  element: (x: number, t: number) => VariantElement;
  /**
   * With soft targets, the float32 result may also differ by what the rounding of the inputs moves the value
   * (p - t cancels near p = t): this bound, from the reference, is added to the relative tolerance. Undefined: none.
   */
  softSlack?: (x: number, t: number) => { loss: number; grad: number };
  /** Apply softSlack to hard targets too (a negative epsilon makes the Poly-1 gradient a difference there). */
  hardSlack?: boolean;
}

/** The spread of the QFL reference when p - t moves by 8 ulp of the terms it is formed from (the engine's form). */
function qualitySlack(beta: number) {
  return (x: number, t: number): { loss: number; grad: number } => {
    const p = sigmoid(x);
    const pc = sigmoid(-x);
    const d = (1 - t) * p - t * pc;
    const size = x > 0 ? 1 - t + pc : t + p;
    const delta = 2 ** -21 * size;
    const at = qualityFocalRef(x, t, { beta });
    let loss = 0;
    let grad = 0;
    for (const dd of [d - delta, d + delta]) {
      const moved = qualityFocalRef(x, t, { beta }, dd);
      loss = Math.max(loss, Math.abs(moved.loss - at.loss));
      grad = Math.max(grad, Math.abs(moved.grad - at.grad));
    }
    return { loss, grad };
  };
}

const variantCases: VariantCase[] = [
  ...[
    { alpha: null, gamma: 1, beta: 0 }, { alpha: 0.25, gamma: 2, beta: 1 }, { alpha: 0.75, gamma: 3.7, beta: -0.5 },
    { alpha: null, gamma: 0.5, beta: 0 },
  ].map((o): VariantCase => ({
    name: `FL* gamma ${o.gamma} beta ${o.beta} alpha ${o.alpha}`, method: 'sigmoidFocalLossStar', options: o,
    element: (x, t) => focalStarRef(x, t, o),
  })),
  ...[0, 0.5, 1, 2, 3.3].map((beta): VariantCase => ({
    name: `QFL beta ${beta}`, method: 'qualityFocalLoss', options: { beta },
    element: (x, t) => qualityFocalRef(x, t, { beta }),
    softSlack: qualitySlack(beta),
  })),
  ...[
    { alpha: 0.75, gamma: 2, iouWeighted: true }, { alpha: 0.75, gamma: 2, iouWeighted: false },
    { alpha: 1.5, gamma: 0.5, iouWeighted: true }, { alpha: 0.25, gamma: 0, iouWeighted: true },
    { alpha: 0.75, gamma: 1, iouWeighted: true }, { alpha: 0.6, gamma: 2.6, iouWeighted: false },
  ].map((o): VariantCase => ({
    name: `VFL alpha ${o.alpha} gamma ${o.gamma} iouWeighted ${o.iouWeighted}`, method: 'varifocalLoss', options: o,
    element: (x, t) => varifocalRef(x, t, o),
    // Positives' gradient is w (p - t): it cancels near p = t.
    softSlack: (x, t) => ({ loss: 0, grad: (o.iouWeighted ? t : 1) * 2 ** -21 * (x > 0 ? 1 - t + sigmoid(-x) : t + sigmoid(x)) }),
  })),
  ...[
    { alpha: 0.25, gamma: 2, epsilon: 1 }, { alpha: null, gamma: 0.5, epsilon: 2 }, { alpha: 0.75, gamma: 0, epsilon: 1 },
    { alpha: 0.25, gamma: 5, epsilon: -0.5 }, { alpha: 0.25, gamma: 1, epsilon: 0.3 },
  ].map((o): VariantCase => ({
    name: `Poly-1 alpha ${o.alpha} gamma ${o.gamma} epsilon ${o.epsilon}`, method: 'polyFocalLoss', options: o,
    element: (x, t) => polyFocalRef(x, t, o),
    // Like the focal gradient, a difference of terms near p = t (and a negative epsilon makes the loss one too).
    softSlack: (x, t) => {
      const r = polyFocalRef(x, t, o);
      const q = t * sigmoid(-x) + (1 - t) * sigmoid(x);
      return { loss: Math.abs(o.epsilon) * q ** (o.gamma + 1) * 1e-5, grad: r.magnitude * 1e-5 };
    },
    hardSlack: o.epsilon < 0,
  })),
];

function elementwise(
  xs: Float32Array, ts: Float32Array, element: (x: number, t: number) => VariantElement,
): { loss: Float64Array; grad: Float64Array } {
  const loss = new Float64Array(xs.length);
  const grad = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const r = element(xs[i]!, ts[i]!);
    loss[i] = r.loss;
    grad[i] = r.grad;
  }
  return { loss, grad };
}

/** Worst |got - want| / (tolerance-scale), where the allowed error is tol |want| (floored) + slack. */
function worstWithSlack(
  got: Float32Array, want: Float64Array, slack: Float64Array | undefined,
): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const allowed = ELEMENT_TOLERANCE * Math.max(Math.abs(want[i]!), 1e-37) + (slack ? slack[i]! : 0);
    const e = (got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!) / allowed) * ELEMENT_TOLERANCE;
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

describe.each(builds)('sigmoid variants, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  test.each(variantCases)('$name: every element and its gradient, hard and soft targets', (c) => {
    for (const [kind, { x, t }] of [['hard', hardCase()], ['soft', softCase()]] as const) {
      const { loss, grad } = call(fl, `${c.method}WithGrad`, x, t, { ...c.options, reduction: 'none' });
      const want = elementwise(x, t, c.element);
      let lossSlack: Float64Array | undefined;
      let gradSlack: Float64Array | undefined;
      if (c.softSlack && (kind === 'soft' || c.hardSlack)) {
        lossSlack = new Float64Array(x.length);
        gradSlack = new Float64Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const s = c.softSlack(x[i]!, t[i]!);
          lossSlack[i] = s.loss;
          gradSlack[i] = s.grad;
        }
      }
      const lossError = worstWithSlack(loss as Float32Array, want.loss, lossSlack);
      const gradError = worstWithSlack(grad, want.grad, gradSlack);
      const family = c.name.split(' ')[0]!;
      record(`${family} loss, ${kind} targets`, build, lossError.error);
      record(`${family} grad, ${kind} targets${gradSlack ? ' (+ input rounding)' : ''}`, build, gradError.error);
      expect(lossError.error, `${kind} loss at x = ${x[lossError.index]}, t = ${t[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(gradError.error, `${kind} grad at x = ${x[gradError.index]}, t = ${t[gradError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      for (let i = 0; i < x.length; i++) {
        if (!Number.isFinite((loss as Float32Array)[i]) || !Number.isFinite(grad[i])) {
          throw new Error(`not finite at x = ${x[i]}, t = ${t[i]}`);
        }
      }
    }
  });

  test.each(['mean', 'sum'] as const)('reduction %s of every variant, with weights, normalizer and masks', (reduction) => {
    const random = rng(3);
    const n = 20_011; // more than one chunk, not a multiple of 4
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 30);
    const ts = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? random() : i % 3 === 1 ? 0 : 1));
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0));
    for (const c of variantCases) {
      for (const extra of [{}, { weights }, { mask }, { weights, mask, ...(reduction === 'mean' ? { normalizer: 17 } : {}) }] as const) {
        const { loss, grad } = call(fl, `${c.method}WithGrad`, xs, ts, { ...c.options, ...extra, reduction });
        const want = familyReduced(xs, ts, c.element, { ...extra, reduction } as FamilyReduceOptions);
        const error = relativeError(loss as number, want.loss as number);
        record(`${reduction} (reduction)`, build, error);
        expect(error, `${c.name} ${Object.keys(extra).join(' ')}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        // The gradient of the reduction: elementwise as above, each element's slack scaled by its weight and the divisor.
        let slack: Float64Array | undefined;
        if (c.softSlack) {
          const e = extra as { weights?: Float32Array; mask?: Uint8Array; normalizer?: number };
          let kept = 0;
          for (let i = 0; i < n; i++) kept += e.mask && e.mask[i] === 0 ? 0 : 1;
          const divisor = reduction === 'sum' ? 1 : e.normalizer ?? kept;
          slack = Float64Array.from({ length: n }, (_, i) => (e.mask && e.mask[i] === 0 ? 0
            : (c.softSlack!(xs[i]!, ts[i]!).grad * (e.weights ? e.weights[i]! : 1)) / divisor));
        }
        const gradError = worstWithSlack(grad, want.grad, slack).error;
        record(`${reduction} gradient${slack ? ' (+ input rounding)' : ''}`, build, gradError);
        expect(gradError, `${c.name} gradient`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        expect(lossOf(fl, c.method, xs, ts, { ...c.options, ...extra, reduction })).toBe(loss);
      }
    }
  });

  test('views from fl.alloc() are read and written in place, with the same bits as copies', () => {
    const random = rng(23);
    const n = 20_003;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
    const ts = Float32Array.from({ length: n }, () => random());
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.9 ? 1 : 0));
    for (const c of [0, 4, 9, 15].map((k) => variantCases[k]!)) {
      const want = call(fl, `${c.method}WithGrad`, xs, ts, { ...c.options, reduction: 'none', mask });
      const [x, t, loss, grad] = fl.alloc(n, n, n, n) as [Float32Array, Float32Array, Float32Array, Float32Array];
      x.set(xs);
      t.set(ts);
      const got = call(fl, `${c.method}WithGrad`, x, t, { ...c.options, reduction: 'none', mask, out: loss, gradOut: grad });
      expect(got.loss).toBe(loss);
      expect(got.grad).toBe(grad);
      expect(Array.from(loss)).toEqual(Array.from(want.loss as Float32Array));
      expect(Array.from(grad)).toEqual(Array.from(want.grad));
      fl.freeAll();
    }
  });

  test('N = 0, and every element masked: mean is 0', () => {
    for (const c of [0, 4, 9, 15].map((k) => variantCases[k]!)) {
      expect(lossOf(fl, c.method, [], [], c.options)).toBe(0);
      expect(lossOf(fl, c.method, [1, 2], [1, 0], { ...c.options, mask: [0, 0] })).toBe(0);
      expect(lossOf(fl, c.method, [1, 2], [1, 0], { ...c.options, mask: [0, 0], reduction: 'sum' })).toBe(0);
    }
  });
});

// ---- masks and weights of sigmoidFocalLoss (issue 9 part 5) --------------------------------------------------

describe.each(builds)('sigmoidFocalLoss masks and weights, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  const random = rng(17);
  const C = 7;
  const rows = 2_500; // N = 17_500: more than one chunk, and chunks do not start at class 0
  const n = rows * C;
  const xs = Float32Array.from({ length: n }, (_, i) => (i % 211 === 0 ? 1e4 * (random() - 0.5) : (random() - 0.5) * 24));
  const ts = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? random() : random() < 0.2 ? 1 : 0));
  const weights = Float32Array.from({ length: n }, () => random() * 2);
  const mask = Float32Array.from({ length: n }, () => (random() < 0.85 ? 1 : 0));
  const classWeights = Float32Array.from({ length: C }, (_, c) => 0.5 + c / 4);
  const posWeight = Float32Array.from({ length: C }, (_, c) => 1 + c / 2);
  const withIgnore = Float32Array.from(ts, (v, i) => (mask[i] === 0 ? 255 : v));

  const settings: { name: string; options: Record<string, unknown>; ref: FamilyReduceOptions; element: FocalElement }[] = [
    { name: 'mask', options: { mask }, ref: { reduction: 'none', mask }, element: focal({}) },
    { name: 'classWeights', options: { classWeights }, ref: { reduction: 'none', classWeights }, element: focal({}) },
    { name: 'posWeight per class, weights, mask', options: { posWeight, classes: C, weights, mask },
      ref: { reduction: 'none', weights, mask }, element: focal({ posWeight }) },
    { name: 'posWeight 3, gamma 0.5', options: { posWeight: 3, gamma: 0.5 }, ref: { reduction: 'none' },
      element: focal({ posWeight: [3], gamma: 0.5 }) },
    { name: 'reducedThreshold 0.5', options: { reducedThreshold: 0.5 }, ref: { reduction: 'none' },
      element: focal({ reducedThreshold: 0.5 }) },
    { name: 'reducedThreshold 0.3, gamma 1.5, alpha null, classWeights, mask',
      options: { reducedThreshold: 0.3, gamma: 1.5, alpha: null, classWeights, mask },
      ref: { reduction: 'none', classWeights, mask }, element: focal({ reducedThreshold: 0.3, gamma: 1.5, alpha: null }) },
    { name: 'normalized', options: { normalized: true }, ref: { reduction: 'none', normalized: true }, element: focal({}) },
    { name: 'normalized, reduced 0.4, mask, weights', options: { normalized: true, reducedThreshold: 0.4, mask, weights },
      ref: { reduction: 'none', normalized: true, mask, weights }, element: focal({ reducedThreshold: 0.4 }) },
  ];

  type FocalElement = (x: number, t: number, i: number) => ReturnType<typeof focalExtrasRef>;
  function focal(o: { posWeight?: ArrayLike<number>; reducedThreshold?: number; gamma?: number; alpha?: number | null }): FocalElement {
    return (x, t, i) => focalExtrasRef(x, t, {
      alpha: o.alpha === undefined ? 0.25 : o.alpha, gamma: o.gamma ?? 2, reducedThreshold: o.reducedThreshold,
      posWeight: o.posWeight ? o.posWeight[i % o.posWeight.length] : undefined,
    });
  }

  /** Soft targets near p = t: the gradient judged against the size of its terms, as test/sigmoid.test.ts. */
  function gradSlack(i: number, options: Record<string, unknown>, element: FocalElement): number {
    if (options.mask && mask[i] === 0) return 0;
    const gamma = (options.gamma as number | undefined) ?? 2;
    const alpha = options.alpha === undefined ? 0.25 : (options.alpha as number | null);
    const scale = (options.weights ? weights[i]! : 1) * (options.classWeights ? classWeights[i % C]! : 1) *
      (options.posWeight === undefined ? 1 : 1 + C) * (options.reducedThreshold ? (options.reducedThreshold as number) ** -gamma : 1);
    const r = element(xs[i]!, ts[i]!, i);
    return scale * sigmoidFocalGradMagnitude(xs[i]!, ts[i]!, { gamma, alpha }) + Math.abs(r.df * r.loss);
  }

  /** What the gradient of the reduced loss is divided by: S for the normalized loss, the kept count for 'mean'. */
  function gradDivisor(options: Record<string, unknown>, element: FocalElement, reduction: string): number {
    let s = 1;
    if (options.normalized) {
      s = 0;
      for (let i = 0; i < n; i++) if (!(options.mask && mask[i] === 0)) s += element(xs[i]!, ts[i]!, i).f;
    }
    return s * (reduction === 'mean' ? keptCount(options) : 1);
  }

  test.each(settings)('$name: elementwise, mean and sum', ({ name, options, ref, element }) => {
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const { loss, grad } = fl.sigmoidFocalLossWithGrad(xs, ts, { ...options, reduction });
      const want = familyReduced(xs, ts, element, { ...ref, reduction });
      if (reduction === 'none') {
        const lossError = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
        record(`focal ${name}: loss`, build, lossError.error);
        expect(lossError.error, `loss at ${lossError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      } else {
        const error = relativeError(loss as number, want.loss as number);
        record(`focal ${name}: ${reduction}`, build, error);
        expect(error).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        expect(fl.sigmoidFocalLoss(xs, ts, { ...options, reduction })).toBe(loss);
      }
      let gradError = 0;
      const divisor = gradDivisor(options, element, reduction);
      for (let i = 0; i < n; i++) {
        const e = Math.abs(grad[i]! - want.grad[i]!) /
          Math.max(Math.abs(want.grad[i]!), gradSlack(i, options, element) / divisor, 1e-37);
        gradError = Math.max(gradError, e);
      }
      record(`focal ${name}: grad (${reduction})`, build, gradError);
      expect(gradError, `grad, ${reduction}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  function keptCount(options: Record<string, unknown>): number {
    if (!options.mask) return n;
    let k = 0;
    for (let i = 0; i < n; i++) k += mask[i] !== 0 ? 1 : 0;
    return k;
  }

  test('ignoreIndex gives the same bits as the equivalent mask; ignored targets are not validated', () => {
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const a = fl.sigmoidFocalLossWithGrad(xs, withIgnore, { ignoreIndex: 255, reduction });
      const b = fl.sigmoidFocalLossWithGrad(xs, ts, { mask, reduction });
      expect(a.loss).toEqual(b.loss);
      expect(new Uint32Array(a.grad.buffer)).toEqual(new Uint32Array(b.grad.buffer));
    }
    const { loss, grad } = fl.sigmoidFocalLossWithGrad(xs, withIgnore, { ignoreIndex: 255, reduction: 'none' });
    for (let i = 0; i < n; i++) {
      if (mask[i] === 0) {
        expect((loss as Float32Array)[i]).toBe(0);
        expect(grad[i]).toBe(0);
      }
    }
    // The variants take them too.
    expect(fl.qualityFocalLoss(xs, withIgnore, { ignoreIndex: 255 })).toBe(fl.qualityFocalLoss(xs, ts, { mask }));
    // A masked element may hold any logit; a kept one may not.
    const bad = Float32Array.from(xs);
    bad[3] = Number.NaN;
    const m = new Float32Array(n).fill(1);
    m[3] = 0;
    expect(Number.isFinite(fl.varifocalLoss(bad, ts, { mask: m }))).toBe(true);
    expect(() => fl.varifocalLoss(bad, ts)).toThrow('logits[3] = NaN: expected a finite number');
    expect(() => fl.sigmoidFocalLoss(xs, withIgnore, { ignoreIndex: 254 })).toThrow(/targets\[\d+\] = 255: expected a value in \[0, 1\] or options.ignoreIndex \(254\)/);
  });

  test('classWeights give the same bits as the same weights per element', () => {
    const expanded = Float32Array.from({ length: n }, (_, i) => classWeights[i % C]!);
    const a = fl.sigmoidFocalLossWithGrad(xs, ts, { classWeights, reduction: 'sum' });
    const b = fl.sigmoidFocalLossWithGrad(xs, ts, { weights: expanded, mask: new Uint8Array(n).fill(1), reduction: 'sum' });
    expect(a.loss).toBe(b.loss);
    expect(new Uint32Array(a.grad.buffer)).toEqual(new Uint32Array(b.grad.buffer));
  });

  test('with the mask all ones, sigmoidFocalLoss agrees with its plain path', () => {
    const ones = new Uint8Array(n).fill(1);
    const plain = fl.sigmoidFocalLossWithGrad(xs, ts);
    const masked = fl.sigmoidFocalLossWithGrad(xs, ts, { mask: ones });
    expect(relativeError(masked.loss as number, plain.loss as number)).toBeLessThanOrEqual(1e-6);
    // Two kernels, two rounding paths: near p = t (soft targets) judged against the size of the gradient's terms.
    for (let i = 0; i < n; i++) {
      const magnitude = sigmoidFocalGradMagnitude(xs[i]!, ts[i]!, { alpha: 0.25, gamma: 2 }) / n;
      expect(Math.abs(masked.grad[i]! - plain.grad[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(magnitude, Math.abs(plain.grad[i]!)));
    }
    const want = sigmoidFocalReduced(xs, ts, { alpha: 0.25, gamma: 2, reduction: 'mean' });
    expect(relativeError(masked.loss as number, want.loss as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
  });

  test('errors name the option', () => {
    expect(() => fl.sigmoidFocalLoss(xs, ts, { classWeights: [1, 2, 3] })).toThrow(RangeError);
    expect(() => fl.sigmoidFocalLoss(xs, ts, { classWeights: [1, 2, 3] })).toThrow('logits.length = 17500: expected a multiple of 3');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { classes: C, classWeights: [1, 2] })).toThrow('options.classWeights.length = 2: expected 7');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { classWeights: Float32Array.of(1, -1, 1, 1, 1, 1, 1) })).toThrow('options.classWeights[1] = -1');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { posWeight: -2 })).toThrow('options.posWeight[0] = -2');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { reducedThreshold: 0 })).toThrow('options.reducedThreshold = 0');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { normalized: 1 as never })).toThrow(TypeError);
    expect(() => fl.sigmoidFocalLoss(xs, ts, { mask: 'all' as never })).toThrow(TypeError);
    expect(() => fl.sigmoidFocalLoss(xs, ts, { mask: new Uint8Array(3) })).toThrow('options.mask.length = 3');
    expect(() => fl.sigmoidFocalLoss(xs, ts, { ignoreIndex: Number.NaN })).toThrow('options.ignoreIndex = NaN');
    expect(() => fl.sigmoidFocalLossStar(xs, ts, { gamma: 0 })).toThrow('options.gamma = 0');
    expect(() => fl.varifocalLoss(xs, ts, { alpha: -1 })).toThrow('options.alpha = -1');
    expect(() => fl.varifocalLoss(xs, ts, { iouWeighted: 'yes' as never })).toThrow(TypeError);
    expect(() => fl.qualityFocalLoss(xs, ts, { beta: -2 })).toThrow('options.beta = -2');
    expect(() => fl.polyFocalLoss(xs, ts, { epsilon: Infinity })).toThrow('options.epsilon = Infinity');
    // The engine is intact after all of that.
    expect(fl.sigmoidFocalLoss(xs, ts, { mask })).toBe(fl.sigmoidFocalLoss(xs, ts, { mask }));
  });
});

describe('SIMD and scalar builds agree bit for bit on every variant', () => {
  test('variants and masked focal', async () => {
    const simd = await builds[0].create();
    const scalar = await builds[1].create();
    const random = rng(41);
    const n = 30_001;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * 10 ** (random() * 4));
    const ts = Float32Array.from({ length: n }, (_, i) => (i % 2 ? random() : i % 4 === 0 ? 1 : 0));
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.9 ? 1 : 0));
    const calls: [string, Record<string, unknown>][] = [
      ...variantCases.map((c): [string, Record<string, unknown>] => [c.method, c.options]),
      ['sigmoidFocalLoss', { mask, posWeight: 2, reducedThreshold: 0.4, classWeights: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], classes: 11 }],
      ['sigmoidFocalLoss', { normalized: true, gamma: 2.5, mask }],
      // Threshold 1: the reduced term applies exactly where 1 - q rounds to 1 in float32 (confident, correct).
      ['sigmoidFocalLoss', { reducedThreshold: 1, gamma: 2 }],
      ['sigmoidFocalLoss', { reducedThreshold: 1, gamma: 0.5, mask }],
    ];
    const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
    /** The first index where two arrays differ in bits, or -1 (cheaper than toEqual on 30k elements). */
    const firstDifference = (a: Uint32Array, b: Uint32Array): number => {
      if (a.length !== b.length) return 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
      return -1;
    };
    for (const [method, options] of calls) {
      const n11 = method === 'sigmoidFocalLoss' && options.classes ? n - (n % 11) : n;
      const x = xs.subarray(0, n11);
      const t = ts.subarray(0, n11);
      const o = { ...options, ...(options.mask ? { mask: mask.subarray(0, n11) } : {}) };
      for (const reduction of ['none', 'mean'] as const) {
        const a = call(simd, `${method}WithGrad`, x, t, { ...o, reduction });
        const b = call(scalar, `${method}WithGrad`, x, t, { ...o, reduction });
        if (reduction === 'none') {
          expect(firstDifference(bits(a.loss as Float32Array), bits(b.loss as Float32Array)), `${method} loss`).toBe(-1);
        } else {
          expect(a.loss).toBe(b.loss);
        }
        expect(firstDifference(bits(a.grad), bits(b.grad)), `${method} grad`).toBe(-1);
      }
    }
  });
});

describe('the references themselves', () => {
  test('every variant gradient matches central finite differences of its loss', () => {
    let worstError = 0;
    const xsProbe = [-12, -3.3, -1, -0.2, 0.4, 1.7, 4, 9.5];
    for (const c of variantCases) {
      for (const t of [0, 1, 0.3, 0.85]) {
        for (const x of xsProbe) {
          const analytic = c.element(x, t).grad;
          const numeric = centralDifference((v) => c.element(v, t).loss, x);
          const error = Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), 1e-8);
          // QFL with beta < 1 is not differentiable where p = t; the probes stay away from it.
          worstError = Math.max(worstError, error);
          expect(error, `${c.name} at x = ${x}, t = ${t}`).toBeLessThan(1e-5);
        }
      }
    }
    for (const o of [{ alpha: 0.25, gamma: 2 }, { alpha: null, gamma: 0.5, posWeight: 3 }, { alpha: 0.75, gamma: 2, reducedThreshold: 0.5 }]) {
      for (const t of [0, 1, 0.3]) {
        for (const x of xsProbe) {
          const analytic = focalExtrasRef(x, t, o);
          const numeric = centralDifference((v) => focalExtrasRef(v, t, o).loss, x);
          const numericF = centralDifference((v) => focalExtrasRef(v, t, o).f, x);
          const error = Math.abs(analytic.grad - numeric) / Math.max(Math.abs(analytic.grad), 1e-8);
          // The reduced term jumps at p_t = threshold: the probes that straddle it are skipped.
          if (Math.abs(1 - (t * sigmoid(-x) + (1 - t) * sigmoid(x)) - (o.reducedThreshold ?? 2)) < 1e-3) continue;
          worstError = Math.max(worstError, error, Math.abs(analytic.df - numericF) / Math.max(Math.abs(analytic.df), 1e-8));
          expect(error).toBeLessThan(1e-5);
        }
      }
    }
    console.log(`variant references vs central differences: worst relative error ${worstError.toExponential(2)}`);
  });

  test('the normalized focal gradient (a whole-array function) matches central differences', () => {
    const random = rng(5);
    const n = 12;
    const xs = Array.from({ length: n }, () => (random() - 0.5) * 8);
    const ts = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : random()));
    const weights = Array.from({ length: n }, () => random() * 2);
    let worstError = 0;
    for (const reduction of ['sum', 'mean'] as const) {
      const options: FamilyReduceOptions = { reduction, normalized: true, weights };
      const element = (x: number, t: number) => focalExtrasRef(x, t, { alpha: 0.25, gamma: 2 });
      const { grad } = familyReduced(xs, ts, element, options);
      for (let k = 0; k < n; k++) {
        const numeric = centralDifference((v) => {
          const moved = xs.slice();
          moved[k] = v;
          return familyReduced(moved, ts, element, options).loss as number;
        }, xs[k]!);
        const error = Math.abs(grad[k]! - numeric) / Math.max(Math.abs(grad[k]!), 1e-8);
        worstError = Math.max(worstError, error);
      }
    }
    console.log(`normalized focal reference vs central differences: worst relative error ${worstError.toExponential(2)}`);
    expect(worstError).toBeLessThan(1e-5);
  });

  test('prints the worst relative errors per build', () => {
    console.table(worst);
    expect(Object.keys(worst).length).toBeGreaterThan(5);
  });
});
