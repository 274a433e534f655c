// Overlap losses — Dice, Jaccard, Tversky and the sigmoid focal half of Dice + focal (MONAI 1.5 DiceLoss,
// TverskyLoss, DiceFocalLoss: monai/losses/dice.py, tversky.py, focal_loss.py) — over `count` positions of one item,
// the classes planar (class c of position j at c * count + j: src/core/regions.ts stages them so). Two kernels, two
// passes: the loss of a class needs its sums over the whole item first, so no gradient can be formed in one pass.
//   diceSums: per class, sum p t, sum p^k, sum t^k (k = 2 with FLAG_SQUARED_PRED) and sum of the focal terms,
//             each in four float64 lanes (lane = spatial index mod 4, reduce.ts's rule), at STREAM_REGION_SUMS.
//   diceGrad: with the facade's per-class coefficients (a, b, f, d) from those sums,
//             dL/dp_c = a t_c + b (p_c, or 1 without squaring), then back through the activation:
//             sigmoid p (1 - p) (formed as sigmoid(x) sigmoid(-x): no 1 - p cancellation), softmax
//             p_c (g_c - sum_j p_j g_j); plus f d(focal)/dx; the per-element loss (diceFocal 'none') d + f focal.
// The focal term is MONAI's sigmoid_focal_loss with soft targets: z = x (2t - 1),
//   loss = alpha_t sigmoid(-z)^gamma ce,  ce = t softplus(-x) + (1 - t) softplus(x)
//   dloss/dx = alpha_t (sigmoid(-z)^gamma (p - t) - gamma (2t - 1) sigmoid(-z)^gamma sigmoid(z) ce)
// (d/dz sigmoid(-z)^gamma = -gamma sigmoid(-z)^gamma sigmoid(z): no negative power, finite for every gamma >= 0).
// The SIMD body (four positions a vector, every class of them in turn) and the scalar twin perform the same
// float32 operations in the same order and add to the same lanes in the same order: both builds give the same bits.
import {
  ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX, FLAG_FOCAL_TERM, FLAG_SQUARED_PRED, PARAM_ACTIVATION,
  PARAM_ALPHA, PARAM_FIRST_CLASS, PARAM_FLAGS, PARAM_GAMMA, PARAM_GAMMA_MODE, STATUS_INVALID, STREAM_GRAD,
  STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_REGION_COEFS, STREAM_REGION_SUMS, STREAM_SCRATCH, STREAM_TARGETS,
} from '../abi';
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, log1pUnitF32, log1pUnitF32x4, negAbsF32x4, pmaxF32,
  powModeF32, powModeF32x4, splitHighF32,
} from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';

// Per class at STREAM_REGION_SUMS: four sums of four float64 lanes each.
const CLASS_SUMS: usize = 128;
const SUM_PT: usize = 0;
const SUM_P: usize = 32;
const SUM_T: usize = 64;
const SUM_FOCAL: usize = 96;
// The focal term's gradient beside its loss (static data: wasm runs one call at a time).
const FOCAL_GRAD: usize = memory.data(16, 16);
let focalGrad: f32 = 0;

