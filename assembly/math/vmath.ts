// Vector math shared by the loss kernels: exp, log, log1p, sigmoid, softplus, pow on f32x4, each beside its
// scalar twin, and a 4 x 4 tile transpose. A twin performs the same float32 operations in the same order as its
// vector form, so the SIMD build, the scalar build and the loop tails give bit-identical results (tested in
// test/vmath.test.ts).
// Domains and worst errors in float32 ulps, measured against float64 on every float32 binade (24 random
// mantissas each, both signs) plus dense grids (test/vmath.test.ts asserts these bounds for all three builds):
//   exp      all x; +inf above 88.72, subnormal results rounded once, 0 below -103.9    <= 1 ulp    (0.96)
//   log      x >= 0, subnormals included; log(0) = -inf, log(+inf) = +inf               <= 1 ulp    (0.76)
//   log1p    x >= -1; log1p(-1) = -inf, log1p(+inf) = +inf                               <= 1.5 ulp  (1.43)
//   sigmoid  all x                                                                        <= 2.5 ulp  (2.20)
//   softplus all x (its log1p is the atanh series of log1pUnitF32)                        <= 2.5 ulp  (2.37)
//   pow      x >= 0, finite y; x^0 = 1 (0^0 = 1, as torch.pow), 0^y = 0 for y > 0        <= 2 + 0.6|y| ulp
// ---- constants ------------------------------------------------------------------------------------------
// exp: Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2; ln2 split so that k * LN2_HI is exact for |k| < 2^15.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
// e^r = 1 + r + r^2 P(r) on |r| <= 0.3466: minimax coefficients from Cephes expf.c (S. Moshier), ~1 ulp.
const EXP_P0: f32 = 1.9875691500e-4;
const EXP_P1: f32 = 1.3981999507e-3;
const EXP_P2: f32 = 8.3334519073e-3;
const EXP_P3: f32 = 4.1665795894e-2;
const EXP_P4: f32 = 1.6666665459e-1;
const EXP_P5: f32 = 5.0000001201e-1;
const EXP_MAX: f32 = 88.8; // above: the 2^k scaling overflows to +inf by itself
const EXP_MIN: f32 = -104.0; // below: e^x < 2^-150, rounds to 0; clamping keeps k in the two-step scaling range

// log: x = 2^k m with m in [sqrt(1/2), sqrt(2)), f = m - 1, s = f / (2 + f), log(m) = f - hfsq + s (hfsq + R(s^2)).
// R is the fdlibm e_logf.c minimax polynomial (|error| < 2^-34 on the reduced range); LN2 split as there.
const LOG_LG1: f32 = 0.66666662693;
const LOG_LG2: f32 = 0.40000972152;
const LOG_LG3: f32 = 0.28498786688;
const LOG_LG4: f32 = 0.24279078841;
const LOG_LN2_HI: f32 = 6.9313812256e-01;
const LOG_LN2_LO: f32 = 9.0580006145e-06;
const SQRT_HALF_BITS: i32 = 0x3f3504f3; // bits of sqrt(1/2): the mantissa is renormalized around it
const ONE_BITS: i32 = 0x3f800000;
export const MIN_NORMAL: f32 = 1.17549435e-38;
const TWO_POW_23: f32 = 8388608.0;
const TWO_POW_MINUS_64: f32 = 5.42101086242752217e-20;
const TWO_POW_MINUS_32: f32 = 2.3283064365386963e-10;
const INF: f32 = Infinity;

// ---- scalar helpers that mirror the vector instructions exactly ------------------------------------------
// f32x4.pmin/pmax are "b < a ? b : a" / "a < b ? b : a"; f32.min/max differ on -0, so the twins use these.
// @ts-ignore: decorator
@inline export function pminF32(a: f32, b: f32): f32 { return select<f32>(b, a, b < a); }
// @ts-ignore: decorator
@inline export function pmaxF32(a: f32, b: f32): f32 { return select<f32>(b, a, a < b); }
// 2^k for k in [-126, 127] from the exponent bits.
// @ts-ignore: decorator
@inline function pow2iF32(k: i32): f32 { return reinterpret<f32>((k + 127) << 23); }
// @ts-ignore: decorator
@inline function pow2iF32x4(k: v128): v128 { return i32x4.shl(i32x4.add(k, i32x4.splat(127)), 23); }

