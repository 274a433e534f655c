// The exposed primitives fl.softmax, fl.logSoftmax and fl.sigmoid, both builds, against the float64 reference:
// every row length the loss tests use, extreme rows, chunk edges, out, and the errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, type Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { logSoftmaxRef, sigmoid, softmaxRef, worstRelativeError } from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;

function rowsRef(z: Float32Array, classes: number, f: (row: Float32Array) => Float64Array): Float64Array {
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length / classes; i++) out.set(f(z.subarray(i * classes, (i + 1) * classes)), i * classes);
  return out;
}

function randomLogits(rows: number, classes: number, seed: number): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: rows * classes }, (_, k) => {
    const scale = [0.1, 1, 5, 20, 60][Math.floor(k / classes) % 5]!;
    return (random() - 0.5) * 2 * scale;
  });
}

const EXTREME_ROWS = [
  [1e4, 0, -1e4, 5, 1e4 - 1],
  [3, 3, 3, 3, 3],
  [-1e4, -1e4, -1e4, -1e4, -1e4],
  [0, -20, -40, -90, -200],
  [0, -88, -95, -103, -110],
  [0, -104, -1e3, -1e4, -3e4],
];

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

describe.each(builds)('primitives, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  test.each([1, 2, 3, 10, 80, 1000, 21843])('softmax and logSoftmax, C = %i', (C) => {
    const rows = Math.max(3, Math.ceil(20_000 / C));
    const z = randomLogits(rows, C, C);
    const p = fl.softmax(z, { classes: C });
    const e1 = worstRelativeError(p, rowsRef(z, C, softmaxRef));
    record('softmax', build, e1.error);
    expect(e1.error, `at ${e1.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const logP = fl.logSoftmax(z, { classes: C });
    const e2 = worstRelativeError(logP, rowsRef(z, C, logSoftmaxRef));
    record('logSoftmax', build, e2.error);
    expect(e2.error, `at ${e2.index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // Each softmax row sums to 1.
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < C; j++) sum += p[i * C + j]!;
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
  });

  test('extreme rows: spreads of 1e4, all equal, p -> 1, subnormal and vanishing probabilities', () => {
    const z = Float32Array.from(EXTREME_ROWS.flat());
    const p = fl.softmax(z, { classes: 5 });
    const logP = fl.logSoftmax(z, { classes: 5 });
    expect(p.every(Number.isFinite) && logP.every(Number.isFinite)).toBe(true);
    const e1 = worstRelativeError(p, rowsRef(z, 5, softmaxRef)).error;
    const e2 = worstRelativeError(logP, rowsRef(z, 5, logSoftmaxRef)).error;
    record('softmax, extreme rows', build, e1);
    record('logSoftmax, extreme rows', build, e2);
    expect(e1).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    expect(e2).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    // log p of the top class stays exact where p itself rounds to 1: -(e^-20 + e^-40 + ...).
    expect(logP[15]).toBeCloseTo(-Math.exp(-20), 15);
    expect(logP[15]).not.toBe(0);
  });

  test('sigmoid over the float32 range, N across chunk edges', () => {
    for (const n of [0, 1, 5, 16_383, 16_385]) {
      const random = rng(n + 1);
      const x = Float32Array.from({ length: n }, (_, i) => (i < 4 ? [0, 1e4, -1e4, -103][i]! : (random() - 0.5) * 200));
      const got = fl.sigmoid(x);
      const e = worstRelativeError(got, Array.from(x, sigmoid));
      record('sigmoid', build, e.error);
      expect(e.error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    }
    expect(Array.from(fl.sigmoid([Infinity, -Infinity]))).toEqual([1, 0]);
    expect(Number.isNaN(fl.sigmoid([NaN])[0])).toBe(true);
  });

  test('default classes is one row; out is filled and returned; float64 and plain arrays', () => {
    const z = [1, 2, 3, 4, 5];
    const single = fl.softmax(z);
    expect(worstRelativeError(single, softmaxRef(z)).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const out = new Float32Array(6);
    expect(fl.logSoftmax(Float64Array.from([0, 1, 2, 3, 4, 5]), { classes: 3, out })).toBe(out);
    expect(worstRelativeError(out.subarray(3), logSoftmaxRef([3, 4, 5])).error).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
    const sOut = new Float32Array(2);
    expect(fl.sigmoid([0, 2], { out: sOut })).toBe(sOut);
    expect(fl.softmax([]).length).toBe(0);
  });

  test('errors name the argument and index; the engine is intact afterwards', () => {
    const z = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const good = fl.softmax(z, { classes: 3 });
    const bad = Float32Array.from(z);
    bad[4] = Infinity;
    expect(() => fl.softmax(bad, { classes: 3 })).toThrow(/^logits\[4\] = Infinity: expected a finite number/);
    expect(() => fl.logSoftmax(bad, { classes: 3 })).toThrow(RangeError);
    expect(() => fl.softmax(z, { classes: 4 })).toThrow(/logits\.length = 6: expected a multiple of the number of classes \(4\)/);
    expect(() => fl.softmax(z, { classes: 0 })).toThrow(/options\.classes = 0/);
    expect(() => fl.softmax(z, { classes: '3' as never })).toThrow(TypeError);
    expect(() => fl.softmax(z, { out: new Float32Array(2) })).toThrow(/options\.out\.length = 2/);
    expect(() => fl.softmax(z, { out: z })).toThrow(/shares memory with logits/);
    expect(() => fl.sigmoid('x' as never)).toThrow(TypeError);
    expect(fl.softmax(z, { classes: 3 })).toEqual(good);
  });
});

test('SIMD and scalar builds give bit-identical primitives', async () => {
  const [simd, scalar] = await Promise.all([createFocal({ simd: true }), createFocal({ simd: false })]);
  for (const C of [1, 3, 10, 83]) {
    const z = randomLogits(400, C, 50 + C);
    expect(simd.softmax(z, { classes: C })).toEqual(scalar.softmax(z, { classes: C }));
    expect(simd.logSoftmax(z, { classes: C })).toEqual(scalar.logSoftmax(z, { classes: C }));
    expect(simd.sigmoid(z)).toEqual(scalar.sigmoid(z));
  }
});

afterAll(() => {
  console.log('primitives: worst relative error per function and build');
  console.table(worst);
});
