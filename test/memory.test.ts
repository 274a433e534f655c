// Memory: the wasm memory stays bounded whatever N is (inputs stream through fixed staging slots), results stay
// exact after memory.grow (views refreshed, whoever grew it), engines share no state, and caller-owned out/gradOut
// make a call allocate no ArrayBuffer. The engines are built with the internal loader so their memory is visible;
// the public methods run on them through `new Focal(engine)`, exactly as createFocal does.
import { describe, expect, test } from 'vitest';
import { Focal } from '../src/index.js';
import { loadEngineSync, type Engine } from '../src/core/engine.js';
import { CHUNK, ROW_SLACK } from '../src/core/abi.js';
import { HEADER_BYTES } from '../src/core/arena.js';
import { builds, rng } from './engines.js';

const PAGE = 65536;
/** Staging slots a class-index softmax call without weights lays out (logits; labels, class table, loss, gradient,
 * scratch): src/core/rows.ts. An elementwise call takes one per input array plus a loss and a gradient slot. */
const SOFTMAX_SLOTS = 6;
const slotsOf = (inputs: number): number => inputs + 2;
const pagesFor = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE;

function engineOf(build: string): { engine: Engine; fl: Focal } {
  const engine = loadEngineSync({ simd: build === 'simd' });
  return { engine, fl: new Focal(engine) };
}

function inputs(n: number, seed: number): { x: Float32Array; t: Float32Array; w: Float32Array } {
  const random = rng(seed);
  const x = new Float32Array(n);
  const t = new Float32Array(n);
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = (random() - 0.5) * 24;
    t[i] = random() < 0.2 ? random() : random() < 0.5 ? 0 : 1;
    w[i] = random() * 2;
  }
  return { x, t, w };
}

/** Loss and gradient of a fixed multi-chunk call, for bit comparisons. */
function fingerprint(fl: Focal, data: ReturnType<typeof inputs>): { none: Float32Array; grad: Float32Array; mean: number; sum: number } {
  const fused = fl.sigmoidFocalLossWithGrad(data.x, data.t, { reduction: 'none', weights: data.w, gamma: 1.5 });
  return {
    none: fused.loss as Float32Array,
    grad: fused.grad,
    mean: fl.sigmoidFocalLoss(data.x, data.t) as number,
    sum: fl.sigmoidFocalLoss(data.x, data.t, { reduction: 'sum', weights: data.w, alpha: null, gamma: 0.5 }) as number,
  };
}
function expectSame(got: ReturnType<typeof fingerprint>, want: ReturnType<typeof fingerprint>): void {
  expect(Object.is(got.mean, want.mean)).toBe(true);
  expect(Object.is(got.sum, want.sum)).toBe(true);
  expect(Buffer.from(got.none.buffer).equals(Buffer.from(want.none.buffer))).toBe(true);
  expect(Buffer.from(got.grad.buffer).equals(Buffer.from(want.grad.buffer))).toBe(true);
}

