// softmaxFocalLoss with { shape, classAxis }, both builds: every layout gives, bit for bit, what the class-last call
// gives on a copy transposed here in the test (class axis moved last), per position and reduced, with and without
// the gradient (scattered back to the logits' layout); chunks that cut through a slice, soft targets, and errors.
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { builds, rng } from './engines.js';

/** The explicit transpose the engine avoids: moves axis `axis` of a row-major array of `shape` to the end. */
function moveAxisLast<T extends Float32Array | Float64Array>(data: T, shape: readonly number[], axis: number): T {
  const C = shape[axis]!;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < inner; i++) out[(o * inner + i) * C + c] = data[(o * C + c) * inner + i]!;
    }
  }
  return out;
}

function randomLogits(n: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: n }, (_, k) => (random() - 0.5) * (k % 7 === 0 ? 60 : 8));
}

function randomLabels(rows: number, classes: number, seed: number): Int32Array {
  const random = rng(seed);
  return Int32Array.from({ length: rows }, () => (random() < 0.1 ? -100 : Math.floor(random() * classes)));
}

function sameBits(got: Float32Array, want: Float32Array): boolean {
  return got.length === want.length && Buffer.from(got.buffer, got.byteOffset, got.byteLength)
    .equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength));
}

/** Layouts: NCHW, NHWC (class last), rank 5, a negative axis, and slices longer than a chunk (partial chunks). */
const LAYOUTS: { name: string; shape: number[]; classAxis: number }[] = [
  { name: 'NCHW', shape: [2, 5, 7, 9], classAxis: 1 },
  { name: 'NCHW, C = 21, slices wider than a chunk', shape: [2, 21, 40, 40], classAxis: 1 },
  { name: 'NHWC', shape: [2, 7, 9, 5], classAxis: 3 },
  { name: 'NHWC, axis -1', shape: [3, 4, 6, 3], classAxis: -1 },
  { name: 'rank 5, axis 2', shape: [2, 3, 6, 4, 5], classAxis: 2 },
  { name: 'rank 5, axis -4', shape: [3, 10, 2, 3, 5], classAxis: -4 },
  { name: 'class first', shape: [6, 11, 13], classAxis: 0 },
  { name: 'C = 1003, 17 positions a slice (one slice a chunk)', shape: [3, 1003, 17], classAxis: 1 },
  { name: 'C = 200, slices of 1000 positions (655 a chunk: partial chunks)', shape: [1, 200, 1000], classAxis: 1 },
  { name: 'one row', shape: [9], classAxis: 0 },
];

