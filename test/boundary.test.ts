// Specification for the boundary redesign: safety where JavaScript values enter the engine.
// - A call never detaches the views fl.alloc() handed out, even when it needs more memory.
// - A call cannot re-enter the same engine (a getter or Proxy trap that calls it gets an Error saying it is busy),
//   and such a call never returns a result computed from clobbered staging memory.
// - A detached input or output buffer is a TypeError naming the argument (not a length mismatch, not N = 0).
// - Running out of memory is a RangeError naming the argument and the size asked, and the engine stays usable.
// - Extreme but accepted values give finite numbers, or a RangeError naming the argument: never Infinity or NaN.
// Several of these fail on the facade as it was before the redesign; see the report in the commit message.
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { bits, builds, thrown } from './engines.js';

type AnyCall = (...args: unknown[]) => unknown;
const method = (fl: Focal, name: string): AnyCall =>
  (fl as unknown as Record<string, AnyCall>)[name]!.bind(fl);

const xs = (): number[] => [0.5, -1, 2, -3, 4, -5, 6, -7];
const ts = (): number[] => [1, 0, 1, 0, 1, 0, 0.25, 0.75];
const ps = (): number[] => [0.9, 0.1, 0.6, 0.3, 0.99, 0.5, 0.2, 0.7];
const zs = (): number[] => [1, 2, 3, 4, -1, 0, 0.5, 2, 0.5, 0.5, -2, 1]; // 3 rows of C = 4
const ys = (): number[] => [2, 0, 3];

