// Concurrency: calls from several async contexts on one engine (and on several), and several worker_threads each
// with its own engine (the built dist/index.js), give bit for bit the answers of the same calls made one after
// another. Methods are synchronous, so async contexts interleave only between calls; workers run truly in parallel,
// reading the same SharedArrayBuffer inputs at once.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, createFocalSync, type Focal } from '../dist/index.js';
import { CHUNK } from '../src/core/abi.js';
import { rng } from './engines.js';

type Api =
  | 'sigmoidFocalLoss' | 'sigmoidFocalLossWithGrad' | 'softmaxFocalLoss' | 'softmaxFocalLossWithGrad'
  | 'binaryFocalLoss' | 'binaryFocalLossWithGrad' | 'softmax' | 'logSoftmax' | 'sigmoid';
interface Call {
  api: Api;
  args: Array<Float32Array | Float64Array | Int32Array | number[]>;
  options: Record<string, unknown>;
}
type Answer = number | Float32Array | { loss: number | Float32Array; grad: Float32Array };

/** Float32Arrays over SharedArrayBuffers, so workers read the very same memory. */
function shared(n: number, fill: (i: number) => number): Float32Array {
  const a = new Float32Array(new SharedArrayBuffer(n * 4));
  for (let i = 0; i < n; i++) a[i] = fill(i);
  return a;
}

const random = rng(31);
const SIZES = [0, 1, 3, 4, 17, 1000, CHUNK, CHUNK + 1, 3 * CHUNK + 7, 200_003];
const DATA = SIZES.map((n) => ({
  logits: shared(n, () => (random() - 0.5) * 30),
  targets: shared(n, () => (random() < 0.3 ? random() : random() < 0.5 ? 0 : 1)),
  weights: shared(n, () => random() * 2),
}));

/** A fixed list of calls covering every reduction, weights, gamma modes and soft targets, on every size. */
const CALLS: Call[] = DATA.flatMap(({ logits, targets, weights }, k) => [
  { api: 'sigmoidFocalLoss', args: [logits, targets], options: {} },
  { api: 'sigmoidFocalLoss', args: [logits, targets], options: { reduction: 'sum', weights, gamma: 0.5 } },
  { api: 'sigmoidFocalLoss', args: [logits, targets], options: { reduction: 'none', alpha: null, gamma: 3.7 } },
  { api: 'sigmoidFocalLossWithGrad', args: [logits, targets], options: { reduction: 'mean', normalizer: k + 1.5 } },
  { api: 'sigmoidFocalLossWithGrad', args: [logits, targets], options: { reduction: 'none', weights, gamma: 0 } },
  { api: 'binaryFocalLossWithGrad', args: [weights.map((w) => w / 2), targets], options: { reduction: 'sum', gamma: 1.5 } },
  { api: 'sigmoid', args: [logits], options: {} },
]);
// Softmax: rows of C = 5 and C = 37 over the same shared logits, class indices with ignored rows, soft targets.
for (const { logits, targets } of DATA) {
  for (const C of [5, 37]) {
    const rows = Math.floor(logits.length / C);
    const z = logits.subarray(0, rows * C);
    const labels = new Int32Array(new SharedArrayBuffer(rows * 4));
    for (let i = 0; i < rows; i++) labels[i] = i % 11 === 3 ? -100 : (i * 7) % C;
    const soft = targets.subarray(0, rows * C);
    CALLS.push(
      { api: 'softmaxFocalLoss', args: [z, labels], options: { classes: C } },
      { api: 'softmaxFocalLossWithGrad', args: [z, labels], options: { classes: C, reduction: 'none', gamma: 0.5, alpha: 0.25 } },
      { api: 'softmaxFocalLossWithGrad', args: [z, soft], options: { classes: C, reduction: 'sum', labelSmoothing: 0.1 } },
      { api: 'logSoftmax', args: [z], options: { classes: C } },
    );
  }
}

function call(fl: Focal, c: Call): Answer {
  return (fl[c.api] as unknown as (...a: unknown[]) => Answer)(...c.args, c.options);
}

function expectBitEqual(got: Answer, want: Answer, where: string): void {
  if (typeof want === 'number') {
    expect(Object.is(got, want), `${where}: ${String(got)} vs ${want}`).toBe(true);
  } else if (want instanceof Float32Array) {
    expect(got, where).toBeInstanceOf(Float32Array);
    const g = got as Float32Array;
    expect(Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), where).toBe(true);
  } else {
    const g = got as { loss: Answer; grad: Float32Array };
    expectBitEqual(g.loss, want.loss, `${where}.loss`);
    expectBitEqual(g.grad, want.grad, `${where}.grad`);
  }
}

