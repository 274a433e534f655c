// The focal classification cost of DETR-style bipartite matching (Deformable-DETR HungarianMatcher,
// models/matcher.py): focalCostMatrix, the whole Q x M matrix (the check of every logit, the gather of the distinct
// target classes, their Q x K table, its expansion by each target's class) in one call from src/families/detr.ts. Per element, with p = sigmoid(x):
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
  COST_BLOCK, FLAG_COST_EPS, GAMMA_TWO, PARAM_ALPHA, PARAM_CLASSES, PARAM_COST_EPS, PARAM_DISTINCT, PARAM_FLAGS, PARAM_GAMMA,
  PARAM_GAMMA_MODE, PARAM_TARGETS, STATUS_INVALID, STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_SCRATCH,
} from '../abi';
import { firstNonFinite } from '../math/elementwise';
import {
  expNonPositiveF32, expNonPositiveF32x4, log1pUnitF32, log1pUnitF32x4, logF32,
  logF32x4, negAbsF32x4, powModeF32, powModeF32x4, splitHighF32,
} from '../math/vmath';

/**
 * The whole Q x M cost matrix of `queries` rows of logits (queries x classes at the input stream) into the loss
 * stream (queries x targets): every logit checked, the logits of the K distinct target classes gathered into a
 * queries x K block at the scratch stream, their costs formed there in place (costSpan), and each target's column
 * of that table copied into its place. The loss stream holds at least max(Q x M, 3 COST_BLOCK) floats: the costs'
 * scratch rows until the expansion writes it. The labels stream holds K int32 class indices, then M int32 table
 * columns (one per target). Params: alpha (in [0, 1]), gamma and its mode, flags (FLAG_COST_EPS), costEps, classes,
 * distinct (K), targets (M). Returns queries, or STATUS_INVALID when a logit (of any class) is not finite.
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
  // In place (each element is read before it is written), with the out stream, not yet written, as scratch rows.
  costSpan(table, queries * distinct, params, out);
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
 * The cost of the n finite logits at `table`, in place, with 3 COST_BLOCK floats at `scratch` (see focalCostMatrix).
 * The anchor's own setting (the eps logs, gamma 2) gets a copy of the loop with both known, so no branch is left
 * inside it; the operations, and so the bits, are the same.
 */
// @ts-ignore: decorator
@inline function costSpan(table: usize, n: usize, params: usize, scratch: usize): void {
  const mode = load<i32>(params, PARAM_GAMMA_MODE);
  const withEps = (load<i32>(params, PARAM_FLAGS) & FLAG_COST_EPS) != 0;
  if (withEps && mode == GAMMA_TWO) costLoop(table, n, params, scratch, true, GAMMA_TWO);
  else costLoop(table, n, params, scratch, withEps, mode);
}

