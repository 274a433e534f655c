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
// A call runs in steps, each a loop over one plane (or one position's classes) at a time: the input checks (pass 1),
// the softmax into scratch, then per class its sums in registers (pass 1) or the gradient (pass 2). The SIMD loops
// (four positions a vector) and the scalar twin perform the same float32 operations in the same order and add to
// the same lanes in the same order: both builds give the same bits.
import {
  ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX, FLAG_FOCAL_TERM, FLAG_SOFTMAX_STAGED, FLAG_SQUARED_PRED,
  PARAM_ACTIVATION,
  PARAM_ALPHA, PARAM_FIRST_CLASS, PARAM_FLAGS, PARAM_GAMMA, PARAM_GAMMA_MODE, STATUS_INVALID, STREAM_GRAD,
  STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_REGION_COEFS, STREAM_REGION_SUMS, STREAM_SCRATCH, STREAM_TARGETS,
} from '../abi';
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, log1pUnitF32, log1pUnitF32x4, negAbsF32x4, pmaxF32,
  powModeF32, powModeF32x4, sigmoidF32, sigmoidF32x4, splitHighF32,
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
// Not inlined: one copy of each keeps the module small (the package's size budget), and inlining it measured the same
// (diceFocalLoss 8x4x128x128: 11.0 vs 11.1 ns/element forward). alpha < 0: none.
function focalF32x4(x: v128, t: v128, params: usize): v128 {
  const gamma = load<f32>(params, PARAM_GAMMA);
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
  const gHi = splitHighF32(gamma);
  const m = powModeF32x4(sNeg, load<i32>(params, PARAM_GAMMA_MODE), f32x4.splat(gamma), f32x4.splat(gHi), f32x4.splat(gamma - gHi));
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
  const alpha = load<f32>(params, PARAM_ALPHA);
  if (alpha >= 0) {
    const at = f32x4.add(f32x4.mul(t, f32x4.splat(alpha)), f32x4.mul(f32x4.sub(one, t), f32x4.splat(<f32>1.0 - alpha)));
    loss = f32x4.mul(at, loss);
    grad = f32x4.mul(at, grad);
  }
  v128.store(FOCAL_GRAD, grad);
  return loss;
}

function focalF32(x: f32, t: f32, params: usize): f32 {
  const gamma = load<f32>(params, PARAM_GAMMA);
  const s: f32 = (t + t) - 1.0;
  const z: f32 = x * s;
  const ez = expNonPositiveF32(-abs<f32>(z));
  const hz: f32 = 1.0 / (1.0 + ez);
  const lz: f32 = ez * hz;
  const zPos = z > 0;
  const sNeg = select<f32>(lz, hz, zPos);
  const sPos = select<f32>(hz, lz, zPos);
  const gHi = splitHighF32(gamma);
  const m = powModeF32(sNeg, load<i32>(params, PARAM_GAMMA_MODE), gamma, gHi, gamma - gHi);
  const ex = expNonPositiveF32(-abs<f32>(x));
  const l = log1pUnitF32(ex);
  const hx: f32 = 1.0 / (1.0 + ex);
  const p = select<f32>(hx, ex * hx, x > 0);
  const ax = abs<f32>(x);
  const reluX = pmaxF32(x, 0);
  const ce: f32 = ((t * (ax - reluX)) + ((<f32>1.0 - t) * reluX)) + l;
  let loss: f32 = m * ce;
  let grad: f32 = (m * (p - t)) - ((gamma * s) * ((m * sPos) * ce));
  const alpha = load<f32>(params, PARAM_ALPHA);
  if (alpha >= 0) {
    const at: f32 = (t * alpha) + ((<f32>1.0 - t) * (<f32>1.0 - alpha));
    loss = at * loss;
    grad = at * grad;
  }
  focalGrad = grad;
  return loss;
}

// @ts-ignore: decorator
@inline function flagSet(params: usize, flag: i32): bool { return (load<i32>(params, PARAM_FLAGS) & flag) != 0; }

