// Distribution Focal Loss (Li et al. 2020, Generalized Focal Loss; mmdet distribution_focal_loss in
// mmdet/models/losses/gfocal_loss.py) over rows of `classes` bins, one continuous target y in [0, classes - 1] per
// row. Per row, with l = floor(y), wl = (l + 1) - y and wr = y - l (both exact in float32: Sterbenz), m the row max,
// e_j = exp(z_j - m) and S = sum_j e_j = 1 + r (r summed in float64 without the maxima's 1s, rows.ts rowExpSum):
//   CE(z, k) = -log p_k = (m - z_k) + log1p(r)
//   loss = wl CE(z, l) + wr CE(z, l + 1)            (the right term absent when wr = 0: y = classes - 1 is valid)
//   d loss / d z_j = p_j - wl 1[j = l] - wr 1[j = l + 1],   p_j = e_j / S
// At a target bin that holds the row max (e = 1, p = 1 / S), p - w is formed as (1 - w) - r / S, so the gradient
// of an integer target at the argmax keeps its precision as p -> 1 (where p - 1 would round to 0).
// The row passes are the softmax kernels' (SIMD over the bins with their scalar twins): both builds give the same
// bits. ultralytics' DFLoss (compat 'ultralytics') is this kernel on clamped targets, averaged by the facade.
import {
  PARAM_GRAD_SCALE, STATUS_INVALID, STREAM_ACC, STREAM_GRAD, STREAM_INPUT, STREAM_LOSS, STREAM_SCRATCH,
  STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import { addToLane } from '../math/reduce';
import { log1pRecipF32, rowExpSum, rowFinite, rowMax, scaleRow2 } from '../softmax/rows';

/** p_k - w for a target bin k of logit zk and exponential ek = exp(zk - m), in the row's terms (see above). */
// @ts-ignore: decorator
@inline function targetGrad(zk: f32, m: f32, ek: f32, w: f32, r: f32, invS: f32): f32 {
  return zk == m ? (<f32>1.0 - w) - r * invS : ek * invS - w;
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
  for (let i: usize = 0; i < rows; i++) {
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