// ---- exp --------------------------------------------------------------------------------------------------
// Scaling by 2^k in two halves keeps each factor a normal number, so results that are subnormal round once.
// Shared by both exps: k = nearest(x log2e) comes from adding 1.5 * 2^23, whose round-to-nearest-even leaves k in
// the sum's low mantissa bits (exact for |x log2e| < 2^22), so neither a rounding instruction nor a float-to-int
// conversion (five instructions under V8) is needed; then r = x - k ln2 and e^r = 1 + r + r^2 P(r).
const ROUND_SHIFTER: f32 = 12582912.0;
const ROUND_SHIFTER_BITS: i32 = 0x4b400000;

// @ts-ignore: decorator
@inline function expMantissaF32(x: f32, kf: f32): f32 {
  const r: f32 = (x - kf * LN2_HI) - kf * LN2_LO;
  let p: f32 = EXP_P0;
  p = p * r + EXP_P1;
  p = p * r + EXP_P2;
  p = p * r + EXP_P3;
  p = p * r + EXP_P4;
  p = p * r + EXP_P5;
  return (p * (r * r) + r) + 1.0;
}

// @ts-ignore: decorator
@inline function expMantissaF32x4(x: v128, kf: v128): v128 {
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(kf, f32x4.splat(LN2_HI))), f32x4.mul(kf, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(EXP_P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P5));
  return f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
}

// e^x on all x: clamped to [EXP_MIN, EXP_MAX], then y 2^k as (y 2^k1) 2^(k - k1), k1 = k >> 1.
// @ts-ignore: decorator
@inline export function expF32(x: f32): f32 {
  x = pmaxF32(pminF32(x, EXP_MAX), EXP_MIN);
  const shifted: f32 = x * LOG2E + ROUND_SHIFTER;
  const y = expMantissaF32(x, shifted - ROUND_SHIFTER);
  const k = reinterpret<i32>(shifted) - ROUND_SHIFTER_BITS;
  const k1 = k >> 1;
  return y * pow2iF32(k1) * pow2iF32(k - k1);
}

// @ts-ignore: decorator
@inline export function expF32x4(x: v128): v128 {
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND_SHIFTER));
  const y = expMantissaF32x4(x, f32x4.sub(shifted, f32x4.splat(ROUND_SHIFTER)));
  const k = i32x4.sub(shifted, i32x4.splat(ROUND_SHIFTER_BITS));
  const k1 = i32x4.shr_s(k, 1);
  return f32x4.mul(f32x4.mul(y, pow2iF32x4(k1)), pow2iF32x4(i32x4.sub(k, k1)));
}

// e^x by one scaling step for x already clamped to a range where k + offset + 127 stays in [1, 254]: the product
// y 2^(k + offset) is exact (normal) and the product by 2^-offset rounds once, as the two-step scaling's second
// product does, so the bits are expF32's. With shifted's low mantissa bits = k, the biased exponent
// k + offset + 127 is (shifted's bits + offset + 127) mod 2^9: one add and one shift. `unscale` = 2^-offset.
// @ts-ignore: decorator
@inline function expOneStepF32(x: f32, offset: i32, unscale: f32): f32 {
  const shifted: f32 = x * LOG2E + ROUND_SHIFTER;
  const y = expMantissaF32(x, shifted - ROUND_SHIFTER);
  return y * reinterpret<f32>((reinterpret<i32>(shifted) + (offset + 127)) << 23) * unscale;
}

// @ts-ignore: decorator
@inline function expOneStepF32x4(x: v128, offset: i32, unscale: f32): v128 {
  const shifted = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND_SHIFTER));
  const y = expMantissaF32x4(x, f32x4.sub(shifted, f32x4.splat(ROUND_SHIFTER)));
  const scale = i32x4.shl(i32x4.add(shifted, i32x4.splat(offset + 127)), 23);
  return f32x4.mul(f32x4.mul(y, scale), f32x4.splat(unscale));
}

