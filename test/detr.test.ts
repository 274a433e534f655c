// fl.focalMatchingCost, the focal class cost of Deformable-DETR's HungarianMatcher (models/matcher.py), on both
// builds: against the float64 reference of the formula (exact logs) and the anchor's formula with + 1e-8
// (compat 'detr'), a hand-computed 2 x 2 case, SIMD / scalar bit identity, repeated target classes, errors.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocal, type Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { detrFocalCostAnchor, focalMatchingCostRef } from './reference.js';

const FLOOR = 1e-30;

/** Q x C logits: most in +-8, some in +-100, a few at +-1e4 and at 0. */
function randomLogits(queries: number, classes: number, seed: number, big = 1e4): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: queries * classes }, (_, i) => {
    const u = random() - 0.5;
    if (i % 211 === 0) return 0;
    if (i % 97 === 0) return Math.sign(u) * big;
    return i % 7 === 0 ? u * 200 : u * 16;
  });
}

function randomTargets(targets: number, classes: number, seed: number): Int32Array {
  const random = rng(seed);
  return Int32Array.from({ length: targets }, () => Math.floor(random() * classes));
}

type Ref = (x: number, alpha: number, gamma: number) => { cost: number; magnitude: number; resolution?: number };

/**
 * The worst errors of a Q x M cost against a reference: relative to the entry (floor 1e-30), and relative to the
 * size of its two terms (|pos| + |neg|), which is what float32 can promise where they cancel. With compat 'detr'
 * the error beyond twice the reference's `resolution` (a float32 probability's subnormal spacing) is counted.
 */
function errors(
  got: Float32Array, logits: Float32Array, classes: number, targets: Int32Array, alpha: number, gamma: number, ref: Ref,
): { relative: number; relativeAt: number; terms: number } {
  const M = targets.length;
  let relative = 0;
  let relativeAt = -1;
  let terms = 0;
  for (let q = 0; q < logits.length / classes; q++) {
    for (let m = 0; m < M; m++) {
      const { cost, magnitude, resolution = 0 } = ref(logits[q * classes + targets[m]!]!, alpha, gamma);
      const g = got[q * M + m]!;
      // What float32 cannot resolve (a subnormal probability's spacing) is not counted as error.
      const diff = Math.max(0, Math.abs(g - cost) - 2 * resolution);
      const r = diff === 0 ? 0 : diff / Math.max(Math.abs(cost), FLOOR);
      if (!(r <= relative)) {
        relative = r;
        relativeAt = q * M + m;
      }
      terms = Math.max(terms, diff === 0 ? 0 : diff / Math.max(magnitude, FLOOR));
    }
  }
  return { relative, relativeAt, terms };
}

const worst: Record<string, Record<string, number>> = {};
function record(what: string, build: string, error: number): void {
  const row = (worst[what] ??= {});
  row[build] = Math.max(row[build] ?? 0, error);
}

const PARAMS = [
  { alpha: 0.25, gamma: 2 },
  { alpha: 0.25, gamma: 0 },
  { alpha: 0.5, gamma: 1 },
  { alpha: 0, gamma: 0.5 },
  { alpha: 1, gamma: 2.5 },
  { alpha: 0.75, gamma: 3.7 },
] as const;