// ---- the checks ---------------------------------------------------------------------------------------------
// Pass 1 checks every input of the call once, in its own loops: logits finite (probabilities in [0, 1] with
// ACTIVATION_NONE), targets in [0, 1], labels in [0, classes). Pass 2 reads only what pass 1 has checked.
function invalidInputs(x0: usize, t0: usize, labels: usize, count: usize, classes: usize, act: i32, vecEnd: usize): bool {
  const stride = count << 2;
  const unit = act == ACTIVATION_NONE;
  let bad = false;
  if (ASC_FEATURE_SIMD) {
    const zero = f32x4.splat(0);
    const one = f32x4.splat(1.0);
    let ok = i32x4.splat(-1);
    for (let c: usize = 0; c < classes; c++) {
      const x = x0 + c * stride;
      if (unit) {
        for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) {
          const v = v128.load(x + jb);
          ok = v128.and(ok, v128.and(f32x4.ge(v, zero), f32x4.le(v, one)));
        }
      } else {
        for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) ok = v128.and(ok, finiteF32x4(v128.load(x + jb)));
      }
      if (t0) {
        const t = t0 + c * stride;
        for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) {
          const v = v128.load(t + jb);
          ok = v128.and(ok, v128.and(f32x4.ge(v, zero), f32x4.le(v, one)));
        }
      }
    }
    if (labels) {
      const n = i32x4.splat(<i32>classes);
      for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) ok = v128.and(ok, i32x4.lt_u(v128.load(labels + jb), n));
    }
    bad = !i32x4.all_true(ok);
  }
  for (let jb: usize = vecEnd << 2; jb < count << 2; jb += 4) {
    for (let c: usize = 0; c < classes; c++) {
      const x = load<f32>(x0 + c * stride + jb);
      bad |= unit ? !(x >= 0 && x <= 1) : !(abs<f32>(x) < Infinity);
      if (t0) {
        const t = load<f32>(t0 + c * stride + jb);
        bad |= !(t >= 0 && t <= 1);
      }
    }
    if (labels) bad |= load<u32>(labels + jb) >= <u32>classes;
  }
  return bad;
}

// ---- the softmax ------------------------------------------------------------------------------------------------
// Over the classes of each position, planar in and out (scratch): e_c = exp(x_c - max), then p_c = e_c (1 / sum_c e_c)
// with the sum sequential over c in float32 in both builds. The vectors go a block of positions at a time, each step a
// short loop over one plane (the max, each class's exp added to the sums, the reciprocals, each class's p): one exp
// per iteration, like the softmax rows' exp pass, and the block's planes stay in L1.
const BLOCK: usize = 256;
const BLOCK_MAX: usize = memory.data(<i32>BLOCK << 2, 16); // static: wasm runs one call at a time
const BLOCK_SUM: usize = memory.data(<i32>BLOCK << 2, 16);

// The softmax of `classes` = 2, 3 or 4 (a constant at each call: the tests below fold) over positions [0, vecEnd):
// the same operations as the blocked loops, with every class in registers and the exps independent.
// @ts-ignore: decorator
@inline function softmaxFewF32x4(x0: usize, scratch: usize, stride: usize, vecEnd: usize, classes: i32): void {
  const zero = f32x4.splat(0);
  for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) {
    const x = x0 + jb;
    const v0 = v128.load(x);
    const v1 = v128.load(x + stride);
    const v2 = classes > 2 ? v128.load(x + 2 * stride) : zero;
    const v3 = classes > 3 ? v128.load(x + 3 * stride) : zero;
    let m = f32x4.pmax(v0, v1);
    if (classes > 2) m = f32x4.pmax(m, v2);
    if (classes > 3) m = f32x4.pmax(m, v3);
    const e0 = expNonPositiveF32x4(f32x4.sub(v0, m));
    const e1 = expNonPositiveF32x4(f32x4.sub(v1, m));
    const e2 = classes > 2 ? expNonPositiveF32x4(f32x4.sub(v2, m)) : zero;
    const e3 = classes > 3 ? expNonPositiveF32x4(f32x4.sub(v3, m)) : zero;
    let sum = f32x4.add(e0, e1);
    if (classes > 2) sum = f32x4.add(sum, e2);
    if (classes > 3) sum = f32x4.add(sum, e3);
    const inv = f32x4.div(f32x4.splat(1.0), sum);
    const p = scratch + jb;
    v128.store(p, f32x4.mul(e0, inv));
    v128.store(p + stride, f32x4.mul(e1, inv));
    if (classes > 2) v128.store(p + 2 * stride, f32x4.mul(e2, inv));
    if (classes > 3) v128.store(p + 3 * stride, f32x4.mul(e3, inv));
  }
}