// e^x for x <= 0 or NaN (exp(-|x|), exp(x - max)), the same bits as expF32 with fewer instructions: the upper clamp
// is the identity there, and with k in [-150, 0] one step with offset 64 scales (biased exponent in [41, 191]).
// @ts-ignore: decorator
@inline export function expNonPositiveF32(x: f32): f32 { return expOneStepF32(pmaxF32(x, EXP_MIN), 64, TWO_POW_MINUS_64); }

// @ts-ignore: decorator
@inline export function expNonPositiveF32x4(x: v128): v128 {
  return expOneStepF32x4(f32x4.pmax(x, f32x4.splat(EXP_MIN)), 64, TWO_POW_MINUS_64);
}

// e^min(x, 64): the same bits as expF32 for x <= 64, e^64 above. For the class-index softmax pass, which shifts by
// the target's logit and takes the row again by its max whenever some z_j - z_y exceeds 64. With k in [-150, 93],
// one step with offset 32 scales (biased exponent in [9, 252]).
const EXP_CAP: f32 = 64.0;

// @ts-ignore: decorator
@inline export function expCappedF32(x: f32): f32 {
  return expOneStepF32(pmaxF32(pminF32(x, EXP_CAP), EXP_MIN), 32, TWO_POW_MINUS_32);
}

// @ts-ignore: decorator
@inline export function expCappedF32x4(x: v128): v128 {
  return expOneStepF32x4(f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_CAP)), f32x4.splat(EXP_MIN)), 32, TWO_POW_MINUS_32);
}

// -|x| by setting the sign bit: one instruction, where V8 builds f32x4.abs and f32x4.neg from a fresh mask each.
// @ts-ignore: decorator
@inline export function negAbsF32x4(x: v128): v128 { return v128.or(x, f32x4.splat(-0.0)); }

// All-ones lanes where x is finite (NaN and +-inf give 0): -|x| > -inf, the kernels' one input check.
// @ts-ignore: decorator
@inline export function finiteF32x4(x: v128): v128 { return f32x4.gt(negAbsF32x4(x), f32x4.splat(-Infinity)); }

// ---- 4 x 4 transpose ------------------------------------------------------------------------------------
// The float32 tile whose rows are a, b, c, d, stored with its columns at dst, dst + dstStride, dst + 2 dstStride,
// dst + 3 dstStride: eight shuffles (unpack low/high of pairs, then of halves), four stores. Pure data movement, no
// rounding. Shared by the class-axis layouts and the small-C softmax rows.
// @ts-ignore: decorator
@inline export function storeTransposedF32x4(a: v128, b: v128, c: v128, d: v128, dst: usize, dstStride: usize): void {
  const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
  const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
  const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
  const cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7));
  v128.store(dst + (dstStride << 1), v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5));
  v128.store(dst + dstStride * 3, v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7));
}

/** The tile whose rows are at src, src + srcStride, ... stored transposed (storeTransposedF32x4). */
// @ts-ignore: decorator
@inline export function transposeTileF32x4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  storeTransposedF32x4(v128.load(src), v128.load(src + srcStride), v128.load(src + (srcStride << 1)),
    v128.load(src + srcStride * 3), dst, dstStride);
}

// ---- log --------------------------------------------------------------------------------------------------
// Natural log of m in [sqrt(1/2), sqrt(2)) as (head, tail) pieces summed by the callers with k ln2.
// @ts-ignore: decorator
@inline function logMantissaF32(m: f32, k: f32): f32 {
  const f: f32 = m - 1.0;
  const s: f32 = f / (2.0 + f);
  const z: f32 = s * s;
  const w: f32 = z * z;
  const t1: f32 = w * (LOG_LG2 + w * LOG_LG4);
  const t2: f32 = z * (LOG_LG1 + w * LOG_LG3);
  const hfsq: f32 = 0.5 * f * f;
  return (((s * (hfsq + (t2 + t1)) + k * LOG_LN2_LO) - hfsq) + f) + k * LOG_LN2_HI;
}

