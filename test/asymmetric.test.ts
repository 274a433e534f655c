// The asymmetric loss (issue 15, item 3): asymmetricLoss / asymmetricLossWithGrad against the float64 reference
// written from Alibaba-MIIL's AsymmetricLoss (test/reference.ts asymmetricRef), on both builds: every element and
// its gradient (detached and attached modulator), the reductions, numbers computed by hand, central differences,
// SIMD / scalar bit identity, finite gradients at the extremes, and the errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocalPool, type AsymmetricGradOptions, type Floats, type Focal, type FocalPool } from '../src/index.js';
import { bits, builds, rng } from './engines.js';
import { hardCase as hardCaseOf, logitGrid, softCase as softCaseOf } from './grids.js';
import { asymmetricRef, relativeError, sigmoid, type AsymmetricRefOptions } from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const DEFAULTS: AsymmetricRefOptions = { gammaPos: 1, gammaNeg: 4, clip: 0.05, eps: 1e-8, detachModulator: true };

/** The sigmoid edges and where ASL's clamps switch (p = clip at 2.944, p = eps at 18.42). */
const grid = logitGrid([0, 1e-30, 1e-7, 1e-3, 0.5, 1, 2, 2.944, 2.9444, 5, 10, 15, 17, 18.42, 18.4207, 23, 30, 40, 80,
  87.3, 88, 88.7, 89, 100, 103, 104, 150, 1e3, 1e4], 19);
const hardCase = () => hardCaseOf(grid);
const softCase = () => softCaseOf(grid, 29);

const cases: { name: string; options: AsymmetricRefOptions }[] = [
  { name: 'defaults (gammaPos 1, gammaNeg 4, clip 0.05, eps 1e-8, detached)', options: DEFAULTS },
  { name: 'defaults, attached modulator', options: { ...DEFAULTS, detachModulator: false } },
  { name: 'gammaPos 0, gammaNeg 2, clip 0.1, attached', options: { gammaPos: 0, gammaNeg: 2, clip: 0.1, eps: 1e-8, detachModulator: false } },
  { name: 'gammas 2 and 2 (one exponent), clip 0.2, eps 1e-3, attached', options: { gammaPos: 2, gammaNeg: 2, clip: 0.2, eps: 1e-3, detachModulator: false } },
  { name: 'gammas 1 and 1, clip 0 (no shift)', options: { gammaPos: 1, gammaNeg: 1, clip: 0, eps: 1e-8, detachModulator: true } },
  { name: 'gammas 0 and 0, clip 0: clamped BCE', options: { gammaPos: 0, gammaNeg: 0, clip: 0, eps: 1e-8, detachModulator: false } },
  { name: 'gammaPos 0.5, gammaNeg 0.3, clip 0.05, attached (gamma in (0, 1))', options: { gammaPos: 0.5, gammaNeg: 0.3, clip: 0.05, eps: 1e-8, detachModulator: false } },
  { name: 'gammaPos 0.7, gammaNeg 0.7, clip 0, attached', options: { gammaPos: 0.7, gammaNeg: 0.7, clip: 0, eps: 1e-8, detachModulator: false } },
  { name: 'gammaPos 1.5, gammaNeg 3.3, clip 0.6, eps 0.01, attached', options: { gammaPos: 1.5, gammaNeg: 3.3, clip: 0.6, eps: 0.01, detachModulator: false } },
  { name: 'clip 1e-9 below eps 1e-6, detached', options: { gammaPos: 1, gammaNeg: 4, clip: 1e-9, eps: 1e-6, detachModulator: true } },
];

type Result = { loss: number | Float32Array; grad: Float32Array };

/** The engine's options from the reference's. */
function engineOptions(o: AsymmetricRefOptions): Record<string, unknown> {
  return { gammaPos: o.gammaPos, gammaNeg: o.gammaNeg, clip: o.clip, eps: o.eps, detachModulator: o.detachModulator };
}

/** asymmetricLossWithGrad with options built at run time. */
function withGrad(fl: Focal, x: Floats, t: Floats, options: Record<string, unknown>): Result {
  return fl.asymmetricLossWithGrad(x, t, options as AsymmetricGradOptions);
}

