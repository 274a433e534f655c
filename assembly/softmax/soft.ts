// Multi-class focal loss with a target distribution per row (soft targets, mixup, distillation) or class indices
// with label smoothing: every p_c is needed, so rows shift by their max (rows.ts) and leave the maxima out of r.
import {
  FLAG_DETACH_MODULATOR, GAMMA_ZERO, PARAM_ALPHA, PARAM_FLAGS, PARAM_GAMMA, PARAM_GAMMA_MODE, PARAM_GRAD_SCALE, PARAM_IGNORE_INDEX, PARAM_SMOOTH_KEEP,
  PARAM_SMOOTH_LO, STATUS_INVALID, STREAM_ACC, STREAM_CLASS_WEIGHTS, STREAM_GAMMAS, STREAM_GRAD, STREAM_INPUT, STREAM_LABELS,
  STREAM_LOSS, STREAM_SCRATCH, STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import { powModeF32, powModeF32x4, powPerElementF32, powPerElementF32x4, splitHighF32 } from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';
import { log1pRecipF32, rowExpSum, rowFinite, rowMax } from './rows';

// ---- soft targets (and label smoothing) ---------------------------------------------------------------------
/**
 * Focal loss with a target distribution per row: loss_i = -sum_c alpha_c t_c (1 - p_c)^gamma log p_c, and
 * d loss_i / d z_j = k_j - p_j sum_c k_c with k_c = -alpha_c t_c u_c^gamma (1 + gamma p_c rho_c) (each class as
 * in the hard case). The gradient is formed as k_j u_j - p_j (sum_{c != j} k_c), the sum taken in float64.
 * The targets stream (float32, rows x classes) gives t, or when it is 0 the int32 class indices of the labels
 * stream do (one-hot; ignoreIndex rows give 0, unread). Either is label-smoothed as Keras does, t' = t keep + lo
 * with params smoothKeep = 1 - eps and smoothLo = eps / C (1 and 0: none); the range check applies to t before
 * smoothing. Other streams, params and the status as softmaxFocal; a soft target outside [0, 1] is flagged too.
 * gammas (0: none) gives class c's term the exponent gamma[c]; FLAG_DETACH_MODULATOR makes k_c = -alpha_c t_c u_c^gamma
 * (the modulator a constant of the gradient).
 */
export function softmaxFocalSoft(streams: usize, rows: usize, classes: usize, rowBase: usize, params: usize): i32 {
  const logits = load<usize>(streams, STREAM_INPUT);
  const targets = load<usize>(streams, STREAM_TARGETS);
  const labels = load<usize>(streams, STREAM_LABELS);
  const weights = load<usize>(streams, STREAM_WEIGHTS);
  const alphas = load<usize>(streams, STREAM_CLASS_WEIGHTS);
  const gammas = load<usize>(streams, STREAM_GAMMAS);
  const detach = (load<i32>(params, PARAM_FLAGS) & FLAG_DETACH_MODULATOR) != 0;
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const scratch = load<usize>(streams, STREAM_SCRATCH);
  const acc = load<usize>(streams, STREAM_ACC);
  const alpha = load<f32>(params, PARAM_ALPHA);
  const gammaMode = load<i32>(params, PARAM_GAMMA_MODE);
  const gamma = load<f32>(params, PARAM_GAMMA);
  const gradScale = load<f32>(params, PARAM_GRAD_SCALE);
  const ignoreIndex = load<i32>(params, PARAM_IGNORE_INDEX);
  const keep = load<f32>(params, PARAM_SMOOTH_KEEP);
  const lo = load<f32>(params, PARAM_SMOOTH_LO);
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  const hi: f32 = keep + lo;
  const smooth = keep != 1.0 || lo != 0;
  const alphaAll: f32 = alpha < 0 ? 1.0 : alpha;
  let bad: i32 = 0;
  for (let i: usize = 0; i < rows; i++) {
    const z = logits + ((i * classes) << 2);
    const t = targets ? targets + ((i * classes) << 2) : 0;
    const g = gradOut ? gradOut + ((i * classes) << 2) : 0;
    let w: f32 = 1.0;
    if (weights) {
      w = load<f32>(weights + (i << 2));
      bad |= <i32>!(abs<f32>(w) < Infinity);
    }
    let y: i32 = -1;
    if (!targets) {
      y = load<i32>(labels + (i << 2));
      if (y == ignoreIndex || y < 0 || <usize>y >= classes) {
        bad |= <i32>(y != ignoreIndex);
        if (lossOut) store<f32>(lossOut + (i << 2), 0);
        if (g) memory.fill(g, 0, classes << 2);
        continue;
      }
    }

    const m = rowMax(z, classes);
    bad |= <i32>!rowFinite;
    const rf = <f32>rowExpSum(z, m, classes, scratch);
    const invS: f32 = 1.0 / (1.0 + rf);
    const logS = log1pRecipF32(rf, invS);
    const top: f32 = rf * invS; // 1 - p_c for a maximal class c

    // Pass over the classes: loss terms and k_c (kept in gradOut until the last pass).
    let l0: f64 = 0;
    let l1: f64 = 0;
    let l2: f64 = 0;
    let l3: f64 = 0;
    let k0: f64 = 0;
    let k1: f64 = 0;
    let k2: f64 = 0;
    let k3: f64 = 0;
    let j: usize = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1.0);
      const zero = f32x4.splat(0);
      const mV = f32x4.splat(m);
      const logSV = f32x4.splat(logS);
      const invSV = f32x4.splat(invS);
      const topV = f32x4.splat(top);
      const gammaV = f32x4.splat(gamma);
      const gHiV = f32x4.splat(gHi);
      const gLoV = f32x4.splat(gLo);
      const alphaV = f32x4.splat(alphaAll);
      const loV = f32x4.splat(lo);
      const keepV = f32x4.splat(keep);
      const hiV = f32x4.splat(hi);
      const yV = i32x4.splat(y);
      let idxV = i32x4(0, 1, 2, 3);
      let okV = i32x4.splat(-1);
      let lossLo = f64x2.splat(0);
      let lossHi = f64x2.splat(0);
      let kLo = f64x2.splat(0);
      let kHi = f64x2.splat(0);
      for (; j + 4 <= classes; j += 4) {
        const x = v128.load(z + (j << 2));
        const ev = v128.load(scratch + (j << 2));
        let tv: v128;
        if (t) {
          tv = v128.load(t + (j << 2));
          okV = v128.and(okV, v128.and(f32x4.ge(tv, zero), f32x4.le(tv, one)));
          if (smooth) tv = f32x4.add(f32x4.mul(tv, keepV), loV);
        } else {
          tv = v128.bitselect(hiV, loV, i32x4.eq(idxV, yV));
          idxV = i32x4.add(idxV, i32x4.splat(4));
        }
        const a = f32x4.mul(tv, alphas ? v128.load(alphas + (j << 2)) : alphaV);
        const d = f32x4.sub(x, mV);
        const ce = f32x4.sub(logSV, d);
        const p = f32x4.mul(ev, invSV);
        const u = v128.bitselect(topV, f32x4.sub(one, p), f32x4.eq(x, mV));
        let gv = gammaV;
        let mod = one;
        if (gammas) {
          gv = v128.load(gammas + (j << 2));
          mod = powPerElementF32x4(u, gv);
        } else {
          mod = powModeF32x4(u, gammaMode, gammaV, gHiV, gLoV);
        }
        const l = f32x4.mul(f32x4.mul(mod, ce), a);
        lossLo = addLanesLow(lossLo, l);
        lossHi = addLanesHigh(lossHi, l);
        if (g) {
          let inner = one;
          if (gammaMode != GAMMA_ZERO && !detach) {
            const rho = v128.bitselect(f32x4.div(ce, u), one, f32x4.gt(u, zero));
            inner = f32x4.add(one, f32x4.mul(f32x4.mul(gv, p), rho));
          }
          const k = f32x4.neg(f32x4.mul(f32x4.mul(mod, inner), a));
          v128.store(g + (j << 2), k);
          kLo = addLanesLow(kLo, k);
          kHi = addLanesHigh(kHi, k);
        }
      }
      bad |= <i32>!i32x4.all_true(okV);
      l0 = f64x2.extract_lane(lossLo, 0);
      l1 = f64x2.extract_lane(lossLo, 1);
      l2 = f64x2.extract_lane(lossHi, 0);
      l3 = f64x2.extract_lane(lossHi, 1);
      k0 = f64x2.extract_lane(kLo, 0);
      k1 = f64x2.extract_lane(kLo, 1);
      k2 = f64x2.extract_lane(kHi, 0);
      k3 = f64x2.extract_lane(kHi, 1);
    }
    // The scalar twin, one class at a time, each into lane j mod 4.
    for (; j < classes; j++) {
      const x = load<f32>(z + (j << 2));
      const ej = load<f32>(scratch + (j << 2));
      let tj: f32;
      if (t) {
        tj = load<f32>(t + (j << 2));
        bad |= <i32>!((tj >= 0) & (tj <= 1));
        if (smooth) tj = tj * keep + lo;
      } else {
        tj = select<f32>(hi, lo, <i32>j == y);
      }
      const a: f32 = tj * (alphas ? load<f32>(alphas + (j << 2)) : alphaAll);
      const d: f32 = x - m;
      const ce: f32 = logS - d;
      const p: f32 = ej * invS;
      const u: f32 = select<f32>(top, 1.0 - p, x == m);
      let gj = gamma;
      let mod: f32 = 0;
      if (gammas) {
        gj = load<f32>(gammas + (j << 2));
        mod = powPerElementF32(u, gj);
      } else {
        mod = powModeF32(u, gammaMode, gamma, gHi, gLo);
      }
      const l: f32 = (mod * ce) * a;
      const lane = j & 3;
      if (lane == 0) l0 += <f64>l;
      else if (lane == 1) l1 += <f64>l;
      else if (lane == 2) l2 += <f64>l;
      else l3 += <f64>l;
      if (g) {
        let inner: f32 = 1.0;
        if (gammaMode != GAMMA_ZERO && !detach) {
          const rho = select<f32>(ce / u, 1.0, u > 0);
          inner = 1.0 + (gj * p) * rho;
        }
        const k: f32 = -((mod * inner) * a);
        store<f32>(g + (j << 2), k);
        if (lane == 0) k0 += <f64>k;
        else if (lane == 1) k1 += <f64>k;
        else if (lane == 2) k2 += <f64>k;
        else k3 += <f64>k;
      }
    }
    const loss = <f32>((((l0 + l1) + (l2 + l3))) * <f64>w);
    addToLane(acc, rowBase + i, loss);
    if (lossOut) store<f32>(lossOut + (i << 2), loss);
    if (g) softGradRow(z, scratch, g, classes, m, invS, top, (k0 + k1) + (k2 + k3), w * gradScale);
  }
  return bad ? STATUS_INVALID : <i32>rows;
}