// @ts-ignore: decorator
@inline function logMantissaF32x4(m: v128, k: v128): v128 {
  const f = f32x4.sub(m, f32x4.splat(1.0));
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  const z = f32x4.mul(s, s);
  const w = f32x4.mul(z, z);
  const t1 = f32x4.mul(w, f32x4.add(f32x4.splat(LOG_LG2), f32x4.mul(w, f32x4.splat(LOG_LG4))));
  const t2 = f32x4.mul(z, f32x4.add(f32x4.splat(LOG_LG1), f32x4.mul(w, f32x4.splat(LOG_LG3))));
  const hfsq = f32x4.mul(f32x4.mul(f32x4.splat(0.5), f), f);
  let y = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, f32x4.add(t2, t1))), f32x4.mul(k, f32x4.splat(LOG_LN2_LO)));
  y = f32x4.add(f32x4.sub(y, hfsq), f);
  return f32x4.add(y, f32x4.mul(k, f32x4.splat(LOG_LN2_HI)));
}

// @ts-ignore: decorator
@inline export function logF32(x: f32): f32 {
  const tiny = x < MIN_NORMAL;
  const xs: f32 = select<f32>(x * TWO_POW_23, x, tiny);
  const ix = reinterpret<i32>(xs) + (ONE_BITS - SQRT_HALF_BITS);
  const k: f32 = <f32>(((ix >> 23) - 127) - select<i32>(23, 0, tiny));
  const m: f32 = reinterpret<f32>((ix & 0x007fffff) + SQRT_HALF_BITS);
  let y: f32 = logMantissaF32(m, k);
  y = select<f32>(-INF, y, x == 0);
  return select<f32>(INF, y, x == INF);
}

// @ts-ignore: decorator
@inline export function logF32x4(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(MIN_NORMAL));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(TWO_POW_23)), x, tiny);
  const ix = i32x4.add(xs, i32x4.splat(ONE_BITS - SQRT_HALF_BITS));
  const kBias = v128.bitselect(i32x4.splat(23), i32x4.splat(0), tiny);
  const k = f32x4.convert_i32x4_s(i32x4.sub(i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(127)), kBias));
  const m = i32x4.add(v128.and(ix, i32x4.splat(0x007fffff)), i32x4.splat(SQRT_HALF_BITS));
  let y = logMantissaF32x4(m, k);
  y = v128.bitselect(f32x4.splat(-INF), y, f32x4.eq(x, f32x4.splat(0)));
  return v128.bitselect(f32x4.splat(INF), y, f32x4.eq(x, f32x4.splat(INF)));
}

// ---- log1p ------------------------------------------------------------------------------------------------
// log1p(x) = log(u) + (x - (u - 1)) / u with u = 1 + x rounded: the quotient restores what the rounding of u
// lost (Goldberg 1991, Theorem 4), so tiny x keep full relative precision; u - 1 is exact by Sterbenz.
// @ts-ignore: decorator
@inline export function log1pF32(x: f32): f32 {
  const u: f32 = 1.0 + x;
  let y: f32 = logF32(u) + (x - (u - 1.0)) / u;
  y = select<f32>(-INF, y, u == 0);
  return select<f32>(INF, y, x == INF);
}

// @ts-ignore: decorator
@inline export function log1pF32x4(x: v128): v128 {
  const u = f32x4.add(f32x4.splat(1.0), x);
  let y = f32x4.add(logF32x4(u), f32x4.div(f32x4.sub(x, f32x4.sub(u, f32x4.splat(1.0))), u));
  y = v128.bitselect(f32x4.splat(-INF), y, f32x4.eq(u, f32x4.splat(0)));
  return v128.bitselect(f32x4.splat(INF), y, f32x4.eq(x, f32x4.splat(INF)));
}

// log1p(e) for e in [0, 1], the only range the loss kernels need (e = exp(-|x|)): log1p(e) = 2 atanh(s) with
// s = e / (2 + e) in [0, 1/3], so log1p(e) = 2 s (1 + z P(z)), z = s^2 <= 1/9, P(z) ~ 1/3 + z/5 + z^2/7 + ...
// P is a degree-3 minimax fit of (atanh(s)/s - 1)/z on [0, 1/9] (Remez, weighted to the relative error of the
// result: 4.5e-9, 5.4e-9 with the coefficients rounded to float32) where the Taylor series took 6 terms for
// 1.5e-8: two fewer multiply-adds per call, the same 1.9 ulp worst case once evaluated in float32. No exponent
// split, one division, one short Horner chain (~20% faster focal kernels than the general log1p), and tiny e keep
// full precision (s = e/2 exactly when 2 + e rounds to 2).
const ATANH_P0: f32 = 0.33333209;
const ATANH_P1: f32 = 0.20010763;
const ATANH_P2: f32 = 0.14000903;
const ATANH_P3: f32 = 0.14005993;