// The SIMD part runs in blocks of COST_BLOCK elements (src/core/abi.ts) and three short passes per block (e; the
// two divisions of sigmoid(|x|) and log1p(e); the rest), each pass's results in scratch rows, as the sigmoid and
// asymmetric kernels do: one vector's whole chain (an exp, up to four divisions, logs and pows) held the core's
// window with the waiting instructions of one vector (300 x 80 -> 100, compat 'detr': 126 -> 99 us per call).
// Float32 stores and loads keep the bits: the same operations as the scalar twin.
// @ts-ignore: decorator
@inline function costLoop(table: usize, n: usize, params: usize, scratch: usize, withEps: bool, mode: i32): void {
  const alpha = load<f32>(params, PARAM_ALPHA);
  const gamma = load<f32>(params, PARAM_GAMMA);
  const eps = load<f32>(params, PARAM_COST_EPS);
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  const vectorEnd = n & ~3;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const epsV = f32x4.splat(eps);
    const rowE = scratch; // e = exp(-|x|)
    const rowS = scratch + (COST_BLOCK << 2); // sigmoid(|x|) = 1 / (1 + e)
    const rowL = scratch + (COST_BLOCK << 3); // log1p(e) = -log sigmoid(|x|)
    for (let start: usize = 0; start < vectorEnd; start += COST_BLOCK) {
      const bytes = min<usize>(COST_BLOCK, vectorEnd - start) << 2;
      const block = table + (start << 2);
      for (let j: usize = 0; j < bytes; j += 16) {
        v128.store(rowE + j, expNonPositiveF32x4(negAbsF32x4(v128.load(block + j))));
      }
      for (let j: usize = 0; j < bytes; j += 16) {
        const e = v128.load(rowE + j);
        v128.store(rowS + j, f32x4.div(one, f32x4.add(one, e)));
        v128.store(rowL + j, log1pUnitF32x4(e));
      }
      for (let j: usize = 0; j < bytes; j += 16) {
        const x = v128.load(block + j);
        const e = v128.load(rowE + j);
        const sHi = v128.load(rowS + j);
        const l = v128.load(rowL + j);
        const sLo = f32x4.mul(e, sHi); // sigmoid(-|x|)
        const pos = f32x4.gt(x, zero);
        const p = v128.bitselect(sHi, sLo, pos);
        const pc = v128.bitselect(sLo, sHi, pos);
        let logLo: v128; // -log of the side at most 1/2 (sLo)
        let logHi: v128; // -log of the side at least 1/2 (sHi)
        if (withEps) {
          logHi = f32x4.sub(l, f32x4.mul(epsV, f32x4.add(one, e)));
          const r = f32x4.div(epsV, sLo);
          const near = f32x4.le(r, one);
          logLo = f32x4.sub(f32x4.add(f32x4.abs(x), l), log1pUnitF32x4(r));
          if (!i32x4.all_true(near)) logLo = v128.bitselect(logLo, f32x4.neg(logF32x4(f32x4.add(sLo, epsV))), near);
        } else {
          logHi = l;
          logLo = f32x4.add(f32x4.abs(x), l);
        }
        const negLogP = v128.bitselect(logHi, logLo, pos);
        const negLogPc = v128.bitselect(logLo, logHi, pos);
        const posCost = f32x4.mul(f32x4.mul(alphaV, powModeF32x4(pc, mode, gammaV, gHiV, gLoV)), negLogP);
        const negCost = f32x4.mul(f32x4.mul(alphaNegV, powModeF32x4(p, mode, gammaV, gHiV, gLoV)), negLogPc);
        v128.store(block + j, f32x4.sub(posCost, negCost));
      }
    }
  }
  for (let i: usize = ASC_FEATURE_SIMD ? vectorEnd : 0; i < n; i++) {
    const x = load<f32>(table + (i << 2));
    const e = expNonPositiveF32(-abs<f32>(x));
    const sHi: f32 = 1.0 / (1.0 + e);
    const l = log1pUnitF32(e);
    const sLo: f32 = e * sHi;
    const pos = x > 0;
    const p = select<f32>(sHi, sLo, pos);
    const pc = select<f32>(sLo, sHi, pos);
    let logLo: f32;
    let logHi: f32;
    if (withEps) {
      logHi = l - eps * (1.0 + e);
      const r: f32 = eps / sLo;
      logLo = r <= 1.0 ? (abs<f32>(x) + l) - log1pUnitF32(r) : -logF32(sLo + eps);
    } else {
      logHi = l;
      logLo = abs<f32>(x) + l;
    }
    const negLogP = select<f32>(logHi, logLo, pos);
    const negLogPc = select<f32>(logLo, logHi, pos);
    const posCost: f32 = (alpha * powModeF32(pc, mode, gamma, gHi, gLo)) * negLogP;
    const negCost: f32 = (alphaNeg * powModeF32(p, mode, gamma, gHi, gLo)) * negLogPc;
    store<f32>(table + (i << 2), posCost - negCost);
  }
}
