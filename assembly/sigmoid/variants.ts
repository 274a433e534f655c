// The sigmoid family beyond torchvision's focal loss: FL*, Quality Focal Loss, Varifocal Loss, Poly-1 focal, and
// the focal loss with masks, class weights, posWeight, reduced and normalized focal terms. A family file of its own
// beside sigmoid.ts (which keeps the plain, tuned kernel). Each export is one loss; they share one loop body,
// `family`, specialized per loss at compile time (the variant is a constant, so Binaryen folds away the others).
// The loop reads logits and targets once and writes loss and gradient in the same pass, as sigmoid.ts does.
// Pieces every variant uses, with p = sigmoid(x), t in [0, 1], from e = exp(-|x|) (no overflow, no 1 - p
// cancellation): ce = t softplus(-x) + (1-t) softplus(x) (= BCE(x, t)), q = t (1-p) + (1-t) p (= 1 - p_t),
// p - t formed as (1-t) - sigmoid(-x) for x > 0.
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO, log1pUnitF32, log1pUnitF32x4,
  negAbsF32x4, powF32, powF32x4, powModeF32, powModeF32x4, splitHighF32,
} from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';

const FOCAL: i32 = 0;
const STAR: i32 = 1;
const QUALITY: i32 = 2;
const VARIFOCAL: i32 = 3;
const POLY: i32 = 4;

// flags
export const HAS_IGNORE: i32 = 1; // targets equal to `ignoreValue` are ignored
export const IOU_WEIGHTED: i32 = 2; // varifocal: positives weighted by their target q
export const REDUCED: i32 = 4; // focal: smp's reduced focal term
export const NORMALIZED: i32 = 8; // focal: scale by invS and add dfCoef * d(focal term)/dx
export const NORMALIZED_DIAG: i32 = 16; // with NORMALIZED, reduction 'none': the coefficient is -loss_i / S^2

/**
 * The shared loop. Per element: `keep` unless mask[i] == 0 or (HAS_IGNORE and t == ignoreValue); an element not
 * kept gives 0 loss and 0 gradient, is not validated and not counted. scale = weights[i] * classWeights[i]
 * (either pointer 0 for none; the facade passes class weights tiled so that element i reads index i).
 * Adds each loss to the lanes at `acc` (and, for FOCAL, each focal term to `acc2` when acc2 != 0); writes the loss
 * to lossOut and gradient * gradScale to gradOut unless those are 0. Returns the number of kept elements, or -1
 * when a kept element has a non-finite logit or weight or a target outside [0, 1].
 * Parameters: a, b (the exponent: gamma or beta, formed by `mode`), c, d are the variant's (see the exports).
 */