// One function per class count, so that each copy's tests on `classes` fold.
function softmax2F32x4(x0: usize, scratch: usize, stride: usize, vecEnd: usize): void { softmaxFewF32x4(x0, scratch, stride, vecEnd, 2); }
function softmax3F32x4(x0: usize, scratch: usize, stride: usize, vecEnd: usize): void { softmaxFewF32x4(x0, scratch, stride, vecEnd, 3); }
function softmax4F32x4(x0: usize, scratch: usize, stride: usize, vecEnd: usize): void { softmaxFewF32x4(x0, scratch, stride, vecEnd, 4); }

function softmaxPlanes(x0: usize, scratch: usize, count: usize, classes: usize, vecEnd: usize): void {
  const stride = count << 2;
  if (ASC_FEATURE_SIMD && classes <= 4) {
    // Up to four classes (MONAI's usual segmentation heads): a position's whole softmax in registers.
    if (classes == 4) softmax4F32x4(x0, scratch, stride, vecEnd);
    else if (classes == 3) softmax3F32x4(x0, scratch, stride, vecEnd);
    else softmax2F32x4(x0, scratch, stride, vecEnd);
  } else if (ASC_FEATURE_SIMD) {
    for (let j0: usize = 0; j0 < vecEnd; j0 += BLOCK) {
      const bytes = min<usize>(BLOCK, vecEnd - j0) << 2;
      const x = x0 + (j0 << 2);
      const e = scratch + (j0 << 2);
      // max over the classes (pmax from -inf: the first plane as it is)
      for (let jb: usize = 0; jb < bytes; jb += 16) v128.store(BLOCK_MAX + jb, v128.load(x + jb));
      for (let c: usize = 1; c < classes; c++) {
        const xc = x + c * stride;
        for (let jb: usize = 0; jb < bytes; jb += 16) v128.store(BLOCK_MAX + jb, f32x4.pmax(v128.load(BLOCK_MAX + jb), v128.load(xc + jb)));
      }
      // e_c and their sum (from 0: the first plane as it is)
      for (let jb: usize = 0; jb < bytes; jb += 16) {
        const v = expNonPositiveF32x4(f32x4.sub(v128.load(x + jb), v128.load(BLOCK_MAX + jb)));
        v128.store(e + jb, v);
        v128.store(BLOCK_SUM + jb, v);
      }
      for (let c: usize = 1; c < classes; c++) {
        const xc = x + c * stride;
        const ec = e + c * stride;
        for (let jb: usize = 0; jb < bytes; jb += 16) {
          const v = expNonPositiveF32x4(f32x4.sub(v128.load(xc + jb), v128.load(BLOCK_MAX + jb)));
          v128.store(ec + jb, v);
          v128.store(BLOCK_SUM + jb, f32x4.add(v128.load(BLOCK_SUM + jb), v));
        }
      }
      for (let jb: usize = 0; jb < bytes; jb += 16) v128.store(BLOCK_SUM + jb, f32x4.div(f32x4.splat(1.0), v128.load(BLOCK_SUM + jb)));
      for (let c: usize = 0; c < classes; c++) {
        const ec = e + c * stride;
        for (let jb: usize = 0; jb < bytes; jb += 16) v128.store(ec + jb, f32x4.mul(v128.load(ec + jb), v128.load(BLOCK_SUM + jb)));
      }
    }
  }
  for (let jb: usize = vecEnd << 2; jb < count << 2; jb += 4) {
    let m: f32 = -Infinity;
    for (let c: usize = 0; c < classes; c++) m = pmaxF32(m, load<f32>(x0 + c * stride + jb));
    let sum: f32 = 0;
    for (let c: usize = 0; c < classes; c++) {
      const at = c * stride + jb;
      const e = expNonPositiveF32(load<f32>(x0 + at) - m);
      store<f32>(scratch + at, e);
      sum = sum + e;
    }
    const inv: f32 = <f32>1.0 / sum;
    for (let c: usize = 0; c < classes; c++) {
      const at = scratch + c * stride + jb;
      store<f32>(at, load<f32>(at) * inv);
    }
  }
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
 * firstClass), from the coefficients (a, b, f, d) per class at STREAM_REGION_COEFS. Same streams and params; its
 * inputs are pass 1's, already checked. Returns count.
 */
