// Distribution Focal Loss (Li et al. 2020, Generalized Focal Loss; mmdet distribution_focal_loss in
// mmdet/models/losses/gfocal_loss.py) over rows of `classes` bins, one continuous target y in [0, classes - 1] per
// row. Per row, with l = floor(y), wl = (l + 1) - y and wr = y - l (both exact in float32: Sterbenz), m the row max,
// e_j = exp(z_j - m) and S = sum_j e_j = 1 + r (r summed in float64 without the maxima's 1s, rows.ts rowExpSum):
//   CE(z, k) = -log p_k = (m - z_k) + log1p(r)
//   loss = wl CE(z, l) + wr CE(z, l + 1)            (the right term absent when wr = 0: y = classes - 1 is valid)
//   d loss / d z_j = p_j - wl 1[j = l] - wr 1[j = l + 1],   p_j = e_j / S
// At a target bin that holds the row max (e = 1, p = 1 / S), p - w is formed as (1 - w) - r / S, so the gradient
// of an integer target at the argmax keeps its precision as p -> 1 (where p - 1 would round to 0).
// The row passes are the softmax kernels' (SIMD over the bins with their scalar twins); the SIMD build takes rows
// of 4 to 88 bins four to a vector (lanes = rows) in the row passes' order: both builds give the same bits.
// ultralytics' DFLoss (compat 'ultralytics') is this kernel on clamped targets, averaged by the facade.
import {
  PARAM_GRAD_SCALE, STATUS_INVALID, STREAM_ACC, STREAM_GRAD, STREAM_INPUT, STREAM_LOSS, STREAM_SCRATCH,
  STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import { addToLane } from '../math/reduce';
import { expNonPositiveF32x4, finiteF32x4, logF32x4 } from '../math/vmath';
import {
  columnSumsF32x4, log1pRecipF32, rowExpSum, rowFinite, rowMax, scaleRow2, storeGradRowsF32x4,
} from '../softmax/rows';

// Rows of 4 to TILED_MAX_CLASSES bins go four to a vector in the SIMD build (lanes = rows: distributionFocalRowsF32x4),
// their columns in COLS (column j of the four rows at COLS + 16 j).
const TILED_MAX_CLASSES: usize = 88;
const COLS: usize = memory.data(<i32>(TILED_MAX_CLASSES + 4) * 16, 16);
const EXPS: usize = memory.data(<i32>(TILED_MAX_CLASSES + 4) * 16, 16); // e_j of COLS' columns

/** p_k - w for a target bin k of logit zk and exponential ek = exp(zk - m), in the row's terms (see above). */
// @ts-ignore: decorator
@inline function targetGrad(zk: f32, m: f32, ek: f32, w: f32, r: f32, invS: f32): f32 {
  return zk == m ? (<f32>1.0 - w) - r * invS : ek * invS - w;
}

/**
 * The four rows at z (row index `row` of the call; targets at y4 all in [0, classes - 1], weights at w4 or 0, loss
 * at loss4 or 0, gradient rows at g or 0) with lanes = rows: at 17 bins the row passes' per-row work (horizontal
 * max and sums, masked tail) outweighs their few vectors. The logits go through 4 x 4 transposes into COLS; the max
 * is rowMax's (lane l of four accumulators takes the classes j = l mod 4 in j order, then (0 max 1) max (2 max 3)),
 * e_j = exp(z_j - m) goes to EXPS, and r is rowExpSum's (float64 lanes j mod 4 in j order, (s0 + s1) +
 * (s2 + s3), plus the maxima minus one); the gradient is scaleRow2's operations transposed back: the same bits as
 * the row path. Returns 1 when a logit or a weight is not finite.
 */
function distributionFocalRowsF32x4(
  z: usize, g: usize, y4: usize, w4: usize, loss4: usize, acc: usize, row: usize, classes: usize, gradScale: f32,
): i32 {
  const stride = classes << 2;
  const cols = COLS;
  const exps = EXPS;
  let m0 = f32x4.splat(-Infinity);
  let m1 = f32x4.splat(-Infinity);
  let m2 = f32x4.splat(-Infinity);
  let m3 = f32x4.splat(-Infinity);
  let okV = i32x4.splat(-1);
  // The 4 x 4 transposes (vmath's storeTransposedF32x4, inline) with the max and finiteness taken from the columns
  // in registers. The last tile reads up to 3 floats past row 3: the next row, or the slack (ROW_SLACK).
  for (let t: usize = 0; t < classes; t += 4) {
    const src = z + (t << 2);
    const a = v128.load(src);
    const b = v128.load(src + stride);
    const c = v128.load(src + (stride << 1));
    const d = v128.load(src + stride * 3);
    const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5);
    const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
    const cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
    const cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
    const x0 = v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5);
    const x1 = v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7);
    const x2 = v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5);
    const x3 = v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7);
    const dst = cols + (t << 4);
    v128.store(dst, x0);
    v128.store(dst, x1, 16);
    v128.store(dst, x2, 32);
    v128.store(dst, x3, 48);
    if (t + 4 <= classes) {
      okV = v128.and(okV, v128.and(v128.and(finiteF32x4(x0), finiteF32x4(x1)), v128.and(finiteF32x4(x2), finiteF32x4(x3))));
      m0 = f32x4.pmax(m0, x0);
      m1 = f32x4.pmax(m1, x1);
      m2 = f32x4.pmax(m2, x2);
      m3 = f32x4.pmax(m3, x3);
    } else {
      // The last classes % 4 columns (rowMax's masked tail takes -inf in the others: no change).
      okV = v128.and(okV, finiteF32x4(x0));
      m0 = f32x4.pmax(m0, x0);
      if (t + 1 < classes) {
        okV = v128.and(okV, finiteF32x4(x1));
        m1 = f32x4.pmax(m1, x1);
      }
      if (t + 2 < classes) {
        okV = v128.and(okV, finiteF32x4(x2));
        m2 = f32x4.pmax(m2, x2);
      }
    }
  }
  const mV = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
  // The exp pass alone over the row's columns, eight vectors per iteration: a short loop the core overlaps well (as
  // rows.ts's expCappedVectors). The last tile's columns past the row are left as they are (EXPS keeps an earlier
  // group's values there, or 0): the gradient's transposes write them past the rows, where the next row's gradient
  // or the restored slack replaces them (storeGradRowsF32x4), and nothing else reads them.
  let t: usize = 0;
  for (; t + 8 <= classes; t += 8) {
    const c = cols + (t << 4);
    const x0 = v128.load(c);
    const x1 = v128.load(c, 16);
    const x2 = v128.load(c, 32);
    const x3 = v128.load(c, 48);
    const x4 = v128.load(c, 64);
    const x5 = v128.load(c, 80);
    const x6 = v128.load(c, 96);
    const x7 = v128.load(c, 112);
    const e = exps + (t << 4);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x0, mV)));
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x1, mV)), 16);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x2, mV)), 32);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x3, mV)), 48);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x4, mV)), 64);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x5, mV)), 80);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x6, mV)), 96);
    v128.store(e, expNonPositiveF32x4(f32x4.sub(x7, mV)), 112);
  }
  for (; t < classes; t++) v128.store(exps + (t << 4), expNonPositiveF32x4(f32x4.sub(v128.load(cols + (t << 4)), mV)));
  // r: the sums of e_j without the maxima, plus the maxima less one (rowExpSum's, bit for bit).
  const rV = columnSumsF32x4(exps, classes, cols, mV, true);
  const one = f32x4.splat(1);
  const invSV = f32x4.div(one, f32x4.add(one, rV));
  let bad = <i32>!i32x4.all_true(okV);
  const wV = w4 ? v128.load(w4) : one;
  bad |= <i32>!i32x4.all_true(finiteF32x4(wV));
  const kV = f32x4.mul(wV, f32x4.splat(gradScale));
  if (g) storeGradRowsF32x4(exps, invSV, kV, g, classes);
  // Per row, distributionFocal's scalar steps, lanewise on the rows' m, r, 1 / S and their gathered target bins
  // (log1pRecipF32 through logF32x4, logF32's twin: the same bits).
  const yV = v128.load(y4);
  const lV = i32x4.trunc_sat_f32x4_s(yV);
  const rightV = f32x4.sub(yV, f32x4.convert_i32x4_s(lV));
  const leftV = f32x4.sub(f32x4.convert_i32x4_s(i32x4.add(lV, i32x4.splat(1))), yV);
  const hasRight = f32x4.ne(rightV, f32x4.splat(0));
  const l0 = <usize>i32x4.extract_lane(lV, 0);
  const l1 = <usize>i32x4.extract_lane(lV, 1);
  const l2 = <usize>i32x4.extract_lane(lV, 2);
  const l3 = <usize>i32x4.extract_lane(lV, 3);
  // z_l and z_(l+1) of each row (at l = classes - 1 the latter is the next row's or the slack's float, unused).
  const at0 = z + (l0 << 2);
  const at1 = z + stride + (l1 << 2);
  const at2 = z + (stride << 1) + (l2 << 2);
  const at3 = z + stride * 3 + (l3 << 2);
  const zlV = f32x4(load<f32>(at0), load<f32>(at1), load<f32>(at2), load<f32>(at3));
  const zrV = f32x4(load<f32>(at0, 4), load<f32>(at1, 4), load<f32>(at2, 4), load<f32>(at3, 4));
  const u = f32x4.add(one, rV);
  const logSV = f32x4.add(logF32x4(u), f32x4.mul(f32x4.sub(rV, f32x4.sub(u, one)), invSV));
  let lossV = f32x4.mul(leftV, f32x4.add(f32x4.sub(mV, zlV), logSV));
  lossV = v128.bitselect(
    f32x4.add(lossV, f32x4.mul(rightV, f32x4.add(f32x4.sub(mV, zrV), logSV))), lossV, hasRight);
  lossV = f32x4.mul(lossV, wV);
  addToLane(acc, row, f32x4.extract_lane(lossV, 0));
  addToLane(acc, row + 1, f32x4.extract_lane(lossV, 1));
  addToLane(acc, row + 2, f32x4.extract_lane(lossV, 2));
  addToLane(acc, row + 3, f32x4.extract_lane(lossV, 3));
  if (loss4) v128.store(loss4, lossV);
  if (g) {
    // targetGrad lanewise; e_l and e_(l+1) from the columns (COLS has a column to spare past the last).
    const elV = f32x4(load<f32>(exps + (l0 << 4)), load<f32>(exps + (l1 << 4), 4), load<f32>(exps + (l2 << 4), 8),
      load<f32>(exps + (l3 << 4), 12));
    const erV = f32x4(load<f32>(exps + (l0 << 4), 16), load<f32>(exps + (l1 << 4), 20),
      load<f32>(exps + (l2 << 4), 24), load<f32>(exps + (l3 << 4), 28));
    const rInvS = f32x4.mul(rV, invSV);
    const gl = f32x4.mul(v128.bitselect(f32x4.sub(f32x4.sub(one, leftV), rInvS),
      f32x4.sub(f32x4.mul(elV, invSV), leftV), f32x4.eq(zlV, mV)), kV);
    const gr = f32x4.mul(v128.bitselect(f32x4.sub(f32x4.sub(one, rightV), rInvS),
      f32x4.sub(f32x4.mul(erV, invSV), rightV), f32x4.eq(zrV, mV)), kV);
    const g0 = g + (l0 << 2);
    const g1 = g + stride + (l1 << 2);
    const g2 = g + (stride << 1) + (l2 << 2);
    const g3 = g + stride * 3 + (l3 << 2);
    store<f32>(g0, f32x4.extract_lane(gl, 0));
    store<f32>(g1, f32x4.extract_lane(gl, 1));
    store<f32>(g2, f32x4.extract_lane(gl, 2));
    store<f32>(g3, f32x4.extract_lane(gl, 3));
    if (f32x4.extract_lane(rightV, 0) != 0) store<f32>(g0, f32x4.extract_lane(gr, 0), 4);
    if (f32x4.extract_lane(rightV, 1) != 0) store<f32>(g1, f32x4.extract_lane(gr, 1), 4);
    if (f32x4.extract_lane(rightV, 2) != 0) store<f32>(g2, f32x4.extract_lane(gr, 2), 4);
    if (f32x4.extract_lane(rightV, 3) != 0) store<f32>(g3, f32x4.extract_lane(gr, 3), 4);
  }
  return bad;
}

