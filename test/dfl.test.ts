// distributionFocalLoss and distributionFocalLossWithGrad (issue 15, item 2), both builds, against the float64
// references of test/reference.ts: mmdet distribution_focal_loss (mmdet/models/losses/gfocal_loss.py) and, with
// compat 'ultralytics', ultralytics DFLoss (ultralytics/utils/loss.py); the gradient against central differences;
// the edge targets (0, integers, bins - 1); a hand-computed case; SIMD and scalar bit for bit; the errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createFocal, createFocalPool, type Focal } from '../src/index.js';
import { focalLoss } from '../src/adapters/tfjs.js';
import { bits, builds, rng } from './engines.js';
import { dflReduced, dflRowRef, relativeError, ultralyticsDflRef, worstRelativeError } from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const BINS = [1, 2, 3, 4, 5, 8, 16, 17, 33];

/** N x bins float32 logits; each row gets a scale from 0.1 to 40, so p at the target bins runs from ~0 to ~1. */
function randomLogits(rows: number, bins: number, seed: number, scales = [0.1, 1, 4, 12, 40]): Float32Array {
  const random = rng(seed);
  const z = new Float32Array(rows * bins);
  for (let i = 0; i < rows; i++) {
    const scale = scales[i % scales.length]!;
    const shift = (random() - 0.5) * 100;
    for (let j = 0; j < bins; j++) z[i * bins + j] = shift + (random() - 0.5) * 2 * scale;
  }
  return z;
}