describe.each(builds)('memory, $name build', ({ name }) => {
  test('10,000 calls with sizes from 1 to 4e6 never grow the memory past the staging slots', () => {
    const { engine, fl } = engineOf(name);
    const initial = engine.arena.byteLength;
    // The bound: the module's static data (below arena.base), the arena's header (reduction lanes, stream table,
    // parameter block), and the six staging slots of CHUNK float32 this loop's softmax call lays out, rounded up
    // to whole pages. Not a function of N.
    const bound = Math.max(initial, pagesFor(engine.arena.base + HEADER_BYTES + SOFTMAX_SLOTS * CHUNK * 4));
    const firstBound = pagesFor(engine.arena.base + HEADER_BYTES + slotsOf(2) * CHUNK * 4); // logits, targets
    const sigmoidBound = pagesFor(engine.arena.base + HEADER_BYTES + slotsOf(3) * CHUNK * 4); // and weights
    const labels = Int32Array.from({ length: 400_000 }, (_, i) => (i * 7) % 10);
    const MAX = 4_000_000;
    const data = inputs(MAX, 1);
    const out = new Float32Array(MAX);
    const gradOut = new Float32Array(MAX);
    const random = rng(2);
    let peak = 0;
    let elements = 0;
    let firstCallBytes = 0;
    // 9,990 sizes log-uniform in [1, 2e4], ten in [2e4, 4e6] (4e6 itself the last): every size class is used and
    // the loop stays a few seconds (~3e7 elements).
    const sizes = Array.from({ length: 10_000 }, (_, k) =>
      k % 1000 === 999 ? (k === 9999 ? MAX : Math.floor(2e4 * 200 ** random())) : Math.max(1, Math.floor(2e4 ** random())),
    );
    for (let k = 0; k < sizes.length; k++) {
      const n = sizes[k]!;
      elements += n;
      const x = data.x.subarray(0, n);
      const t = data.t.subarray(0, n);
      switch (k % 6) {
        case 4: {
          // softmax over rows of C = 10 (n rounded down to whole rows)
          const rows = Math.floor(n / 10);
          fl.softmaxFocalLoss(data.x.subarray(0, rows * 10), labels.subarray(0, rows), { classes: 10, reduction: 'sum' });
          break;
        }
        case 5:
          fl.binaryFocalLossWithGrad(t, t, { reduction: 'none', out, gradOut }); // t as a probability
          break;
        case 0:
          fl.sigmoidFocalLoss(x, t);
          break;
        case 1:
          fl.sigmoidFocalLoss(x, t, { reduction: 'sum', weights: data.w.subarray(0, n), gamma: 0.5 });
          break;
        case 2:
          fl.sigmoidFocalLoss(x, t, { reduction: 'none', out });
          break;
        default:
          fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'none', out, gradOut, gamma: 3.3 });
      }
      if (k === 0) firstCallBytes = engine.arena.byteLength;
      if (k === 3) expect(engine.arena.byteLength).toBe(sigmoidBound); // sigmoid only so far: five slots at most
      peak = Math.max(peak, engine.arena.byteLength);
    }
    console.log(
      `${name}: ${sizes.length} calls, ${elements} elements, largest ${Math.max(...sizes)}: wasm memory ` +
        `${initial} B at start, ${firstCallBytes} B after the first (sigmoid) call, peak ${peak} B (bound ${bound} B)`,
    );
    expect(Math.max(...sizes)).toBe(MAX);
    expect(firstCallBytes).toBe(firstBound); // reserved by the first call, whatever its size
    expect(peak).toBe(bound); // reached at the first softmax call, never passed
    // and the last, largest call is still exact: equal to the same call on a fresh engine
    const fresh = engineOf(name).fl;
    const last = fl.sigmoidFocalLoss(data.x, data.t, { reduction: 'sum', weights: data.w });
    expect(Object.is(last, fresh.sigmoidFocalLoss(data.x, data.t, { reduction: 'sum', weights: data.w }))).toBe(true);
  });

  test('results stay exact after memory.grow: grown by the arena or behind its back, views are refreshed', () => {
    const data = inputs(3 * CHUNK + 11, 3);
    const want = fingerprint(engineOf(name).fl, data);
    const { engine, fl } = engineOf(name);
    expectSame(fingerprint(fl, data), want);
    const before = engine.arena.byteLength;

    // 1. the arena grows for wide slots (what a softmax row wider than a chunk asks for)
    const wide = engine.arena.stage(2, 1 << 20);
    expect(engine.arena.byteLength).toBeGreaterThan(before);
    expect(engine.arena.f32.buffer).toBe(engine.kernels.memory.buffer);
    expect(wide.elements).toBe(1 << 20);
    expectSame(fingerprint(fl, data), want);

    // 2. something else grows the memory (another user of the instance): the old buffer is detached, and the
    // arena's cached views must notice rather than write into an empty view.
    const oldBuffer = engine.kernels.memory.buffer;
    engine.kernels.memory.grow(3);
    expect(oldBuffer.byteLength).toBe(0); // detached
    expectSame(fingerprint(fl, data), want);
    expect(engine.arena.f64.buffer).toBe(engine.kernels.memory.buffer);

    // 3. grow between the chunks of the slots' users: alternate wide stages and calls
    for (let k = 1; k <= 4; k++) {
      engine.arena.stage(3, (1 << 20) + k * CHUNK);
      expectSame(fingerprint(fl, data), want);
    }
    // growth is to the widest slots asked for, never beyond: less than a page over 3 × (2^20 + 4 CHUNK) floats + lanes
    const widest = engine.arena.base + HEADER_BYTES + 3 * ((1 << 20) + 4 * CHUNK) * 4;
    expect(engine.arena.byteLength).toBeGreaterThanOrEqual(widest);
    expect(engine.arena.byteLength).toBeLessThan(widest + PAGE);
  });

  test('a softmax row wider than a chunk grows the memory to its width, once; every result stays exact', () => {
    const data = inputs(3 * CHUNK + 11, 8);
    const fresh = engineOf(name).fl;
    const want = fingerprint(fresh, data);
    const C = 100_003; // one row, wider than a chunk: the slots widen to C (rounded up to 16), never to N
    const wide = inputs(2 * C, 9).x;
    const wantWide = fresh.softmaxFocalLossWithGrad(wide, [5, C - 1], { classes: C, reduction: 'none', gamma: 0.5 });
    const { engine, fl } = engineOf(name);
    expectSame(fingerprint(fl, data), want);
    const before = engine.arena.byteLength;
    const oldBuffer = engine.kernels.memory.buffer;
    const got = fl.softmaxFocalLossWithGrad(wide, [5, C - 1], { classes: C, reduction: 'none', gamma: 0.5 });
    expect(oldBuffer.byteLength).toBe(0); // grown: the old buffer is detached
    const grown = engine.arena.byteLength;
    expect(grown).toBe(pagesFor(engine.arena.base + HEADER_BYTES + SOFTMAX_SLOTS * Math.ceil((C + ROW_SLACK) / 16) * 16 * 4));
    expect(grown).toBeGreaterThan(before);
    expect(Buffer.from((got.loss as Float32Array).buffer).equals(Buffer.from((wantWide.loss as Float32Array).buffer))).toBe(true);
    expect(Buffer.from(got.grad.buffer).equals(Buffer.from(wantWide.grad.buffer))).toBe(true);
    // the narrow calls after the grow read the new buffer: still exact, and the memory does not grow again
    expectSame(fingerprint(fl, data), want);
    fl.softmaxFocalLoss(wide, [1, 2], { classes: C });
    expect(engine.arena.byteLength).toBe(grown);
    console.log(`${name}: a softmax row of C = ${C} grew the wasm memory from ${before} B to ${grown} B`);
  });

  test('two engines in one process share no state', () => {
    const a = engineOf(name);
    const b = engineOf(name);
    expect(a.engine.kernels.memory).not.toBe(b.engine.kernels.memory);
    const d1 = inputs(2 * CHUNK + 3, 5);
    const d2 = inputs(CHUNK + 7, 6);
    const want1 = fingerprint(engineOf(name).fl, d1);
    const want2 = fingerprint(engineOf(name).fl, d2);
    // interleaved, each engine on its own data
    for (let k = 0; k < 3; k++) {
      expectSame(fingerprint(a.fl, d1), want1);
      expectSame(fingerprint(b.fl, d2), want2);
    }
    // growing one does not touch the other
    const bBytes = b.engine.arena.byteLength;
    a.engine.arena.stage(2, 1 << 19);
    expect(b.engine.arena.byteLength).toBe(bBytes);
    // an error half-way through a stream on one leaves the other (and itself) exact
    const bad = d1.x.slice();
    bad[CHUNK + 5] = NaN;
    expect(() => a.fl.sigmoidFocalLossWithGrad(bad, d1.t, { reduction: 'none', weights: d1.w })).toThrow(RangeError);
    expectSame(fingerprint(b.fl, d2), want2);
    expectSame(fingerprint(a.fl, d1), want1);
    // and writing into one engine's memory is invisible to the other
    a.engine.arena.f32.fill(12345, a.engine.arena.base >>> 2, (a.engine.arena.base >>> 2) + 1000);
    expectSame(fingerprint(b.fl, d2), want2);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Allocation per call. Two measurements, neither needing --expose-gc:
// 1. constructions of typed arrays and ArrayBuffers by the facade, counted by wrapping the global constructors
//    (the facade creates its outputs with `new Float32Array(n)`; the control shows the counter sees those);
// 2. process.memoryUsage().arrayBuffers (bytes of live ArrayBuffer backing stores) across many calls.
// What neither counts: small short-lived JS objects per call (the validated plan, the slot list, a subarray view
// per input per chunk). Those are garbage of O(N / CHUNK) tiny objects, not buffers; we do not claim zero for them.
const COUNTED = ['Float32Array', 'Float64Array', 'Int32Array', 'Uint8Array', 'ArrayBuffer'] as const;
/** Constructions that allocate a backing store, and views made on an existing buffer (no new memory). */
function countConstructions(fn: () => void): { allocations: number; views: number } {
  const g = globalThis as unknown as Record<string, unknown>;
  const saved = COUNTED.map((n) => g[n]);
  let allocations = 0;
  let views = 0;
  COUNTED.forEach((n, k) => {
    g[n] = new Proxy(saved[k] as object, {
      construct(target, args, newTarget) {
        if (args[0] instanceof ArrayBuffer || args[0] instanceof SharedArrayBuffer) views++;
        else allocations++;
        return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget);
      },
    });
  });
  try {
    fn();
  } finally {
    COUNTED.forEach((n, k) => (g[n] = saved[k]));
  }
  return { allocations, views };
}

describe.each(builds)('out and gradOut reuse, $name build', ({ name }) => {
  const n = 3 * CHUNK + 1;
  const data = inputs(n, 7);

  test('with out and gradOut a call allocates no typed array and no ArrayBuffer (every API)', () => {
    const { fl } = engineOf(name);
    const C = 7;
    const rows = Math.floor(n / C);
    const labels = Int32Array.from({ length: rows }, (_, i) => i % C);
    const z = data.x.subarray(0, rows * C);
    const out = new Float32Array(n);
    const gradOut = new Float32Array(n);
    const calls = 30;
    const iteration = (reuse: boolean): void => {
      const o = reuse ? { out, gradOut } : {};
      const r = fl.sigmoidFocalLossWithGrad(data.x, data.t, { reduction: 'none', weights: data.w, ...o });
      if (reuse && (r.loss !== out || r.grad !== gradOut)) throw new Error('out/gradOut not returned');
      fl.sigmoidFocalLossWithGrad(data.x, data.t, { reduction: 'mean', gradOut: o.gradOut });
      fl.sigmoidFocalLoss(data.x, data.t, { reduction: 'sum' });
      fl.softmaxFocalLossWithGrad(z, labels, { classes: C, reduction: 'none', ...o });
      fl.binaryFocalLossWithGrad(data.t, data.t, { reduction: 'none', ...o });
      fl.softmax(z, { classes: C, out: o.out });
      fl.sigmoid(data.x, { out: o.out });
    };
    iteration(true); // the arena is reserved once, by the first calls
    const reused = countConstructions(() => {
      for (let k = 0; k < calls; k++) iteration(true);
    });
    // the control: without out/gradOut the same loop allocates 2 + 1 + 2 + 2 + 1 + 1 = 9 arrays per iteration
    const allocating = countConstructions(() => {
      for (let k = 0; k < calls; k++) iteration(false);
    });
    console.log(
      `${name}: in ${calls} iterations of 7 calls, typed arrays allocated: ${reused.allocations} with out/gradOut ` +
        `(${reused.views} views on existing memory), ${allocating.allocations} without`,
    );
    expect(allocating.allocations).toBe(9 * calls);
    expect(reused.allocations).toBe(0);
  });

  test('with out and gradOut the live ArrayBuffer bytes do not grow over 500 calls', () => {
    const { fl } = engineOf(name);
    const out = new Float32Array(n);
    const gradOut = new Float32Array(n);
    fl.sigmoidFocalLossWithGrad(data.x, data.t, { reduction: 'none', out, gradOut });
    const before = process.memoryUsage().arrayBuffers;
    for (let k = 0; k < 500; k++) fl.sigmoidFocalLossWithGrad(data.x, data.t, { reduction: 'none', out, gradOut });
    const after = process.memoryUsage().arrayBuffers;
    // Without reuse these calls would create 500 × 2 × 196 KB = 197 MB of buffers.
    console.log(`${name}: arrayBuffers ${before} B before, ${after} B after 500 calls with out/gradOut`);
    expect(after - before).toBeLessThan(1 << 20);
  });
});