export function diceGrad(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize): i32 {
  return overlap(streams, count, classes, spatialBase, params, true);
}

function overlap(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize, gradPass: bool): i32 {
  const x0 = load<usize>(streams, STREAM_INPUT);
  const t0 = load<usize>(streams, STREAM_TARGETS);
  const labels = load<usize>(streams, STREAM_LABELS);
  const scratch = load<usize>(streams, STREAM_SCRATCH);
  const act = load<i32>(params, PARAM_ACTIVATION);
  // Positions [0, vecEnd) go four to a vector: vector lane k is position j + k, whose float64 lane is
  // (spatialBase + j + k) mod 4 = k when spatialBase is a multiple of 4 (the driver's chunks are); the scalar twin
  // takes the rest (the whole call in the scalar build).
  const vecEnd: usize = ASC_FEATURE_SIMD && (spatialBase & 3) == 0 ? count & ~(<usize>3) : 0;
  if (!gradPass && invalidInputs(x0, t0, labels, count, classes, act, vecEnd)) return STATUS_INVALID;
  // Pass 2 may read the softmax that pass 1 left in the gradient's array (FLAG_SOFTMAX_STAGED) instead of the logits.
  const staged = gradPass && flagSet(params, FLAG_SOFTMAX_STAGED);
  if (act == ACTIVATION_SOFTMAX && !staged) softmaxPlanes(x0, scratch, count, classes, vecEnd);
  if (!gradPass) {
    addClassSums(streams, count, classes, spatialBase, params, vecEnd);
  } else {
    gradientPass(streams, count, classes, params, vecEnd, staged ? x0 : scratch);
  }
  return <i32>count;
}

// One class's sums over the vector positions [0, bytes / 4): in registers, each float64 lane receiving its positions
// in order. @inline with the flags as arguments: the copies below with constant flags have no test (and no call) in
// the loop, which lets V8 keep the sums in registers.
// @ts-ignore: decorator
@inline function classSumsF32x4(
  s: usize, pc: usize, tc: usize, xc: usize, labels: usize, withLabels: bool, bytes: usize, c: usize, sigmoid: bool, squared: bool, focal: bool, params: usize,
): void {
  const one = f32x4.splat(1.0);
  const label = i32x4.splat(<i32>c);
  let pt01 = v128.load(s + SUM_PT);
  let pt23 = v128.load(s + SUM_PT, 16);
  let p01 = v128.load(s + SUM_P);
  let p23 = v128.load(s + SUM_P, 16);
  let t01 = v128.load(s + SUM_T);
  let t23 = v128.load(s + SUM_T, 16);
  let f01 = v128.load(s + SUM_FOCAL);
  let f23 = v128.load(s + SUM_FOCAL, 16);
  // Class indices: t is 0 or 1, so sum t is a count, exact in float64 whatever the order: kept in int32 lanes.
  let hits = i32x4.splat(0);
  for (let jb: usize = 0; jb < bytes; jb += 16) {
    let p = v128.load(pc + jb);
    if (sigmoid) p = sigmoidF32x4(p);
    let t: v128;
    if (withLabels) {
      const is = i32x4.eq(v128.load(labels + jb), label);
      hits = i32x4.sub(hits, is);
      t = v128.and(is, one);
    } else {
      t = v128.load(tc + jb);
      const tk = squared ? f32x4.mul(t, t) : t;
      t01 = addLanesLow(t01, tk);
      t23 = addLanesHigh(t23, tk);
    }
    const pt = f32x4.mul(p, t);
    pt01 = addLanesLow(pt01, pt);
    pt23 = addLanesHigh(pt23, pt);
    const pk = squared ? f32x4.mul(p, p) : p;
    p01 = addLanesLow(p01, pk);
    p23 = addLanesHigh(p23, pk);
    if (focal) {
      const f = focalF32x4(v128.load(xc + jb), t, params);
      f01 = addLanesLow(f01, f);
      f23 = addLanesHigh(f23, f);
    }
  }
  if (withLabels) {
    t01 = f64x2.add(t01, f64x2.convert_low_i32x4_s(hits));
    t23 = f64x2.add(t23, f64x2.convert_low_i32x4_s(v128.shuffle<i32>(hits, hits, 2, 3, 0, 1)));
  }
  v128.store(s + SUM_PT, pt01);
  v128.store(s + SUM_PT, pt23, 16);
  v128.store(s + SUM_P, p01);
  v128.store(s + SUM_P, p23, 16);
  v128.store(s + SUM_T, t01);
  v128.store(s + SUM_T, t23, 16);
  v128.store(s + SUM_FOCAL, f01);
  v128.store(s + SUM_FOCAL, f23, 16);
}