/**
 * What the float32 inputs and arithmetic may move each value by, from the reference: p and 1 - p each moved by 4 ulp
 * (p - clip cancels near p = clip, and a clamp may switch within them), the exponent t gammaPos + (1-t) gammaNeg
 * rounded to float32 (it multiplies log q), and near p = t the gradient's terms cancel (1e-6 of their size).
 */
function slackOf(x: number, t: number, o: AsymmetricRefOptions): { loss: number; grad: number } {
  const at = asymmetricRef(x, t, o);
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const d = 2 ** -21;
  let loss = 0;
  let grad = 0;
  for (const [a, b] of [[1 - d, 1 + d], [1 + d, 1 - d], [1 - d, 1 - d], [1 + d, 1 + d]] as const) {
    const moved = asymmetricRef(x, t, o, { p: p * a, pc: pc * b });
    loss = Math.max(loss, Math.abs(moved.loss - at.loss));
    grad = Math.max(grad, Math.abs(moved.grad - at.grad));
  }
  const q = t * pc + (1 - t) * (Math.fround(o.clip) > 0 ? Math.max(p - Math.fround(o.clip), 0) : p);
  const g = o.gammaPos * t + o.gammaNeg * (1 - t);
  const exponent = q > 0 && t > 0 && t < 1 ? g * Math.abs(Math.log(q)) * 2 ** -22 : 0;
  return { loss: loss + Math.abs(at.loss) * exponent, grad: grad + Math.abs(at.grad) * exponent + at.magnitude * 1e-6 };
}

/** Worst |got - want| in units of the tolerance: allowed = ELEMENT_TOLERANCE |want| (floored) + slack. */
function worstWithSlack(got: Float32Array, want: Float64Array, slack: Float64Array): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const allowed = ELEMENT_TOLERANCE * Math.max(Math.abs(want[i]!), 1e-37) + slack[i]!;
    const e = (got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!) / allowed) * ELEMENT_TOLERANCE;
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