/** Targets in [0, bins - 1]: continuous, integers, 0, bins - 1, just above an integer, just below bins - 1. */
function randomTargets(rows: number, bins: number, seed: number): Float32Array {
  const random = rng(seed);
  const top = bins - 1;
  return Float32Array.from({ length: rows }, (_, i) => {
    switch (i % 8) {
      case 0: return 0;
      case 1: return top;
      case 2: return Math.floor(random() * bins);
      case 3: return Math.min(top, Math.floor(random() * bins) + 1e-4);
      case 4: return Math.max(0, top - 1e-3 * random());
      default: return random() * top;
    }
  });
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

/** Worst error of a gradient judged against the size of the terms it is the difference of (p_j and t_j). */
function worstAgainstMagnitude(got: ArrayLike<number>, want: ArrayLike<number>, magnitude: ArrayLike<number>): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const e = got[i] === want[i] ? 0 : Math.abs(got[i]! - want[i]!) / Math.max(magnitude[i]!, 1e-37);
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

describe.each(builds)('distribution focal loss, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
    expect(fl.simd).toBe(build === 'simd');
  });

  test.each(BINS)('bins = %i: row losses and gradients against the float64 reference', (bins) => {
    const rows = Math.max(40, Math.ceil(4000 / bins));
    const z = randomLogits(rows, bins, bins);
    const y = randomTargets(rows, bins, bins + 1);
    const { loss, grad } = fl.distributionFocalLossWithGrad(z, y, { reduction: 'none' });
    const want = dflReduced(z, y, bins, { reduction: 'none' });
    const lossError = worstRelativeError(loss, want.loss as Float64Array);
    record('loss (mmdet, per row)', build, lossError.error);
    expect(lossError.error, `bins ${bins}, row ${lossError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const gradError = worstAgainstMagnitude(grad, want.grad, want.magnitude);
    record('grad (mmdet, per element, vs p_j + t_j)', build, gradError.error);
    expect(gradError.error, `bins ${bins}, at ${gradError.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // The bins outside l, l + 1 are p_j alone: plain relative error there.
    const off: number[] = [];
    const offWant: number[] = [];
    for (let i = 0; i < rows; i++) {
      const l = Math.floor(y[i]!);
      for (let j = 0; j < bins; j++) if (j !== l && j !== l + 1) { off.push(grad[i * bins + j]!); offWant.push(want.grad[i * bins + j]!); }
    }
    const offError = worstRelativeError(off, offWant).error;
    record('grad (mmdet, bins off the target, relative)', build, offError);
    expect(offError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // The loss-only method gives the same bits.
    expect(bits(fl.distributionFocalLoss(z, y, { reduction: 'none' })).equals(bits(loss))).toBe(true);
  });

  test.each(['mean', 'sum'] as const)('reduction %s over many chunks, with weights and normalizer', (reduction) => {
    const bins = 17;
    const rows = 4001; // 963 rows per sum block at 17 bins: five blocks, the last one partial
    const z = randomLogits(rows, bins, 21);
    const y = randomTargets(rows, bins, 22);
    const random = rng(23);
    const weights = Float32Array.from({ length: rows }, () => random() * 2);
    for (const options of [{}, { weights }, ...(reduction === 'mean' ? [{ normalizer: 37.5 }, { weights, normalizer: 1000 }] : [])]) {
      const { loss, grad } = fl.distributionFocalLossWithGrad(z, y, { ...options, reduction });
      const want = dflReduced(z, y, bins, { ...options, reduction });
      const error = relativeError(loss, want.loss as number);
      record(`${reduction} (mmdet)`, build, error);
      expect(error, JSON.stringify(Object.keys(options))).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      const gradError = worstAgainstMagnitude(grad, want.grad, want.magnitude).error;
      record('grad (mmdet, per element, vs p_j + t_j)', build, gradError);
      expect(gradError).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      expect(fl.distributionFocalLoss(z, y, { ...options, reduction })).toBe(loss);
    }
    // Default reduction is 'mean' over N rows (a weighted mean divides by N too, as mmdet's loss.mean()).
    expect(fl.distributionFocalLoss(z, y, { weights })).toBe(fl.distributionFocalLoss(z, y, { weights, reduction: 'mean' }));
  });

  test('the gradient agrees with central differences of the float64 loss', () => {
    const bins = 7;
    const rows = 24;
    const z = randomLogits(rows, bins, 41, [0.5, 2, 6]);
    const y = randomTargets(rows, bins, 42);
    const random = rng(43);
    const weights = Float32Array.from({ length: rows }, () => 0.5 + random());
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const { grad } = fl.distributionFocalLossWithGrad(z, y, { weights, reduction });
      const divisor = reduction === 'mean' ? rows : 1;
      let worstError = 0;
      for (let i = 0; i < rows; i++) {
        const row = Float64Array.from(z.subarray(i * bins, (i + 1) * bins));
        const l = Math.floor(y[i]!);
        const f = (v: Float64Array): number => (weights[i]! * dflRowRef(v, 0, bins, l, l + 1 - y[i]!, y[i]! - l).loss) / divisor;
        for (let j = 0; j < bins; j++) {
          const h = 1e-5 * Math.max(1, Math.abs(row[j]!));
          const up = Float64Array.from(row);
          const down = Float64Array.from(row);
          up[j]! += h;
          down[j]! -= h;
          const fd = (f(up) - f(down)) / (up[j]! - down[j]!);
          // Judged against the row's scale w / divisor: every entry is (p_j - t_j) times it, |p_j - t_j| <= 1.
          worstError = Math.max(worstError, Math.abs(grad[i * bins + j]! - fd) / (weights[i]! / divisor));
        }
      }
      record('grad vs central differences', build, worstError);
      expect(worstError, reduction).toBeLessThanOrEqual(1e-5);
    }
  });

  test('edge targets: y = 0, integers and y = bins - 1 (no bin past the last is read)', () => {
    const bins = 5;
    const z = Float32Array.from([
      0.5, -1, 2, 3, -4, // y = 0
      1, 2, 3, 4, 5, // y = 4 = bins - 1: CE of the last bin alone
      9, 1, 1, 1, 1, // y = 2, an integer: CE of bin 2 alone
      30, 0, -5, 1, 2, // y = 0 at the argmax, p_0 -> 1: loss and gradient from log1p / (1 - w) - r / S
      -3, 0, 60, 2, 1, // y = 4 on the last row of the buffer
    ]);
    const y = Float32Array.from([0, 4, 2, 0, 4]);
    const { loss, grad } = fl.distributionFocalLossWithGrad(z, y, { reduction: 'none' });
    const want = dflReduced(z, y, bins, { reduction: 'none' });
    expect(worstRelativeError(loss, want.loss as Float64Array).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(worstAgainstMagnitude(grad, want.grad, want.magnitude).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // At p_0 -> 1 (row 3) the gradient at the target bin is -(1 - p_0) to full relative precision, not a rounded 0.
    expect(relativeError(grad[15]!, want.grad[15]!)).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(grad[15]).toBeLessThan(0);
    // An integer target is CE of its bin alone: equal to softmax cross-entropy (softmaxFocalLoss with gamma 0).
    const ce = fl.softmaxFocalLoss(z, Int32Array.from(y), { gamma: 0, reduction: 'none' });
    for (let i = 0; i < 5; i++) expect(relativeError(loss[i]!, ce[i]!)).toBeLessThanOrEqual(1e-6);
    // bins = 1: every target is 0 and the loss is 0.
    expect(fl.distributionFocalLoss([3, -2], [0, 0], { reduction: 'none' })).toEqual(new Float32Array([0, 0]));
    // N = 0: 'mean' is 0.
    expect(fl.distributionFocalLoss(new Float32Array(0), new Float32Array(0))).toBe(0);
  });

  test('a hand-computed case', () => {
    // Row 0: z = (0, 0, 0), y = 0.25: p = (1/3, 1/3, 1/3), l = 0, wl = 1 - 0.25 = 0.75, wr = 0.25,
    //   loss = 0.75 ln 3 + 0.25 ln 3 = ln 3 = 1.0986122886681098,
    //   grad = (1/3 - 0.75, 1/3 - 0.25, 1/3) = (-0.41666667, 0.08333333, 0.33333333).
    // Row 1: z = (0, ln 2, ln 5), y = 1.5: e^z = (1, 2, 5), S = 8, p = (1/8, 2/8, 5/8), l = 1, wl = wr = 0.5,
    //   loss = 0.5 (-ln 2/8) + 0.5 (-ln 5/8) = 0.5 ln 4 + 0.5 ln 1.6 = 0.5 ln 6.4 = 0.9281489951828132,
    //   grad = (1/8, 2/8 - 0.5, 5/8 - 0.5) = (0.125, -0.25, 0.125).
    // Row 2: the same logits, y = 2 = bins - 1: l = 2, wl = 1, wr = 0 (no bin 3),
    //   loss = -ln 5/8 = ln 1.6 = 0.47000362924573563, grad = (0.125, 0.25, 0.625 - 1) = (0.125, 0.25, -0.375).
    // ln 2 and ln 5 are rounded to float32 (relative 1e-8), well inside the tolerance.
    const z = [0, 0, 0, 0, Math.LN2, Math.log(5), 0, Math.LN2, Math.log(5)];
    const { loss, grad } = fl.distributionFocalLossWithGrad(z, [0.25, 1.5, 2], { reduction: 'none' });
    const wantLoss = [1.0986122886681098, 0.9281489951828132, 0.47000362924573563];
    const wantGrad = [-5 / 12, 1 / 12, 1 / 3, 0.125, -0.25, 0.125, 0.125, 0.25, -0.375];
    for (let i = 0; i < 3; i++) expect(relativeError(loss[i]!, wantLoss[i]!), `loss ${i}`).toBeLessThanOrEqual(1e-6);
    for (let k = 0; k < 9; k++) expect(Math.abs(grad[k]! - wantGrad[k]!), `grad ${k}`).toBeLessThanOrEqual(1e-6);
    // 'mean' over the three rows: (1.0986122886681098 + 0.9281489951828132 + 0.47000362924573563) / 3 = 0.8322549710322196.
    expect(relativeError(fl.distributionFocalLoss(z, [0.25, 1.5, 2]), 0.8322549710322196)).toBeLessThanOrEqual(1e-6);
  });

  test.each(['none', 'mean', 'sum'] as const)("compat 'ultralytics', reduction %s: DFLoss, clamped and averaged over the four sides", (reduction) => {
    const bins = 16; // reg_max 16, as YOLOv8
    const boxes = 301;
    const rows = boxes * 4;
    const z = randomLogits(rows, bins, 51);
    const y = randomTargets(rows, bins, 52);
    y[5] = 15; // clamped to float32(14.99)
    y[6] = 14.995; // clamped too
    y[7] = 14.98; // left alone
    for (const options of [{}, ...(reduction === 'mean' ? [{ normalizer: 123.25 }] : [])]) {
      const { loss, grad } = fl.distributionFocalLossWithGrad(z, y, { compat: 'ultralytics', reduction, ...options });
      const want = ultralyticsDflRef(z, y, bins, { reduction, ...options });
      if (reduction === 'none') {
        expect((loss as Float32Array).length).toBe(boxes);
        const e = worstRelativeError(loss as Float32Array, want.loss as Float64Array);
        record('loss (ultralytics, per box)', build, e.error);
        expect(e.error, `box ${e.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
      } else {
        const e = relativeError(loss as number, want.loss as number);
        record(`${reduction} (ultralytics)`, build, e);
        expect(e).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
      }
      const g = worstAgainstMagnitude(grad, want.grad, want.magnitude);
      record('grad (ultralytics, per element, vs p_j + t_j)', build, g.error);
      expect(g.error, `at ${g.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
    // The clamp matters: y = 15 is not the mmdet loss of y = 15 (the last bin alone).
    const one = z.subarray(4 * bins, 8 * bins);
    const clamped = fl.distributionFocalLoss(one, [15, 15, 15, 15], { compat: 'ultralytics', reduction: 'none' })[0]!;
    const mmdet = fl.distributionFocalLoss(one, [15, 15, 15, 15], { reduction: 'mean' });
    expect(clamped).not.toBe(Math.fround(mmdet));
    // 'none' into a caller's out (one per box).
    const out = new Float32Array(boxes);
    expect(fl.distributionFocalLoss(z, y, { compat: 'ultralytics', reduction: 'none', out })).toBe(out);
  });

  test('in place (fl.alloc views for logits, targets, weights, out, gradOut): the copying call\'s bits', () => {
    const bins = 7; // rows end in a vector tail
    const rows = 5000; // several sum blocks
    const z = randomLogits(rows, bins, 91);
    const y = randomTargets(rows, bins, 92);
    const w = Float32Array.from({ length: rows }, (_, i) => 0.5 + (i % 7) / 7);
    for (const reduction of ['none', 'mean'] as const) {
      const want = fl.distributionFocalLossWithGrad(z, y, { weights: w, reduction });
      const [zv, yv, wv, out, gradOut] = fl.alloc(rows * bins, rows, rows, rows, rows * bins);
      zv!.set(z);
      yv!.set(y);
      wv!.set(w);
      const got = fl.distributionFocalLossWithGrad(zv!, yv!, { weights: wv, reduction, gradOut, ...(reduction === 'none' ? { out } : {}) });
      expect(got.grad).toBe(gradOut);
      expect(bits(got.grad).equals(bits(want.grad))).toBe(true);
      if (reduction === 'none') expect(bits(got.loss as Float32Array).equals(bits(want.loss as Float32Array))).toBe(true);
      else expect(Object.is(got.loss, want.loss)).toBe(true);
      fl.freeAll();
    }
  });

  test('focal-wasm/tfjs: the loss and gradient of the engine, labels one per row of bins', async () => {
    await tf.setBackend('cpu');
    const bins = 8;
    const rows = 48;
    const z = randomLogits(rows, bins, 95, [0.5, 2]);
    const y = randomTargets(rows, bins, 96);
    for (const options of [{}, { compat: 'ultralytics' as const, reduction: 'sum' as const }]) {
      const want = fl.distributionFocalLossWithGrad(z, y, options);
      const loss = focalLoss(fl, { loss: 'distributionFocalLoss', ...options });
      const logits = tf.tensor2d(z, [rows, bins]);
      const labels = tf.tensor1d(y);
      const { value, grads } = tf.valueAndGrads((l: tf.Tensor) => loss(labels, l))([logits]);
      expect(Object.is(Math.fround(want.loss as number), value.dataSync()[0])).toBe(true);
      expect(bits(grads[0]!.dataSync() as Float32Array).equals(bits(want.grad))).toBe(true);
    }
    expect(() => focalLoss(fl, { loss: 'distributionFocalLoss' })(tf.tensor1d(y.subarray(0, 10)), tf.tensor2d(z, [rows, bins])))
      .toThrow(/labels: shape \[10\]: expected \[48\]/);
  });

  test('errors: bad logits, targets, weights, lengths and options name what is wrong', () => {
    const bins = 6;
    const rows = 9;
    const z = randomLogits(rows, bins, 61);
    const y = randomTargets(rows, bins, 62);
    for (const [at, bad] of [[0, NaN], [13, Infinity], [53, -Infinity], [47, NaN]] as const) {
      const zz = Float32Array.from(z);
      zz[at] = bad;
      const call = () => fl.distributionFocalLossWithGrad(zz, y);
      expect(call, `${at}`).toThrow(RangeError);
      expect(call, `${at}`).toThrow(`logits[${at}]`);
    }
    for (const [at, bad] of [[0, -0.5], [3, 5.0001], [8, NaN], [4, 6], [2, -1e-30]] as const) {
      const yy = Float64Array.from(y);
      yy[at] = bad;
      for (const compat of ['mmdet', 'ultralytics'] as const) {
        const zz = compat === 'ultralytics' ? z.subarray(0, 8 * bins) : z;
        if (compat === 'ultralytics' && at >= 8) continue;
        const call = () => fl.distributionFocalLoss(zz, yy.subarray(0, zz.length / bins), { compat });
        expect(call, `${at} ${bad} ${compat}`).toThrow(RangeError);
        expect(call, `${at} ${bad} ${compat}`).toThrow(new RegExp(`targets\\[${at}\\] = .*expected a value in \\[0, 5\\]`));
      }
    }
    const weights = new Float32Array(rows).fill(1);
    weights[4] = NaN;
    expect(() => fl.distributionFocalLoss(z, y, { weights })).toThrow(/options\.weights\[4\]/);
    expect(() => fl.distributionFocalLoss(z.subarray(0, 8 * bins), y.subarray(0, 8), { compat: 'ultralytics', weights: new Float32Array(8) }))
      .toThrow(TypeError);
    expect(() => fl.distributionFocalLoss(z.subarray(0, 8 * bins), y.subarray(0, 8), { compat: 'ultralytics', weights: new Float32Array(8) }))
      .toThrow(/options\.weights.*ultralytics/);
    expect(() => fl.distributionFocalLoss(z, y, { compat: 'ultralytics' })).toThrow(/multiple of 4/);
    expect(() => fl.distributionFocalLoss(z, y, { compat: 'yolo' as never })).toThrow(/options\.compat = 'yolo'/);
    expect(() => fl.distributionFocalLoss(z, y.subarray(0, 7))).toThrow(/logits\.length = 54: expected a whole number of rows/);
    expect(() => fl.distributionFocalLoss(z, y.subarray(0, 8), { bins })).toThrow(/targets\.length = 8: expected 9/);
    expect(() => fl.distributionFocalLoss(z, y, { bins: 5 })).toThrow(/logits\.length = 54: expected a multiple/);
    expect(() => fl.distributionFocalLoss(z, y, { bins: 0 })).toThrow(RangeError);
    expect(() => fl.distributionFocalLoss(z, y, { binz: 6 } as never)).toThrow(/options\.binz: unknown option; did you mean 'bins'\?/);
    expect(() => fl.distributionFocalLoss(z, y, { gamma: 2 } as never)).toThrow(/options\.gamma: not an option of distributionFocalLoss/);
    expect(() => fl.distributionFocalLoss(z, y, { reduction: 'sum', normalizer: 3 })).toThrow(RangeError);
    expect(() => fl.distributionFocalLoss(z, ['x', 1, 2, 3, 4, 0, 1, 2, 3] as never)).toThrow(TypeError);
    // The engine stays usable.
    expect(Number.isFinite(fl.distributionFocalLoss(z, y))).toBe(true);
  });
});

test('SIMD and scalar builds agree bit for bit: 2e4 rows x 17 bins, logits up to +-1e4', async () => {
  const simd = await createFocal({ simd: true });
  const scalar = await createFocal({ simd: false });
  const rows = 20_000;
  const bins = 17;
  const random = rng(71);
  const z = Float32Array.from({ length: rows * bins }, (_, k) => {
    const kind = Math.floor(k / bins) % 4;
    if (kind === 0) return (random() - 0.5) * 2e4; // +-1e4
    if (kind === 1) return 1e4 - random() * 10; // a row near +1e4
    if (kind === 2) return (random() - 0.5) * 6;
    return Math.round((random() - 0.5) * 4); // ties
  });
  const y = randomTargets(rows, bins, 72);
  const random2 = rng(73);
  const weights = Float32Array.from({ length: rows }, () => random2() * 3);
  for (const options of [{ reduction: 'none' as const }, { reduction: 'mean' as const, weights }, { reduction: 'sum' as const }]) {
    const a = simd.distributionFocalLossWithGrad(z, y, options);
    const b = scalar.distributionFocalLossWithGrad(z, y, options);
    if (typeof a.loss === 'number') expect(Object.is(a.loss, b.loss)).toBe(true);
    else expect(bits(a.loss).equals(bits(b.loss as Float32Array))).toBe(true);
    expect(bits(a.grad).equals(bits(b.grad))).toBe(true);
    expect(a.grad.every(Number.isFinite)).toBe(true);
  }
  const ua = simd.distributionFocalLossWithGrad(z, y, { compat: 'ultralytics', reduction: 'none' });
  const ub = scalar.distributionFocalLossWithGrad(z, y, { compat: 'ultralytics', reduction: 'none' });
  expect(bits(ua.loss).equals(bits(ub.loss))).toBe(true);
  expect(bits(ua.grad).equals(bits(ub.grad))).toBe(true);
  // and both against the reference at these magnitudes
  const want = dflReduced(z, y, bins, { reduction: 'none' });
  const got = simd.distributionFocalLoss(z, y, { reduction: 'none' });
  const e = worstRelativeError(got, want.loss as Float64Array).error;
  record('loss (mmdet, logits +-1e4)', 'simd = scalar', e);
  expect(e).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
});

test('the worker pool gives the engine\'s bits (the ultralytics per-box step included)', async () => {
  const fl = await createFocal();
  const pool = await createFocalPool({ threads: 2 });
  try {
    const bins = 16;
    const rows = 4 * 2000; // several sum blocks (1023 rows each)
    const z = randomLogits(rows, bins, 81);
    const y = randomTargets(rows, bins, 82);
    for (const options of [{}, { reduction: 'none' as const }, { compat: 'ultralytics' as const }, { compat: 'ultralytics' as const, reduction: 'none' as const }]) {
      const a = fl.distributionFocalLossWithGrad(z, y, options);
      const b = await pool.distributionFocalLossWithGrad(z, y, options);
      if (typeof a.loss === 'number') expect(Object.is(a.loss, b.loss), JSON.stringify(options)).toBe(true);
      else expect(bits(a.loss).equals(bits(b.loss as Float32Array)), JSON.stringify(options)).toBe(true);
      expect(bits(a.grad).equals(bits(b.grad))).toBe(true);
    }
  } finally {
    await pool.terminate();
  }
});

afterAll(() => {
  console.log('distribution focal loss: worst relative error per check and build');
  console.table(worst);
});
