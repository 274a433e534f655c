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
  expF32, expF32x4, log1pUnitF32, log1pUnitF32x4, powF32, powF32x4, splitHighF32,
} from './vmath';
import { addLanesHigh, addLanesLow, addToLane } from './reduce';

// How q^gamma is formed; the facade picks the mode from gamma.
export const GAMMA_ZERO: i32 = 0;
export const GAMMA_ONE: i32 = 1;
export const GAMMA_TWO: i32 = 2;
export const GAMMA_HALF: i32 = 3;
export const GAMMA_GENERAL: i32 = 4;

// @ts-ignore: decorator
@inline function modulatingF32(q: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32): f32 {
  if (mode == GAMMA_ZERO) return 1.0;
  if (mode == GAMMA_ONE) return q;
  if (mode == GAMMA_TWO) return q * q;
  if (mode == GAMMA_HALF) return sqrt<f32>(q);
  return powF32(q, gamma, gHi, gLo);
}

// @ts-ignore: decorator
@inline function modulatingF32x4(q: v128, mode: i32, gamma: v128, gHi: v128, gLo: v128): v128 {
  if (mode == GAMMA_ZERO) return f32x4.splat(1.0);
  if (mode == GAMMA_ONE) return q;
  if (mode == GAMMA_TWO) return f32x4.mul(q, q);
  if (mode == GAMMA_HALF) return f32x4.sqrt(q);
  return powF32x4(q, gamma, gHi, gLo);
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
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const inf = f32x4.splat(Infinity);
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const gradScaleV = f32x4.splat(gradScale);
    let acc01 = v128.load(acc);
    let acc23 = v128.load(acc, 16);
    let badV = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(logits + (i << 2));
      const t = v128.load(targets + (i << 2));
      // Invalid input is flagged, not trapped: NaN fails every comparison.
      const valid = v128.and(f32x4.lt(f32x4.abs(x), inf), v128.and(f32x4.ge(t, zero), f32x4.le(t, one)));
      badV = v128.or(badV, v128.not(valid));

      const ax = f32x4.abs(x);
      const e = expF32x4(f32x4.neg(ax));
      const sHi = f32x4.div(one, f32x4.add(one, e)); // sigmoid(|x|)
      const sLo = f32x4.mul(e, sHi); // sigmoid(-|x|)
      const l = log1pUnitF32x4(e); // softplus(-|x|)
      const pos = f32x4.gt(x, zero);
      const p = v128.bitselect(sHi, sLo, pos);
      const pc = v128.bitselect(sLo, sHi, pos);
      const axl = f32x4.add(ax, l);
      const spPos = v128.bitselect(axl, l, pos); // softplus(x) = -log(1-p)
      const spNeg = v128.bitselect(l, axl, pos); // softplus(-x) = -log p
      const tc = f32x4.sub(one, t);
      const ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
      const q = f32x4.add(f32x4.mul(t, pc), f32x4.mul(tc, p));
      const mod = modulatingF32x4(q, gammaMode, gammaV, gHiV, gLoV);
      let loss = f32x4.mul(mod, ce);
      let scale = one;
      if (hasAlpha) scale = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, tc));
      if (weights) {
        const w = v128.load(weights + (i << 2));
        badV = v128.or(badV, v128.not(f32x4.lt(f32x4.abs(w), inf)));
        scale = hasAlpha ? f32x4.mul(scale, w) : w;
      }
      if (hasAlpha || weights) loss = f32x4.mul(loss, scale);
      acc01 = addLanesLow(acc01, loss);
      acc23 = addLanesHigh(acc23, loss);
      if (lossOut) v128.store(lossOut + (i << 2), loss);
      if (gradOut) {
        // p - t without cancellation on the side where p is near 1: (1 - t) - sigmoid(-x).
        const pMinusT = v128.bitselect(f32x4.sub(tc, sLo), f32x4.sub(sLo, t), pos);
        let inner = pMinusT;
        if (gammaMode != GAMMA_ZERO) {
          const r = v128.bitselect(f32x4.div(f32x4.mul(p, pc), q), zero, f32x4.gt(q, zero));
          const oneMinus2t = f32x4.sub(one, f32x4.add(t, t));
          inner = f32x4.add(f32x4.mul(f32x4.mul(f32x4.mul(gammaV, r), oneMinus2t), ce), pMinusT);
        }
        const g = f32x4.mul(f32x4.mul(f32x4.mul(mod, inner), scale), gradScaleV);
        v128.store(gradOut + (i << 2), g);
      }
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
    const sHi: f32 = 1.0 / (1.0 + e);
    const sLo = e * sHi;
    const l = log1pUnitF32(e);
    const pos = x > 0;
    const p = select<f32>(sHi, sLo, pos);
    const pc = select<f32>(sLo, sHi, pos);
    const axl = ax + l;
    const spPos = select<f32>(axl, l, pos);
    const spNeg = select<f32>(l, axl, pos);
    const tc: f32 = 1.0 - t;
    const ce = t * spNeg + tc * spPos;
    const q = t * pc + tc * p;
    const mod = modulatingF32(q, gammaMode, gamma, gHi, gLo);
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
      const pMinusT = select<f32>(tc - sLo, sLo - t, pos);
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
