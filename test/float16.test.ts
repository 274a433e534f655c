// float16 input: binary16 bits in a Uint16Array with options.float16 (what onnxruntime-web hands over for a float16
// tensor). Every one of the 65536 patterns is staged exactly (the same bits as the float32 value it encodes),
// ±infinity and NaN are refused like any non-finite value, and without the option a Uint16Array is refused.
import { describe, expect, test } from 'vitest';
import { createFocalPool } from '../src/index.js';
import { bits, builds } from './engines.js';

/** binary16 -> number, written from IEEE 754: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 (m/1024). */
function half(bits: number): number {
  const s = bits >> 15 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 31) return m ? NaN : s * Infinity;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

const ALL = Uint16Array.from({ length: 65536 }, (_, i) => i);
const FINITE = ALL.filter((b) => ((b >> 10) & 31) !== 31);
describe.each(builds)('float16 input, $name build', ({ create }) => {
  test('the reference decoder itself: known values', () => {
    expect(half(0x3c00)).toBe(1);
    expect(half(0xc000)).toBe(-2);
    expect(half(0x7bff)).toBe(65504);
    expect(half(0x0001)).toBe(2 ** -24);
    expect(half(0x0400)).toBe(2 ** -14);
    expect(Object.is(half(0x8000), -0)).toBe(true);
    expect(half(0xfc00)).toBe(-Infinity);
    expect(FINITE.length).toBe(65536 - 2048);
  });

  test('all 63488 finite patterns are staged exactly: the same bits as their float32 values', async () => {
    const fl = await create();
    const decoded = Float32Array.from(FINITE, half);
    // the primitive (elementwise, every value) and a loss with its gradient, per element
    expect(bits(fl.sigmoid(FINITE, { float16: true })).equals(bits(fl.sigmoid(decoded)))).toBe(true);
    const targets = Float32Array.from(FINITE, (_, i) => (i % 3) / 2); // 0, 0.5, 1: exact in binary16 too
    const targetBits = Uint16Array.from(targets, (t) => (t === 0 ? 0 : t === 0.5 ? 0x3800 : 0x3c00));
    const got = fl.sigmoidFocalLossWithGrad(FINITE, targetBits, { float16: true, reduction: 'none' });
    const want = fl.sigmoidFocalLossWithGrad(decoded, targets, { reduction: 'none' });
    expect(bits(got.loss).equals(bits(want.loss))).toBe(true);
    expect(bits(got.grad).equals(bits(want.grad))).toBe(true);
  });

  test('every infinity and NaN pattern is refused as a non-finite logit, naming its index', async () => {
    const fl = await create();
    const logits = new Uint16Array(40).fill(0x3c00);
    const targets = new Float32Array(40);
    for (let b = 0x7c00; b <= 0xffff; b = b === 0x7fff ? 0xfc00 : b + 1) {
      logits[17] = b;
      const error = (() => {
        try {
          fl.sigmoidFocalLoss(logits, targets, { float16: true });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error, `pattern ${b.toString(16)}`).toBeInstanceOf(RangeError);
      expect(error!.message).toMatch(/^logits\[17\] = (-?Infinity|NaN): expected a finite number/);
    }
  });

  test('without options.float16 a Uint16Array is a TypeError that says why', async () => {
    const fl = await create();
    expect(() => fl.sigmoidFocalLoss(new Uint16Array(4), new Float32Array(4))).toThrow(TypeError);
    expect(() => fl.sigmoidFocalLoss(new Uint16Array(4), new Float32Array(4))).toThrow(/logits: a Uint16Array is ambiguous.*options\.float16 = true/);
    expect(() => fl.softmax(new Uint16Array(4))).toThrow(/options\.float16/);
  });

  test('every family takes binary16 input: the same results as the decoded float32 input', async () => {
    const fl = await create();
    const n = 3000;
    const logitBits = Uint16Array.from({ length: n }, (_, i) => FINITE[(i * 7919) % FINITE.length]! & 0x4fff); // |x| < 64
    const logits = Float32Array.from(logitBits, half);
    const probBits = Uint16Array.from({ length: n }, (_, i) => (i * 37) % 0x3c01); // [0, 1]
    const probs = Float32Array.from(probBits, half);
    const targets = Float32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 1 : 0));
    const same = (a: { loss: number | Float32Array; grad: Float32Array }, b: typeof a): void => {
      if (typeof a.loss === 'number') expect(Object.is(a.loss, b.loss)).toBe(true);
      else expect(bits(a.loss).equals(bits(b.loss as Float32Array))).toBe(true);
      expect(bits(a.grad).equals(bits(b.grad))).toBe(true);
    };
    same(fl.binaryFocalLossWithGrad(probBits, targets, { float16: true }), fl.binaryFocalLossWithGrad(probs, targets));
    same(fl.varifocalLossWithGrad(logitBits, targets, { float16: true, reduction: 'none' }), fl.varifocalLossWithGrad(logits, targets, { reduction: 'none' }));
    same(
      fl.sigmoidFocalLossWithGrad(logitBits, targets, { float16: true, classWeights: Uint16Array.of(0x3c00, 0x4000, 0x3800), classes: 3 }),
      fl.sigmoidFocalLossWithGrad(logits, targets, { classWeights: [1, 2, 0.5], classes: 3 }),
    );
    const labels = Int32Array.from({ length: n / 10 }, (_, i) => i % 10);
    same(fl.softmaxFocalLossWithGrad(logitBits, labels, { float16: true, classes: 10 }), fl.softmaxFocalLossWithGrad(logits, labels, { classes: 10 }));
    same(
      fl.softmaxFocalLossWithGrad(logitBits, probBits, { float16: true, classes: 10, reduction: 'sum' }),
      fl.softmaxFocalLossWithGrad(logits, probs, { classes: 10, reduction: 'sum' }),
    );
    expect(bits(fl.logSoftmax(logitBits, { float16: true, classes: 10 })).equals(bits(fl.logSoftmax(logits, { classes: 10 })))).toBe(true);
  });
});

test('the pool takes binary16 input too, with the engine\'s bits', async () => {
  const pool = await createFocalPool({ threads: 2 });
  try {
    const fl = await builds[0].create();
    const n = 40_000;
    const logitBits = Uint16Array.from({ length: n }, (_, i) => FINITE[(i * 104729) % FINITE.length]! & 0x4fff);
    const targets = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const got = await pool.sigmoidFocalLossWithGrad(logitBits, targets, { float16: true });
    const want = fl.sigmoidFocalLossWithGrad(logitBits, targets, { float16: true });
    expect(Object.is(got.loss, want.loss)).toBe(true);
    expect(bits(got.grad).equals(bits(want.grad))).toBe(true);
  } finally {
    await pool.terminate();
  }
});