// Class indices, no focal term (Dice and Tversky with class indices).
function classSumsLabelsF32x4(s: usize, pc: usize, labels: usize, bytes: usize, c: usize, sigmoid: bool, squared: bool): void {
  classSumsF32x4(s, pc, 0, 0, labels, true, bytes, c, sigmoid, squared, false, 0);
}

function classSumsAnyF32x4(
  s: usize, pc: usize, tc: usize, xc: usize, labels: usize, bytes: usize, c: usize, sigmoid: bool, squared: bool, focal: bool, params: usize,
): void {
  classSumsF32x4(s, pc, tc, xc, labels, labels != 0, bytes, c, sigmoid, squared, focal, params);
}

// Pass 1 after the softmax: class by class, its four sums in registers over the call's positions, each float64 lane
// receiving its positions in order (the scalar tail then adds to the same lanes in memory).
function addClassSums(streams: usize, count: usize, classes: usize, spatialBase: usize, params: usize, vecEnd: usize): void {
  const x0 = load<usize>(streams, STREAM_INPUT);
  const t0 = load<usize>(streams, STREAM_TARGETS);
  const labels = load<usize>(streams, STREAM_LABELS);
  const sums = load<usize>(streams, STREAM_REGION_SUMS);
  const scratch = load<usize>(streams, STREAM_SCRATCH);
  const act = load<i32>(params, PARAM_ACTIVATION);
  const first = <usize>load<i32>(params, PARAM_FIRST_CLASS);
  const squared = flagSet(params, FLAG_SQUARED_PRED);
  const focal = flagSet(params, FLAG_FOCAL_TERM);
  const stride = count << 2;
  for (let c = first; c < classes; c++) {
    const s = sums + c * CLASS_SUMS;
    const xc = x0 + c * stride;
    const tc = t0 + c * stride;
    const pc = act == ACTIVATION_SOFTMAX ? scratch + c * stride : xc;
    if (ASC_FEATURE_SIMD) {
      const sigmoid = act == ACTIVATION_SIGMOID;
      if (labels && !focal) classSumsLabelsF32x4(s, pc, labels, vecEnd << 2, c, sigmoid, squared);
      else classSumsAnyF32x4(s, pc, tc, xc, labels, vecEnd << 2, c, sigmoid, squared, focal, params);
    }
    for (let jb = vecEnd << 2; jb < count << 2; jb += 4) {
      const spatial = spatialBase + (jb >> 2);
      let p = load<f32>(pc + jb);
      if (act == ACTIVATION_SIGMOID) p = sigmoidF32(p);
      const t: f32 = labels ? select<f32>(1, 0, load<i32>(labels + jb) == <i32>c) : load<f32>(tc + jb);
      addToLane(s + SUM_PT, spatial, p * t);
      addToLane(s + SUM_P, spatial, squared ? p * p : p);
      addToLane(s + SUM_T, spatial, squared ? t * t : t);
      if (focal) addToLane(s + SUM_FOCAL, spatial, focalF32(load<f32>(xc + jb), t, params));
    }
  }
}

