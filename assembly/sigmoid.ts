// Binary / multi-label focal loss from logits (torchvision.ops.sigmoid_focal_loss semantics), one fused pass:
// each element is read once and its loss (or its share of the sum) and its gradient are written in the same loop.
// Per element, with p = sigmoid(x), t in [0, 1]:
//   ce = t softplus(-x) + (1-t) softplus(x)          (= -(t log p + (1-t) log(1-p)))
//   q  = t sigmoid(-x) + (1-t) sigmoid(x)             (= 1 - p_t, a sum of positives: no 1 - p cancellation)
//   loss = alpha_t q^gamma ce,   alpha_t = alpha t + (1-alpha)(1-t)
//   dloss/dx = alpha_t q^gamma (gamma r (1-2t) ce + (p - t)),   r = p (1-p) / q in [0, 1]
// The gradient uses q^gamma r instead of gamma q^(gamma-1) dq: no q^(gamma-1) appears, so gamma in (0, 1) stays
// finite as p_t -> 1 (for t = 1 this is DESIGN.md's dL/dz = -alpha_t q^gamma (gamma (1-q) CE + q)).
import {
  expF32, expF32x4, GAMMA_ZERO, log1pUnitF32, log1pUnitF32x4, pmaxF32, powModeF32, powModeF32x4,
  splitHighF32,
} from './vmath';
import { addLanesHigh, addLanesLow, addToLane } from './reduce';

// One vector of four elements: loads, loss, gradient stores; returns the weighted losses for the reduction.
// @ts-ignore: decorator
@inline function focalStepF32x4(
  at: usize, logits: usize, targets: usize, weights: usize, lossOut: usize, gradOut: usize,
  hasAlpha: bool, alphaV: v128, alphaNegV: v128, gammaMode: i32, gammaV: v128, gHiV: v128, gLoV: v128,
  gradScaleV: v128,
): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const x = v128.load(logits + at);
  const t = v128.load(targets + at);
  const ax = f32x4.abs(x);
  const e = expF32x4(f32x4.neg(ax));
  const u = f32x4.add(one, e);
  const sHi = f32x4.div(one, u); // sigmoid(|x|)
  const sLo = f32x4.mul(e, sHi); // sigmoid(-|x|)
  const l = log1pUnitF32x4(e); // softplus(-|x|)
  const pos = f32x4.gt(x, zero);
  const p = v128.bitselect(sHi, sLo, pos);
  const pc = v128.bitselect(sLo, sHi, pos);
  // ce = t softplus(-x) + (1-t) softplus(x) with softplus(+-x) = relu(+-x) + l: positive terms, no selects.
  const reluX = f32x4.pmax(x, zero);
  const tc = f32x4.sub(one, t);
  const ce = f32x4.add(f32x4.add(f32x4.mul(t, f32x4.sub(ax, reluX)), f32x4.mul(tc, reluX)), l);
  const q = f32x4.add(f32x4.mul(t, pc), f32x4.mul(tc, p));
  const mod = powModeF32x4(q, gammaMode, gammaV, gHiV, gLoV);
  let loss = f32x4.mul(mod, ce);
  let scale = one;
  if (hasAlpha) scale = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, tc));
  if (weights) {
    const w = v128.load(weights + at);
    scale = hasAlpha ? f32x4.mul(scale, w) : w;
  }
  if (hasAlpha || weights) loss = f32x4.mul(loss, scale);
  if (lossOut) v128.store(lossOut + at, loss);
  if (gradOut) {
    // p - t = (1-t) p - t (1-p): exact for hard targets, and for soft ones no worse than its terms.
    const pMinusT = f32x4.sub(f32x4.mul(tc, p), f32x4.mul(t, pc));
    let inner = pMinusT;
    if (gammaMode != GAMMA_ZERO) {
      const r = v128.bitselect(f32x4.div(f32x4.mul(p, pc), q), zero, f32x4.gt(q, zero));
      const oneMinus2t = f32x4.sub(one, f32x4.add(t, t));
      inner = f32x4.add(f32x4.mul(f32x4.mul(f32x4.mul(gammaV, r), oneMinus2t), ce), pMinusT);
    }
    v128.store(gradOut + at, f32x4.mul(f32x4.mul(f32x4.mul(mod, inner), scale), gradScaleV));
  }
  return loss;
}