function detached<T extends Float32Array | Float64Array | Int32Array | Uint8Array>(a: T): T {
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

// ---------------------------------------------------------------------------------------------------------------
describe.each(builds)('views from fl.alloc() survive every call, $name build', ({ create }) => {
  const C = 100_000; // wider than a staging slot (16384): the engine needs more memory than alloc reserved

  /** Two views filled with logits and targets, and copies of what was written. */
  function views(fl: Focal): { a: Float32Array; b: Float32Array; x: Float32Array; t: Float32Array } {
    const [a, b] = fl.alloc(1000, 1000) as [Float32Array, Float32Array];
    for (let i = 0; i < 1000; i++) {
      a[i] = Math.sin(i) * 6;
      b[i] = i % 3 === 0 ? 1 : 0;
    }
    return { a, b, x: a.slice(), t: b.slice() };
  }

  function expectIntact(fl: Focal, v: ReturnType<typeof views>): void {
    expect(v.a.length).toBe(1000);
    expect(v.b.length).toBe(1000);
    expect(bits(v.a).equals(bits(v.x))).toBe(true);
    expect(bits(v.b).equals(bits(v.t))).toBe(true);
    // the views still work as zero-copy inputs: the same loss as from copies
    expect(fl.sigmoidFocalLoss(v.a, v.b)).toBe(fl.sigmoidFocalLoss(v.x, v.t));
    expect(fl.sigmoidFocalLoss(v.x, v.t)).toBeGreaterThan(0);
  }

  /**
   * A call that needs more memory than is reserved while views are live: growing would detach them, so the call
   * is refused with a RangeError that says so (and says what to do), and the views keep working. After
   * fl.freeAll() the same call runs, and the memory it grew stays for the views allocated after it.
   */
  function refusedThenRuns(fl: Focal, call: () => number | Float32Array): void {
    const v = views(fl);
    const error = thrown(call);
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toMatch(/memory.*detach the 2 views from fl\.alloc\(\).*fl\.freeAll\(\)/);
    expectIntact(fl, v);
    fl.freeAll();
    expect(Number.isFinite(call())).toBe(true);
    expectIntact(fl, views(fl));
    expect(Number.isFinite(call())).toBe(true); // no grow any more: the views stay
  }

  test('softmaxFocalLoss on ordinary arrays with rows of 100,000 classes', async () => {
    const fl = await create();
    const logits = Float32Array.from({ length: 3 * C }, (_, i) => Math.cos(i) * 4);
    refusedThenRuns(fl, () => fl.softmaxFocalLoss(logits, [1, 2, 3], { classes: C }));
  });

  test('sigmoidFocalLoss on ordinary arrays with 200,000 class weights', async () => {
    const fl = await create();
    const n = 200_000;
    const logits = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 4);
    const targets = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
    refusedThenRuns(fl, () => fl.sigmoidFocalLoss(logits, targets, { classWeights: new Float32Array(n).fill(0.5) }));
  });

  test('softmaxFocalLossWithGrad on an alloc view (2 x 100,000) that needs more memory', async () => {
    const fl = await create();
    const view = fl.alloc(2 * C);
    for (let i = 0; i < view.length; i++) view[i] = Math.cos(i) * 4;
    const copy = Float32Array.from(view);
    const want = (await create()).softmaxFocalLossWithGrad(Float32Array.from(copy), [1, 5], { classes: C });
    let got: { loss: number | Float32Array; grad: Float32Array } | undefined;
    const error = thrown(() => {
      got = fl.softmaxFocalLossWithGrad(view, [1, 5], { classes: C });
    });
    if (error) {
      // the one other acceptable outcome: a RangeError saying memory is short, not a detached-buffer TypeError
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/memory/i);
    } else {
      expect(got!.loss).toBe(want.loss);
      expect(bits(got!.grad).equals(bits(want.grad))).toBe(true);
    }
    expect(view.length).toBe(2 * C);
    expect(bits(view).equals(bits(copy))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Re-entrancy: a value read by the engine runs code that calls the same engine.
interface ReentryCase {
  name: string;
  /** The call, with `first` as its first argument (logits or probs) and `second` its targets. */
  call: (fl: Focal, first: unknown, second: unknown) => unknown;
  first: () => number[];
  second: () => number[];
  /** Which argument is hooked: index 5 of the first (a getter), or every index of the second (a Proxy). */
  via: 'getter' | 'proxy';
}

const REENTRY: ReentryCase[] = [
  { name: 'sigmoidFocalLoss, logits getter', call: (fl, a, b) => fl.sigmoidFocalLoss(a as never, b as never), first: xs, second: ts, via: 'getter' },
  { name: 'sigmoidFocalLossWithGrad, logits getter', call: (fl, a, b) => fl.sigmoidFocalLossWithGrad(a as never, b as never, { reduction: 'none' }), first: xs, second: ts, via: 'getter' },
  { name: 'sigmoidFocalLoss with a mask, logits getter', call: (fl, a, b) => fl.sigmoidFocalLoss(a as never, b as never, { mask: new Uint8Array(8).fill(1), reduction: 'sum' }), first: xs, second: ts, via: 'getter' },
  { name: 'softmaxFocalLoss, logits getter', call: (fl, a, b) => fl.softmaxFocalLoss(a as never, b as never), first: zs, second: ys, via: 'getter' },
  { name: 'softmaxFocalLossWithGrad, class indices in a Proxy', call: (fl, a, b) => fl.softmaxFocalLossWithGrad(a as never, b as never), first: zs, second: ys, via: 'proxy' },
  { name: 'softmaxFocalLoss, class indices in a Proxy', call: (fl, a, b) => fl.softmaxFocalLoss(a as never, b as never, { reduction: 'sum' }), first: zs, second: ys, via: 'proxy' },
  { name: 'binaryFocalLoss, probs getter', call: (fl, a, b) => fl.binaryFocalLoss(a as never, b as never), first: ps, second: ts, via: 'getter' },
  { name: 'binaryFocalLossWithGrad, probs getter', call: (fl, a, b) => fl.binaryFocalLossWithGrad(a as never, b as never), first: ps, second: ts, via: 'getter' },
];

/** The arguments with a hook that calls `inner` whenever index 5 of the first (getter) or any index of the second
 * (Proxy) is read; the hook returns `value(real)` as the element. */
function hooked(c: ReentryCase, inner: () => void, value: (real: number) => number): [unknown, unknown] {
  const first: number[] = c.first();
  const second: number[] = c.second();
  if (c.via === 'getter') {
    const real = first[5]!;
    Object.defineProperty(first, 5, { get: () => { inner(); return value(real); }, enumerable: true, configurable: true });
    return [first, second];
  }
  const proxy = new Proxy(second, {
    get(target, key, receiver) {
      const got = Reflect.get(target, key, receiver) as unknown;
      if (typeof key === 'string' && /^\d+$/.test(key)) {
        inner();
        return value(got as number);
      }
      return got;
    },
  });
  return [first, proxy];
}

function sameResult(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (a instanceof Float32Array) return b instanceof Float32Array && bits(a).equals(bits(b));
  const p = a as { loss: unknown; grad: unknown };
  const q = b as { loss: unknown; grad: unknown };
  return sameResult(p.loss, q.loss) && sameResult(p.grad, q.grad);
}

describe.each(builds)('re-entrant calls, $name build', ({ create }) => {
  let fl: Focal;
  let fresh: Focal;
  beforeAll(async () => {
    fl = await create();
    fresh = await create();
  });
  /** An ordinary multi-value call, compared with a fresh engine's answer after each re-entry. */
  const check = (): void => {
    const x = Float32Array.from({ length: 40_000 }, (_, i) => Math.sin(i) * 8);
    const t = Float32Array.from({ length: 40_000 }, (_, i) => (i % 4 === 0 ? 1 : 0));
    expect(sameResult(fl.sigmoidFocalLossWithGrad(x, t), fresh.sigmoidFocalLossWithGrad(x, t))).toBe(true);
    expect(fl.softmaxFocalLoss(zs(), ys())).toBe(fresh.softmaxFocalLoss(zs(), ys()));
  };

  for (const c of REENTRY) {
    test(`${c.name}: the inner call's busy error propagates; no result is returned`, () => {
      const [a, b] = hooked(c, () => fl.sigmoidFocalLoss([1, 2], [0, 1]), (v) => v);
      let result: unknown = 'none';
      const error = thrown(() => {
        result = c.call(fl, a, b);
      });
      expect(result, 'the outer call must not return').toBe('none');
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toMatch(/busy/);
      check();
    });

    test(`${c.name}: a hook that catches the busy error gets the plain call's exact result`, () => {
      let caught = 0;
      const [a, b] = hooked(c, () => {
        try {
          fl.sigmoidFocalLoss([1, 2], [0, 1]);
        } catch (e) {
          if (/busy/.test((e as Error).message)) caught++;
        }
      }, (v) => (c.via === 'getter' ? 0.5 : v));
      const plainFirst = c.first();
      if (c.via === 'getter') plainFirst[5] = 0.5;
      const want = c.call(fresh, plainFirst, c.second());
      const got = c.call(fl, a, b);
      expect(sameResult(got, want), 'the outer result equals the same call without the hook').toBe(true);
      expect(caught, 'the inner call was refused as busy').toBeGreaterThan(0);
      check();
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Detached buffers.
describe.each(builds)('detached buffers are a TypeError naming the argument, $name build', ({ create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });
  const f32 = (a: number[]): Float32Array => Float32Array.from(a);
  const d32 = (n: number): Float32Array => detached(new Float32Array(n));

  const CASES: ReadonlyArray<readonly [string, (fl: Focal) => unknown, RegExp]> = [
    ['sigmoidFocalLoss: logits', (fl) => fl.sigmoidFocalLoss(d32(8), f32(ts())), /logits.*detached/],
    ['sigmoidFocalLoss: targets', (fl) => fl.sigmoidFocalLoss(f32(xs()), d32(8)), /targets.*detached/],
    ['sigmoidFocalLoss: a Float64Array of targets', (fl) => fl.sigmoidFocalLoss(f32(xs()), detached(new Float64Array(8))), /targets.*detached/],
    ['sigmoidFocalLoss: options.weights', (fl) => fl.sigmoidFocalLoss(f32(xs()), f32(ts()), { weights: d32(8) }), /options\.weights.*detached/],
    ['sigmoidFocalLoss: options.out', (fl) => fl.sigmoidFocalLoss(f32(xs()), f32(ts()), { reduction: 'none', out: d32(8) }), /options\.out.*detached/],
    ['sigmoidFocalLossWithGrad: options.gradOut', (fl) => fl.sigmoidFocalLossWithGrad(f32(xs()), f32(ts()), { gradOut: d32(8) }), /options\.gradOut.*detached/],
    ['sigmoidFocalLoss: options.mask', (fl) => fl.sigmoidFocalLoss(f32(xs()), f32(ts()), { mask: detached(new Uint8Array(8)) }), /options\.mask.*detached/],
    ['sigmoidFocalLoss: options.classWeights', (fl) => fl.sigmoidFocalLoss(f32(xs()), f32(ts()), { classes: 2, classWeights: d32(2) }), /options\.classWeights.*detached/],
    ['sigmoidFocalLossStar: logits', (fl) => fl.sigmoidFocalLossStar(d32(8), f32(ts())), /logits.*detached/],
    ['varifocalLossWithGrad: options.gradOut', (fl) => fl.varifocalLossWithGrad(f32(xs()), f32(ts()), { gradOut: d32(8) }), /options\.gradOut.*detached/],
    ['softmaxFocalLoss: logits', (fl) => fl.softmaxFocalLoss(d32(12), ys(), { classes: 4 }), /logits.*detached/],
    ['softmaxFocalLoss: class indices', (fl) => fl.softmaxFocalLoss(f32(zs()), detached(new Int32Array(3))), /targets.*detached/],
    ['softmaxFocalLoss: soft targets', (fl) => fl.softmaxFocalLoss(f32(zs()), d32(12), { classes: 4 }), /targets.*detached/],
    ['softmaxFocalLoss: options.weights', (fl) => fl.softmaxFocalLoss(f32(zs()), ys(), { weights: d32(3) }), /options\.weights.*detached/],
    ['softmaxFocalLoss: options.alpha', (fl) => fl.softmaxFocalLoss(f32(zs()), ys(), { alpha: d32(4) }), /options\.alpha.*detached/],
    ['softmaxFocalLoss: options.out', (fl) => fl.softmaxFocalLoss(f32(zs()), ys(), { reduction: 'none', out: d32(3) }), /options\.out.*detached/],
    ['softmaxFocalLossWithGrad: options.gradOut', (fl) => fl.softmaxFocalLossWithGrad(f32(zs()), ys(), { gradOut: d32(12) }), /options\.gradOut.*detached/],
    ['binaryFocalLoss: probs', (fl) => fl.binaryFocalLoss(d32(8), f32(ts())), /probs.*detached/],
    ['binaryFocalLoss: targets', (fl) => fl.binaryFocalLoss(f32(ps()), d32(8)), /targets.*detached/],
    ['binaryFocalLoss: options.weights', (fl) => fl.binaryFocalLoss(f32(ps()), f32(ts()), { weights: d32(8) }), /options\.weights.*detached/],
    ['binaryFocalLoss: options.out', (fl) => fl.binaryFocalLoss(f32(ps()), f32(ts()), { reduction: 'none', out: d32(8) }), /options\.out.*detached/],
    ['binaryFocalLossWithGrad: options.gradOut', (fl) => fl.binaryFocalLossWithGrad(f32(ps()), f32(ts()), { gradOut: d32(8) }), /options\.gradOut.*detached/],
    ['softmax(): logits', (fl) => fl.softmax(d32(12), { classes: 4 }), /logits.*detached/],
    ['sigmoid(): options.out', (fl) => fl.sigmoid(f32(xs()), { out: d32(8) }), /options\.out.*detached/],
    // Both inputs detached: lengths agree (0 = 0), which silently gave a loss of 0 for N = 0.
    ['sigmoidFocalLoss: logits and targets both', (fl) => fl.sigmoidFocalLoss(d32(8), d32(8)), /(logits|targets).*detached/],
    ['sigmoidFocalLossWithGrad: logits and targets both', (fl) => fl.sigmoidFocalLossWithGrad(d32(8), d32(8)), /(logits|targets).*detached/],
    ['softmaxFocalLoss: logits and soft targets both', (fl) => fl.softmaxFocalLoss(d32(12), d32(12), { classes: 4 }), /(logits|targets).*detached/],
    ['binaryFocalLoss: probs and targets both', (fl) => fl.binaryFocalLoss(d32(8), d32(8)), /(probs|targets).*detached/],
    ['softmax(): logits (no options)', (fl) => fl.softmax(d32(12)), /logits.*detached/],
  ];

  test.each(CASES)('%s', (_, call, message) => {
    const error = thrown(() => call(fl));
    expect(error, 'it must throw').toBeInstanceOf(TypeError);
    expect(error!.message).toMatch(message);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Out of memory.
describe.each(builds)('running out of memory, $name build', ({ create }) => {
  test('fl.alloc(2 ** 31) (8 GiB) is a RangeError naming n and the size; the engine keeps working', async () => {
    const fl = await create();
    const before = fl.alloc(16);
    before.fill(3);
    const error = thrown(() => fl.alloc(2 ** 31));
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toMatch(/\bn\b|lengths\[0\]/);
    expect(error!.message).toMatch(/2147483648|8589934592/);
    expect(error!.message).not.toContain('WebAssembly.Memory');
    // nothing was lost: the earlier view, later allocations and ordinary calls work
    expect(before.length).toBe(16);
    expect(before[15]).toBe(3);
    const after = fl.alloc(16);
    expect(after.length).toBe(16);
    const x = Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 5);
    const t = Float32Array.from({ length: 5000 }, (_, i) => (i % 2 ? 1 : 0));
    const fresh = await create();
    expect(fl.sigmoidFocalLoss(x, t)).toBe(fresh.sigmoidFocalLoss(x, t));
    expect(fl.softmaxFocalLoss(x, Int32Array.from({ length: 50 }, (_, i) => i % 100), { classes: 100 }))
      .toBe(fresh.softmaxFocalLoss(x, Int32Array.from({ length: 50 }, (_, i) => i % 100), { classes: 100 }));
  });

  test('fl.alloc(8, 2 ** 31) names lengths[1]', async () => {
    const fl = await create();
    const error = thrown(() => fl.alloc(8, 2 ** 31));
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toMatch(/lengths/);
    expect(error!.message).toMatch(/2147483648|85899346\d\d/);
    expect(error!.message).not.toContain('WebAssembly.Memory');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Edge values: finite results, or a RangeError naming the argument.
interface Edge {
  family: string;
  what: string;
  first: number[];
  second: number[];
  options: Record<string, unknown>;
}

const LOGITS = [20, -20, 1e4, -1e4, 20, -20, 1e4, -1e4];
const HARD = [1, 1, 1, 1, 0, 0, 0, 0];
const SOFT = [1, 0.5, 0.3, 1, 0, 0, 0, 0]; // IoU-like scores for QFL and VFL
const PROBS = [0, 1, 0.5, 1e-7, 0.9999999, 0.999, 0.001, 1];
const ROWS = [20, -20, 1e4, -1e4, 0, 1, 2, 3, 1e4, -1e4, 5, 5]; // 3 rows of C = 4
const LABELS = [0, 3, 1];

const SIGMOID_FAMILIES = ['sigmoidFocalLoss', 'sigmoidFocalLossStar', 'qualityFocalLoss', 'varifocalLoss', 'polyFocalLoss'];
const FAMILIES = [...SIGMOID_FAMILIES, 'softmaxFocalLoss', 'binaryFocalLoss'];

function inputsOf(family: string): { first: number[]; second: number[]; n: number } {
  if (family === 'softmaxFocalLoss') return { first: ROWS, second: LABELS, n: 3 };
  if (family === 'binaryFocalLoss') return { first: PROBS, second: HARD, n: 8 };
  const soft = family === 'qualityFocalLoss' || family === 'varifocalLoss';
  return { first: LOGITS, second: soft ? SOFT : HARD, n: 8 };
}

function edges(): Edge[] {
  const list: Edge[] = [];
  for (const family of FAMILIES) {
    const { first, second, n } = inputsOf(family);
    const add = (what: string, options: Record<string, unknown>): void => {
      list.push({ family, what, first, second, options });
    };
    for (const w of [3e38, -1, -3e38]) add(`weights ${w}`, { weights: new Array(n).fill(w) });
    add('mixed weights 3e38 and 1', { weights: Array.from({ length: n }, (_, i) => (i % 2 ? 3e38 : 1)) });
    if (family === 'qualityFocalLoss') add('beta 1e30', { beta: 1e30 });
    else add('gamma 1e30', { gamma: 1e30 });
    if (family === 'sigmoidFocalLossStar') add('beta 1e30', { beta: 1e30 });
    if (family === 'varifocalLoss') add('alpha 3e38', { alpha: 3e38 });
    if (family === 'softmaxFocalLoss') add('alpha [3e38 x C]', { alpha: [3e38, 3e38, 3e38, 3e38] });
    if (SIGMOID_FAMILIES.includes(family)) add('mask -1', { mask: new Array(n).fill(-1) });
  }
  return list;
}

function nonFinite(result: unknown): string | undefined {
  const check = (v: unknown, where: string): string | undefined => {
    if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${where} = ${v}`;
    if (v instanceof Float32Array) {
      const i = v.findIndex((e) => !Number.isFinite(e));
      return i < 0 ? undefined : `${where}[${i}] = ${v[i]}`;
    }
    const r = v as { loss: unknown; grad: unknown };
    return check(r.loss, 'loss') ?? check(r.grad, 'grad');
  };
  return check(result, 'loss');
}

/** 'finite', or 'RangeError' (naming an argument): the two accepted outcomes; anything else is the failure. */
function outcome(call: () => unknown): string {
  let result: unknown;
  try {
    result = call();
  } catch (e) {
    const error = e as Error;
    if (error instanceof RangeError && /options\.|logits|targets|probs/.test(error.message)) return 'RangeError';
    return `${error.constructor.name}: ${error.message}`;
  }
  const bad = nonFinite(result);
  return bad === undefined ? 'finite' : `returned ${bad}`;
}

describe.each(builds)('edge values give finite results or a RangeError naming the argument, $name build', ({ create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  for (const e of edges()) {
    for (const withGrad of [false, true]) {
      for (const reduction of ['none', 'sum'] as const) {
        const name = `${e.family}${withGrad ? 'WithGrad' : ''}`;
        test(`${name}, ${e.what}, reduction '${reduction}'`, () => {
          const got = outcome(() => method(fl, name)(e.first, e.second, { ...e.options, reduction }));
          expect(['finite', 'RangeError']).toContain(got);
        });
      }
    }
  }

  test('negative per-element weights are treated the same way by every family that takes weights', () => {
    const outcomes = FAMILIES.map((family) => {
      const { first, second, n } = inputsOf(family);
      return [family, outcome(() => method(fl, `${family}WithGrad`)(first, second, { weights: new Array(n).fill(-1), reduction: 'sum' }))];
    });
    const kinds = new Set(outcomes.map(([, o]) => o));
    expect(kinds.size, JSON.stringify(outcomes)).toBe(1);
    expect(['finite', 'RangeError']).toContain([...kinds][0]);
  });
});

describe.each(builds)('an overflow that makes a reduction lane NaN is still named, $name build', ({ create }) => {
  test('weights +3e38 and -3e38 in one lane (index 0 and 4): the overflow, not "invalid values between"', async () => {
    const fl = await create();
    const logits = new Float32Array(8).fill(1e4);
    const targets = new Float32Array(8);
    const weights = Float32Array.of(3e38, 1, 1, 1, -3e38, 1, 1, 1);
    for (const call of [
      () => fl.sigmoidFocalLoss(logits, targets, { weights, reduction: 'sum' }),
      () => fl.sigmoidFocalLossWithGrad(logits, targets, { weights }),
      () => fl.binaryFocalLoss(new Float32Array(8).fill(1), targets, { weights }),
      () => fl.polyFocalLoss(logits, targets, { weights, mask: new Uint8Array(8).fill(1) }),
    ]) {
      const error = thrown(call);
      expect(error).toBeInstanceOf(RangeError);
      expect(error!.message).toMatch(/^the loss at index 0 overflows float32 \(.*options\.weights\[0\] = 3(\.\d+)?e\+38/);
    }
  });
});