// @ts-ignore: decorator
@inline export function log1pUnitF32(e: f32): f32 {
  const s: f32 = e / (2.0 + e);
  const z: f32 = s * s;
  let p: f32 = ATANH_P3;
  p = p * z + ATANH_P2;
  p = p * z + ATANH_P1;
  p = p * z + ATANH_P0;
  const s2: f32 = s + s;
  return s2 + s2 * (z * p);
}

// @ts-ignore: decorator
@inline export function log1pUnitF32x4(e: v128): v128 {
  const s = f32x4.div(e, f32x4.add(f32x4.splat(2.0), e));
  const z = f32x4.mul(s, s);
  let p = f32x4.splat(ATANH_P3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ATANH_P2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ATANH_P1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(ATANH_P0));
  const s2 = f32x4.add(s, s);
  return f32x4.add(s2, f32x4.mul(s2, f32x4.mul(z, p)));
}

// ---- sigmoid and softplus -----------------------------------------------------------------------------------
// Both from e = exp(-|x|) in (0, 1], which never overflows: sigmoid(|x|) = 1 / (1 + e), sigmoid(-|x|) = e / (1 + e),
// softplus(-|x|) = log1p(e), softplus(|x|) = |x| + log1p(e).
// @ts-ignore: decorator
@inline export function sigmoidF32(x: f32): f32 {
  const e: f32 = expNonPositiveF32(-abs<f32>(x));
  const hi: f32 = 1.0 / (1.0 + e);
  return select<f32>(hi, e * hi, x > 0);
}

