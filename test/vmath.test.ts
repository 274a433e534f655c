// The vector math (assembly/vmath.ts) over the whole float32 domain of each function, against float64 Math,
// in units in the last place of the float32 result. Every map runs its f32x4 body on the first n - n mod 4
// elements and the scalar twin on the rest, so both are covered, and the scalar build runs the twin on all.
import { beforeAll, describe, expect, test } from 'vitest';
import { CHUNK } from '../src/core/abi.js';
import type { Engine } from '../src/core/engine.js';
import { rawEngine, rng } from './engines.js';
import { sigmoid, softplus } from './reference.js';

type MapName = 'mapExp' | 'mapExpNonPositive' | 'mapExpCapped' | 'mapLog' | 'mapLog1p' | 'mapSigmoid' | 'mapSoftplus' | 'mapPow';

function mapThrough(engine: Engine, name: MapName, input: Float32Array, y = 0): Float32Array {
  const { arena, kernels } = engine;
  const [src, dst] = arena.stage(2, CHUNK).slots as [number, number];
  const out = new Float32Array(input.length);
  for (let from = 0; from < input.length; from += CHUNK) {
    const count = Math.min(CHUNK, input.length - from);
    arena.copyIn(input, from, count, src, 'input');
    if (name === 'mapPow') kernels.mapPow(src, dst, count, y);
    else kernels[name](src, dst, count);
    arena.copyOut(dst, count, out, from);
  }
  return out;
}

const MAX_F32 = 3.4028234663852886e38;

/** Error of a float32 result in ulps of the float32 nearest the float64 truth (subnormal ulp 2^-149). */
function ulpError(got: number, want: number): number {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  const rounded = Math.fround(want);
  if (!Number.isFinite(rounded) || Math.abs(want) > MAX_F32) return got === rounded ? 0 : Infinity;
  if (got === rounded) return 0;
  const exponent = Math.max(Math.floor(Math.log2(Math.abs(want))), -126);
  return Math.abs(got - want) / 2 ** (exponent - 23);
}

/** Every float32 exponent with several random mantissas, both signs, plus the special values. */
function wholeDomain(seed: number, perExponent = 24): Float32Array {
  const random = rng(seed);
  const values: number[] = [0, -0, Infinity, -Infinity, 2 ** -149, -(2 ** -149), 1.1754942e-38, MAX_F32, -MAX_F32];
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  for (let exponent = 0; exponent < 255; exponent++) {
    for (let j = 0; j < perExponent; j++) {
      const mantissa = Math.floor(random() * 0x800000);
      for (const sign of [0, 1]) {
        bits[0] = ((sign << 31) | (exponent << 23) | mantissa) >>> 0;
        values.push(f[0]!);
      }
    }
  }
  return Float32Array.from(values);
}