// ---- the focal term (MONAI FocalLoss, use_softmax=False) ---------------------------------------------------------
// Not inlined (nor is the kernel body below): one copy of each keeps the module small (the package's size budget).
function focalF32x4(
  x: v128, t: v128, hasAlpha: bool, alpha: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32,
): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const s = f32x4.sub(f32x4.add(t, t), one); // 2t - 1
  const z = f32x4.mul(x, s);
  const ez = expNonPositiveF32x4(negAbsF32x4(z));
  const hz = f32x4.div(one, f32x4.add(one, ez)); // sigmoid(|z|)
  const lz = f32x4.mul(ez, hz); // sigmoid(-|z|)
  const zPos = f32x4.gt(z, zero);
  const sNeg = v128.bitselect(lz, hz, zPos); // sigmoid(-z)
  const sPos = v128.bitselect(hz, lz, zPos); // sigmoid(z)
  const m = powModeF32x4(sNeg, mode, f32x4.splat(gamma), f32x4.splat(gHi), f32x4.splat(gLo));
  const ex = expNonPositiveF32x4(negAbsF32x4(x));
  const l = log1pUnitF32x4(ex); // softplus(-|x|)
  const hx = f32x4.div(one, f32x4.add(one, ex));
  const p = v128.bitselect(hx, f32x4.mul(ex, hx), f32x4.gt(x, zero));
  // ce = t softplus(-x) + (1-t) softplus(x) with softplus(+-x) = relu(+-x) + l: positive terms.
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  const reluX = f32x4.pmax(x, zero);
  const ce = f32x4.add(f32x4.add(f32x4.mul(t, f32x4.sub(ax, reluX)), f32x4.mul(f32x4.sub(one, t), reluX)), l);
  let loss = f32x4.mul(m, ce);
  // m sigmoid(z) first: where ce is huge, sigmoid(z) or m is 0, so no product overflows.
  let grad = f32x4.sub(f32x4.mul(m, f32x4.sub(p, t)), f32x4.mul(f32x4.mul(f32x4.splat(gamma), s), f32x4.mul(f32x4.mul(m, sPos), ce)));
  if (hasAlpha) {
    const at = f32x4.add(f32x4.mul(t, f32x4.splat(alpha)), f32x4.mul(f32x4.sub(one, t), f32x4.splat(<f32>1.0 - alpha)));
    loss = f32x4.mul(at, loss);
    grad = f32x4.mul(at, grad);
  }
  v128.store(FOCAL_GRAD, grad);
  return loss;
}

function focalF32(x: f32, t: f32, hasAlpha: bool, alpha: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32): f32 {
  const s: f32 = (t + t) - 1.0;
  const z: f32 = x * s;
  const ez = expNonPositiveF32(-abs<f32>(z));
  const hz: f32 = 1.0 / (1.0 + ez);
  const lz: f32 = ez * hz;
  const zPos = z > 0;
  const sNeg = select<f32>(lz, hz, zPos);
  const sPos = select<f32>(hz, lz, zPos);
  const m = powModeF32(sNeg, mode, gamma, gHi, gLo);
  const ex = expNonPositiveF32(-abs<f32>(x));
  const l = log1pUnitF32(ex);
  const hx: f32 = 1.0 / (1.0 + ex);
  const p = select<f32>(hx, ex * hx, x > 0);
  const ax = abs<f32>(x);
  const reluX = pmaxF32(x, 0);
  const ce: f32 = ((t * (ax - reluX)) + ((<f32>1.0 - t) * reluX)) + l;
  let loss: f32 = m * ce;
  let grad: f32 = (m * (p - t)) - ((gamma * s) * ((m * sPos) * ce));
  if (hasAlpha) {
    const at: f32 = (t * alpha) + ((<f32>1.0 - t) * (<f32>1.0 - alpha));
    loss = at * loss;
    grad = at * grad;
  }
  focalGrad = grad;
  return loss;
}

// ---- the activation ------------------------------------------------------------------------------------------
// Softmax over the classes of four positions: e_c = exp(x_c - max) into scratch, returns 1 / sum_c e_c (sequential
// over c in float32, as the twin). Non-finite logits are read as 0 (the caller flags them).
// @ts-ignore: decorator
@inline function softmaxPrepF32x4(x0: usize, scratch: usize, classes: usize, stride: usize, jb: usize): v128 {
  let m = f32x4.splat(-Infinity);
  for (let c: usize = 0; c < classes; c++) {
    const x = v128.load(x0 + c * stride + jb);
    m = f32x4.pmax(m, v128.and(x, finiteF32x4(x)));
  }
  let sum = f32x4.splat(0);
  for (let c: usize = 0; c < classes; c++) {
    const x = v128.load(x0 + c * stride + jb);
    const e = expNonPositiveF32x4(f32x4.sub(v128.and(x, finiteF32x4(x)), m));
    v128.store(scratch + c * stride + jb, e);
    sum = f32x4.add(sum, e);
  }
  return f32x4.div(f32x4.splat(1.0), sum);
}

// @ts-ignore: decorator
@inline function softmaxPrepF32(x0: usize, scratch: usize, classes: usize, stride: usize, jb: usize): f32 {
  let m: f32 = -Infinity;
  for (let c: usize = 0; c < classes; c++) {
    const x = load<f32>(x0 + c * stride + jb);
    m = pmaxF32(m, select<f32>(x, 0, abs<f32>(x) < Infinity));
  }
  let sum: f32 = 0;
  for (let c: usize = 0; c < classes; c++) {
    const x = load<f32>(x0 + c * stride + jb);
    const e = expNonPositiveF32(select<f32>(x, 0, abs<f32>(x) < Infinity) - m);
    store<f32>(scratch + c * stride + jb, e);
    sum = sum + e;
  }
  return <f32>1.0 / sum;
}