// Pass 2's softmax gradient for 2, 3 or 4 classes (a constant at each call) with class indices, no focal term and no
// element loss: a position's classes in registers. The same operations as the blocked loops below (an uncounted
// class's (a, b) = (0, 0) gives g = 0 t + 0 = +0, as g = 0 there).
// @ts-ignore: decorator
@inline function softmaxGradLabelsF32x4(
  probs: usize, labels: usize, coefs: usize, gradOut: usize, stride: usize, vecEnd: usize, first: usize, squared: bool, classes: i32,
): void {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const a0 = f32x4.splat(first > 0 ? 0 : load<f32>(coefs));
  const b0 = f32x4.splat(first > 0 ? 0 : load<f32>(coefs, 4));
  const a1 = f32x4.splat(first > 1 ? 0 : load<f32>(coefs, 16));
  const b1 = f32x4.splat(first > 1 ? 0 : load<f32>(coefs, 20));
  const a2 = classes > 2 ? f32x4.splat(load<f32>(coefs, 32)) : zero;
  const b2 = classes > 2 ? f32x4.splat(load<f32>(coefs, 36)) : zero;
  const a3 = classes > 3 ? f32x4.splat(load<f32>(coefs, 48)) : zero;
  const b3 = classes > 3 ? f32x4.splat(load<f32>(coefs, 52)) : zero;
  for (let jb: usize = 0; jb < vecEnd << 2; jb += 16) {
    const label = v128.load(labels + jb);
    const p = probs + jb;
    const g = gradOut + jb;
    const p0 = v128.load(p);
    const p1 = v128.load(p + stride);
    const g0 = f32x4.add(f32x4.mul(a0, v128.and(i32x4.eq(label, i32x4.splat(0)), one)), squared ? f32x4.mul(b0, p0) : b0);
    const g1 = f32x4.add(f32x4.mul(a1, v128.and(i32x4.eq(label, i32x4.splat(1)), one)), squared ? f32x4.mul(b1, p1) : b1);
    let dot = f32x4.add(f32x4.add(zero, f32x4.mul(p0, g0)), f32x4.mul(p1, g1));
    let p2 = zero;
    let g2 = zero;
    let p3 = zero;
    let g3 = zero;
    if (classes > 2) {
      p2 = v128.load(p + 2 * stride);
      g2 = f32x4.add(f32x4.mul(a2, v128.and(i32x4.eq(label, i32x4.splat(2)), one)), squared ? f32x4.mul(b2, p2) : b2);
      dot = f32x4.add(dot, f32x4.mul(p2, g2));
    }
    if (classes > 3) {
      p3 = v128.load(p + 3 * stride);
      g3 = f32x4.add(f32x4.mul(a3, v128.and(i32x4.eq(label, i32x4.splat(3)), one)), squared ? f32x4.mul(b3, p3) : b3);
      dot = f32x4.add(dot, f32x4.mul(p3, g3));
    }
    v128.store(g, f32x4.mul(p0, f32x4.sub(g0, dot)));
    v128.store(g + stride, f32x4.mul(p1, f32x4.sub(g1, dot)));
    if (classes > 2) v128.store(g + 2 * stride, f32x4.mul(p2, f32x4.sub(g2, dot)));
    if (classes > 3) v128.store(g + 3 * stride, f32x4.mul(p3, f32x4.sub(g3, dot)));
  }
}

function softmaxGradLabels2F32x4(probs: usize, labels: usize, coefs: usize, gradOut: usize, stride: usize, vecEnd: usize, first: usize, squared: bool): void {
  softmaxGradLabelsF32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared, 2);
}
function softmaxGradLabels3F32x4(probs: usize, labels: usize, coefs: usize, gradOut: usize, stride: usize, vecEnd: usize, first: usize, squared: bool): void {
  softmaxGradLabelsF32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared, 3);
}
function softmaxGradLabels4F32x4(probs: usize, labels: usize, coefs: usize, gradOut: usize, stride: usize, vecEnd: usize, first: usize, squared: bool): void {
  softmaxGradLabelsF32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared, 4);
}

