// Zero-copy input and output through fl.alloc(): the kernels read and write the views in place, and the
// answers are bit-identical to the copying path.
import { describe, expect, test } from 'vitest';
import { builds, rng } from './engines.js';

describe.each(builds)('fl.alloc, $name build', ({ create }) => {
  test('in-place logits, targets, weights, out and gradOut give the copying path\'s bits', async () => {
    const fl = await create();
    const n = 40_003; // several chunks and a tail
    const random = rng(5);
    const x = Float32Array.from({ length: n }, () => (random() - 0.5) * 30);
    const t = Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const w = Float32Array.from({ length: n }, () => random());
    const [logits, targets, weights, out, gradOut] = fl.alloc(n, n, n, n, n) as [
      Float32Array, Float32Array, Float32Array, Float32Array, Float32Array,
    ];
    logits.set(x);
    targets.set(t);
    weights.set(w);
    for (const reduction of ['none', 'mean', 'sum'] as const) {
      const copied = fl.sigmoidFocalLossWithGrad(x, t, { weights: w, reduction, gamma: 1.5 });
      const inPlace = fl.sigmoidFocalLossWithGrad(logits, targets, {
        weights, reduction, gamma: 1.5, out: reduction === 'none' ? out : undefined, gradOut,
      });
      expect(inPlace.grad).toBe(gradOut);
      expect(new Uint32Array(gradOut.slice().buffer)).toEqual(new Uint32Array(copied.grad.buffer));
      if (reduction === 'none') {
        expect(inPlace.loss).toBe(out);
        expect(new Uint32Array(out.slice().buffer)).toEqual(new Uint32Array((copied.loss as Float32Array).buffer));
      } else {
        expect(inPlace.loss).toBe(copied.loss);
      }
    }
    // Inputs are left as they were.
    expect(new Uint32Array(logits.slice().buffer)).toEqual(new Uint32Array(x.buffer));
  });

  test('a gradOut view that overlaps the logits view is refused', async () => {
    const fl = await create();
    const both = fl.alloc(8);
    both.fill(0.5);
    expect(() => fl.sigmoidFocalLossWithGrad(both, new Float32Array(8), { gradOut: both })).toThrow(
      /options\.gradOut: shares memory with logits/,
    );
  });

  test('a later alloc that grows the memory detaches earlier views (they read as empty): hence one call', async () => {
    const fl = await create();
    const first = fl.alloc(10);
    fl.alloc(50_000_000);
    expect(first.length).toBe(0);
  });

  test('views survive calls of any size, and freeAll lets the space be reused', async () => {
    const fl = await create();
    const a = fl.alloc(1000);
    a.fill(2);
    const big = new Float32Array(3_000_000).fill(-1);
    fl.sigmoidFocalLoss(big, new Float32Array(big.length)); // streams through the staging slots: no grow
    expect(a.length).toBe(1000);
    expect(a[999]).toBe(2);
    fl.freeAll();
    const b = fl.alloc(1000);
    expect(b.byteOffset).toBe(a.byteOffset);
  });

  test('bad n is a TypeError or a RangeError naming it', async () => {
    const fl = await create();
    expect(() => fl.alloc('5' as unknown as number)).toThrow(TypeError);
    expect(() => fl.alloc(-1)).toThrow(/n = -1: expected a whole number >= 0/);
    expect(() => fl.alloc(1.5)).toThrow(RangeError);
  });
});