// Lanes where a logit is not finite, a target is outside [0, 1] or a weight is not finite (NaN fails every test).
// @ts-ignore: decorator
@inline function invalidF32x4(at: usize, logits: usize, targets: usize, weights: usize): v128 {
  const inf = f32x4.splat(Infinity);
  const x = v128.load(logits + at);
  const t = v128.load(targets + at);
  let valid = v128.and(f32x4.lt(f32x4.abs(x), inf), v128.and(f32x4.ge(t, f32x4.splat(0)), f32x4.le(t, f32x4.splat(1.0))));
  if (weights) valid = v128.and(valid, f32x4.lt(f32x4.abs(v128.load(weights + at)), inf));
  return v128.not(valid);
}

/**
 * Focal loss over n elements at `logits` and `targets` (float32). Adds weight * loss into the four float64
 * lanes at `acc`; writes each weighted loss to `lossOut` unless it is 0, and each gradient, multiplied by
 * weight * gradScale, to `gradOut` unless it is 0. `weights` is 0 for none; alpha < 0 means no alpha weighting.
 * Returns 1 when a logit is not finite or a target is outside [0, 1] (the facade then finds which), else 0.
 */
export function sigmoidFocal(
  logits: usize, targets: usize, weights: usize, lossOut: usize, gradOut: usize, n: usize,
  alpha: f32, gammaMode: i32, gamma: f32, gradScale: f32, acc: usize,
): i32 {
  const hasAlpha = alpha >= 0;
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  let i: usize = 0;
  let bad: i32 = 0;

  if (ASC_FEATURE_SIMD) {
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const gradScaleV = f32x4.splat(gradScale);
    let acc01 = v128.load(acc);
    let acc23 = v128.load(acc, 16);
    let badV = i32x4.splat(0);
    // Four independent vectors per iteration: V8 does not unroll, and one vector's exp/log chain alone leaves
    // most of the core idle. The lanes still receive their elements in index order.
    for (; i + 16 <= n; i += 16) {
      const at = i << 2;
      const l0 = focalStepF32x4(at, logits, targets, weights, lossOut, gradOut, hasAlpha, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l1 = focalStepF32x4(at + 16, logits, targets, weights, lossOut, gradOut, hasAlpha, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l2 = focalStepF32x4(at + 32, logits, targets, weights, lossOut, gradOut, hasAlpha, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l3 = focalStepF32x4(at + 48, logits, targets, weights, lossOut, gradOut, hasAlpha, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      badV = v128.or(badV, v128.or(
        v128.or(invalidF32x4(at, logits, targets, weights), invalidF32x4(at + 16, logits, targets, weights)),
        v128.or(invalidF32x4(at + 32, logits, targets, weights), invalidF32x4(at + 48, logits, targets, weights)),
      ));
      acc01 = addLanesLow(addLanesLow(addLanesLow(addLanesLow(acc01, l0), l1), l2), l3);
      acc23 = addLanesHigh(addLanesHigh(addLanesHigh(addLanesHigh(acc23, l0), l1), l2), l3);
    }
    for (; i + 4 <= n; i += 4) {
      const at = i << 2;
      const l0 = focalStepF32x4(at, logits, targets, weights, lossOut, gradOut, hasAlpha, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      badV = v128.or(badV, invalidF32x4(at, logits, targets, weights));
      acc01 = addLanesLow(acc01, l0);
      acc23 = addLanesHigh(acc23, l0);
    }
    v128.store(acc, acc01);
    v128.store(acc, acc23, 16);
    bad = <i32>v128.any_true(badV);
  }

  for (; i < n; i++) {
    const x = load<f32>(logits + (i << 2));
    const t = load<f32>(targets + (i << 2));
    const valid = (abs<f32>(x) < Infinity) & (t >= 0) & (t <= 1);
    bad |= <i32>!valid;

    const ax = abs<f32>(x);
    const e = expF32(-ax);
    const u: f32 = 1.0 + e;
    const sHi: f32 = 1.0 / u;
    const sLo = e * sHi;
    const l = log1pUnitF32(e);
    const pos = x > 0;
    const p = select<f32>(sHi, sLo, pos);
    const pc = select<f32>(sLo, sHi, pos);
    const reluX = pmaxF32(x, 0);
    const tc: f32 = 1.0 - t;
    const ce = (t * (ax - reluX) + tc * reluX) + l;
    const q = t * pc + tc * p;
    const mod = powModeF32(q, gammaMode, gamma, gHi, gLo);
    let loss = mod * ce;
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
      const pMinusT = tc * p - t * pc;
      let inner = pMinusT;
      if (gammaMode != GAMMA_ZERO) {
        const r = select<f32>((p * pc) / q, 0, q > 0);
        const oneMinus2t: f32 = 1.0 - (t + t);
        inner = ((gamma * r) * oneMinus2t) * ce + pMinusT;
      }
      store<f32>(gradOut + (i << 2), ((mod * inner) * scale) * gradScale);
    }
  }
  return bad;
}