const tick = (k: number): Promise<void> =>
  k % 3 === 0 ? Promise.resolve() : new Promise((resolve) => (k % 3 === 1 ? setImmediate(resolve) : setTimeout(resolve, 0)));

describe.each([true, false])('simd = %s', (simd) => {
  let sequential: Answer[];
  beforeAll(() => {
    const fl = createFocalSync({ simd });
    sequential = CALLS.map((c) => call(fl, c));
  });

  test('several async contexts on one engine, interleaved by awaits', async () => {
    const fl = await createFocal({ simd });
    const contexts = 6;
    const answers = await Promise.all(
      Array.from({ length: contexts }, async (_, ctx) => {
        const got: Answer[] = new Array(CALLS.length);
        // each context walks the list from a different place, awaiting between calls
        for (let j = 0; j < CALLS.length; j++) {
          const k = (j * 7 + ctx * 13) % CALLS.length;
          await tick(j + ctx);
          got[k] = call(fl, CALLS[k]!);
        }
        return got;
      }),
    );
    answers.forEach((got, ctx) => got.forEach((a, k) => expectBitEqual(a, sequential[k]!, `context ${ctx}, call ${k}`)));
  });

  test('several engines in several async contexts', async () => {
    const engines = await Promise.all(Array.from({ length: 4 }, () => createFocal({ simd })));
    const answers = await Promise.all(
      engines.map(async (fl, e) => {
        const got: Answer[] = [];
        for (let k = 0; k < CALLS.length; k++) {
          await tick(k * (e + 1));
          // every engine also sees the other engines' inputs in between: no state may carry over
          got.push(call(engines[(e + k) % engines.length]!, CALLS[k]!));
        }
        return got;
      }),
    );
    answers.forEach((got, e) => got.forEach((a, k) => expectBitEqual(a, sequential[k]!, `engine ${e}, call ${k}`)));
  });

  describe('worker_threads, one engine each', () => {
    const WORKERS = 4;
    let workers: Worker[];
    beforeAll(async () => {
      workers = Array.from({ length: WORKERS }, () => new Worker(new URL('./concurrency.worker.mjs', import.meta.url), { workerData: { simd } }));
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.terminate()));
    });

    function run(worker: Worker, id: number, calls: Call[]): Promise<{ simd: boolean; results: Answer[] }> {
      return new Promise((resolve, reject) => {
        const onMessage = (m: { id: number; simd: boolean; results: Answer[] }): void => {
          if (m.id !== id) return;
          worker.off('message', onMessage);
          worker.off('error', reject);
          resolve(m);
        };
        worker.on('message', onMessage);
        worker.once('error', reject);
        worker.postMessage({ id, calls });
      });
    }

    test('every worker runs every call at the same time as the others: answers equal the sequential ones', async () => {
      const replies = await Promise.all(workers.map((w, k) => run(w, k, CALLS)));
      for (const [k, reply] of replies.entries()) {
        expect(reply.simd).toBe(simd);
        reply.results.forEach((a, j) => expectBitEqual(a, sequential[j]!, `worker ${k}, call ${j}`));
      }
    });

    test('a sum split across workers at chunk boundaries, chunk sums added in order, equals one call', async () => {
      const { logits, targets, weights } = DATA[DATA.length - 1]!;
      const n = logits.length;
      const options = { reduction: 'sum' as const, weights: undefined as Float32Array | undefined, gamma: 2.5 };
      const chunkCalls: Call[] = [];
      for (let from = 0; from < n; from += CHUNK) {
        const to = Math.min(n, from + CHUNK);
        chunkCalls.push({
          api: 'sigmoidFocalLoss',
          args: [logits.subarray(from, to), targets.subarray(from, to)],
          options: { ...options, weights: weights.subarray(from, to) },
        });
      }
      // deal the chunks out round-robin, then add the chunk sums back in chunk order
      const dealt = workers.map((_, w) => chunkCalls.filter((_, c) => c % WORKERS === w));
      const replies = await Promise.all(workers.map((w, k) => run(w, 100 + k, dealt[k]!)));
      let total = 0;
      for (let c = 0; c < chunkCalls.length; c++) total += replies[c % WORKERS]!.results[Math.floor(c / WORKERS)] as number;
      const one = createFocalSync({ simd }).sigmoidFocalLoss(logits, targets, { ...options, weights });
      expect(total).toBe(one);
    });
  });
});