// @ts-ignore: decorator
@inline function family(
  variant: i32,
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize,
  a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32, ignoreValue: f32,
  gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  const hasIgnore = (flags & HAS_IGNORE) != 0;
  const iouWeighted = (flags & IOU_WEIGHTED) != 0;
  const reduced = (flags & REDUCED) != 0;
  const normalized = (flags & NORMALIZED) != 0;
  const diag = (flags & NORMALIZED_DIAG) != 0;
  const hasAlpha = a >= 0;
  const alphaNeg: f32 = 1.0 - a;
  const bHi = splitHighF32(b);
  const bLo = b - bHi;
  const bPlusOne: f32 = b + 1.0;
  const bF64 = <f64>b;
  const cF64 = <f64>c;
  let i: usize = 0;
  let bad: i32 = 0;
  let kept: i32 = 0;

  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const aV = f32x4.splat(a);
    const alphaNegV = f32x4.splat(alphaNeg);
    const bV = f32x4.splat(b);
    const bHiV = f32x4.splat(bHi);
    const bLoV = f32x4.splat(bLo);
    const bPlusOneV = f32x4.splat(bPlusOne);
    const cV = f32x4.splat(c);
    const dV = f32x4.splat(d);
    const gradScaleV = f32x4.splat(gradScale);
    const invSV = f32x4.splat(invS);
    const dfCoefV = f32x4.splat(dfCoef);
    const ignoreV = f32x4.splat(ignoreValue);
    let acc01 = v128.load(acc);
    let acc23 = v128.load(acc, 16);
    let fAcc01 = f64x2.splat(0);
    let fAcc23 = f64x2.splat(0);
    if (acc2) {
      fAcc01 = v128.load(acc2);
      fAcc23 = v128.load(acc2, 16);
    }
    let badV = i32x4.splat(0);
    let keptV = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      let x = v128.load(logits + (i << 2));
      let t = v128.load(targets + (i << 2));
      let keep = i32x4.splat(-1);
      if (mask) keep = f32x4.ne(v128.load(mask + (i << 2)), zero);
      if (hasIgnore) keep = v128.andnot(keep, f32x4.eq(t, ignoreV));
      keptV = i32x4.sub(keptV, keep);
      // Ignored elements compute on (0, 0), which is finite, and are zeroed at the end.
      x = v128.and(x, keep);
      t = v128.and(t, keep);
      let valid = v128.and(finiteF32x4(x), v128.and(f32x4.ge(t, zero), f32x4.le(t, one)));
      let scale = keep; // all-ones bits are not a float: replaced below before any use
      let scaled = false;
      if (weights) {
        const w = v128.load(weights + (i << 2));
        valid = v128.and(valid, v128.or(finiteF32x4(w), v128.not(keep)));
        scale = w;
        scaled = true;
      }
      if (classWeights) {
        const cw = v128.load(classWeights + (i << 2));
        scale = scaled ? f32x4.mul(scale, cw) : cw;
        scaled = true;
      }
      badV = v128.or(badV, v128.not(valid));

      let loss = zero;
      let grad = zero;
      let focalTerm = zero;
      let focalSlope = zero;
      if (variant == STAR) {
        // z = gamma x (2t - 1) + beta in float64, rounded once: the loss is e^-z for large z, so each rounding
        // of z would cost |z| ulp of relative accuracy.
        const xLo = f64x2.promote_low_f32x4(x);
        const xHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1));
        const tLo = f64x2.promote_low_f32x4(t);
        const tHi = f64x2.promote_low_f32x4(v128.shuffle<f32>(t, t, 2, 3, 0, 1));
        const twoT1Lo = f64x2.sub(f64x2.add(tLo, tLo), f64x2.splat(1.0));
        const twoT1Hi = f64x2.sub(f64x2.add(tHi, tHi), f64x2.splat(1.0));
        const zLo = f64x2.add(f64x2.mul(f64x2.mul(xLo, twoT1Lo), f64x2.splat(bF64)), f64x2.splat(cF64));
        const zHi = f64x2.add(f64x2.mul(f64x2.mul(xHi, twoT1Hi), f64x2.splat(bF64)), f64x2.splat(cF64));
        const z = v128.shuffle<f32>(f32x4.demote_f64x2_zero(zLo), f32x4.demote_f64x2_zero(zHi), 0, 1, 4, 5);
        const az = f32x4.abs(z);
        const e = expNonPositiveF32x4(negAbsF32x4(z));
        const l = log1pUnitF32x4(e);
        const hi = f32x4.div(one, f32x4.add(one, e));
        const lo = f32x4.mul(e, hi);
        const zPos = f32x4.gt(z, zero);
        const spNegZ = v128.bitselect(l, f32x4.add(az, l), zPos); // softplus(-z) = -log sigmoid(z)
        const sigNegZ = v128.bitselect(lo, hi, zPos); // sigmoid(-z)
        loss = f32x4.div(spNegZ, bV);
        grad = f32x4.neg(f32x4.mul(f32x4.sub(f32x4.add(t, t), one), sigNegZ));
        if (hasAlpha) {
          const alphaT = f32x4.add(f32x4.mul(aV, t), f32x4.mul(alphaNegV, f32x4.sub(one, t)));
          loss = f32x4.mul(loss, alphaT);
          grad = f32x4.mul(grad, alphaT);
        }
      } else {
        const ax = f32x4.abs(x);
        const e = expNonPositiveF32x4(negAbsF32x4(x));
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
        const pMinusT = v128.bitselect(f32x4.sub(tc, sLo), f32x4.sub(sLo, t), pos);
        const oneMinus2t = f32x4.sub(one, f32x4.add(t, t));
        if (variant == FOCAL || variant == POLY) {
          let ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
          let dce = pMinusT;
          if (posWeights) {
            // BCE with pos_weight: -(pw t log p + (1-t) log(1-p)); its derivative (1-t) p - pw t (1-p).
            const pwT = f32x4.mul(v128.load(posWeights + (i << 2)), t);
            ce = f32x4.add(f32x4.mul(pwT, spNeg), f32x4.mul(tc, spPos));
            dce = f32x4.sub(f32x4.mul(tc, p), f32x4.mul(pwT, pc));
          }
          const q = f32x4.add(f32x4.mul(t, pc), f32x4.mul(tc, p));
          const mod = powModeF32x4(q, mode, bV, bHiV, bLoV);
          // d q^gamma / dx = q^gamma k, k = gamma r (1-2t), r = p (1-p) / q in [0, 1]: no q^(gamma-1).
          let k = zero;
          if (mode != GAMMA_ZERO) {
            const r = v128.bitselect(f32x4.div(f32x4.mul(p, pc), q), zero, f32x4.gt(q, zero));
            k = f32x4.mul(f32x4.mul(bV, r), oneMinus2t);
          }
          let term = mod;
          if (variant == FOCAL && reduced) {
            // smp: ((1 - p_t) / threshold)^gamma where p_t >= threshold, 1 (a constant) below it.
            const focal = f32x4.ge(f32x4.sub(one, q), cV);
            term = v128.bitselect(f32x4.mul(mod, dV), one, focal);
            k = v128.and(k, focal);
          }
          loss = f32x4.mul(term, ce);
          grad = f32x4.mul(term, f32x4.add(f32x4.mul(k, ce), dce));
          if (hasAlpha) {
            const alphaT = f32x4.add(f32x4.mul(aV, t), f32x4.mul(alphaNegV, tc));
            loss = f32x4.mul(loss, alphaT);
            grad = f32x4.mul(grad, alphaT);
          }
          if (variant == FOCAL) {
            focalTerm = term;
            focalSlope = f32x4.mul(term, k);
          } else {
            // Poly-1: + epsilon q^(gamma+1), d/dx = epsilon (gamma+1) q^gamma (1-2t) p (1-p).
            loss = f32x4.add(loss, f32x4.mul(cV, f32x4.mul(q, mod)));
            const dPoly = f32x4.mul(f32x4.mul(bPlusOneV, mod), f32x4.mul(oneMinus2t, f32x4.mul(p, pc)));
            grad = f32x4.add(grad, f32x4.mul(cV, dPoly));
          }
        } else if (variant == QUALITY) {
          // |t - p|^beta BCE; d/dx = |d|^beta (beta p (1-p) / d BCE + d), d = p - t: no |d|^(beta-1).
          const ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
          const mod = powModeF32x4(f32x4.abs(pMinusT), mode, bV, bHiV, bLoV);
          loss = f32x4.mul(mod, ce);
          let inner = pMinusT;
          if (mode != GAMMA_ZERO) {
            const rs = v128.bitselect(f32x4.div(f32x4.mul(p, pc), pMinusT), zero, f32x4.ne(pMinusT, zero));
            inner = f32x4.add(f32x4.mul(f32x4.mul(bV, rs), ce), pMinusT);
          }
          grad = f32x4.mul(mod, inner);
        } else if (variant == VARIFOCAL) {
          // Positives (t > 0): w BCE(x, t), w = t (iouWeighted) or 1. Negatives: alpha p^gamma softplus(x), the
          // weight not detached (mmdet): d/dx = alpha p^gamma (gamma (1-p) softplus(x) + p).
          const ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
          const positive = f32x4.gt(t, zero);
          const posW = iouWeighted ? t : one;
          const negW = f32x4.mul(aV, powModeF32x4(p, mode, bV, bHiV, bLoV));
          let negInner = p;
          if (mode != GAMMA_ZERO) negInner = f32x4.add(f32x4.mul(f32x4.mul(bV, pc), spPos), p);
          loss = f32x4.mul(v128.bitselect(posW, negW, positive), ce);
          grad = v128.bitselect(f32x4.mul(posW, pMinusT), f32x4.mul(negW, negInner), positive);
        }
      }
      if (scaled) {
        loss = f32x4.mul(loss, scale);
        grad = f32x4.mul(grad, scale);
      }
      loss = v128.and(loss, keep);
      grad = v128.and(grad, keep);
      if (variant == FOCAL && acc2) {
        focalTerm = v128.and(focalTerm, keep);
        fAcc01 = addLanesLow(fAcc01, focalTerm);
        fAcc23 = addLanesHigh(fAcc23, focalTerm);
      }
      if (variant == FOCAL && normalized) {
        // smp's normalized focal loss: loss / S with S = sum of focal terms; its gradient has the S term too.
        const coef = diag ? f32x4.neg(f32x4.mul(f32x4.mul(loss, invSV), invSV)) : dfCoefV;
        grad = f32x4.add(f32x4.mul(grad, invSV), f32x4.mul(coef, v128.and(focalSlope, keep)));
        loss = f32x4.mul(loss, invSV);
      }
      acc01 = addLanesLow(acc01, loss);
      acc23 = addLanesHigh(acc23, loss);
      if (lossOut) v128.store(lossOut + (i << 2), loss);
      if (gradOut) v128.store(gradOut + (i << 2), f32x4.mul(grad, gradScaleV));
    }
    v128.store(acc, acc01);
    v128.store(acc, acc23, 16);
    if (acc2) {
      v128.store(acc2, fAcc01);
      v128.store(acc2, fAcc23, 16);
    }
    bad = <i32>v128.any_true(badV);
    kept = i32x4.extract_lane(keptV, 0) + i32x4.extract_lane(keptV, 1)
      + i32x4.extract_lane(keptV, 2) + i32x4.extract_lane(keptV, 3);
  }

  for (; i < n; i++) {
    let x = load<f32>(logits + (i << 2));
    let t = load<f32>(targets + (i << 2));
    let keep = true;
    if (mask) keep = load<f32>(mask + (i << 2)) != 0;
    if (hasIgnore) keep = keep && !(t == ignoreValue);
    kept += <i32>keep;
    x = select<f32>(x, 0, keep);
    t = select<f32>(t, 0, keep);
    let valid = (abs<f32>(x) < Infinity) & (t >= 0) & (t <= 1);
    let scale: f32 = 1.0;
    let scaled = false;
    if (weights) {
      const w = load<f32>(weights + (i << 2));
      valid = valid & ((abs<f32>(w) < Infinity) | !keep);
      scale = w;
      scaled = true;
    }
    if (classWeights) {
      const cw = load<f32>(classWeights + (i << 2));
      scale = scaled ? scale * cw : cw;
      scaled = true;
    }
    bad |= <i32>!valid;

    let loss: f32 = 0;
    let grad: f32 = 0;
    let focalTerm: f32 = 0;
    let focalSlope: f32 = 0;
    if (variant == STAR) {
      const twoT1: f64 = (<f64>t + <f64>t) - 1.0;
      const z = <f32>(((<f64>x * twoT1) * bF64) + cF64);
      const az = abs<f32>(z);
      const e = expNonPositiveF32(-az);
      const l = log1pUnitF32(e);
      const hi: f32 = 1.0 / (1.0 + e);
      const lo = e * hi;
      const zPos = z > 0;
      const spNegZ = select<f32>(l, az + l, zPos);
      const sigNegZ = select<f32>(lo, hi, zPos);
      loss = spNegZ / b;
      grad = -(((t + t) - 1.0) * sigNegZ);
      if (hasAlpha) {
        const alphaT = a * t + alphaNeg * (1.0 - t);
        loss = loss * alphaT;
        grad = grad * alphaT;
      }
    } else {
      const ax = abs<f32>(x);
      const e = expNonPositiveF32(-ax);
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
      const pMinusT = select<f32>(tc - sLo, sLo - t, pos);
      const oneMinus2t: f32 = 1.0 - (t + t);
      if (variant == FOCAL || variant == POLY) {
        let ce = t * spNeg + tc * spPos;
        let dce = pMinusT;
        if (posWeights) {
          const pwT = load<f32>(posWeights + (i << 2)) * t;
          ce = pwT * spNeg + tc * spPos;
          dce = tc * p - pwT * pc;
        }
        const q = t * pc + tc * p;
        const mod = powModeF32(q, mode, b, bHi, bLo);
        let k: f32 = 0;
        if (mode != GAMMA_ZERO) {
          const r = select<f32>((p * pc) / q, 0, q > 0);
          k = (b * r) * oneMinus2t;
        }
        let term = mod;
        if (variant == FOCAL && reduced) {
          const focal = (1.0 - q) >= c;
          term = select<f32>(mod * d, 1.0, focal);
          k = select<f32>(k, 0, focal);
        }
        loss = term * ce;
        grad = term * (k * ce + dce);
        if (hasAlpha) {
          const alphaT = a * t + alphaNeg * tc;
          loss = loss * alphaT;
          grad = grad * alphaT;
        }
        if (variant == FOCAL) {
          focalTerm = term;
          focalSlope = term * k;
        } else {
          loss = loss + c * (q * mod);
          const dPoly = (bPlusOne * mod) * (oneMinus2t * (p * pc));
          grad = grad + c * dPoly;
        }
      } else if (variant == QUALITY) {
        const ce = t * spNeg + tc * spPos;
        const mod = powModeF32(abs<f32>(pMinusT), mode, b, bHi, bLo);
        loss = mod * ce;
        let inner = pMinusT;
        if (mode != GAMMA_ZERO) {
          const rs = select<f32>((p * pc) / pMinusT, 0, pMinusT != 0);
          inner = (b * rs) * ce + pMinusT;
        }
        grad = mod * inner;
      } else if (variant == VARIFOCAL) {
        const ce = t * spNeg + tc * spPos;
        const positive = t > 0;
        const posW: f32 = iouWeighted ? t : 1.0;
        const negW = a * powModeF32(p, mode, b, bHi, bLo);
        let negInner = p;
        if (mode != GAMMA_ZERO) negInner = (b * pc) * spPos + p;
        loss = select<f32>(posW, negW, positive) * ce;
        grad = select<f32>(posW * pMinusT, negW * negInner, positive);
      }
    }
    if (scaled) {
      loss = loss * scale;
      grad = grad * scale;
    }
    loss = select<f32>(loss, 0, keep);
    grad = select<f32>(grad, 0, keep);
    if (variant == FOCAL && acc2) addToLane(acc2, i, select<f32>(focalTerm, 0, keep));
    if (variant == FOCAL && normalized) {
      const coef: f32 = diag ? -((loss * invS) * invS) : dfCoef;
      grad = grad * invS + coef * select<f32>(focalSlope, 0, keep);
      loss = loss * invS;
    }
    addToLane(acc, i, loss);
    if (lossOut) store<f32>(lossOut + (i << 2), loss);
    if (gradOut) store<f32>(gradOut + (i << 2), grad * gradScale);
  }
  return bad ? -1 : kept;
}