// Pass 2. With the softmax (p planar at probs): per position, g_c = dL/dp_c = a t_c + b (p_c, or 1 without squaring)
// for the counted classes (0 below the first), then dL/dx_c = p_c (g_c - sum_j p_j g_j), the sum sequential over j.
function gradientPass(streams: usize, count: usize, classes: usize, params: usize, vecEnd: usize, probs: usize): void {
  const x0 = load<usize>(streams, STREAM_INPUT);
  const t0 = load<usize>(streams, STREAM_TARGETS);
  const labels = load<usize>(streams, STREAM_LABELS);
  const coefs = load<usize>(streams, STREAM_REGION_COEFS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const first = <usize>load<i32>(params, PARAM_FIRST_CLASS);
  const squared = flagSet(params, FLAG_SQUARED_PRED);
  const focal = flagSet(params, FLAG_FOCAL_TERM);
  const stride = count << 2;
  if (load<i32>(params, PARAM_ACTIVATION) == ACTIVATION_SOFTMAX) {
    if (ASC_FEATURE_SIMD && labels && !focal && !lossOut && classes <= 4) {
      if (classes == 4) softmaxGradLabels4F32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared);
      else if (classes == 3) softmaxGradLabels3F32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared);
      else softmaxGradLabels2F32x4(probs, labels, coefs, gradOut, stride, vecEnd, first, squared);
    } else if (ASC_FEATURE_SIMD) {
      // A block of positions at a time, one plane per loop: g_c into the gradient's plane and p_c g_c into the running
      // dots (BLOCK_SUM), then every class's dx.
      const one = f32x4.splat(1.0);
      const zero = f32x4.splat(0);
      for (let j0: usize = 0; j0 < vecEnd; j0 += BLOCK) {
        const base = j0 << 2;
        const bytes = min<usize>(BLOCK, vecEnd - j0) << 2;
        for (let jb: usize = 0; jb < bytes; jb += 16) v128.store(BLOCK_SUM + jb, zero);
        for (let c: usize = 0; c < classes; c++) {
          const at = c * stride + base;
          const pc = probs + at;
          const gc = gradOut + at;
          if (c < first) {
            for (let jb: usize = 0; jb < bytes; jb += 16) {
              v128.store(gc + jb, zero);
              v128.store(BLOCK_SUM + jb, f32x4.add(v128.load(BLOCK_SUM + jb), f32x4.mul(v128.load(pc + jb), zero)));
            }
            continue;
          }
          const a = f32x4.splat(load<f32>(coefs + (c << 4)));
          const b = f32x4.splat(load<f32>(coefs + (c << 4), 4));
          const label = i32x4.splat(<i32>c);
          for (let jb: usize = 0; jb < bytes; jb += 16) {
            const p = v128.load(pc + jb);
            const t = labels ? v128.and(i32x4.eq(v128.load(labels + base + jb), label), one) : v128.load(t0 + at + jb);
            const g = f32x4.add(f32x4.mul(a, t), squared ? f32x4.mul(b, p) : b);
            v128.store(gc + jb, g);
            v128.store(BLOCK_SUM + jb, f32x4.add(v128.load(BLOCK_SUM + jb), f32x4.mul(p, g)));
          }
        }
        for (let c: usize = 0; c < classes; c++) {
          const at = c * stride + base;
          const pc = probs + at;
          const gc = gradOut + at;
          if (!focal && !lossOut) {
            for (let jb: usize = 0; jb < bytes; jb += 16) {
              v128.store(gc + jb, f32x4.mul(v128.load(pc + jb), f32x4.sub(v128.load(gc + jb), v128.load(BLOCK_SUM + jb))));
            }
            continue;
          }
          const label = i32x4.splat(<i32>c);
          for (let jb: usize = 0; jb < bytes; jb += 16) {
            const dx = f32x4.mul(v128.load(pc + jb), f32x4.sub(v128.load(gc + jb), v128.load(BLOCK_SUM + jb)));
            const t = labels ? v128.and(i32x4.eq(v128.load(labels + base + jb), label), one) : v128.load(t0 + at + jb);
            storeGradF32x4(gradOut, lossOut, coefs, at + jb, c, c >= first, focal, dx, v128.load(x0 + at + jb), t, params);
          }
        }
      }
    }
    let jb: usize = vecEnd << 2;
    for (; jb < count << 2; jb += 4) {
      const label = labels ? load<i32>(labels + jb) : 0;
      let dot: f32 = 0;
      for (let c: usize = 0; c < classes; c++) {
        const at = c * stride + jb;
        const p = load<f32>(probs + at);
        let g: f32 = 0;
        if (c >= first) {
          const k = coefs + (c << 4);
          const t: f32 = labels ? select<f32>(1, 0, label == <i32>c) : load<f32>(t0 + at);
          g = (load<f32>(k) * t) + (squared ? load<f32>(k, 4) * p : load<f32>(k, 4));
        }
        store<f32>(gradOut + at, g);
        dot = dot + p * g;
      }
      for (let c: usize = 0; c < classes; c++) {
        const at = c * stride + jb;
        const dx: f32 = load<f32>(probs + at) * (load<f32>(gradOut + at) - dot);
        const t: f32 = focal ? (labels ? select<f32>(1, 0, label == <i32>c) : load<f32>(t0 + at)) : 0;
        storeGradF32(gradOut, lossOut, coefs, at, c, c >= first, focal, dx, focal ? load<f32>(x0 + at) : 0, t, params);
      }
    }
    return;
  }
  // With a sigmoid (or no activation): class by class, dL/dx = (a t + b (p, or 1)) p (1 - p) (1 without an
  // activation), the sigmoid's p (1 - p) formed as sigmoid(|x|) sigmoid(-|x|); 0 below the first class.
  const sigmoid = load<i32>(params, PARAM_ACTIVATION) == ACTIVATION_SIGMOID;
  for (let c: usize = 0; c < classes; c++) {
    const counted = c >= first;
    const k = coefs + (c << 4);
    const a = counted ? load<f32>(k) : 0;
    const b = counted ? load<f32>(k, 4) : 0;
    let jb: usize = 0;
    if (ASC_FEATURE_SIMD) {
      const one = f32x4.splat(1.0);
      const zero = f32x4.splat(0);
      for (; jb < vecEnd << 2; jb += 16) {
        const at = c * stride + jb;
        const x = v128.load(x0 + at);
        const t = labels ? v128.and(i32x4.eq(v128.load(labels + jb), i32x4.splat(<i32>c)), one) : v128.load(t0 + at);
        let p = x;
        let dp = one;
        if (sigmoid) {
          const e = expNonPositiveF32x4(negAbsF32x4(x));
          const hi = f32x4.div(one, f32x4.add(one, e));
          const lo = f32x4.mul(e, hi);
          p = v128.bitselect(hi, lo, f32x4.gt(x, zero));
          dp = f32x4.mul(hi, lo);
        }
        const g = counted ? f32x4.add(f32x4.mul(f32x4.splat(a), t), squared ? f32x4.mul(f32x4.splat(b), p) : f32x4.splat(b)) : zero;
        storeGradF32x4(gradOut, lossOut, coefs, at, c, counted, focal, f32x4.mul(g, dp), x, t, params);
      }
    }
    for (; jb < count << 2; jb += 4) {
      const at = c * stride + jb;
      const x = load<f32>(x0 + at);
      const t: f32 = labels ? select<f32>(1, 0, load<i32>(labels + jb) == <i32>c) : load<f32>(t0 + at);
      let p = x;
      let dp: f32 = 1;
      if (sigmoid) {
        const e = expNonPositiveF32(-abs<f32>(x));
        const hi: f32 = 1.0 / (1.0 + e);
        const lo: f32 = e * hi;
        p = select<f32>(hi, lo, x > 0);
        dp = hi * lo;
      }
      const g: f32 = counted ? (a * t) + (squared ? b * p : b) : 0;
      storeGradF32(gradOut, lossOut, coefs, at, c, counted, focal, g * dp, x, t, params);
    }
  }
}

// The last step of pass 2 for one class of four positions: the overlap gradient plus f times the focal gradient,
// and the per-element loss d + f focal when it is written (0 below the first class).
// @ts-ignore: decorator
@inline function storeGradF32x4(
  gradOut: usize, lossOut: usize, coefs: usize, at: usize, c: usize, counted: bool, focal: bool, dx: v128, x: v128,
  t: v128, params: usize,
): void {
  let grad = dx;
  let loss = f32x4.splat(0);
  if (counted) {
    const k = coefs + (c << 4);
    loss = f32x4.splat(load<f32>(k, 12));
    if (focal) {
      const f = f32x4.splat(load<f32>(k, 8));
      const fl = focalF32x4(x, t, params);
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
  t: f32, params: usize,
): void {
  let grad = dx;
  let loss: f32 = 0;
  if (counted) {
    const k = coefs + (c << 4);
    loss = load<f32>(k, 12);
    if (focal) {
      const f = load<f32>(k, 8);
      const fl = focalF32(x, t, params);
      grad = grad + f * focalGrad;
      loss = loss + f * fl;
    }
  }
  store<f32>(gradOut + at, grad);
  if (lossOut) store<f32>(lossOut + at, loss);
}