/** Worst plain relative error (no slack), for the report. */
function worstRelative(got: Float32Array, want: Float64Array): number {
  let error = 0;
  for (let i = 0; i < want.length; i++) error = Math.max(error, relativeError(got[i]!, want[i]!));
  return error;
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

describe.each(builds)('asymmetricLoss, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  test.each(cases)('$name: every element and its gradient, hard and soft targets', ({ options }) => {
    for (const [kind, { x, t }] of [['hard', hardCase()], ['soft', softCase()]] as const) {
      const result = withGrad(fl, x, t, { ...engineOptions(options), reduction: 'none' });
      const loss = result.loss as Float32Array;
      const grad = result.grad;
      const n = x.length;
      const wantLoss = new Float64Array(n);
      const wantGrad = new Float64Array(n);
      const lossSlack = new Float64Array(n);
      const gradSlack = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const r = asymmetricRef(x[i]!, t[i]!, options);
        wantLoss[i] = r.loss;
        wantGrad[i] = r.grad;
        const s = slackOf(x[i]!, t[i]!, options);
        lossSlack[i] = s.loss;
        gradSlack[i] = s.grad;
        if (!Number.isFinite(loss[i]) || !Number.isFinite(grad[i])) throw new Error(`not finite at x = ${x[i]}, t = ${t[i]}`);
      }
      const lossError = worstWithSlack(loss, wantLoss, lossSlack);
      const gradError = worstWithSlack(grad, wantGrad, gradSlack);
      const mode = options.detachModulator ? 'detached' : 'attached';
      record(`loss, ${kind} targets (+ input rounding)`, build, lossError.error);
      record(`grad ${mode}, ${kind} targets (+ input rounding)`, build, gradError.error);
      if (kind === 'hard') {
        // Plain relative errors away from p = clip (where p - clip cancels) and the clamp switches.
        const far = (i: number): boolean => {
          const p = sigmoid(x[i]!);
          return Math.abs(p / Math.fround(options.clip) - 1) > 1e-2 && Math.abs(p / Math.fround(options.eps) - 1) > 1e-2 &&
            Math.abs(sigmoid(-x[i]!) / Math.fround(options.eps) - 1) > 1e-2;
        };
        const keep = Array.from({ length: n }, (_, i) => i).filter(far);
        record('loss, hard targets, plain relative (p away from clip, eps)', build, worstRelative(
          Float32Array.from(keep, (i) => loss[i]!), Float64Array.from(keep, (i) => wantLoss[i]!)));
        record(`grad ${mode}, hard targets, plain relative (p away from clip, eps)`, build, worstRelative(
          Float32Array.from(keep, (i) => grad[i]!), Float64Array.from(keep, (i) => wantGrad[i]!)));
      }
      expect(lossError.error, `${kind} loss at x = ${x[lossError.index]}, t = ${t[lossError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(gradError.error, `${kind} grad at x = ${x[gradError.index]}, t = ${t[gradError.index]}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
  });

  test('numbers computed by hand from the formula (defaults: gammaPos 1, gammaNeg 4, clip 0.05, eps 1e-8)', () => {
    // x = 0, t = 1: p = 1/2; ce = -log(1/2) = 0.69314718; p_t = 1/2, w = (1/2)^1 = 0.5; loss = 0.34657359;
    //   grad (detached) = w d(-log p)/dx = -w (1 - p) = -0.25.
    // x = 0, t = 0: xs_neg = min(1/2 + 0.05, 1) = 0.55; ce = -log 0.55 = 0.59783700; 1 - p_t = 0.45,
    //   w = 0.45^4 = 0.04100625; loss = 0.02451505; grad = w p (1-p) / xs_neg = 0.04100625 * 0.25 / 0.55 = 0.01863920.
    // x = log 3, t = 0: p = 3/4; xs_neg = 0.25 + 0.05 = 0.3; ce = -log 0.3 = 1.20397280; w = 0.7^4 = 0.2401;
    //   loss = 0.28907387; grad = 0.2401 * 0.1875 / 0.3 = 0.1500625.
    // x = log 3, t = 1: ce = -log 0.75 = 0.28768207; w = 0.25; loss = 0.07192052; grad = -0.25 * 0.25 = -0.0625.
    // x = -log 9, t = 0: p = 0.1; xs_neg = 0.9 + 0.05 = 0.95; ce = -log 0.95 = 0.05129329; w = 0.05^4 = 6.25e-6;
    //   loss = 3.2058309e-7; grad = 6.25e-6 * 0.09 / 0.95 = 5.9210526e-7.
    // x = -30, t = 1: p = 9.4e-14 < eps: ce = -log 1e-8 = 18.42068074; w = (1 - p)^1 = 1; loss = 18.42068074;
    //   grad = 0 (the clamp is active).
    // x = -3, t = 0: p = 0.0474 < clip: xs_neg = min(0.9526 + 0.05, 1) = 1; ce = -log 1 = 0; loss 0, grad 0.
    // Sum = 0.34657359 + 0.02451505 + 0.28907387 + 0.07192052 + 3.2058e-7 + 18.42068074 + 0 = 19.15276409.
    const x = [0, 0, Math.log(3), Math.log(3), -Math.log(9), -30, -3];
    const t = [1, 0, 0, 1, 0, 1, 0];
    const loss = [0.34657359, 0.02451505, 0.28907387, 0.07192052, 3.2058309e-7, 18.42068074, 0];
    const grad = [-0.25, 0.0186392, 0.1500625, -0.0625, 5.9210526e-7, 0, 0];
    const got = fl.asymmetricLossWithGrad(x, t, { reduction: 'none' });
    for (let i = 0; i < x.length; i++) {
      // The logits are rounded to float32 (log 3 moves by 2e-8, -log 9 by 1e-7): 1e-5 covers that and 8 digits.
      expect(Math.abs(got.loss[i]! - loss[i]!), `loss ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(loss[i]!) + 1e-12);
      expect(Math.abs(got.grad[i]! - grad[i]!), `grad ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(grad[i]!) + 1e-12);
    }
    expect(got.loss[6]).toBe(0);
    expect(got.grad[5]).toBe(0);
    expect(got.grad[6]).toBe(0);
    // The default reduction is the anchor's sum.
    const sum = fl.asymmetricLoss(x, t);
    expect(relativeError(sum, 19.15276409)).toBeLessThanOrEqual(1e-6);
    expect(fl.asymmetricLoss(x, t, { reduction: 'sum' })).toBe(sum);
    expect(fl.asymmetricLoss(x, t, { reduction: 'mean' })).toBe(sum / x.length);
  });

  test.each(['sum', 'mean'] as const)('reduction %s with weights, normalizer, mask, ignoreIndex and class weights', (reduction) => {
    const random = rng(31);
    const C = 11;
    const n = C * 1_843; // 20_273: more than one chunk, not a multiple of 4, chunks not starting at class 0
    const xs = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 1e4 * (random() - 0.5) : (random() - 0.5) * 30));
    const ts = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? random() : random() < 0.15 ? 1 : 0));
    const weights = Float32Array.from({ length: n }, () => random() * 2);
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0));
    const classWeights = Float32Array.from({ length: C }, (_, c) => 0.5 + c / 5);
    const withIgnore = Float32Array.from(ts, (v, i) => (mask[i] === 0 ? -1 : v));
    for (const { options } of [cases[0]!, cases[1]!, cases[6]!]) {
      const extras: Record<string, unknown>[] = [{}, { weights }, { mask }, { classWeights }, { weights, mask, classWeights, classes: C }];
      if (reduction === 'mean') extras.push({ weights, normalizer: 17 });
      for (const extra of extras) {
        const { loss, grad } = withGrad(fl, xs, ts, { ...engineOptions(options), ...extra, reduction });
        let sum = 0;
        let size = 0;
        let kept = 0;
        const elements: { grad: number; slack: number }[] = [];
        for (let i = 0; i < n; i++) {
          if (extra.mask && mask[i] === 0) {
            elements.push({ grad: 0, slack: 0 });
            continue;
          }
          kept++;
          const scale = (extra.weights ? weights[i]! : 1) * (extra.classWeights ? classWeights[i % C]! : 1);
          const r = asymmetricRef(xs[i]!, ts[i]!, options);
          sum += scale * r.loss;
          size += Math.abs(scale * r.loss);
          elements.push({ grad: scale * r.grad, slack: Math.abs(scale) * slackOf(xs[i]!, ts[i]!, options).grad });
        }
        const divisor = reduction === 'sum' ? 1 : (extra.normalizer as number | undefined) ?? kept;
        const error = Math.abs((loss as number) - sum / divisor) / (size / divisor);
        record(`${reduction} (of the sum of magnitudes)`, build, error);
        expect(error, `${JSON.stringify(options)} ${Object.keys(extra).join(' ')}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
        const want = Float64Array.from(elements, (e) => e.grad / divisor);
        const slack = Float64Array.from(elements, (e) => e.slack / divisor);
        const gradError = worstWithSlack(grad, want, slack);
        record(`${reduction} gradient (+ input rounding)`, build, gradError.error);
        expect(gradError.error, `gradient at ${gradError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
        expect(fl.asymmetricLoss(xs, ts, { ...engineOptions(options), ...extra, reduction } as AsymmetricGradOptions)).toBe(loss);
      }
      // ignoreIndex gives the bits of the equivalent mask.
      const a = withGrad(fl, xs, withIgnore, { ...engineOptions(options), ignoreIndex: -1, reduction });
      const b = withGrad(fl, xs, ts, { ...engineOptions(options), mask, reduction });
      expect(a.loss).toBe(b.loss);
      expect(Buffer.from(a.grad.buffer).equals(Buffer.from(b.grad.buffer))).toBe(true);
    }
  });

  test('finite gradients for extreme logits, p at the clip, and gamma in (0, 1) with the modulator attached', () => {
    // eps 1e-40 (below float32's normal range) with clip 0 lets u = 1 - p be subnormal (88.7 < x < 104) and count:
    // 1 / u overflows there, which the kernel must not multiply by (it did: 0 * inf in the loss, inf in the gradient).
    const clip = 0.05;
    const atClip = Math.log(clip / (1 - clip)); // p = clip: 1 - p_t = 0 for a negative
    const xs: number[] = [];
    for (const e of [0, 1e-3, 1, 5, 17, 18.4207, 30, 88.7, 89, 103, 104, 150, 1e3, 1e4, 3.4e38]) xs.push(e, -e);
    for (let k = -8; k <= 8; k++) xs.push(Math.fround(atClip) + k * 2 ** -22);
    const x = Float32Array.from(xs.flatMap((v) => [v, v, v, v]));
    const t = Float32Array.from(xs.flatMap(() => [0, 1, 1e-30, 0.5]));
    for (const [gammaPos, gammaNeg] of [[0.5, 0.5], [0.3, 0.7], [0.01, 0.2], [1, 4], [0, 0.5]] as const) {
      for (const [c, eps] of [[0, 1e-8], [clip, 1e-8], [0, 1e-40]] as const) {
        const o = { gammaPos, gammaNeg, clip: c, eps, detachModulator: false };
        for (const reduction of ['none', 'sum'] as const) {
          const { loss, grad } = fl.asymmetricLossWithGrad(x, t, { ...o, reduction });
          if (typeof loss === 'number') expect(Number.isFinite(loss)).toBe(true);
          for (let i = 0; i < x.length; i++) {
            expect(Number.isFinite(grad[i]), `grad at x = ${x[i]}, t = ${t[i]}, ${JSON.stringify(o)}`).toBe(true);
            if (reduction === 'none') expect(Number.isFinite((loss as Float32Array)[i])).toBe(true);
          }
        }
        // A negative whose p is below the clip has 1 - p_t = 0: no loss and no gradient (the anchor's NaN there).
        const below = fl.asymmetricLossWithGrad([-3, -10, -1e4], [0, 0, 0], { ...o, clip, reduction: 'none' });
        expect(Array.from(below.loss)).toEqual([0, 0, 0]);
        expect(Array.from(below.grad)).toEqual([0, 0, 0]);
      }
    }
  });

  test('errors name the option', () => {
    const x = [0.5, -1, 2, -3];
    const t = [1, 0, 0.5, 0];
    expect(() => fl.asymmetricLoss(x, t, { gammaPos: -1 })).toThrow(RangeError);
    expect(() => fl.asymmetricLoss(x, t, { gammaPos: -1 })).toThrow('options.gammaPos = -1: expected a finite number >= 0');
    expect(() => fl.asymmetricLoss(x, t, { gammaNeg: Number.NaN })).toThrow('options.gammaNeg = NaN');
    expect(() => fl.asymmetricLoss(x, t, { gammaNeg: Infinity })).toThrow('options.gammaNeg = Infinity');
    expect(() => fl.asymmetricLoss(x, t, { gammaNeg: '4' as never })).toThrow(TypeError);
    expect(() => fl.asymmetricLoss(x, t, { clip: 1 })).toThrow('options.clip = 1: expected a number in [0, 1)');
    expect(() => fl.asymmetricLoss(x, t, { clip: -0.05 })).toThrow('options.clip = -0.05: expected a number in [0, 1)');
    expect(() => fl.asymmetricLoss(x, t, { clip: 0.9999999999 })).toThrow(RangeError); // 1 as a float32
    expect(() => fl.asymmetricLoss(x, t, { clip: null as never })).toThrow(TypeError);
    expect(() => fl.asymmetricLoss(x, t, { eps: 0 })).toThrow('options.eps = 0: expected a number in (0, 0.5)');
    expect(() => fl.asymmetricLoss(x, t, { eps: 0.5 })).toThrow('options.eps = 0.5: expected a number in (0, 0.5)');
    expect(() => fl.asymmetricLoss(x, t, { eps: 1e-50 })).toThrow('options.eps = 1e-50: expected a number in (0, 0.5) that is not 0 as a float32');
    expect(() => fl.asymmetricLoss(x, t, { detachModulator: 1 as never })).toThrow(TypeError);
    expect(() => fl.asymmetricLoss(x, t, { detachModulator: 1 as never })).toThrow('options.detachModulator = 1: expected true or false');
    // The default reduction is 'sum': a normalizer needs 'mean' said.
    expect(() => fl.asymmetricLoss(x, t, { normalizer: 2 })).toThrow("options.normalizer = 2: a normalizer applies to reduction 'mean' only, not 'sum'");
    expect(fl.asymmetricLoss(x, t, { normalizer: 2, reduction: 'mean' })).toBe(fl.asymmetricLoss(x, t) / 2);
    expect(() => fl.asymmetricLoss(x, t, { gamma: 2 } as never)).toThrow(/^options\.gamma: not an option of asymmetricLoss/);
    expect(() => fl.asymmetricLoss(x, t, { gamma_neg: 2 } as never)).toThrow("options.gamma_neg: unknown option; did you mean 'gammaNeg'?");
    expect(() => fl.asymmetricLoss(x, t, { gradOut: new Float32Array(4) } as never)).toThrow(/options\.gradOut/);
    expect(() => fl.asymmetricLoss(x, [1, 0, 2, 0])).toThrow('targets[2] = 2: expected a value in [0, 1]');
    expect(() => fl.asymmetricLoss([0, Number.NaN, 0, 0], t)).toThrow('logits[1] = NaN: expected a finite number');
    expect(() => fl.asymmetricLoss(x, t, { classWeights: [1, 2, 3] })).toThrow('logits.length = 4: expected a multiple of 3');
    // The engine is intact after all of that.
    expect(fl.asymmetricLoss(x, t)).toBe(fl.asymmetricLoss(x, t));
  });
});