/**
 * Focal loss (torchvision form) with masks and weights: a = alpha (< 0: none), b = gamma, c = reduced threshold,
 * d = threshold^-gamma (flags REDUCED); posWeights tiled per class (0: none); NORMALIZED with invS, dfCoef, and
 * acc2 != 0 to sum the focal terms (the facade's first pass).
 */
export function sigmoidFocalMasked(
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32,
  ignoreValue: f32, gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  return family(FOCAL, logits, targets, weights, classWeights, posWeights, mask, lossOut, gradOut, n,
    a, b, c, d, mode, flags, ignoreValue, gradScale, invS, dfCoef, acc, acc2);
}

/**
 * FL* (Lin et al. 2017, appendix A; fvcore sigmoid_focal_loss_star): a = alpha (< 0: none), b = gamma > 0,
 * c = beta. loss = alpha_t softplus(-(gamma x (2t-1) + beta)) / gamma.
 */
export function sigmoidFocalStar(
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32,
  ignoreValue: f32, gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  return family(STAR, logits, targets, weights, classWeights, 0, mask, lossOut, gradOut, n,
    a, b, c, d, mode, flags & HAS_IGNORE, ignoreValue, gradScale, 1, 0, acc, 0);
}

/** Quality Focal Loss (Li et al. 2020; mmdet quality_focal_loss): b = beta. loss = |t - p|^beta BCE(x, t). */
export function qualityFocal(
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32,
  ignoreValue: f32, gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  return family(QUALITY, logits, targets, weights, classWeights, 0, mask, lossOut, gradOut, n,
    a, b, c, d, mode, flags & HAS_IGNORE, ignoreValue, gradScale, 1, 0, acc, 0);
}

/** Varifocal Loss (Zhang et al. 2021; mmdet varifocal_loss): a = alpha, b = gamma, flags IOU_WEIGHTED. */
export function varifocal(
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32,
  ignoreValue: f32, gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  return family(VARIFOCAL, logits, targets, weights, classWeights, 0, mask, lossOut, gradOut, n,
    a, b, c, d, mode, flags & (HAS_IGNORE | IOU_WEIGHTED), ignoreValue, gradScale, 1, 0, acc, 0);
}

/** Poly-1 focal loss (Leng et al. 2022): a = alpha (< 0: none), b = gamma, c = epsilon. */
export function polyFocal(
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, a: f32, b: f32, c: f32, d: f32, mode: i32, flags: i32,
  ignoreValue: f32, gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize,
): i32 {
  return family(POLY, logits, targets, weights, classWeights, posWeights, mask, lossOut, gradOut, n,
    a, b, c, d, mode, flags & HAS_IGNORE, ignoreValue, gradScale, 1, 0, acc, 0);
}