/**
 * DFL over `rows` rows of `classes` logits (row-major float32), the ABI of src/core/abi.ts. Row i of the call is
 * global row rowBase + i. Streams: input (logits), targets (float32, one per row), weights (per row, 0: none), loss
 * (per row) and grad (0: not written), scratch (one row: the e_j when there is no grad), acc. Params: gradScale.
 * Adds each weighted row loss to the lanes; writes it to loss, and the row's gradient times weight and gradScale to
 * grad. Returns `rows`, or STATUS_INVALID when a logit is not finite, a target is outside [0, classes - 1] (or NaN;
 * that row gives 0 loss and 0 gradient) or a weight is not finite (the facade then finds which).
 */
export function distributionFocal(streams: usize, rows: usize, classes: usize, rowBase: usize, params: usize): i32 {
  const logits = load<usize>(streams, STREAM_INPUT);
  const targets = load<usize>(streams, STREAM_TARGETS);
  const weights = load<usize>(streams, STREAM_WEIGHTS);
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const scratch = load<usize>(streams, STREAM_SCRATCH);
  const acc = load<usize>(streams, STREAM_ACC);
  const gradScale = load<f32>(params, PARAM_GRAD_SCALE);
  const top = <f32>(classes - 1);
  let bad: i32 = 0;
  const tiled = ASC_FEATURE_SIMD && classes >= 4 && classes <= TILED_MAX_CLASSES;
  for (let i: usize = 0; i < rows; i++) {
    // Four rows per vector when all four targets are in range (the rest, and any group holding a bad target, row
    // by row below).
    if (tiled && (i & 3) == 0 && i + 4 <= rows) {
      const yV = v128.load(targets + (i << 2));
      if (i32x4.all_true(v128.and(f32x4.ge(yV, f32x4.splat(0)), f32x4.le(yV, f32x4.splat(top))))) {
        bad |= distributionFocalRowsF32x4(
          logits + ((i * classes) << 2), gradOut ? gradOut + ((i * classes) << 2) : 0, targets + (i << 2),
          weights ? weights + (i << 2) : 0, lossOut ? lossOut + (i << 2) : 0, acc, rowBase + i, classes, gradScale,
        );
        i += 3;
        continue;
      }
    }
    const z = logits + ((i * classes) << 2);
    const g = gradOut ? gradOut + ((i * classes) << 2) : 0;
    const y = load<f32>(targets + (i << 2));
    let w: f32 = 1.0;
    if (weights) {
      w = load<f32>(weights + (i << 2));
      bad |= <i32>!(abs<f32>(w) < Infinity);
    }
    // A target outside [0, classes - 1], NaN included: flagged; the row gives 0 and its logits are not read.
    const l = <usize>(<i32>select<f32>(y, 0, y >= 0 && y <= top));
    const right = y - <f32>l; // wr
    if (!(y >= 0 && y <= top) || l >= classes || (right != 0 && l + 1 >= classes)) {
      bad = 1;
      if (lossOut) store<f32>(lossOut + (i << 2), 0);
      if (g) memory.fill(g, 0, classes << 2);
      continue;
    }
    const left = <f32>(l + 1) - y; // wl
    const e = g ? g : scratch;
    const m = rowMax(z, classes);
    bad |= <i32>!rowFinite;
    const r = <f32>rowExpSum(z, m, classes, e);
    const invS: f32 = <f32>1.0 / (<f32>1.0 + r);
    const logS = log1pRecipF32(r, invS);
    const zl = load<f32>(z + (l << 2));
    let loss: f32 = left * ((m - zl) + logS);
    let zr: f32 = 0;
    if (right != 0) {
      zr = load<f32>(z + (l << 2), 4);
      loss += right * ((m - zr) + logS);
    }
    loss *= w;
    addToLane(acc, rowBase + i, loss);
    if (lossOut) store<f32>(lossOut + (i << 2), loss);
    if (g) {
      const k: f32 = w * gradScale;
      const el = load<f32>(g + (l << 2));
      const er: f32 = right != 0 ? load<f32>(g + (l << 2), 4) : 0;
      // g_j = (e_j / S) k for every bin, then the target bins' p - w (times k) over theirs.
      scaleRow2(g, classes, invS, k);
      store<f32>(g + (l << 2), targetGrad(zl, m, el, left, r, invS) * k);
      if (right != 0) store<f32>(g + (l << 2), targetGrad(zr, m, er, right, r, invS) * k, 4);
    }
  }
  return bad ? STATUS_INVALID : <i32>rows;
}