/**
 * Pass 1 of an overlap loss over `count` positions of one item (spatial indices spatialBase, ...), the row ABI of
 * src/core/abi.ts with classes planar. Streams: input (logits, or probabilities with ACTIVATION_NONE), targets
 * (planar float32 in [0, 1]) or labels (int32 class indices, one per position), scratch (classes x count, softmax),
 * region sums. Params: activation, firstClass, flags (FLAG_SQUARED_PRED, FLAG_FOCAL_TERM), alpha (< 0: none), gamma
 * and its mode. Adds every class c >= firstClass to its sums. Returns count, or STATUS_INVALID when an input is not
 * finite (or, with ACTIVATION_NONE, outside [0, 1]), a target outside [0, 1] or a label outside [0, classes).
 */
export function diceSums(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize): i32 {
  return overlap(streams, count, classes, spatialBase, params, false);
}

/**
 * Pass 2: the gradient (STREAM_GRAD, planar) and, when STREAM_LOSS is set, the per-element loss (planar, 0 below
 * firstClass), from the coefficients (a, b, f, d) per class at STREAM_REGION_COEFS. Same streams, params and status.
 */
export function diceGrad(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize): i32 {
  return overlap(streams, count, classes, spatialBase, params, true);
}

function overlap(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize, gradPass: bool): i32 {
  const x0 = load<usize>(streams, STREAM_INPUT);
  const t0 = load<usize>(streams, STREAM_TARGETS);
  const labels = load<usize>(streams, STREAM_LABELS);
  const sums = load<usize>(streams, STREAM_REGION_SUMS);
  const coefs = load<usize>(streams, STREAM_REGION_COEFS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const scratch = load<usize>(streams, STREAM_SCRATCH);
  const act = load<i32>(params, PARAM_ACTIVATION);
  const first = <usize>load<i32>(params, PARAM_FIRST_CLASS);
  const flags = load<i32>(params, PARAM_FLAGS);
  const squared = (flags & FLAG_SQUARED_PRED) != 0;
  const focal = (flags & FLAG_FOCAL_TERM) != 0;
  const alpha = load<f32>(params, PARAM_ALPHA);
  const hasAlpha = alpha >= 0;
  const gamma = load<f32>(params, PARAM_GAMMA);
  const mode = load<i32>(params, PARAM_GAMMA_MODE);
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  const softmax = act == ACTIVATION_SOFTMAX;
  const stride = count << 2;
  let bad: i32 = 0;
  let j: usize = 0;
  if (ASC_FEATURE_SIMD) {
    // Vector lane k is position j + k, whose float64 lane is (spatialBase + j + k) mod 4 = k when spatialBase is a
    // multiple of 4 (the driver's chunks are); otherwise the twin takes the whole call.
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    let badV = i32x4.splat(0);
    for (; (spatialBase & 3) == 0 && j + 4 <= count; j += 4) {
      const jb = j << 2;
      const inv = softmax ? softmaxPrepF32x4(x0, scratch, classes, stride, jb) : zero;
      let label = i32x4.splat(0);
      if (labels) {
        label = v128.load(labels + jb);
        badV = v128.or(badV, v128.not(v128.and(i32x4.ge_s(label, i32x4.splat(0)), i32x4.lt_s(label, i32x4.splat(<i32>classes)))));
      }
      let dot = zero; // softmax, pass 2: sum_c p_c g_c
      for (let c: usize = 0; c < classes; c++) {
        const at = c * stride + jb;
        let x = v128.load(x0 + at);
        let ok = finiteF32x4(x);
        if (act == ACTIVATION_NONE) ok = v128.and(ok, v128.and(f32x4.ge(x, zero), f32x4.le(x, one)));
        badV = v128.or(badV, v128.not(ok));
        x = v128.and(x, ok);
        let t: v128;
        if (labels) {
          t = v128.and(i32x4.eq(label, i32x4.splat(<i32>c)), one);
        } else {
          t = v128.load(t0 + at);
          const tOk = v128.and(f32x4.ge(t, zero), f32x4.le(t, one));
          badV = v128.or(badV, v128.not(tOk));
          t = v128.and(t, tOk);
        }
        // p, and p (1 - p) for the sigmoid's derivative.
        let p = x;
        let dp = one;
        if (softmax) {
          p = f32x4.mul(v128.load(scratch + at), inv);
        } else if (act == ACTIVATION_SIGMOID) {
          const e = expNonPositiveF32x4(negAbsF32x4(x));
          const hi = f32x4.div(one, f32x4.add(one, e));
          const lo = f32x4.mul(e, hi);
          p = v128.bitselect(hi, lo, f32x4.gt(x, zero));
          dp = f32x4.mul(hi, lo);
        }
        const counted = c >= first;
        if (!gradPass) {
          if (!counted) continue;
          const s = sums + c * CLASS_SUMS;
          const pt = f32x4.mul(p, t);
          const pk = squared ? f32x4.mul(p, p) : p;
          const tk = squared ? f32x4.mul(t, t) : t;
          v128.store(s + SUM_PT, addLanesLow(v128.load(s + SUM_PT), pt));
          v128.store(s + SUM_PT, addLanesHigh(v128.load(s + SUM_PT, 16), pt), 16);
          v128.store(s + SUM_P, addLanesLow(v128.load(s + SUM_P), pk));
          v128.store(s + SUM_P, addLanesHigh(v128.load(s + SUM_P, 16), pk), 16);
          v128.store(s + SUM_T, addLanesLow(v128.load(s + SUM_T), tk));
          v128.store(s + SUM_T, addLanesHigh(v128.load(s + SUM_T, 16), tk), 16);
          if (focal) {
            const f = focalF32x4(x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
            v128.store(s + SUM_FOCAL, addLanesLow(v128.load(s + SUM_FOCAL), f));
            v128.store(s + SUM_FOCAL, addLanesHigh(v128.load(s + SUM_FOCAL, 16), f), 16);
          }
          continue;
        }
        // dL/dp_c = a t + b (p or 1); 0 below the first class.
        let g = zero;
        if (counted) {
          const k = coefs + (c << 4);
          const a = f32x4.splat(load<f32>(k));
          const b = f32x4.splat(load<f32>(k, 4));
          g = f32x4.add(f32x4.mul(a, t), squared ? f32x4.mul(b, p) : b);
        }
        if (softmax) {
          v128.store(gradOut + at, p);
          v128.store(scratch + at, g);
          dot = f32x4.add(dot, f32x4.mul(p, g));
        } else {
          storeGradF32x4(gradOut, lossOut, coefs, at, c, counted, focal, f32x4.mul(g, dp), x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
        }
      }
      if (gradPass && softmax) {
        for (let c: usize = 0; c < classes; c++) {
          const at = c * stride + jb;
          const p = v128.load(gradOut + at);
          const g = v128.load(scratch + at);
          let x = v128.load(x0 + at);
          x = v128.and(x, finiteF32x4(x));
          const t = labels ? v128.and(i32x4.eq(label, i32x4.splat(<i32>c)), one) : v128.load(t0 + at);
          const tOk = labels ? t : v128.and(t, v128.and(f32x4.ge(t, zero), f32x4.le(t, one)));
          storeGradF32x4(gradOut, lossOut, coefs, at, c, c >= first, focal, f32x4.mul(p, f32x4.sub(g, dot)), x, tOk, hasAlpha, alpha, mode, gamma, gHi, gLo);
        }
      }
    }
    bad = <i32>v128.any_true(badV);
  }
  // The scalar twin: position by position, every class of it, the same operations and lanes.
  for (; j < count; j++) {
    const jb = j << 2;
    const spatial = spatialBase + j;
    const inv: f32 = softmax ? softmaxPrepF32(x0, scratch, classes, stride, jb) : 0;
    let label: i32 = 0;
    if (labels) {
      label = load<i32>(labels + jb);
      bad |= <i32>!(label >= 0 && label < <i32>classes);
    }
    let dot: f32 = 0;
    for (let c: usize = 0; c < classes; c++) {
      const at = c * stride + jb;
      let x = load<f32>(x0 + at);
      let ok = abs<f32>(x) < Infinity;
      if (act == ACTIVATION_NONE) ok = ok && x >= 0 && x <= 1;
      bad |= <i32>!ok;
      x = select<f32>(x, 0, ok);
      let t: f32;
      if (labels) {
        t = select<f32>(1, 0, label == <i32>c);
      } else {
        t = load<f32>(t0 + at);
        const tOk = t >= 0 && t <= 1;
        bad |= <i32>!tOk;
        t = select<f32>(t, 0, tOk);
      }
      let p = x;
      let dp: f32 = 1;
      if (softmax) {
        p = load<f32>(scratch + at) * inv;
      } else if (act == ACTIVATION_SIGMOID) {
        const e = expNonPositiveF32(-abs<f32>(x));
        const hi: f32 = 1.0 / (1.0 + e);
        const lo: f32 = e * hi;
        p = select<f32>(hi, lo, x > 0);
        dp = hi * lo;
      }
      const counted = c >= first;
      if (!gradPass) {
        if (!counted) continue;
        const s = sums + c * CLASS_SUMS;
        addToLane(s + SUM_PT, spatial, p * t);
        addToLane(s + SUM_P, spatial, squared ? p * p : p);
        addToLane(s + SUM_T, spatial, squared ? t * t : t);
        if (focal) addToLane(s + SUM_FOCAL, spatial, focalF32(x, t, hasAlpha, alpha, mode, gamma, gHi, gLo));
        continue;
      }
      let g: f32 = 0;
      if (counted) {
        const k = coefs + (c << 4);
        const a = load<f32>(k);
        const b = load<f32>(k, 4);
        g = (a * t) + (squared ? b * p : b);
      }
      if (softmax) {
        store<f32>(gradOut + at, p);
        store<f32>(scratch + at, g);
        dot = dot + p * g;
      } else {
        storeGradF32(gradOut, lossOut, coefs, at, c, counted, focal, g * dp, x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
      }
    }
    if (gradPass && softmax) {
      for (let c: usize = 0; c < classes; c++) {
        const at = c * stride + jb;
        const p = load<f32>(gradOut + at);
        const g = load<f32>(scratch + at);
        let x = load<f32>(x0 + at);
        x = select<f32>(x, 0, abs<f32>(x) < Infinity);
        let t: f32 = labels ? select<f32>(1, 0, label == <i32>c) : load<f32>(t0 + at);
        t = select<f32>(t, 0, t >= 0 && t <= 1);
        storeGradF32(gradOut, lossOut, coefs, at, c, c >= first, focal, p * (g - dot), x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
      }
    }
  }
  return bad ? STATUS_INVALID : <i32>count;
}

// The last step of pass 2 for one class of four positions: the overlap gradient plus f times the focal gradient,
// and the per-element loss d + f focal when it is written (0 below the first class).
// @ts-ignore: decorator
@inline function storeGradF32x4(
  gradOut: usize, lossOut: usize, coefs: usize, at: usize, c: usize, counted: bool, focal: bool, dx: v128, x: v128,
  t: v128, hasAlpha: bool, alpha: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32,
): void {
  let grad = dx;
  let loss = f32x4.splat(0);
  if (counted) {
    const k = coefs + (c << 4);
    loss = f32x4.splat(load<f32>(k, 12));
    if (focal) {
      const f = f32x4.splat(load<f32>(k, 8));
      const fl = focalF32x4(x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
      grad = f32x4.add(grad, f32x4.mul(f, v128.load(FOCAL_GRAD)));
      loss = f32x4.add(loss, f32x4.mul(f, fl));
    }
  }
  v128.store(gradOut + at, grad);
  if (lossOut) v128.store(lossOut + at, loss);
}

// @ts-ignore: decorator
@inline function storeGradF32(
  gradOut: usize, lossOut: usize, coefs: usize, at: usize, c: usize, counted: bool, focal: bool, dx: f32, x: f32,
  t: f32, hasAlpha: bool, alpha: f32, mode: i32, gamma: f32, gHi: f32, gLo: f32,
): void {
  let grad = dx;
  let loss: f32 = 0;
  if (counted) {
    const k = coefs + (c << 4);
    loss = load<f32>(k, 12);
    if (focal) {
      const f = load<f32>(k, 8);
      const fl = focalF32(x, t, hasAlpha, alpha, mode, gamma, gHi, gLo);
      grad = grad + f * focalGrad;
      loss = loss + f * fl;
    }
  }
  store<f32>(gradOut + at, grad);
  if (lossOut) store<f32>(lossOut + at, loss);
}
