// Binary focal loss from probabilities (Keras BinaryFocalCrossentropy, from_logits = false, semantics): the
// family that reads p itself, not a logit. Per element, with t in [0, 1] and pc = p clipped to [lo, hi]:
//   ce = -(t log pc + (1-t) log(1 - pc))      (log(1 - pc) as log1p(-pc): exact for small pc)
//   q  = 1 - p_t = t (1-p) + (1-t) p            (p as given, as Keras; a sum of non-negative terms)
//   loss = alpha_t q^gamma ce,   alpha_t = alpha t + (1-alpha)(1-t)
//   dloss/dp = alpha_t (gamma q^(gamma-1) (1-2t) ce + q^gamma dce),   dce = (pc - t) / (pc (1 - pc)) inside the clip
// (the clip passes the gradient on [lo, hi], as tf.clip_by_value does, and blocks it outside). d q^gamma / dq is
// infinite at q = 0 for gamma < 1 (and beyond float32 for subnormal q): q^(gamma-1) is taken at max(q, 2^-126),
// so the result stays finite.
import {
  GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO,
  PARAM_ALPHA, PARAM_CLIP_HI, PARAM_CLIP_LO, PARAM_GAMMA, PARAM_GAMMA_MODE, PARAM_GRAD_SCALE, STATUS_INVALID,
  STREAM_ACC, STREAM_GRAD, STREAM_INPUT, STREAM_LOSS, STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import {
  finiteF32x4, log1pF32, log1pF32x4, logF32, logF32x4, MIN_NORMAL, pmaxF32, pminF32, powF32, powF32x4, powModeF32,
  powModeF32x4, splitHighF32,
} from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';

// Per-block scratch for the SIMD loop's log passes (static data of this instance: wasm runs one call at a time).
const BLOCK: usize = 512;
const SCRATCH_LOG: usize = memory.data(<i32>BLOCK * 4, 16); // log(pc)
const SCRATCH_LOG1P: usize = memory.data(<i32>BLOCK * 4, 16); // log1p(-pc)

// gamma q^(gamma-1), the derivative of q^gamma, with q >= the least normal float (qg) where it would be infinite.
// @ts-ignore: decorator
@inline function dModulatingF32(q: f32, qg: f32, mode: i32, gamma: f32, gm1: f32, gm1Hi: f32, gm1Lo: f32): f32 {
  if (mode == GAMMA_ONE) return 1.0;
  if (mode == GAMMA_TWO) return q + q;
  if (mode == GAMMA_HALF) return 0.5 / sqrt<f32>(qg);
  return gamma * powF32(qg, gm1, gm1Hi, gm1Lo);
}

// @ts-ignore: decorator
@inline function dModulatingF32x4(
  q: v128, qg: v128, mode: i32, gamma: v128, gm1: v128, gm1Hi: v128, gm1Lo: v128,
): v128 {
  if (mode == GAMMA_ONE) return f32x4.splat(1.0);
  if (mode == GAMMA_TWO) return f32x4.add(q, q);
  if (mode == GAMMA_HALF) return f32x4.div(f32x4.splat(0.5), f32x4.sqrt(qg));
  return f32x4.mul(gamma, powF32x4(qg, gm1, gm1Hi, gm1Lo));
}

/**
 * Focal loss over n probabilities (the ABI of src/core/abi.ts). Streams: input (probabilities) and targets
 * (float32), weights (0: none), loss and grad (0: not written), acc. Params: alpha (< 0: none), gamma and
 * gammaMode, gradScale, clipLo and clipHi (the clip range of the log terms, float32-rounded by the facade). Adds
 * weight * loss into the lanes; writes each weighted loss to loss, and each d loss / d p times weight * gradScale
 * to grad. Returns n, or STATUS_INVALID when a probability or a target is outside [0, 1] or a weight is not finite.
 */
export function binaryFocal(streams: usize, n: usize, params: usize): i32 {
  const probs = load<usize>(streams, STREAM_INPUT);
  const targets = load<usize>(streams, STREAM_TARGETS);
  const weights = load<usize>(streams, STREAM_WEIGHTS);
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const acc = load<usize>(streams, STREAM_ACC);
  const alpha = load<f32>(params, PARAM_ALPHA);
  const gammaMode = load<i32>(params, PARAM_GAMMA_MODE);
  const gamma = load<f32>(params, PARAM_GAMMA);
  const gradScale = load<f32>(params, PARAM_GRAD_SCALE);
  const lo = load<f32>(params, PARAM_CLIP_LO);
  const hi = load<f32>(params, PARAM_CLIP_HI);
  const hasAlpha = alpha >= 0;
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  const gm1: f32 = gamma - 1.0;
  const gm1Hi = splitHighF32(gm1);
  const gm1Lo = gm1 - gm1Hi;
  let i: usize = 0;
  let bad: i32 = 0;

  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const loV = f32x4.splat(lo);
    const hiV = f32x4.splat(hi);
    const minNormalV = f32x4.splat(MIN_NORMAL);
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const gm1V = f32x4.splat(gm1);
    const gm1HiV = f32x4.splat(gm1Hi);
    const gm1LoV = f32x4.splat(gm1Lo);
    const gradScaleV = f32x4.splat(gradScale);
    let acc01 = v128.load(acc);
    let acc23 = v128.load(acc, 16);
    let badV = i32x4.splat(0);
    // In blocks of BLOCK elements: log(pc), then log1p(-pc), each in its own short pass into scratch, then the
    // rest. One vector's two logs and pow form one long dependency chain that V8 emits in order; as separate
    // passes over many independent vectors they overlap (see sigmoid/focal.ts). Here the two general logs are most of
    // the work, so the gain is smaller: kernel-only forward+gradient 5.2 -> 4.9 ns/element.
    const vectorEnd = n & ~3;
    for (let start: usize = 0; start < vectorEnd; start += BLOCK) {
      const bytes = min<usize>(BLOCK, vectorEnd - start) << 2;
      const blockProbs = probs + (start << 2);
      for (let j: usize = 0; j < bytes; j += 16) {
        v128.store(j, logF32x4(f32x4.pmax(f32x4.pmin(v128.load(blockProbs + j), hiV), loV)), SCRATCH_LOG);
      }
      for (let j: usize = 0; j < bytes; j += 16) {
        v128.store(j, log1pF32x4(f32x4.neg(f32x4.pmax(f32x4.pmin(v128.load(blockProbs + j), hiV), loV))), SCRATCH_LOG1P);
      }
      for (let j: usize = 0; j < bytes; j += 16) {
        i = start + (j >> 2);
        const p = v128.load(probs + (i << 2));
        const t = v128.load(targets + (i << 2));
        // NaN fails every comparison, so it is flagged too.
        const valid = v128.and(
          v128.and(f32x4.ge(p, zero), f32x4.le(p, one)), v128.and(f32x4.ge(t, zero), f32x4.le(t, one)),
        );
        badV = v128.or(badV, v128.not(valid));

        const pc = f32x4.pmax(f32x4.pmin(p, hiV), loV);
        const tc = f32x4.sub(one, t);
        const ce = f32x4.neg(f32x4.add(f32x4.mul(t, v128.load(j, SCRATCH_LOG)), f32x4.mul(tc, v128.load(j, SCRATCH_LOG1P))));
        const q = f32x4.add(f32x4.mul(t, f32x4.sub(one, p)), f32x4.mul(tc, p));
        const mod = powModeF32x4(q, gammaMode, gammaV, gHiV, gLoV);
        let loss = f32x4.mul(mod, ce);
        let scale = one;
        if (hasAlpha) scale = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, tc));
        if (weights) {
          const w = v128.load(weights + (i << 2));
          badV = v128.or(badV, v128.not(finiteF32x4(w)));
          scale = hasAlpha ? f32x4.mul(scale, w) : w;
        }
        if (hasAlpha || weights) loss = f32x4.mul(loss, scale);
        acc01 = addLanesLow(acc01, loss);
        acc23 = addLanesHigh(acc23, loss);
        if (lossOut) v128.store(lossOut + (i << 2), loss);
        if (gradOut) {
          const inClip = v128.and(f32x4.ge(p, loV), f32x4.le(p, hiV));
          const dce = v128.and(f32x4.div(f32x4.sub(pc, t), f32x4.mul(pc, f32x4.sub(one, pc))), inClip);
          let inner = f32x4.mul(mod, dce);
          if (gammaMode != GAMMA_ZERO) {
            const qg = f32x4.pmax(q, minNormalV);
            const dmod = dModulatingF32x4(q, qg, gammaMode, gammaV, gm1V, gm1HiV, gm1LoV);
            inner = f32x4.add(f32x4.mul(f32x4.mul(dmod, f32x4.sub(one, f32x4.add(t, t))), ce), inner); // 1 - 2t exact near t = 1/2; (1-t) - t is not
          }
          v128.store(gradOut + (i << 2), f32x4.mul(f32x4.mul(inner, scale), gradScaleV));
        }
      }
    }
    i = vectorEnd;
    v128.store(acc, acc01);
    v128.store(acc, acc23, 16);
    bad = <i32>v128.any_true(badV);
  }

  for (; i < n; i++) {
    const p = load<f32>(probs + (i << 2));
    const t = load<f32>(targets + (i << 2));
    const valid = (p >= 0) & (p <= 1) & (t >= 0) & (t <= 1);
    bad |= <i32>!valid;

    const pc = pmaxF32(pminF32(p, hi), lo);
    const tc: f32 = 1.0 - t;
    const ce: f32 = -(t * logF32(pc) + tc * log1pF32(-pc));
    const q: f32 = t * (1.0 - p) + tc * p;
    const mod = powModeF32(q, gammaMode, gamma, gHi, gLo);
    let loss: f32 = mod * ce;
    let scale: f32 = 1.0;
    if (hasAlpha) scale = alpha * t + alphaNeg * tc;
    if (weights) {
      const w = load<f32>(weights + (i << 2));
      bad |= <i32>!(abs<f32>(w) < Infinity);
      scale = hasAlpha ? scale * w : w;
    }
    if (hasAlpha || weights) loss = loss * scale;
    addToLane(acc, i, loss);
    if (lossOut) store<f32>(lossOut + (i << 2), loss);
    if (gradOut) {
      const inClip = (p >= lo) & (p <= hi);
      const dce: f32 = select<f32>((pc - t) / (pc * (1.0 - pc)), 0, inClip);
      let inner: f32 = mod * dce;
      if (gammaMode != GAMMA_ZERO) {
        const qg = pmaxF32(q, MIN_NORMAL);
        const dmod = dModulatingF32(q, qg, gammaMode, gamma, gm1, gm1Hi, gm1Lo);
        inner = (dmod * (1.0 - (t + t))) * ce + inner; // 1 - 2t exact near t = 1/2; (1-t) - t is not
      }
      store<f32>(gradOut + (i << 2), (inner * scale) * gradScale);
    }
  }
  return bad ? STATUS_INVALID : <i32>n;
}