// @ts-ignore: decorator
@inline export function sigmoidF32x4(x: v128): v128 {
  const e = expNonPositiveF32x4(negAbsF32x4(x));
  const hi = f32x4.div(f32x4.splat(1.0), f32x4.add(f32x4.splat(1.0), e));
  return v128.bitselect(hi, f32x4.mul(e, hi), f32x4.gt(x, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline export function softplusF32(x: f32): f32 {
  const ax: f32 = abs<f32>(x);
  const l: f32 = log1pUnitF32(expNonPositiveF32(-ax));
  return select<f32>(ax + l, l, x > 0);
}

// @ts-ignore: decorator
@inline export function softplusF32x4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const l = log1pUnitF32x4(expNonPositiveF32x4(negAbsF32x4(x)));
  return v128.bitselect(f32x4.add(ax, l), l, f32x4.gt(x, f32x4.splat(0)));
}

// ---- pow ----------------------------------------------------------------------------------------------------
// x^y = 2^(y log2 x) for x >= 0. With x = 2^k m, y k is formed exactly as yHi k + yLo k (yHi keeps 12 significant
// bits of y, k has at most 8), so the only rounding in the exponent is that of y log2(m) with |log2 m| <= 1/2:
// the result keeps ~1e-7 relative accuracy even where y log2 x is large (plain exp(y log x) loses |y log2 x| ulp).
// Callers pass yHi = splitHigh(y) and yLo = y - yHi, computed once per call.
const LOG2E_F32: f32 = 1.44269504088896341;
const LN2_F32: f32 = 0.693147180559945309;

// @ts-ignore: decorator
@inline export function splitHighF32(y: f32): f32 { return reinterpret<f32>(reinterpret<i32>(y) & 0xfffff000); }

/** splitHighF32 per lane (a vector of exponents, e.g. per-class gammas). */
// @ts-ignore: decorator
@inline export function splitHighF32x4(y: v128): v128 { return v128.and(y, i32x4.splat(-4096)); } // 0xfffff000

// @ts-ignore: decorator
@inline export function powF32(x: f32, y: f32, yHi: f32, yLo: f32): f32 {
  const tiny = x < MIN_NORMAL;
  const xs: f32 = select<f32>(x * TWO_POW_23, x, tiny);
  const ix = reinterpret<i32>(xs) + (ONE_BITS - SQRT_HALF_BITS);
  const k: f32 = <f32>(((ix >> 23) - 127) - select<i32>(23, 0, tiny));
  const m: f32 = reinterpret<f32>((ix & 0x007fffff) + SQRT_HALF_BITS);
  const log2m: f32 = logMantissaF32(m, 0) * LOG2E_F32;
  const a: f32 = yHi * k;
  const b: f32 = yLo * k + y * log2m;
  const s: f32 = a + b;
  const nf: f32 = nearest<f32>(pmaxF32(pminF32(s, 1024.0), -1024.0));
  const r: f32 = ((a - nf) + b) * LN2_F32;
  let p: f32 = EXP_P0;
  p = p * r + EXP_P1;
  p = p * r + EXP_P2;
  p = p * r + EXP_P3;
  p = p * r + EXP_P4;
  p = p * r + EXP_P5;
  const e: f32 = (p * (r * r) + r) + 1.0;
  const n: i32 = <i32>pmaxF32(pminF32(nf, 130.0), -160.0);
  const n1: i32 = n >> 1;
  let z: f32 = e * pow2iF32(n1) * pow2iF32(n - n1);
  // |y log2 x| beyond the clamp: r above is meaningless, the answer is 0 or +inf.
  z = select<f32>(0, z, s < -160.0);
  z = select<f32>(INF, z, s > 130.0);
  // x = 0: 0 for y > 0, +inf for y < 0; x = +inf the reverse; y = 0: 1 whatever x (torch.pow(0, 0) = 1).
  z = select<f32>(select<f32>(0, INF, y > 0), z, x == 0);
  z = select<f32>(select<f32>(INF, 0, y > 0), z, x == INF);
  return select<f32>(1.0, z, y == 0);
}

// @ts-ignore: decorator
@inline export function powF32x4(x: v128, y: v128, yHi: v128, yLo: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(MIN_NORMAL));
  const xs = v128.bitselect(f32x4.mul(x, f32x4.splat(TWO_POW_23)), x, tiny);
  const ix = i32x4.add(xs, i32x4.splat(ONE_BITS - SQRT_HALF_BITS));
  const kBias = v128.bitselect(i32x4.splat(23), i32x4.splat(0), tiny);
  const k = f32x4.convert_i32x4_s(i32x4.sub(i32x4.sub(i32x4.shr_s(ix, 23), i32x4.splat(127)), kBias));
  const m = i32x4.add(v128.and(ix, i32x4.splat(0x007fffff)), i32x4.splat(SQRT_HALF_BITS));
  const log2m = f32x4.mul(logMantissaF32x4(m, f32x4.splat(0)), f32x4.splat(LOG2E_F32));
  const a = f32x4.mul(yHi, k);
  const b = f32x4.add(f32x4.mul(yLo, k), f32x4.mul(y, log2m));
  const s = f32x4.add(a, b);
  const nf = f32x4.nearest(f32x4.pmax(f32x4.pmin(s, f32x4.splat(1024.0)), f32x4.splat(-1024.0)));
  const r = f32x4.mul(f32x4.add(f32x4.sub(a, nf), b), f32x4.splat(LN2_F32));
  let p = f32x4.splat(EXP_P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(EXP_P5));
  const e = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1.0));
  const n = i32x4.trunc_sat_f32x4_s(f32x4.pmax(f32x4.pmin(nf, f32x4.splat(130.0)), f32x4.splat(-160.0)));
  const n1 = i32x4.shr_s(n, 1);
  let z = f32x4.mul(f32x4.mul(e, pow2iF32x4(n1)), pow2iF32x4(i32x4.sub(n, n1)));
  z = v128.bitselect(f32x4.splat(0), z, f32x4.lt(s, f32x4.splat(-160.0)));
  z = v128.bitselect(f32x4.splat(INF), z, f32x4.gt(s, f32x4.splat(130.0)));
  const yPos = f32x4.gt(y, f32x4.splat(0));
  z = v128.bitselect(v128.bitselect(f32x4.splat(0), f32x4.splat(INF), yPos), z, f32x4.eq(x, f32x4.splat(0)));
  z = v128.bitselect(v128.bitselect(f32x4.splat(INF), f32x4.splat(0), yPos), z, f32x4.eq(x, f32x4.splat(INF)));
  return v128.bitselect(f32x4.splat(1.0), z, f32x4.eq(y, f32x4.splat(0)));
}

