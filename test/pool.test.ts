// createFocalPool against the single-thread engine, both builds: every reduction exactly equal and every 'none' /
// gradient Float32Array bit-identical, on sizes around the chunk boundary and up to 16e6; the same error classes
// and messages; overlapping calls; and terminate() ending the worker threads.
import { readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, createFocalPool, createFocalSync, type Focal, type FocalPool } from '../src/index.js';
import { rng } from './engines.js';
import { haveChromium, launchChromium, root } from './browser/harness.js';

const CHUNK = 16384;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5, 1_000_003];
const HUGE = 16_000_000;

function inputs(n: number, seed: number): { x: Float32Array; t: Float32Array; soft: Float64Array; w: Float32Array } {
  const r = rng(seed);
  const x = new Float32Array(n);
  const t = new Float32Array(n);
  const soft = new Float64Array(n);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    x[i] = i % 13 === 0 ? (u - 0.5) * 200 : (u - 0.5) * 16;
    t[i] = u < 0.3 ? 1 : 0;
    soft[i] = r();
    w[i] = r() * 2;
  }
  return { x, t, soft, w };
}

/** A copy of `values` in a SharedArrayBuffer, as a caller who wants no copy per call passes it. */
function shared(values: Float32Array): Float32Array {
  const view = new Float32Array(new SharedArrayBuffer(values.length * 4));
  view.set(values);
  return view;
}

/** -1 when a and b hold the same float32 bits, else the first index that differs (or the shorter length). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

type Result = number | Float32Array | { loss: number | Float32Array; grad: Float32Array };

/** Exact equality: a number by Object.is (so -0 and NaN count), arrays bit for bit. */
function expectSame(pool: Result, single: Result, what: string): void {
  if (typeof single === 'number') {
    expect(Object.is(pool, single), `${what}: ${String(pool)} vs ${single}`).toBe(true);
  } else if (single instanceof Float32Array) {
    expect(pool).toBeInstanceOf(Float32Array);
    expect(firstDifference(pool as Float32Array, single), what).toBe(-1);
  } else {
    const p = pool as { loss: number | Float32Array; grad: Float32Array };
    expectSame(p.loss, single.loss, `${what}.loss`);
    expectSame(p.grad, single.grad, `${what}.grad`);
  }
}

