// The focal classification cost of DETR-style bipartite matching (Deformable-DETR HungarianMatcher,
// models/matcher.py): focalCost one value per logit (elementwise ABI), focalCostMatrix the whole Q x M matrix (the
// gather of the distinct target classes, their Q x K table, its expansion by each target's class) in one call from
// src/families/detr.ts. Per element, with p = sigmoid(x):
//   pos = alpha (1-p)^gamma (-log p),   neg = (1-alpha) p^gamma (-log(1-p)),   cost = pos - neg
// -log p = softplus(-x) and -log(1-p) = softplus(x), from e = exp(-|x|) (never overflows; no 1 - p cancellation).
// With FLAG_COST_EPS the anchor's logs are reproduced: -log(p + eps) and -log(1 - p + eps). With s = sigmoid(-|x|)
// (the probability at most 1/2) and l = log1p(e) = -log(1 - s), both are formed from the exact logs and a small
// correction, without cancellation and without a general log for all but the farthest logits:
//   -log((1 - s) + eps) = l - log1p(eps / (1 - s)) = l - eps (1 + e)   (eps (1 + e) <= 2e-8: log1p(r) = r in float32)
//   -log(s + eps) = (|x| + l) - log1p(eps / s)   while r = eps / s <= 1 (|x| <= ~18.4 for eps 1e-8; log1p on [0, 1]
//                                                 by the short atanh series), else -log(s + eps) by the general log.
// (s below 2^-126 is subnormal and keeps only its spacing: with gamma < 1, s^gamma times the eps-sized log is then
// inexact, a term below 1e-8 (2^-126)^gamma; see docs/losses.md.)
// The SIMD body and the scalar twin perform the same float32 operations in the same order: both builds give the
// same bits.
import {
  FLAG_COST_EPS, GAMMA_TWO, PARAM_ALPHA, PARAM_CLASSES, PARAM_COST_EPS, PARAM_DISTINCT, PARAM_FLAGS, PARAM_GAMMA,
  PARAM_GAMMA_MODE, PARAM_TARGETS, STATUS_INVALID, STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_SCRATCH,
} from '../abi';
import { firstNonFinite } from '../math/elementwise';
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, log1pUnitF32, log1pUnitF32x4, logF32,
  logF32x4, negAbsF32x4, powModeF32, powModeF32x4, splitHighF32,
} from '../math/vmath';

/**
 * The focal matching cost of `n` float32 logits at the input stream into the loss stream (one value each), the
 * elementwise ABI of src/core/abi.ts. Params: alpha (in [0, 1]), gamma and its mode, flags (FLAG_COST_EPS), costEps.
 * Returns n, or STATUS_INVALID when a logit is not finite. No reduction: the lanes are not touched.
 */
export function focalCost(streams: usize, n: usize, params: usize): i32 {
  const bad = costSpan(load<usize>(streams, STREAM_INPUT), load<usize>(streams, STREAM_LOSS), n, params);
  return bad ? STATUS_INVALID : <i32>n;
}

/**
 * The whole Q x M cost matrix of `queries` rows of logits (queries x classes at the input stream) into the loss
 * stream (queries x targets): every logit checked, the logits of the K distinct target classes gathered into a
 * queries x K block at the scratch stream, their costs formed there in place (costSpan, the arithmetic of
 * focalCost), and each target's column of that table copied into its place. The labels stream holds K int32 class
 * indices, then M int32 table columns (one per target). Params: focalCost's, and classes, distinct (K), targets (M).
 * Returns queries, or STATUS_INVALID when a logit (of any class) is not finite.
 */
export function focalCostMatrix(streams: usize, queries: usize, params: usize): i32 {
  const logits = load<usize>(streams, STREAM_INPUT);
  const picked = load<usize>(streams, STREAM_LABELS);
  const table = load<usize>(streams, STREAM_SCRATCH);
  const out = load<usize>(streams, STREAM_LOSS);
  const classes = <usize>load<i32>(params, PARAM_CLASSES);
  const distinct = <usize>load<i32>(params, PARAM_DISTINCT);
  const targets = <usize>load<i32>(params, PARAM_TARGETS);
  if (firstNonFinite(logits, queries * classes) >= 0) return STATUS_INVALID;
  const columns = picked + (distinct << 2);
  for (let q: usize = 0; q < queries; q++) {
    const row = logits + ((q * classes) << 2);
    const dst = table + ((q * distinct) << 2);
    for (let k: usize = 0; k < distinct; k++) {
      store<f32>(dst + (k << 2), load<f32>(row + (<usize>load<i32>(picked + (k << 2)) << 2)));
    }
  }
  costSpan(table, table, queries * distinct, params); // in place: each element is read before it is written
  for (let q: usize = 0; q < queries; q++) {
    const src = table + ((q * distinct) << 2);
    const dst = out + ((q * targets) << 2);
    let m: usize = 0;
    for (; m + 4 <= targets; m += 4) {
      const at = columns + (m << 2);
      const to = dst + (m << 2);
      store<f32>(to, load<f32>(src + (<usize>load<i32>(at) << 2)));
      store<f32>(to, load<f32>(src + (<usize>load<i32>(at, 4) << 2)), 4);
      store<f32>(to, load<f32>(src + (<usize>load<i32>(at, 8) << 2)), 8);
      store<f32>(to, load<f32>(src + (<usize>load<i32>(at, 12) << 2)), 12);
    }
    for (; m < targets; m++) store<f32>(dst + (m << 2), load<f32>(src + (<usize>load<i32>(columns + (m << 2)) << 2)));
  }
  return <i32>queries;
}