// ---- x^gamma for the focal modulating factor -----------------------------------------------------------------
// The loss kernels raise 1 - p_t (or p, or |t - p|) to the focusing exponent; the facade picks the mode from gamma
// once per call, so the common exponents skip pow (0: 1, 1: x, 2: x x, 1/2: sqrt x, exact to 0.5 ulp).
// The modes are the ABI's (src/core/abi.ts).
import { GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO } from '../abi';

// @ts-ignore: decorator
@inline export function powModeF32(x: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32): f32 {
  if (mode == GAMMA_ZERO) return 1.0;
  if (mode == GAMMA_ONE) return x;
  if (mode == GAMMA_TWO) return x * x;
  if (mode == GAMMA_HALF) return sqrt<f32>(x);
  return powF32(x, gamma, gHi, gLo);
}

// @ts-ignore: decorator
@inline export function powModeF32x4(x: v128, mode: i32, gamma: v128, gHi: v128, gLo: v128): v128 {
  if (mode == GAMMA_ZERO) return f32x4.splat(1.0);
  if (mode == GAMMA_ONE) return x;
  if (mode == GAMMA_TWO) return f32x4.mul(x, x);
  if (mode == GAMMA_HALF) return f32x4.sqrt(x);
  return powF32x4(x, gamma, gHi, gLo);
}

// x^y with an exponent per element (per-class gammas, the asymmetric loss's t gammaPos + (1-t) gammaNeg): the
// exponents of the modes as the modes compute them (0: 1, 1/2: sqrt x, 1: x, 2: x x), so that gamma [2, 2, ...]
// gives the bits of gamma 2, and also 3: (x x) x and 4: (x x)(x x) (two roundings, no log or exp); any other
// exponent by pow. The asymmetric loss's defaults (1 and 4) then never reach pow, ~110 vector instructions and a
// log. The SIMD twin takes pow only for a vector with some other exponent and keeps the other lanes: the same bits.
// @ts-ignore: decorator
@inline export function powPerElementF32(x: f32, y: f32): f32 {
  const x2: f32 = x * x;
  if (y == 2) return x2;
  if (y == 1) return x;
  if (y == 4) return x2 * x2;
  if (y == 0) return 1.0;
  if (y == 3) return x2 * x;
  if (y == 0.5) return sqrt<f32>(x);
  const yHi = splitHighF32(y);
  return powF32(x, y, yHi, y - yHi);
}

// @ts-ignore: decorator
@inline export function powPerElementF32x4(x: v128, y: v128): v128 {
  const x2 = f32x4.mul(x, x);
  const isZero = f32x4.eq(y, f32x4.splat(0));
  const isOne = f32x4.eq(y, f32x4.splat(1.0));
  const isThree = f32x4.eq(y, f32x4.splat(3.0));
  const isFour = f32x4.eq(y, f32x4.splat(4.0));
  let z = v128.bitselect(x, x2, isOne);
  z = v128.bitselect(f32x4.mul(x2, x), z, isThree);
  z = v128.bitselect(f32x4.mul(x2, x2), z, isFour);
  z = v128.bitselect(f32x4.splat(1.0), z, isZero);
  const isHalf = f32x4.eq(y, f32x4.splat(0.5));
  z = v128.bitselect(f32x4.sqrt(x), z, isHalf);
  const small = v128.or(
    v128.or(v128.or(isZero, isOne), v128.or(isThree, isFour)), v128.or(isHalf, f32x4.eq(y, f32x4.splat(2.0))),
  );
  if (!i32x4.all_true(small)) {
    const yHi = splitHighF32x4(y);
    z = v128.bitselect(z, powF32x4(x, y, yHi, f32x4.sub(y, yHi)), small);
  }
  return z;
}
