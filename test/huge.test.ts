// Huge inputs: a 16M-element sigmoid call by default, 64M (256 MB per array) with FOCAL_HUGE=1. The input streams
// through the fixed staging slots, so the wasm memory is the same few hundred KB as for N = 1; the reduction equals
// the one made of the same input cut into chunk-sized pieces added in order (bit for bit), and is within 1e-6 of a
// float64 reference computed in a streaming loop.
import { describe, expect, test } from 'vitest';
import { Focal } from '../src/index.js';
import { loadEngineSync } from '../src/core/engine.js';
import { CHUNK } from '../src/core/abi.js';
import { HEADER_BYTES } from '../src/core/arena.js';
import { rng } from './engines.js';
import { sigmoidFocalRef } from './reference.js';

const HUGE = process.env.FOCAL_HUGE === '1';
const N = HUGE ? 64 * 2 ** 20 : 16 * 2 ** 20;
const PAGE = 65536;

describe(`a ${N / 2 ** 20}M-element sigmoid focal loss${HUGE ? ' (FOCAL_HUGE=1)' : ' (FOCAL_HUGE=1 for 64M)'}`, () => {
  // One engine of the build this runtime picks, with its memory visible.
  const engine = loadEngineSync();
  const fl = new Focal(engine);
  // N + 3: a length that is neither a chunk multiple nor a multiple of the vector width
  const n = N + 3;
  const logits = new Float32Array(n);
  const targets = new Float32Array(n);
  const random = rng(2026);
  for (let i = 0; i < n; i++) {
    logits[i] = (random() - 0.5) * 16;
    targets[i] = random() < 0.1 ? 1 : 0; // detection-like: few positives
  }
  const options = { alpha: 0.25, gamma: 2 } as const;
  let sum = 0;

  test('works, with the wasm memory of an N = 1 call', () => {
    const small = loadEngineSync({ simd: engine.simd });
    new Focal(small).sigmoidFocalLoss([1], [1]);
    const started = performance.now();
    sum = fl.sigmoidFocalLoss(logits, targets, { ...options, reduction: 'sum' }) as number;
    const mean = fl.sigmoidFocalLoss(logits, targets, options) as number;
    const seconds = (performance.now() - started) / 1000;
    const bytes = engine.kernels.memory.buffer.byteLength;
    console.log(
      `N = ${n} (${((n * 4) / 2 ** 20).toFixed(0)} MB per array, ${engine.simd ? 'simd' : 'scalar'}): sum ${sum}, ` +
        `mean ${mean}, two calls in ${seconds.toFixed(2)} s; wasm memory ${bytes} B (${bytes / PAGE} pages)`,
    );
    expect(Number.isFinite(sum)).toBe(true);
    expect(mean).toBe(sum / n);
    // bounded: exactly the memory of a one-element call (static data, the arena's header, and four CHUNK slots:
    // logits, targets, and the loss and gradient slots)
    expect(bytes).toBe(small.kernels.memory.buffer.byteLength);
    expect(bytes).toBe(Math.ceil((engine.arena.base + HEADER_BYTES + 4 * CHUNK * 4) / PAGE) * PAGE);
    expect(bytes).toBeLessThan(512 * 1024);
  });

  test('equals the sum of its chunk-sized pieces added in order, bit for bit', () => {
    let pieces = 0;
    for (let from = 0; from < n; from += CHUNK) {
      pieces += fl.sigmoidFocalLoss(logits.subarray(from, from + CHUNK), targets.subarray(from, from + CHUNK), {
        ...options, reduction: 'sum',
      }) as number;
    }
    expect(pieces).toBe(sum);
  });

  test('pieces of several chunks (a worker pool cutting at chunk multiples) agree to float64 rounding', () => {
    // Cutting at chunk multiples keeps every chunk's float32 losses and float64 lane sums identical; only the
    // grouping of the float64 additions of the chunk sums changes, so the totals agree to a few ulps, not bits.
    const cuts = [0, 7 * CHUNK, 100 * CHUNK, 101 * CHUNK, Math.floor(n / CHUNK / 2) * CHUNK, n];
    let total = 0;
    for (let k = 0; k + 1 < cuts.length; k++) {
      total += fl.sigmoidFocalLoss(logits.subarray(cuts[k], cuts[k + 1]), targets.subarray(cuts[k], cuts[k + 1]), {
        ...options, reduction: 'sum',
      }) as number;
    }
    console.log(`cut into ${cuts.length - 1} pieces at chunk multiples: ${total} vs one call ${sum} (${total === sum ? 'bit-equal' : `${Math.abs(total - sum) / sum} apart`})`);
    expect(Math.abs(total - sum) / sum).toBeLessThanOrEqual((n / CHUNK) * 2 ** -52);
  });

  test('is within 1e-6 of a float64 reference computed in a streaming loop', () => {
    let want = 0;
    for (let i = 0; i < n; i++) want += sigmoidFocalRef(logits[i]!, targets[i]!, options).loss;
    const error = Math.abs(sum - want) / want;
    console.log(`N = ${n}: relative error of the sum against float64: ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(1e-6);
  });

  test('the gradient of the mean, written into a caller-owned gradOut, matches the reference where sampled', () => {
    const gradOut = new Float32Array(n);
    const { loss } = fl.sigmoidFocalLossWithGrad(logits, targets, { ...options, gradOut });
    expect(loss).toBe(sum / n);
    const sample = rng(7);
    for (let k = 0; k < 10_000; k++) {
      const i = k < 4 ? n - 1 - k : Math.floor(sample() * n);
      const want = sigmoidFocalRef(logits[i]!, targets[i]!, options).grad / n;
      expect(Math.abs(gradOut[i]! - want)).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(want), 1e-37));
    }
    expect(engine.kernels.memory.buffer.byteLength).toBeLessThan(512 * 1024);
  });
});