/** The error a call throws, as class and message (or 'no error'). */
async function failure(call: () => unknown): Promise<string> {
  try {
    await call();
    return 'no error';
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

const osThreads = (): number => readdirSync('/proc/self/task').length;

for (const simd of [true, false]) {
  describe(`${simd ? 'SIMD' : 'scalar'} build: a 2-thread pool equals the single-thread engine bit for bit`, () => {
    let fl: Focal;
    let pool: FocalPool;
    beforeAll(async () => {
      fl = createFocalSync({ simd });
      pool = await createFocalPool({ threads: 2, simd });
      expect(pool.simd).toBe(simd);
      expect(pool.threads).toBe(2);
    });
    afterAll(() => pool?.terminate());

    for (const n of SIZES) {
      test(`N = ${n}: mean, sum, none, gradients; Float32Array, shared, Float64Array inputs`, async () => {
        const { x, t, soft, w } = inputs(n, n + 1);
        const sx = shared(x);
        const st = shared(t);
        const cases: Array<[string, () => Result, () => Promise<Result>]> = [
          ['mean (defaults)', () => fl.sigmoidFocalLoss(x, t), () => pool.sigmoidFocalLoss(x, t)],
          ['mean, shared inputs', () => fl.sigmoidFocalLoss(x, t), () => pool.sigmoidFocalLoss(sx, st)],
          ['sum, soft float64 targets, weights, gamma 0.5',
            () => fl.sigmoidFocalLoss(x, soft, { reduction: 'sum', weights: w, gamma: 0.5 }),
            () => pool.sigmoidFocalLoss(x, soft, { reduction: 'sum', weights: w, gamma: 0.5 })],
          ['mean, normalizer, alpha null, gamma 3',
            () => fl.sigmoidFocalLoss(x, t, { normalizer: 7.5, alpha: null, gamma: 3 }),
            () => pool.sigmoidFocalLoss(x, t, { normalizer: 7.5, alpha: null, gamma: 3 })],
          ['none', () => fl.sigmoidFocalLoss(x, soft, { reduction: 'none' }),
            () => pool.sigmoidFocalLoss(x, soft, { reduction: 'none' })],
          ['grad mean, weights', () => fl.sigmoidFocalLossWithGrad(x, t, { weights: w }),
            () => pool.sigmoidFocalLossWithGrad(sx, st, { weights: w })],
          ['grad sum', () => fl.sigmoidFocalLossWithGrad(x, soft, { reduction: 'sum', gamma: 1 }),
            () => pool.sigmoidFocalLossWithGrad(x, soft, { reduction: 'sum', gamma: 1 })],
          ['grad none', () => fl.sigmoidFocalLossWithGrad(x, soft, { reduction: 'none', alpha: 0.75 }),
            () => pool.sigmoidFocalLossWithGrad(x, soft, { reduction: 'none', alpha: 0.75 })],
        ];
        for (const [name, single, pooled] of cases) expectSame(await pooled(), single(), `N = ${n}, ${name}`);
      });
    }

    test(`N = ${HUGE}: forward 'none' and forward + gradient 'mean'`, async () => {
      const { x, t } = inputs(HUGE, 99);
      const sx = shared(x);
      const st = shared(t);
      expectSame(await pool.sigmoidFocalLossWithGrad(sx, st), fl.sigmoidFocalLossWithGrad(x, t), 'grad mean');
      expectSame(await pool.sigmoidFocalLoss(sx, st, { reduction: 'none' }), fl.sigmoidFocalLoss(x, t, { reduction: 'none' }), 'none');
    });
  });
}

describe('pool plumbing', () => {
  let fl: Focal;
  let pool: FocalPool;
  const n = 5 * CHUNK + 123;
  const { x, t, soft, w } = inputs(n, 7);
  beforeAll(async () => {
    fl = await createFocal();
    pool = await createFocalPool({ threads: 3 });
  });
  afterAll(() => pool?.terminate());

  test('out and gradOut: the caller\'s arrays are filled and returned, shared or not', async () => {
    for (const make of [(k: number) => new Float32Array(k), (k: number) => shared(new Float32Array(k))]) {
      const out = make(n + 2);
      const gradOut = make(n);
      const r = await pool.sigmoidFocalLossWithGrad(x, t, { reduction: 'none', out, gradOut });
      expect(r.loss).toBe(out);
      expect(r.grad).toBe(gradOut);
      expectSame(r, fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'none', out: new Float32Array(n + 2) }), 'out');
    }
  });

  test('plain arrays, thread counts 1 to 4 (ranges of unequal chunk counts)', async () => {
    const xs = Array.from(x.subarray(0, 2 * CHUNK + 9));
    const ts = Array.from(t.subarray(0, 2 * CHUNK + 9));
    for (const threads of [1, 4]) {
      const p = await createFocalPool({ threads });
      expectSame(await p.sigmoidFocalLossWithGrad(xs, ts), fl.sigmoidFocalLossWithGrad(xs, ts), `${threads} threads`);
      await p.terminate();
    }
    expectSame(await pool.sigmoidFocalLoss(xs, ts, { reduction: 'none' }), fl.sigmoidFocalLoss(xs, ts, { reduction: 'none' }), 'none');
  });

  test('mask and class-weight options: split like any call, with the same results', async () => {
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : 1));
    const rows = (n - 3) / 5; // N x 5 multi-label logits
    const [x5, soft5, mask5] = [x.subarray(0, rows * 5), soft.subarray(0, rows * 5), mask.subarray(0, rows * 5)];
    const options = { mask: mask5, classes: 5, classWeights: [1, 2, 0.5, 1, 3], reduction: 'none' as const };
    expectSame(await pool.sigmoidFocalLossWithGrad(x5, soft5, options), fl.sigmoidFocalLossWithGrad(x5, soft5, options), 'masked');
    expectSame(await pool.sigmoidFocalLoss(x, t, { mask }), fl.sigmoidFocalLoss(x, t, { mask }), 'masked mean');
    const out = new Float32Array(n);
    expect(await pool.sigmoidFocalLoss(x, t, { mask, reduction: 'none', out })).toBe(out);
  });

  test('softmax: split by blocks of rows, the single-thread results and errors', async () => {
    const classes = 7;
    const rows = 3000;
    const r = rng(5);
    const logits = Float32Array.from({ length: rows * classes }, () => (r() - 0.5) * 12);
    const labels = Int32Array.from({ length: rows }, (_, i) => (i % 17 === 0 ? -100 : Math.floor(r() * classes)));
    const alpha = Float32Array.from({ length: classes }, (_, c) => 0.1 + c / 10);
    for (const options of [{}, { reduction: 'none' as const, alpha }, { reduction: 'sum' as const, gamma: 0.5 }]) {
      expectSame(await pool.softmaxFocalLoss(logits, labels, options), fl.softmaxFocalLoss(logits, labels, options), 'loss');
      expectSame(await pool.softmaxFocalLossWithGrad(logits, labels, options), fl.softmaxFocalLossWithGrad(logits, labels, options), 'grad');
    }
    const gradOut = new Float32Array(rows * classes);
    expect((await pool.softmaxFocalLossWithGrad(logits, labels, { gradOut })).grad).toBe(gradOut);
    const bad = Int32Array.from(labels);
    bad[1234] = 7;
    expect(await failure(() => pool.softmaxFocalLoss(logits, bad))).toBe(await failure(() => fl.softmaxFocalLoss(logits, bad)));
    expect(await failure(() => pool.softmaxFocalLoss(logits, labels, { gamma: 'x' as never })))
      .toBe(await failure(() => fl.softmaxFocalLoss(logits, labels, { gamma: 'x' as never })));
  });

  test('class-axis layouts split between workers mid-slice (a block boundary inside a spatial slice)', async () => {
    // C = 21: blocks of 780 rows; with 64 positions per slice the second worker starts at row 780 = 12 slice * 64 + 12.
    for (const shape of [[32, 21, 8, 8], [3, 21, 500], [2, 300, 7]]) {
      const C = shape[1]!;
      const rows = shape.reduce((a, b) => a * b, 1) / C;
      const r = rng(rows);
      const logits = Float32Array.from({ length: rows * C }, () => (r() - 0.5) * 10);
      const labels = Int32Array.from({ length: rows }, () => Math.floor(r() * C));
      const soft = Float32Array.from({ length: rows * C }, () => r() / C);
      for (const reduction of ['none', 'sum'] as const) {
        const options = { shape, classAxis: 1, reduction };
        expectSame(await pool.softmaxFocalLossWithGrad(logits, labels, options), fl.softmaxFocalLossWithGrad(logits, labels, options), `${shape} labels ${reduction}`);
        expectSame(await pool.softmaxFocalLossWithGrad(logits, soft, options), fl.softmaxFocalLossWithGrad(logits, soft, options), `${shape} soft ${reduction}`);
      }
    }
  });

  test('every loss of the registry: split between the workers, the engine\'s bits', async () => {
    const q = Float32Array.from(t, (v, i) => (v ? 0.2 + (i % 8) / 10 : 0)); // IoU-like soft targets
    const p = Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    const calls: [string, Float32Array, Float32Array, object][] = [
      ['sigmoidFocalLoss', x, t, { gamma: 1.5, weights: w }],
      ['sigmoidFocalLoss', x, t, { normalized: true, reducedThreshold: 0.5 }],
      ['sigmoidFocalLossStar', x, t, { beta: 0.5 }],
      ['qualityFocalLoss', x, q, { ignoreIndex: 0.7 }],
      ['varifocalLoss', x, q, { alpha: 2 }],
      ['polyFocalLoss', x, t, { epsilon: -0.5 }],
      ['binaryFocalLoss', p, t, { alpha: null, weights: w }],
    ];
    for (const [name, first, second, options] of calls) {
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        const o = { ...options, reduction };
        const pooled = await (pool as unknown as Record<string, (...a: unknown[]) => Promise<Result>>)[`${name}WithGrad`]!(first, second, o);
        const single = (fl as unknown as Record<string, (...a: unknown[]) => Result>)[`${name}WithGrad`]!(first, second, o);
        expectSame(pooled, single, `${name} ${reduction}`);
      }
    }
  });

  test('the overlap losses (Dice, Tversky, Dice + focal): split by items, the engine\'s bits and errors', async () => {
    // Pass 1's per-item sums come back from the workers, the loss and pass 2's coefficients are made here, pass 2
    // runs on the same items; 5 items over 3 workers, class indices and soft targets, softmax and sigmoid, a
    // caller's gradOut, and a bad value in a later worker's items.
    const shape = [5, 3, 24, 20];
    const n = 5 * 3 * 24 * 20;
    const r = rng(9);
    const logits = Float32Array.from({ length: n }, () => (r() - 0.5) * 10);
    const labels = Int32Array.from({ length: n / 3 }, () => Math.floor(r() * 3));
    const soft = Float32Array.from({ length: n }, () => r());
    for (const name of ['diceLoss', 'tverskyLoss', 'diceFocalLoss']) {
      for (const reduction of ['none', 'mean', 'sum'] as const) {
        for (const [targets, o] of [[labels, { shape, reduction, includeBackground: false }], [soft, { shape, reduction, activation: 'sigmoid', batch: true }]] as const) {
          const pooled = await (pool as unknown as Record<string, (...a: unknown[]) => Promise<Result>>)[`${name}WithGrad`]!(logits, targets, o);
          const single = (fl as unknown as Record<string, (...a: unknown[]) => Result>)[`${name}WithGrad`]!(logits, targets, o);
          expectSame(pooled, single, `${name} ${reduction} ${o.activation ?? 'softmax'}`);
        }
      }
    }
    const gradOut = new Float32Array(n);
    const withOut = await pool.diceLossWithGrad(Array.from(logits), labels, { shape, gradOut });
    expect(withOut.grad).toBe(gradOut);
    expectSame(withOut, fl.diceLossWithGrad(logits, labels, { shape }), 'plain array, gradOut');
    const bad = Int32Array.from(labels);
    bad[4 * 480 + 77] = 3; // item 4: the third worker's
    expect(await failure(() => pool.diceLoss(logits, bad, { shape }))).toBe(await failure(() => fl.diceLoss(logits, bad, { shape })));
    expect(await failure(() => pool.diceLoss(logits, bad, { shape }))).toMatch(/^RangeError: targets\[1997\] = 3/);
    const nan = logits.slice();
    nan[2 * 1440 + 5] = NaN;
    expect(await failure(() => pool.tverskyLoss(nan, labels, { shape }))).toBe(await failure(() => fl.tverskyLoss(nan, labels, { shape })));
  });

  test('a plain array that cannot be shared (an entry that is not a number) gives the engine\'s first error', async () => {
    // A NaN in chunk 0 and a string in the last chunk: the engine meets the NaN first; so must the pool.
    const logits = Array.from(x);
    logits[5] = NaN;
    (logits as unknown[])[n - 2] = 'x';
    expect(await failure(() => pool.sigmoidFocalLoss(logits, t))).toBe(await failure(() => fl.sigmoidFocalLoss(logits, t)));
    expect(await failure(() => pool.sigmoidFocalLoss(logits, t))).toMatch(/^RangeError: logits\[5\] = NaN/);
    logits[5] = 0;
    expect(await failure(() => pool.sigmoidFocalLoss(logits, t))).toMatch(/^TypeError: logits\[\d+\] = 'x'/);
  });

  test('overlapping calls each get their own answer', async () => {
    const options = [{}, { reduction: 'sum' as const }, { gamma: 0.5, weights: w }, { reduction: 'none' as const },
      { alpha: null, gamma: 0 }, { normalizer: 3 }];
    const pooled = await Promise.all(options.flatMap((o) => [
      pool.sigmoidFocalLoss(x, soft, o), pool.sigmoidFocalLossWithGrad(x, t, o),
    ]));
    const single = options.flatMap((o) => [fl.sigmoidFocalLoss(x, soft, o), fl.sigmoidFocalLossWithGrad(x, t, o)]);
    pooled.forEach((r, i) => expectSame(r, single[i]!, `call ${i}`));
  });

  test('errors: the single-thread classes and messages, and the pool works afterwards', async () => {
    const nanLate = x.slice();
    nanLate[4 * CHUNK + 17] = NaN; // in the third worker's range
    const twoBad = t.slice();
    twoBad[3 * CHUNK + 1] = 1.5; // second worker ...
    twoBad[CHUNK + 2] = -1; // ... and the first: the first in order wins
    const plain = Array.from(x.subarray(0, 3 * CHUNK)) as unknown[];
    plain[2 * CHUNK + 5] = 'a';
    const plainTargets = Array.from(t.subarray(0, 3 * CHUNK));
    plainTargets[CHUNK] = 2; // a RangeError in chunk 1 comes before the TypeError in chunk 2
    const calls: Array<[string, (api: Focal | FocalPool) => unknown]> = [
      ['logits a string', (api) => api.sigmoidFocalLoss('x' as never, t)],
      ['targets too short', (api) => api.sigmoidFocalLoss(x, t.subarray(1))],
      ['gamma -1', (api) => api.sigmoidFocalLossWithGrad(x, t, { gamma: -1 })],
      ['unknown reduction', (api) => api.sigmoidFocalLoss(x, t, { reduction: 'avg' as never })],
      ['gradOut too short', (api) => api.sigmoidFocalLossWithGrad(x, t, { gradOut: new Float32Array(3) })],
      ['out overlapping logits', (api) => api.sigmoidFocalLoss(x, t, { reduction: 'none', out: x })],
      ['NaN logit late', (api) => api.sigmoidFocalLoss(nanLate, t)],
      ['targets out of range in two workers', (api) => api.sigmoidFocalLossWithGrad(x, twoBad)],
      ['plain array with a string', (api) => api.sigmoidFocalLoss(plain as number[], Array.from(t.subarray(0, 3 * CHUNK)))],
      ['RangeError before a TypeError', (api) => api.sigmoidFocalLoss(plain as number[], plainTargets)],
      ['mask of the wrong length', (api) => api.sigmoidFocalLoss(x, t, { mask: new Uint8Array(5) })],
    ];
    for (const [name, call] of calls) {
      const expected = await failure(() => call(fl));
      expect(expected, name).toMatch(/^(TypeError|RangeError): /);
      expect(await failure(() => call(pool)), name).toBe(expected);
    }
    expectSame(await pool.sigmoidFocalLoss(x, t), fl.sigmoidFocalLoss(x, t), 'after the errors');
  });

  test('without shared WebAssembly memory the workers stage from shared buffers: the same bits', async () => {
    // Ordinary arrays are placed in the workers' memories where shared wasm memory exists (as in Node); a runtime
    // without it gets the other path. Made to look like one here: createFocalPool probes for it once.
    const Memory = WebAssembly.Memory;
    const refusing = function (this: unknown, descriptor: WebAssembly.MemoryDescriptor) {
      if (descriptor.shared) throw new TypeError('no shared memory here');
      return new Memory(descriptor);
    } as unknown as typeof WebAssembly.Memory;
    WebAssembly.Memory = refusing;
    let staged: FocalPool;
    try {
      staged = await createFocalPool({ threads: 2 });
    } finally {
      WebAssembly.Memory = Memory;
    }
    const labels = Int32Array.from({ length: 3000 }, (_, i) => i % 7);
    const logits = x.subarray(0, 3000 * 7);
    const gradOut = new Float32Array(n);
    expectSame(await staged.sigmoidFocalLossWithGrad(x, soft, { gradOut }), fl.sigmoidFocalLossWithGrad(x, soft), 'sigmoid');
    expectSame(await staged.softmaxFocalLossWithGrad(logits, labels), fl.softmaxFocalLossWithGrad(logits, labels), 'softmax');
    expectSame(await staged.sigmoidFocalLoss(x, t, { reduction: 'none', out: new Float32Array(n) }), fl.sigmoidFocalLoss(x, t, { reduction: 'none' }), 'none');
    await staged.terminate();
  });

  test('ordinary arrays of a call are placed in the workers\' memories: a later, smaller call and concurrent calls', async () => {
    // A large call grows the workers' memories; a smaller one reuses them (stale contents beyond its length);
    // concurrent placed calls take turns (they share the place), each with its own answer.
    const big = 2_000_000;
    const { x: xb, t: tb } = inputs(big, 11);
    expectSame(await pool.sigmoidFocalLossWithGrad(xb, tb, { gradOut: new Float32Array(big) }), fl.sigmoidFocalLossWithGrad(xb, tb), 'big');
    const small = xb.subarray(0, 3 * CHUNK + 1);
    const smallT = tb.subarray(0, 3 * CHUNK + 1);
    const [a, b, c] = await Promise.all([
      pool.sigmoidFocalLossWithGrad(small, smallT, { gradOut: new Float32Array(small.length) }),
      pool.sigmoidFocalLoss(xb, tb, { reduction: 'none', out: new Float32Array(big) }),
      pool.softmaxFocalLossWithGrad(xb.subarray(0, 10 * 20000), Int32Array.from({ length: 20000 }, (_, i) => i % 10)),
    ]);
    expectSame(a, fl.sigmoidFocalLossWithGrad(small, smallT), 'small');
    expectSame(b, fl.sigmoidFocalLoss(xb, tb, { reduction: 'none' }), 'none');
    expectSame(c, fl.softmaxFocalLossWithGrad(xb.subarray(0, 10 * 20000), Int32Array.from({ length: 20000 }, (_, i) => i % 10)), 'softmax');
  });

  test('options of createFocalPool: the errors of createFocal, plus threads', async () => {
    expect(await failure(() => createFocalPool({ simd: 'yes' as never }))).toBe(await failure(() => createFocal({ simd: 'yes' as never })));
    expect(await failure(() => createFocalPool('two' as never))).toBe(await failure(() => createFocal('two' as never)));
    expect(await failure(() => createFocalPool({ threads: 0 }))).toBe('RangeError: options.threads = 0: expected an integer in [1, 256]');
    expect(await failure(() => createFocalPool({ threads: 1.5 }))).toBe('RangeError: options.threads = 1.5: expected an integer in [1, 256]');
    expect(await failure(() => createFocalPool({ threads: '2' as never }))).toBe("TypeError: options.threads = '2': expected an integer in [1, 256]");
  });

  test('terminate() ends the worker threads; calls in flight and after it reject', async () => {
    const before = osThreads();
    const p = await createFocalPool({ threads: 3 });
    expect(osThreads()).toBe(before + 3);
    const inFlight = failure(() => p.sigmoidFocalLoss(x, t));
    await p.terminate();
    expect(osThreads()).toBe(before);
    const message = 'Error: FocalPool: terminated (create a new pool with createFocalPool)';
    expect(await inFlight).toBe(message);
    expect(await failure(() => p.sigmoidFocalLossWithGrad(x, t))).toBe(message);
    await p.terminate(); // twice is harmless
  });
});