/**
 * The cost of n logits at `logits` into `out` (which may be `logits`); true when one was not finite. The anchor's
 * own setting (the eps logs, gamma 2) gets a copy of the loop with both known, so no branch is left inside it; the
 * operations, and so the bits, are the same.
 */
// @ts-ignore: decorator
@inline function costSpan(logits: usize, out: usize, n: usize, params: usize): bool {
  const mode = load<i32>(params, PARAM_GAMMA_MODE);
  const withEps = (load<i32>(params, PARAM_FLAGS) & FLAG_COST_EPS) != 0;
  if (withEps && mode == GAMMA_TWO) return costLoop(logits, out, n, params, true, GAMMA_TWO);
  return costLoop(logits, out, n, params, withEps, mode);
}

// @ts-ignore: decorator
@inline function costLoop(logits: usize, out: usize, n: usize, params: usize, withEps: bool, mode: i32): bool {
  const alpha = load<f32>(params, PARAM_ALPHA);
  const gamma = load<f32>(params, PARAM_GAMMA);
  const eps = load<f32>(params, PARAM_COST_EPS);
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  let bad: i32 = 0;
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const epsV = f32x4.splat(eps);
    let badV = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      let x = v128.load(logits + (i << 2));
      const finite = finiteF32x4(x);
      badV = v128.or(badV, v128.not(finite));
      x = v128.and(x, finite); // a non-finite lane computes on 0 (flagged above)
      const e = expNonPositiveF32x4(negAbsF32x4(x));
      const sHi = f32x4.div(one, f32x4.add(one, e)); // sigmoid(|x|)
      const sLo = f32x4.mul(e, sHi); // sigmoid(-|x|)
      const pos = f32x4.gt(x, zero);
      const p = v128.bitselect(sHi, sLo, pos);
      const pc = v128.bitselect(sLo, sHi, pos);
      let logLo: v128; // -log of the side at most 1/2 (sLo)
      let logHi: v128; // -log of the side at least 1/2 (sHi)
      if (withEps) {
        const l = log1pUnitF32x4(e);
        logHi = f32x4.sub(l, f32x4.mul(epsV, f32x4.add(one, e)));
        const r = f32x4.div(epsV, sLo);
        const near = f32x4.le(r, one);
        logLo = f32x4.sub(f32x4.add(f32x4.abs(x), l), log1pUnitF32x4(r));
        if (!i32x4.all_true(near)) logLo = v128.bitselect(logLo, f32x4.neg(logF32x4(f32x4.add(sLo, epsV))), near);
      } else {
        const l = log1pUnitF32x4(e); // softplus(-|x|) = -log sigmoid(|x|)
        logHi = l;
        logLo = f32x4.add(f32x4.abs(x), l);
      }
      const negLogP = v128.bitselect(logHi, logLo, pos);
      const negLogPc = v128.bitselect(logLo, logHi, pos);
      const posCost = f32x4.mul(f32x4.mul(alphaV, powModeF32x4(pc, mode, gammaV, gHiV, gLoV)), negLogP);
      const negCost = f32x4.mul(f32x4.mul(alphaNegV, powModeF32x4(p, mode, gammaV, gHiV, gLoV)), negLogPc);
      v128.store(out + (i << 2), f32x4.sub(posCost, negCost));
    }
    bad = <i32>v128.any_true(badV);
  }
  for (; i < n; i++) {
    let x = load<f32>(logits + (i << 2));
    const finite = abs<f32>(x) < Infinity;
    bad |= <i32>!finite;
    x = select<f32>(x, 0, finite);
    const e = expNonPositiveF32(-abs<f32>(x));
    const sHi: f32 = 1.0 / (1.0 + e);
    const sLo: f32 = e * sHi;
    const pos = x > 0;
    const p = select<f32>(sHi, sLo, pos);
    const pc = select<f32>(sLo, sHi, pos);
    let logLo: f32;
    let logHi: f32;
    if (withEps) {
      const l = log1pUnitF32(e);
      logHi = l - eps * (1.0 + e);
      const r: f32 = eps / sLo;
      logLo = r <= 1.0 ? (abs<f32>(x) + l) - log1pUnitF32(r) : -logF32(sLo + eps);
    } else {
      const l = log1pUnitF32(e);
      logHi = l;
      logLo = abs<f32>(x) + l;
    }
    const negLogP = select<f32>(logHi, logLo, pos);
    const negLogPc = select<f32>(logLo, logHi, pos);
    const posCost: f32 = (alpha * powModeF32(pc, mode, gamma, gHi, gLo)) * negLogP;
    const negCost: f32 = (alphaNeg * powModeF32(p, mode, gamma, gHi, gLo)) * negLogPc;
    store<f32>(out + (i << 2), posCost - negCost);
  }
  return bad != 0;
}