/** The last soft pass: g_j = (k_j u_j - p_j (sumK - k_j)) c, with k_j read from g and sumK - k_j in float64. */
// @ts-ignore: decorator
@inline function softGradRow(
  z: usize, e: usize, g: usize, classes: usize, m: f32, invS: f32, top: f32, sumK: f64, c: f32,
): void {
  let j: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const mV = f32x4.splat(m);
    const invSV = f32x4.splat(invS);
    const topV = f32x4.splat(top);
    const sumKV = f64x2.splat(sumK);
    const cV = f32x4.splat(c);
    for (; j + 4 <= classes; j += 4) {
      const x = v128.load(z + (j << 2));
      const p = f32x4.mul(v128.load(e + (j << 2)), invSV);
      const k = v128.load(g + (j << 2));
      const u = v128.bitselect(topV, f32x4.sub(one, p), f32x4.eq(x, mV));
      const restLo = f32x4.demote_f64x2_zero(f64x2.sub(sumKV, f64x2.promote_low_f32x4(k)));
      const restHi = f32x4.demote_f64x2_zero(
        f64x2.sub(sumKV, f64x2.promote_low_f32x4(v128.shuffle<f32>(k, k, 2, 3, 0, 1))),
      );
      const rest = v128.shuffle<f32>(restLo, restHi, 0, 1, 4, 5);
      const gj = f32x4.mul(f32x4.sub(f32x4.mul(k, u), f32x4.mul(p, rest)), cV);
      v128.store(g + (j << 2), gj);
    }
  }
  for (; j < classes; j++) {
    const x = load<f32>(z + (j << 2));
    const p: f32 = load<f32>(e + (j << 2)) * invS;
    const k = load<f32>(g + (j << 2));
    const u: f32 = select<f32>(top, 1.0 - p, x == m);
    const rest = <f32>(sumK - <f64>k);
    store<f32>(g + (j << 2), ((k * u) - (p * rest)) * c);
  }
}