// In Chromium: the pool in a cross-origin isolated page (Web Workers from a Blob URL, SharedArrayBuffer) gives
// Node's single-thread results bit for bit; a page that is not isolated gets the documented error.
describe.skipIf(!haveChromium)('in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  beforeAll(async () => {
    const bundle = await esbuild.build({
      stdin: { contents: PAGE_ENTRY, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'browser',
      format: 'esm', write: false, logLevel: 'warning',
    });
    const script = bundle.outputFiles[0]!.text;
    server = createServer((req, res) => {
      const isolated = req.url?.startsWith('/isolated') ?? false;
      const headers: Record<string, string> = isolated
        ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
      if (req.url?.endsWith('.js')) {
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(script);
      } else {
        const src = isolated ? '/isolated/pool.js' : '/plain/pool.js';
        res.writeHead(200, { ...headers, 'content-type': 'text/html' })
          .end(`<!doctype html><link rel="icon" href="data:,"><script type="module" src="${src}"></script>`);
      }
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
  });

  test('a cross-origin isolated page: both builds, Node\'s results and errors bit for bit', async () => {
    const n = 3 * CHUNK + 5;
    const { x, t, soft } = inputs(n, 11);
    const bad = x.slice();
    bad[2 * CHUNK + 3] = Infinity;
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${origin}/isolated/index.html`);
    await page.waitForFunction(() => typeof (globalThis as Record<string, unknown>).runPool === 'function');
    for (const simd of [true, false]) {
      const got = await page.evaluate(
        ([simd, ...arrays]) => (globalThis as unknown as { runPool: (...a: unknown[]) => Promise<PageResult> }).runPool(simd, ...arrays),
        [simd, Array.from(x), Array.from(t), Array.from(soft), Array.from(bad)] as const,
      );
      const fl = createFocalSync({ simd });
      const single = fl.sigmoidFocalLossWithGrad(x, t);
      const none = fl.sigmoidFocalLoss(x, soft, { reduction: 'none' }) as Float32Array;
      expect(got.isolated).toBe(true);
      expect(got.simd).toBe(simd);
      expect(got.threads).toBe(2);
      expect(got.mean).toBe(single.loss);
      expect(got.sum).toBe(fl.sigmoidFocalLoss(x, soft, { reduction: 'sum', gamma: 0.5 }));
      expect(got.gradBits).toEqual(Array.from(new Uint32Array(single.grad.buffer)));
      expect(got.noneBits).toEqual(Array.from(new Uint32Array(none.buffer)));
      expect(got.error).toBe(await failure(() => fl.sigmoidFocalLoss(bad, t)));
      expect(got.terminated).toBe('Error: FocalPool: terminated (create a new pool with createFocalPool)');
    }
    await page.close();
    expect(problems).toEqual([]);
  });

  test('a page without cross-origin isolation: createFocalPool rejects, saying why', async () => {
    const page = await browser.newPage();
    await page.goto(`${origin}/plain/index.html`);
    await page.waitForFunction(() => typeof (globalThis as Record<string, unknown>).runPool === 'function');
    const got = await page.evaluate(() => (globalThis as unknown as { startPool: () => Promise<string> }).startPool());
    await page.close();
    expect(got).toMatch(/^Error: createFocalPool: SharedArrayBuffer is unavailable here\. Browsers provide it only to cross-origin isolated pages/);
  });
});

interface PageResult {
  isolated: boolean; simd: boolean; threads: number; mean: number; sum: number; gradBits: number[];
  noneBits: number[]; error: string; terminated: string;
}

/** The page's script (bundled by esbuild from this string): the pool as a browser user imports it. */
const PAGE_ENTRY = `
import { createFocalPool } from './src/index.ts';
const describe = (e) => e.constructor.name + ': ' + e.message;
globalThis.startPool = () => createFocalPool({ threads: 2 }).then(() => 'no error', describe);
globalThis.runPool = async (simd, x, t, soft, bad) => {
  const pool = await createFocalPool({ threads: 2, simd });
  const [x32, t32] = [Float32Array.from(x), Float32Array.from(t)];
  const { loss, grad } = await pool.sigmoidFocalLossWithGrad(x32, t32);
  const none = await pool.sigmoidFocalLoss(x, Float64Array.from(soft), { reduction: 'none' });
  const sum = await pool.sigmoidFocalLoss(x32, Float64Array.from(soft), { reduction: 'sum', gamma: 0.5 });
  const error = await pool.sigmoidFocalLoss(Float32Array.from(bad), t32).then(() => 'no error', describe);
  await pool.terminate();
  const terminated = await pool.sigmoidFocalLoss(x32, t32).then(() => 'no error', describe);
  return {
    isolated: globalThis.crossOriginIsolated, simd: pool.simd, threads: pool.threads, mean: loss, sum,
    gradBits: Array.from(new Uint32Array(grad.slice().buffer)), noneBits: Array.from(new Uint32Array(none.slice().buffer)),
    error, terminated,
  };
};
`;