/** Dense uniform samples of [lo, hi]. */
function dense(lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function worstUlp(input: Float32Array, got: Float32Array, truth: (x: number) => number): { ulp: number; at: number } {
  let ulp = 0;
  let at = NaN;
  for (let i = 0; i < input.length; i++) {
    const e = ulpError(got[i]!, truth(input[i]!));
    if (!(e <= ulp)) {
      ulp = e;
      at = input[i]!;
    }
  }
  return { ulp, at };
}

interface Case {
  name: MapName;
  label: string;
  domain: Float32Array;
  truth: (x: number) => number;
  bound: number;
  y?: number;
}

const everywhere = wholeDomain(1);
const nonNegative = everywhere.filter((v) => v >= 0 || Object.is(v, -0));
const cases: Case[] = [
  { name: 'mapExp', label: 'exp', domain: concat(everywhere, dense(-110, 95, 200_003)), truth: Math.exp, bound: 1 },
  { name: 'mapLog', label: 'log', domain: concat(nonNegative, dense(0, 4, 100_001)), truth: Math.log, bound: 1 },
  {
    name: 'mapLog1p', label: 'log1p',
    domain: concat(everywhere.filter((v) => v >= -1), dense(-1, 3, 100_001), dense(-1e-6, 1e-6, 10_001)),
    truth: Math.log1p, bound: 1.5,
  },
  { name: 'mapSigmoid', label: 'sigmoid', domain: concat(everywhere, dense(-110, 110, 200_003)), truth: sigmoid, bound: 2.5 },
  { name: 'mapSoftplus', label: 'softplus', domain: concat(everywhere, dense(-110, 110, 200_003)), truth: softplus, bound: 2.5 },
];
// pow's exponent y reaches the kernel as float32, so the truth is x^fround(y). Its error grows with |y|: the
// rounding of y log2(m), |log2 m| <= 1/2, is the one error the exact yHi k + yLo k split cannot remove.
for (const y of [0, 0.5, 1, 2, 2.5, 5, 0.3, 7.1, 12.5]) {
  const y32 = Math.fround(y);
  const truth = (x: number): number => (y === 0 ? 1 : x ** y32);
  const domain = concat(nonNegative, dense(0, 1, 50_001));
  cases.push({ name: 'mapPow', label: `pow(x, ${y})`, domain, truth, bound: 2 + 0.6 * Math.abs(y), y });
}

const worst: Record<string, Record<string, string>> = {};

describe.each(['simd', 'scalar', 'debug'] as const)('vector math, %s build', (build) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await rawEngine(build);
  });

  test.each(cases)('$label over its whole domain', ({ name, label, domain, truth, bound, y }) => {
    const got = mapThrough(engine, name, domain, y);
    const { ulp, at } = worstUlp(domain, got, truth);
    (worst[label] ??= {})[build] = `${ulp.toFixed(2)} ulp at ${at}`;
    expect(ulp, `${label}: worst ${ulp} ulp at x = ${at}`).toBeLessThanOrEqual(bound);
  });

  test('no NaN or infinity from finite arguments where the result is finite', () => {
    const xs = dense(-1e4, 1e4, 40_001);
    for (const name of ['mapExp', 'mapSigmoid', 'mapSoftplus'] as const) {
      const got = mapThrough(engine, name, xs);
      for (let i = 0; i < xs.length; i++) {
        if (name === 'mapExp' && xs[i]! > 88.72) expect(got[i]).toBe(Infinity);
        else expect(Number.isFinite(got[i]), `${name}(${xs[i]}) = ${got[i]}`).toBe(true);
      }
    }
  });
});

describe('builds agree bit for bit', () => {
  test.each(cases)('$label: simd, scalar and debug give the same float32 bits', async ({ name, domain, y }) => {
    const outs = await Promise.all(
      (['simd', 'scalar', 'debug'] as const).map(async (b) => mapThrough(await rawEngine(b), name, domain, y)),
    );
    const bits = outs.map((o) => new Uint32Array(o.buffer));
    let differing = 0;
    for (let i = 0; i < domain.length; i++) {
      if (bits[0]![i] !== bits[1]![i] || bits[0]![i] !== bits[2]![i]) differing++;
    }
    expect(differing).toBe(0);
  });

  // The losses' exps by shorter routes: for x <= 0 (exp(-|x|), exp(x - max)), and capped at e^64 (the class-index
  // softmax pass). Each equals exp bit for bit on its domain, in every build.
  test.each([
    { name: 'mapExpNonPositive' as const, hi: 0 },
    { name: 'mapExpCapped' as const, hi: 64 },
  ])('$name equals exp bit for bit for x <= $hi, in every build', async ({ name, hi }) => {
    const domain = Float32Array.from(concat(wholeDomain(11, 64), dense(-110, hi, 400_003)).filter((x) => !(x > hi)));
    for (const b of ['simd', 'scalar', 'debug'] as const) {
      const engine = await rawEngine(b);
      const want = new Uint32Array(mapThrough(engine, 'mapExp', domain).buffer);
      const got = new Uint32Array(mapThrough(engine, name, domain).buffer);
      let differing = 0;
      for (let i = 0; i < domain.length; i++) if (got[i] !== want[i]) differing++;
      expect(differing, `${b}: ${differing} of ${domain.length} differ`).toBe(0);
    }
  });

  test('exp capped at 64 gives e^64 above it, finite', async () => {
    const engine = await rawEngine('simd');
    const got = mapThrough(engine, 'mapExpCapped', Float32Array.from([64, 65, 100, 1e30, Infinity]));
    expect(Array.from(got)).toEqual(Array(5).fill(got[0]));
    expect(Math.abs(got[0]! / Math.exp(64) - 1)).toBeLessThan(1.2e-7);
  });

  test('prints the worst errors', () => {
    console.table(worst);
    expect(Object.keys(worst).length).toBe(cases.length);
  });
});