for (const build of builds) {
  describe(`layouts (${build.name})`, () => {
    let fl: Focal;
    beforeAll(async () => {
      fl = await build.create();
    });

    for (const { name, shape, classAxis } of LAYOUTS) {
      const rank = shape.length;
      const axis = classAxis < 0 ? classAxis + rank : classAxis;
      const C = shape[axis]!;
      const n = shape.reduce((a, b) => a * b, 1);
      const rows = n / C;
      const logits = randomLogits(n, n + C);
      const lastLogits = moveAxisLast(logits, shape, axis);
      const labels = randomLabels(rows, C, rows);
      const weights = Float32Array.from({ length: rows }, (_, i) => 0.5 + (i % 3));
      const alpha = Float32Array.from({ length: C }, (_, c) => 0.2 + ((c * 7) % 5) / 5);

      test(`${name}: losses and gradients bit-identical to class-last on a transposed copy`, () => {
        for (const options of [
          { gamma: 2 },
          { gamma: 0.5, alpha, weights },
          { gamma: 1, alpha: 0.25, ignoreIndex: 0 },
        ]) {
          for (const reduction of ['none', 'mean', 'sum'] as const) {
            // ignoreIndex 0: the ignored rows (and class 0) carry 0.
            const y = 'ignoreIndex' in options ? labels.map((v) => Math.max(v, 0)) : labels;
            const got = fl.softmaxFocalLossWithGrad(logits, y, { ...options, reduction, shape, classAxis });
            const want = fl.softmaxFocalLossWithGrad(lastLogits, y, { ...options, reduction, classes: C });
            if (reduction === 'none') expect(sameBits(got.loss as Float32Array, want.loss as Float32Array)).toBe(true);
            else expect(Object.is(got.loss, want.loss)).toBe(true);
            expect(sameBits(moveAxisLast(got.grad, shape, axis), want.grad)).toBe(true);
            // Without the gradient: the same losses.
            const lossOnly = fl.softmaxFocalLoss(logits, y, { ...options, reduction, shape, classAxis });
            if (reduction === 'none') expect(sameBits(lossOnly as Float32Array, want.loss as Float32Array)).toBe(true);
            else expect(Object.is(lossOnly, want.loss)).toBe(true);
          }
        }
      });

      test(`${name}: soft targets (in the logits' layout) and label smoothing`, () => {
        const random = rng(C);
        const soft = Float32Array.from({ length: n }, () => random());
        const got = fl.softmaxFocalLossWithGrad(logits, soft, { shape, classAxis, reduction: 'none', gamma: 2 });
        const want = fl.softmaxFocalLossWithGrad(lastLogits, moveAxisLast(soft, shape, axis), {
          classes: C, reduction: 'none', gamma: 2,
        });
        expect(sameBits(got.loss as Float32Array, want.loss as Float32Array)).toBe(true);
        expect(sameBits(moveAxisLast(got.grad, shape, axis), want.grad)).toBe(true);
        const smoothed = fl.softmaxFocalLoss(logits, labels, { shape, classAxis, labelSmoothing: 0.1 });
        expect(Object.is(smoothed, fl.softmaxFocalLoss(lastLogits, labels, { classes: C, labelSmoothing: 0.1 }))).toBe(true);
      });
    }

    test('plain arrays and Float64Array logits, out and gradOut', () => {
      const shape = [2, 3, 4, 5];
      const logits = randomLogits(120, 3);
      const labels = Array.from(randomLabels(40, 3, 4));
      const out = new Float32Array(40);
      const gradOut = new Float32Array(120);
      const want = fl.softmaxFocalLossWithGrad(moveAxisLast(logits, shape, 1), labels, { classes: 3, reduction: 'none' });
      const got = fl.softmaxFocalLossWithGrad(Array.from(logits), labels, { shape, classAxis: 1, reduction: 'none', out, gradOut });
      expect(got.loss).toBe(out);
      expect(got.grad).toBe(gradOut);
      expect(sameBits(out, want.loss as Float32Array)).toBe(true);
      expect(sameBits(moveAxisLast(gradOut, shape, 1), want.grad)).toBe(true);
      const f64 = fl.softmaxFocalLoss(Float64Array.from(logits), labels, { shape, classAxis: 1, reduction: 'sum' });
      expect(Object.is(f64, fl.softmaxFocalLoss(moveAxisLast(logits, shape, 1), labels, { classes: 3, reduction: 'sum' }))).toBe(true);
    });

    test('errors name the argument; the engine stays intact', () => {
      const logits = randomLogits(2 * 3 * 4, 9);
      const labels = new Int32Array(8);
      const call = (options: object, t: Int32Array | Float32Array = labels, z: unknown = logits) => () =>
        fl.softmaxFocalLoss(z as Float32Array, t, options as never);
      expect(call({ shape: [2, 3, 5], classAxis: 1 })).toThrow(RangeError);
      expect(call({ shape: [2, 3, 5], classAxis: 1 })).toThrow(/options\.shape = \[2, 3, 5\].*product \(30\).*logits\.length = 24/);
      expect(call({ shape: [2, 0, 4, 3] })).toThrow(/options\.shape\[1\] = 0: expected a positive integer/);
      expect(call({ shape: [2, 1.5, 8] })).toThrow(RangeError);
      expect(call({ shape: [2, '3', 4] })).toThrow(TypeError);
      expect(call({ shape: [2, '3', 4] })).toThrow(/options\.shape\[1\] = '3'/);
      expect(call({ shape: '2x3x4' })).toThrow(TypeError);
      expect(call({ shape: [] })).toThrow(RangeError);
      expect(call({ shape: [2, 3, 4], classAxis: 3 })).toThrow(/options\.classAxis = 3: expected an integer in \[-3, 3\)/);
      expect(call({ shape: [2, 3, 4], classAxis: -4 })).toThrow(RangeError);
      expect(call({ shape: [2, 3, 4], classAxis: 0.5 })).toThrow(RangeError);
      expect(call({ shape: [2, 3, 4], classAxis: '1' })).toThrow(TypeError);
      expect(call({ classAxis: 1 })).toThrow(TypeError);
      expect(call({ classAxis: 1 })).toThrow(/options\.shape = undefined/);
      expect(call({ shape: [2, 3, 4], classAxis: 1, classes: 4 })).toThrow(/options\.classes = 4: expected 3/);
      // Targets: the shape without the class axis, [2, 4] -> 8 (here 6).
      expect(call({ shape: [2, 3, 4], classAxis: 1 }, new Int32Array(6))).toThrow(/targets\.length = 6: expected 8.*\[2, 4\]/);
      expect(call({ shape: [2, 3, 4], classAxis: 1 }, new Float32Array(8))).toThrow(/targets\.length = 8: expected 24/);
      expect(call({ shape: [2, 3, 4], classAxis: 1 }, Int32Array.of(0, 1, 2, 3, 0, 0, 0, 0))).toThrow(/targets\[3\] = 3/);
      // A bad logit is named by its index in the caller's layout: position 5 = (o 1, i 1), class 2 -> (1*3 + 2)*4 + 1.
      const bad = logits.slice();
      bad[21] = Infinity;
      expect(call({ shape: [2, 3, 4], classAxis: 1 }, labels, bad)).toThrow(/logits\[21\] = Infinity/);
      const plain = Array.from(logits) as unknown[];
      plain[13] = 'x';
      expect(call({ shape: [2, 3, 4], classAxis: 1 }, labels, plain)).toThrow(/logits\[13\] = 'x'/);
      // Intact afterwards.
      const want = fl.softmaxFocalLoss(moveAxisLast(logits, [2, 3, 4], 1), labels, { classes: 3 });
      expect(Object.is(fl.softmaxFocalLoss(logits, labels, { shape: [2, 3, 4], classAxis: 1 }), want)).toBe(true);
    });
  });
}