describe.each(builds)('focalMatchingCost, $name build', ({ name: build, create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  test.each(PARAMS)('against the float64 formula: alpha $alpha, gamma $gamma', ({ alpha, gamma }) => {
    const C = 91;
    const logits = randomLogits(300, C, 11 + gamma * 10);
    const targets = randomTargets(60, C, 12);
    const cost = fl.focalMatchingCost(logits, targets, { classes: C, alpha, gamma });
    expect(cost.length).toBe(300 * 60);
    const e = errors(cost, logits, C, targets, alpha, gamma, focalMatchingCostRef);
    record('exact logs, per entry', build, e.relative);
    record('exact logs, of |pos| + |neg|', build, e.terms);
    expect(e.terms).toBeLessThanOrEqual(1e-5);
    // Per entry: within 1e-5 wherever the two terms do not cancel (the cost crosses 0 where pos = neg).
    const M = targets.length;
    for (let q = 0; q < 300; q++) {
      for (let m = 0; m < M; m++) {
        const { cost: want, magnitude } = focalMatchingCostRef(logits[q * C + targets[m]!]!, alpha, gamma);
        if (Math.abs(want) < 0.5 * magnitude) continue;
        const diff = Math.abs(cost[q * M + m]! - want);
        expect(diff, `q ${q}, m ${m}`).toBeLessThanOrEqual(1e-5 * Math.max(Math.abs(want), FLOOR));
      }
    }
  });

  test.each(PARAMS)("compat 'detr' against the anchor's formula with + 1e-8: alpha $alpha, gamma $gamma", ({ alpha, gamma }) => {
    const C = 80;
    const logits = randomLogits(200, C, 21 + gamma * 10);
    // Logits where the 1e-8 decides: p within ~1e-8 of 0 or 1 (|x| ~ 18.4).
    logits.set([18, 18.42, 18.5, 19, 25, 40, -18, -18.42, -18.5, -19, -25, -40, 88, -88, 104, -104], 0);
    const targets = Int32Array.from({ length: C }, (_, c) => c);
    const cost = fl.focalMatchingCost(logits, targets, { classes: C, alpha, gamma, compat: 'detr' });
    const e = errors(cost, logits, C, targets, alpha, gamma, detrFocalCostAnchor);
    record("compat 'detr', per entry", build, e.relative);
    record("compat 'detr', of |pos| + |neg|", build, e.terms);
    expect(e.terms).toBeLessThanOrEqual(1e-6);
    // Per entry: within 1e-6 wherever pos and neg do not cancel.
    for (let i = 0; i < logits.length; i++) {
      const { cost: want, magnitude, resolution } = detrFocalCostAnchor(logits[i]!, alpha, gamma);
      if (Math.abs(want) < 0.5 * magnitude) continue;
      expect(Math.abs(cost[i]! - want), `entry ${i}, logit ${logits[i]}`)
        .toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(want), FLOOR) + 2 * resolution);
    }
    // The eps bounds the logs: -log(1e-8) = 18.42 at most, where the exact form grows with |x|.
    const far = fl.focalMatchingCost([1e4, -1e4], [0], { classes: 1, compat: 'detr' });
    expect(far[0]).toBeCloseTo(-(1 - 0.25) * -Math.log(1e-8), 5);
    expect(far[1]).toBeCloseTo(0.25 * -Math.log(1e-8), 5);
  });

  test('a hand-computed 2 x 2 case', () => {
    // logits (Q = 2, C = 2): query 0 = [0, ln 3], query 1 = [-ln 3, 0]; targets [1, 0]; alpha 1/4, gamma 2.
    //   x = 0:     p = 1/2; -log p = -log(1-p) = ln 2
    //              pos = 1/4 (1/2)^2 ln 2 = ln2 / 16, neg = 3/4 (1/2)^2 ln 2 = 3 ln2 / 16  -> cost = -ln2 / 8
    //   x = ln 3:  p = 3/4, 1-p = 1/4; -log p = ln(4/3), -log(1-p) = ln 4
    //              pos = 1/4 (1/16) ln(4/3) = ln(4/3) / 64, neg = 3/4 (9/16) ln 4 = 27 ln4 / 64
    //              -> cost = (0.2876821 - 37.4299419) / 64 = -0.5803479...
    //   x = -ln 3: p = 1/4, 1-p = 3/4; -log p = ln 4, -log(1-p) = ln(4/3)
    //              pos = 1/4 (9/16) ln 4 = 9 ln4 / 64, neg = 3/4 (1/16) ln(4/3) = 3 ln(4/3) / 64
    //              -> cost = (12.4766474 - 0.8630462) / 64 = 0.1814625...
    // cost[q, m] = cost of query q's logit of class targets[m]:
    //   [0, 0] class 1 of query 0 (x = ln 3)   [0, 1] class 0 of query 0 (x = 0)
    //   [1, 0] class 1 of query 1 (x = 0)      [1, 1] class 0 of query 1 (x = -ln 3)
    const ln3 = Math.log(3);
    const cost = fl.focalMatchingCost([0, ln3, -ln3, 0], [1, 0], { classes: 2 });
    const want = [(Math.log(4 / 3) - 27 * Math.log(4)) / 64, -Math.LN2 / 8, -Math.LN2 / 8, (9 * Math.log(4) - 3 * Math.log(4 / 3)) / 64];
    expect(want[0]).toBeCloseTo(-0.5803479, 6);
    expect(want[3]).toBeCloseTo(0.1814625, 6);
    for (let i = 0; i < 4; i++) expect(Math.abs(cost[i]! - want[i]!) / Math.abs(want[i]!), `entry ${i}`).toBeLessThan(1e-6);
  });

  test('repeated target classes give identical columns; M far above the distinct classes', () => {
    const C = 80;
    const logits = randomLogits(300, C, 31);
    const classes = [3, 79, 0, 3, 3, 42, 79, 0];
    const targets = Int32Array.from({ length: 1000 }, (_, m) => classes[m % classes.length]!);
    const cost = fl.focalMatchingCost(logits, targets, { classes: C });
    const single = fl.focalMatchingCost(logits, [3, 79, 0, 42], { classes: C });
    const column = new Map([[3, 0], [79, 1], [0, 2], [42, 3]]);
    const want = new Float32Array(300 * 1000);
    for (let q = 0; q < 300; q++) {
      for (let m = 0; m < targets.length; m++) want[q * 1000 + m] = single[q * 4 + column.get(targets[m]!)!]!;
    }
    expect(Buffer.from(cost.buffer).equals(Buffer.from(want.buffer))).toBe(true);
  });

  test('out is filled and returned; plain arrays and Float64Array logits; empty targets and queries', () => {
    const logits = [0.5, -1, 2, 3, -4, 0];
    const out = new Float32Array(7);
    expect(fl.focalMatchingCost(logits, [2, 0, 1], { classes: 3, out })).toBe(out);
    expect(out.subarray(0, 6)).toEqual(fl.focalMatchingCost(Float64Array.from(logits), Int32Array.from([2, 0, 1]), { classes: 3 }));
    expect(out[6]).toBe(0);
    expect(fl.focalMatchingCost(logits, [], { classes: 3 }).length).toBe(0);
    expect(fl.focalMatchingCost([], [1, 2], { classes: 3 }).length).toBe(0);
  });

  test('errors name the argument; the engine is intact afterwards', () => {
    const logits = Float32Array.from([0.5, -1, 2, 3, -4, 0]);
    const good = fl.focalMatchingCost(logits, [2, 0], { classes: 3 });
    const bad = Float32Array.from(logits);
    bad[4] = NaN;
    expect(() => fl.focalMatchingCost(bad, [2, 0], { classes: 3 })).toThrow(/^logits\[4\] = NaN: expected a finite number/);
    // Every logit is checked, the classes no target names too.
    expect(() => fl.focalMatchingCost(bad, [0], { classes: 3 })).toThrow(RangeError);
    expect(() => fl.focalMatchingCost([0, 1e39], [0], { classes: 2 })).toThrow(/^logits\[1\] = 1e\+39/);
    expect(() => fl.focalMatchingCost([0, 'a'] as never, [0], { classes: 2 })).toThrow(TypeError);
    expect(() => fl.focalMatchingCost(logits, [2, 3], { classes: 3 })).toThrow(/^targetClasses\[1\] = 3: expected an integer class index in \[0, 3\)/);
    expect(() => fl.focalMatchingCost(logits, [-1], { classes: 3 })).toThrow(/^targetClasses\[0\] = -1/);
    expect(() => fl.focalMatchingCost(logits, [0, 1.5], { classes: 3 })).toThrow(/^targetClasses\[1\] = 1\.5/);
    expect(() => fl.focalMatchingCost(logits, [0, '1'] as never, { classes: 3 })).toThrow(TypeError);
    expect(() => fl.focalMatchingCost(logits, Float32Array.from([0]) as never, { classes: 3 })).toThrow(/^targetClasses: expected an Int32Array/);
    expect(() => fl.focalMatchingCost(logits, [0], {} as never)).toThrow(/^options\.classes: required/);
    expect(() => fl.focalMatchingCost(logits, [0], undefined as never)).toThrow(TypeError);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 4 })).toThrow(/^logits\.length = 6: expected a multiple/);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, alpha: 1.5 })).toThrow(/^options\.alpha = 1\.5: expected a number in \[0, 1\]/);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, alpha: -0.1 })).toThrow(RangeError);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, alpha: null } as never)).toThrow(TypeError);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, gamma: -1 })).toThrow(/^options\.gamma = -1/);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, gamma: Infinity })).toThrow(RangeError);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, compat: 'mmdet' } as never)).toThrow(/^options\.compat = 'mmdet'/);
    expect(() => fl.focalMatchingCost(logits, [0, 1], { classes: 3, out: new Float32Array(3) })).toThrow(/^options\.out\.length = 3/);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, reduction: 'sum' } as never)).toThrow(/options\.reduction/);
    expect(() => fl.focalMatchingCost(logits, [0], { classes: 3, gradOut: new Float32Array(2) } as never)).toThrow(/^options\.gradOut: not an option of focalMatchingCost; its options are/);
    expect(fl.focalMatchingCost(logits, [2, 0], { classes: 3 })).toEqual(good);
  });
});

test('SIMD and scalar builds give bit-identical costs (Q = 300, C = 80, M = 100, logits up to +-1e4)', async () => {
  const [simd, scalar] = await Promise.all([createFocal({ simd: true }), createFocal({ simd: false })]);
  const C = 80;
  const logits = randomLogits(300, C, 41);
  const targets = randomTargets(100, C, 42);
  for (const options of [{}, { compat: 'detr' as const }, { gamma: 0.5, alpha: 0.6 }, { gamma: 3.3 }, { gamma: 0 }, { gamma: 1, compat: 'detr' as const }]) {
    const a = simd.focalMatchingCost(logits, targets, { classes: C, ...options });
    const b = scalar.focalMatchingCost(logits, targets, { classes: C, ...options });
    expect(a.every(Number.isFinite)).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), JSON.stringify(options)).toBe(true);
  }
});

afterAll(() => {
  console.log('focalMatchingCost: worst relative error per build');
  console.table(worst);
});