describe('asymmetricLoss: SIMD and scalar builds agree bit for bit', () => {
  test('30,001 elements, logits up to +-1e4, every case above, reductions none and mean', async () => {
    const simd = await builds[0].create();
    const scalar = await builds[1].create();
    const random = rng(43);
    const n = 30_001;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * 10 ** (random() * 4));
    const ts = Float32Array.from({ length: n }, (_, i) => (i % 2 ? random() : i % 4 === 0 ? 1 : 0));
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.9 ? 1 : 0));
    for (const { name, options } of cases) {
      for (const extra of [{}, { mask }]) {
        for (const reduction of ['none', 'mean'] as const) {
          const o = { ...engineOptions(options), ...extra, reduction };
          const a = withGrad(simd, xs, ts, o);
          const b = withGrad(scalar, xs, ts, o);
          if (reduction === 'none') expect(bits(a.loss as Float32Array).equals(bits(b.loss as Float32Array)), `${name} loss`).toBe(true);
          else expect(Object.is(a.loss, b.loss), `${name} ${reduction}`).toBe(true);
          expect(bits(a.grad).equals(bits(b.grad)), `${name} grad`).toBe(true);
        }
      }
    }
  });
});

describe('asymmetricLoss on the pool', () => {
  let pool: FocalPool;
  beforeAll(async () => {
    pool = await createFocalPool({ threads: 2 });
  });
  afterAll(() => pool?.terminate());

  test('the pool gives the engine bits (more than one chunk)', async () => {
    const fl = pool.simd ? await builds[0].create() : await builds[1].create();
    const random = rng(47);
    const n = 40_000;
    const xs = Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
    const ts = Float32Array.from({ length: n }, () => (random() < 0.2 ? 1 : 0));
    for (const options of [{}, { detachModulator: false, reduction: 'mean' as const }]) {
      const a = await pool.asymmetricLossWithGrad(xs, ts, options);
      const b = fl.asymmetricLossWithGrad(xs, ts, options);
      expect(Object.is(a.loss, b.loss)).toBe(true);
      expect(Buffer.from(a.grad.buffer, a.grad.byteOffset, a.grad.byteLength).equals(Buffer.from(b.grad.buffer))).toBe(true);
    }
  });
});

/**
 * Central difference with a step of 1e-4 |x| (not reference.ts's 1e-6): a loss with a clamped log is a large
 * constant plus a small slope (t = 1, p < eps), where the smaller step's rounding would be ~1e-5 of the slope.
 */
function centralDifference(f: (x: number) => number, x: number): number {
  const h = 1e-4 * Math.max(1, Math.abs(x));
  return (f(x + h) - f(x - h)) / (2 * h);
}

describe('the asymmetric reference itself', () => {
  test('its gradients match central differences: the attached one of the loss, the detached one of w(x0) ce(x)', () => {
    let worstAttached = 0;
    let worstDetached = 0;
    const probes = [-12, -3.3, -2.5, -1, -0.2, 0.4, 1.7, 4, 9.5];
    for (const { options } of cases) {
      for (const t of [0, 1, 0.3, 0.85]) {
        for (const x of probes) {
          const attached = { ...options, detachModulator: false };
          const p = sigmoid(x);
          // The clamps switch the derivative: probes within 1e-2 of a switch are skipped.
          const near = (v: number): boolean => v > 0 && Math.abs(p / v - 1) < 1e-2;
          if (near(Math.fround(options.clip)) || near(Math.fround(options.eps))) continue;
          const a = asymmetricRef(x, t, attached);
          const numeric = centralDifference((v) => asymmetricRef(v, t, attached).loss, x);
          const errorA = Math.abs(a.grad - numeric) / Math.max(Math.abs(a.grad), 1e-8);
          worstAttached = Math.max(worstAttached, errorA);
          expect(errorA, `attached ${JSON.stringify(options)} at x = ${x}, t = ${t}`).toBeLessThan(1e-5);
          const detached = { ...options, detachModulator: true };
          const d = asymmetricRef(x, t, detached);
          const numericD = d.w * centralDifference((v) => asymmetricRef(v, t, detached).ce, x);
          const errorD = Math.abs(d.grad - numericD) / Math.max(Math.abs(d.grad), 1e-8);
          worstDetached = Math.max(worstDetached, errorD);
          expect(errorD, `detached ${JSON.stringify(options)} at x = ${x}, t = ${t}`).toBeLessThan(1e-5);
        }
      }
    }
    console.log(`asymmetric reference vs central differences: attached ${worstAttached.toExponential(2)}, detached ${worstDetached.toExponential(2)}`);
  });

  test('its loss is the anchor code read literally (1 - p formed as is), where that is accurate (|x| <= 12)', () => {
    // losses.py AsymmetricLoss.forward, element by element, in float64, with clip and eps as float32.
    const literal = (x: number, y: number, o: AsymmetricRefOptions): number => {
      const clip = Math.fround(o.clip);
      const eps = Math.fround(o.eps);
      const xsPos = 1 / (1 + Math.exp(-x));
      let xsNeg = 1 - xsPos;
      if (clip > 0) xsNeg = Math.min(xsNeg + clip, 1);
      let loss = y * Math.log(Math.max(xsPos, eps)) + (1 - y) * Math.log(Math.max(xsNeg, eps));
      if (o.gammaNeg > 0 || o.gammaPos > 0) {
        const pt = xsPos * y + xsNeg * (1 - y);
        loss *= Math.pow(1 - pt, o.gammaPos * y + o.gammaNeg * (1 - y));
      }
      return -loss;
    };
    for (const { options } of cases) {
      for (const y of [0, 1, 0.3, 0.85]) {
        for (let x = -12; x <= 12; x += 0.173) {
          const want = literal(x, y, options);
          const got = asymmetricRef(x, y, options).loss;
          // Near p = clip the literal 1 - (1 - p + clip) cancels; there the two forms may differ by its rounding.
          const error = Math.abs(got - want) / Math.max(Math.abs(want), 1e-300);
          const p = sigmoid(x);
          const slack = y < 1 && Math.abs(p - Math.fround(options.clip)) < 1e-3 ? 1e-4 : 1e-9;
          expect(error, `${JSON.stringify(options)} at x = ${x}, y = ${y}`).toBeLessThanOrEqual(slack);
        }
      }
    }
  });

  test('prints the worst relative errors per build', () => {
    console.table(worst);
    expect(Object.keys(worst).length).toBeGreaterThan(3);
  });
});
