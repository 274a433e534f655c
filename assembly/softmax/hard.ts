// Multi-class focal loss from logits with class indices (mmcv softmax_focal_loss / Keras CategoricalFocalCrossentropy
// semantics). One fused pass per row, f32x4 over the classes (over four rows, lanes = rows, for C <= 88):
// exp(z - shift) with its float64 sum, the loss, and the full row of the gradient, for any number of classes C >= 1.
// Per row, with class index y and shift = z_y (or the row max when z_y is far below it, see SHIFT_LIMIT),
// e_j = exp(z_j - z_y) and r = sum_{j != y} e_j (summed in float64, without the target's own 1):
//   p_y = 1 / (1 + r),  u = 1 - p_y = r / (1 + r),  -log p_y = log1p(r)     (all exact as p_y -> 1),  p_j = e_j p_y
//   loss = alpha_y u^gamma (-log p_y);   d loss / d z_j = k (1[j=y] - p_j),  k = -alpha_y u^gamma (1 + gamma p_y rho)
// with rho = -log p_y / u (-> 1 as u -> 0): k is Lin et al.'s alpha (gamma u^(gamma-1) p_y log p_y - u^gamma)
// rewritten without u^(gamma-1), so gamma in (0, 1) stays finite as p_y -> 1. A row whose other classes sit 60
// below the target gives u = 1e-26 to full float32 precision, where 1 - p_y would give 0.
// Soft targets and the primitives need every p_c, so they shift by the row max and leave the maxima out of r.
import {
  FLAG_DETACH_MODULATOR, GAMMA_ZERO, PARAM_ALPHA, PARAM_FLAGS, PARAM_GAMMA, PARAM_GAMMA_MODE, PARAM_GRAD_SCALE, PARAM_IGNORE_INDEX, STATUS_INVALID,
  STREAM_ACC, STREAM_CLASS_WEIGHTS, STREAM_GAMMAS, STREAM_GRAD, STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_SCRATCH,
  STREAM_WEIGHTS,
} from '../abi';
import {
  finiteF32x4, logF32, logF32x4, powModeF32, powModeF32x4, powPerElementF32, powPerElementF32x4, splitHighF32,
  transposeTileF32x4,
} from '../math/vmath';
import { addToLane } from '../math/reduce';
import {
  columnSumsF32x4, EXP_PASS_MAX, EXP_PASS_MIN, expCappedVectors, log1pRecipF32, rowExpSumExcept, rowFinite, rowLargest,
  scaleRow2, storeGradRowsF32x4,
} from './rows';

// How far (in logit units) the class-index kernel lets the target's logit sit below the row's max and still
// shift by it: e^64 times up to 2^28 classes stays below the float32 maximum.
const SHIFT_LIMIT: f32 = 64.0;

// ---- hard targets -------------------------------------------------------------------------------------------
// The class-index kernel's per-row scratch for one block of rows (static data of this instance: wasm runs one call
// at a time): each row's kind and up to four floats passed from one phase to the next.
const ROW_BLOCK: usize = 32;
const ROW_KIND: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_A: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_B: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_C: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_D: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
// Rows of at most TILED_MAX_CLASSES classes go four to a vector (lanes = rows: see expSumExceptRowsF32x4): ROW_TILED
// marks the first row of each such group, whose columns live in the scratch stream from phase 1 to phase 3 (a
// staging slot, at least CHUNK floats: ROW_BLOCK * TILED_MAX_CLASSES = 2816 fit; without a gradient the row pass's
// e_j, written there too, overwrites only columns already summed).
const TILED_MAX_CLASSES: usize = 88;
const ROW_TILED: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const TILED_FALLBACK: i32 = 2; // expSumExceptRowsF32x4: a row's target lies more than SHIFT_LIMIT below its max
const ROW_SKIPPED: i32 = 0; // ignoreIndex, or a target out of range (flagged)
const ROW_BY_TARGET: i32 = 1; // shifted by z_y: A = r
const ROW_BY_MAX: i32 = 2; // taken again by the max m: A = e_y + r, B = r, C = e_y, D = z_y - m
/**
 * Phase 2 of softmaxFocal for row i (scratch slot at `at`): p_y, u = 1 - p_y and -log p_y from what phase 1 left,
 * the weighted loss into its float64 lane and lossOut, and phase 3's factors (invS, k, u) back into the slot.
 * Returns 1 when the row's weight is not finite (checked for every row, ignored ones too, as the facade's locator
 * reads them).
 */
// @ts-ignore: decorator
@inline function rowMath(
  i: usize, at: usize, targets: usize, weights: usize, alphas: usize, lossOut: usize, gradOut: usize, rowBase: usize,
  alpha: f32, gammaMode: i32, gamma: f32, gHi: f32, gLo: f32, gradScale: f32, acc: usize, gammas: usize, detach: bool,
): i32 {
  const kind = load<i32>(at, ROW_KIND);
  let bad: i32 = 0;
  let scale: f32 = alpha < 0 ? 1.0 : alpha;
  if (weights) {
    const w = load<f32>(weights + (i << 2));
    bad = <i32>!(abs<f32>(w) < Infinity);
    scale *= w;
  }
  if (kind == ROW_SKIPPED) {
    if (lossOut) store<f32>(lossOut + (i << 2), 0);
    return bad;
  }
  if (alphas) scale *= load<f32>(alphas + (<usize>load<i32>(targets + (i << 2)) << 2));
  let invS: f32;
  let ce: f32; // -log p_y
  let pY: f32;
  let u: f32;
  if (kind == ROW_BY_TARGET) {
    const rf = load<f32>(at, ROW_A);
    invS = 1.0 / (1.0 + rf);
    ce = log1pRecipF32(rf, invS);
    pY = invS;
    u = rf * invS;
  } else {
    const sf = load<f32>(at, ROW_A);
    invS = 1.0 / sf;
    ce = logF32(sf) - load<f32>(at, ROW_D);
    pY = load<f32>(at, ROW_C) * invS;
    u = load<f32>(at, ROW_B) * invS;
  }
  let g = gamma;
  let mod: f32 = 0;
  if (gammas) {
    // Per-class gamma: the row's exponent is its target's.
    g = load<f32>(gammas + (<usize>load<i32>(targets + (i << 2)) << 2));
    mod = powPerElementF32(u, g);
  } else {
    mod = powModeF32(u, gammaMode, gamma, gHi, gLo);
  }
  const loss: f32 = (mod * ce) * scale;
  addToLane(acc, rowBase + i, loss);
  if (lossOut) store<f32>(lossOut + (i << 2), loss);
  if (gradOut) {
    let inner: f32 = 1.0; // detached: k = -alpha_y u^gamma, the gradient alpha_y u^gamma (p_j - 1[j=y])
    if (gammaMode != GAMMA_ZERO && !detach) {
      const rho = select<f32>(ce / u, 1.0, u > 0); // -log p_y / u -> 1 as u -> 0
      inner = 1.0 + (g * pY) * rho;
    }
    const k: f32 = -((mod * inner) * scale) * gradScale;
    store<f32>(at, invS, ROW_A);
    store<f32>(at, k, ROW_B);
    store<f32>(at, u, ROW_C);
  }
  return bad;
}

/** rowMath for rows i..i+3, all shifted by their target (ROW_BY_TARGET): the same operations lane by lane. */
// @ts-ignore: decorator
@inline function rowMathByTargetF32x4(
  i: usize, at: usize, targets: usize, weights: usize, alphas: usize, lossOut: usize, gradOut: usize, rowBase: usize,
  alpha: f32, gammaMode: i32, gamma: f32, gHi: f32, gLo: f32, gradScale: f32, acc: usize, gammas: usize, detach: bool,
): i32 {
  const one = f32x4.splat(1.0);
  let bad: i32 = 0;
  let scale = f32x4.splat(alpha < 0 ? 1.0 : alpha);
  if (weights) {
    const w = v128.load(weights + (i << 2));
    bad = <i32>!i32x4.all_true(finiteF32x4(w));
    scale = f32x4.mul(scale, w);
  }
  // The four class indices, for the per-class tables only (no load on the plain path).
  const y = alphas || gammas ? v128.load(targets + (i << 2)) : i32x4.splat(0);
  if (alphas) {
    let a = f32x4.splat(load<f32>(alphas + (<usize>i32x4.extract_lane(y, 0) << 2)));
    a = f32x4.replace_lane(a, 1, load<f32>(alphas + (<usize>i32x4.extract_lane(y, 1) << 2)));
    a = f32x4.replace_lane(a, 2, load<f32>(alphas + (<usize>i32x4.extract_lane(y, 2) << 2)));
    a = f32x4.replace_lane(a, 3, load<f32>(alphas + (<usize>i32x4.extract_lane(y, 3) << 2)));
    scale = f32x4.mul(scale, a);
  }
  const rf = v128.load(at, ROW_A);
  const s = f32x4.add(one, rf);
  const invS = f32x4.div(one, s);
  // log1pRecipF32: log(u) + (r - (u - 1)) invS with u = 1 + r.
  const ce = f32x4.add(logF32x4(s), f32x4.mul(f32x4.sub(rf, f32x4.sub(s, one)), invS));
  const u = f32x4.mul(rf, invS);
  let g = f32x4.splat(gamma);
  let mod = one;
  if (gammas) {
    g = f32x4.splat(load<f32>(gammas + (<usize>i32x4.extract_lane(y, 0) << 2)));
    g = f32x4.replace_lane(g, 1, load<f32>(gammas + (<usize>i32x4.extract_lane(y, 1) << 2)));
    g = f32x4.replace_lane(g, 2, load<f32>(gammas + (<usize>i32x4.extract_lane(y, 2) << 2)));
    g = f32x4.replace_lane(g, 3, load<f32>(gammas + (<usize>i32x4.extract_lane(y, 3) << 2)));
    mod = powPerElementF32x4(u, g);
  } else {
    mod = powModeF32x4(u, gammaMode, g, f32x4.splat(gHi), f32x4.splat(gLo));
  }
  const loss = f32x4.mul(f32x4.mul(mod, ce), scale);
  addToLane(acc, rowBase + i, f32x4.extract_lane(loss, 0));
  addToLane(acc, rowBase + i + 1, f32x4.extract_lane(loss, 1));
  addToLane(acc, rowBase + i + 2, f32x4.extract_lane(loss, 2));
  addToLane(acc, rowBase + i + 3, f32x4.extract_lane(loss, 3));
  if (lossOut) v128.store(lossOut + (i << 2), loss);
  if (gradOut) {
    let inner = one;
    if (gammaMode != GAMMA_ZERO && !detach) {
      const rho = v128.bitselect(f32x4.div(ce, u), one, f32x4.gt(u, f32x4.splat(0)));
      inner = f32x4.add(one, f32x4.mul(f32x4.mul(g, invS), rho)); // p_y = invS
    }
    const k = f32x4.mul(f32x4.neg(f32x4.mul(f32x4.mul(mod, inner), scale)), f32x4.splat(gradScale));
    v128.store(at, invS, ROW_A);
    v128.store(at, k, ROW_B);
    v128.store(at, u, ROW_C);
  }
  return bad;
}

/**
 * Phase 1 for the four rows at z (targets yV, all in [0, classes)) with lanes = rows, for small C, where the row
 * pass's per-row work (the horizontal max, min and sums, the masked tail vector) outweighs its few vectors: the
 * logits go through 4 x 4 transposes into `cols` (column j of the four rows at cols + 16 j), e_j = exp(z_j - z_y)
 * replaces them there (kept for phase 3), and each row's sum of e_j over j != y is added in float64 lanes in the row
 * pass's order (lane = j mod 4, in j order, combined (s0 + s1) + (s2 + s3)): r, the kind and the max test are
 * rowExpSumExcept's, bit for bit. Writes the four rows' slots at `at`; returns 1 when a row holds a value that is
 * not finite (max, min, the target's own logit, a NaN sum), TILED_FALLBACK when a row must be shifted by its max.
 */
// @ts-ignore: decorator
@inline function expSumExceptRowsF32x4(z: usize, yV: v128, classes: usize, cols: usize, at: usize): i32 {
  const stride = classes << 2;
  // The last tile reads up to 3 floats past row 3: the next row, or the slack after the last (ROW_SLACK).
  for (let j: usize = 0; j < classes; j += 4) transposeTileF32x4(z + (j << 2), stride, cols + (j << 4), 16);
  let shift = f32x4.splat(load<f32>(cols + (<usize>i32x4.extract_lane(yV, 0) << 4)));
  shift = f32x4.replace_lane(shift, 1, load<f32>(cols + (<usize>i32x4.extract_lane(yV, 1) << 4), 4));
  shift = f32x4.replace_lane(shift, 2, load<f32>(cols + (<usize>i32x4.extract_lane(yV, 2) << 4), 8));
  shift = f32x4.replace_lane(shift, 3, load<f32>(cols + (<usize>i32x4.extract_lane(yV, 3) << 4), 12));
  expCappedVectors(cols, cols, classes << 2, shift);
  const mV = v128.load(EXP_PASS_MAX);
  const nV = v128.load(EXP_PASS_MIN);
  // e_y left out of the sums by a 0 in its place (the +0 the row pass's mask adds; phase 3 writes g_y itself).
  store<f32>(cols + (<usize>i32x4.extract_lane(yV, 0) << 4), 0);
  store<f32>(cols + (<usize>i32x4.extract_lane(yV, 1) << 4), 0, 4);
  store<f32>(cols + (<usize>i32x4.extract_lane(yV, 2) << 4), 0, 8);
  store<f32>(cols + (<usize>i32x4.extract_lane(yV, 3) << 4), 0, 12);
  const r = columnSumsF32x4(cols, classes, 0, f32x4.splat(0), false); // the row pass's order (rows.ts)
  if (!i32x4.all_true(f32x4.le(f32x4.sub(mV, shift), f32x4.splat(SHIFT_LIMIT)))) return TILED_FALLBACK;
  v128.store(at, i32x4.splat(ROW_BY_TARGET), ROW_KIND);
  v128.store(at, r, ROW_A);
  // Finite: no -inf (the min), no +inf (the max), the target's logit finite, no NaN among the e_j, j != y (r).
  const ok = v128.and(v128.and(finiteF32x4(shift), f32x4.gt(nV, f32x4.splat(-Infinity))),
    v128.and(f32x4.lt(mV, f32x4.splat(Infinity)), f32x4.eq(r, r)));
  return <i32>!i32x4.all_true(ok);
}

/**
 * Phase 3 for a group of expSumExceptRowsF32x4: g_j = (e_j invS) (-k) on the columns, transposed back into the four
 * gradient rows at g as it goes, then g_y = k u (scaleRow2's operations and the row's g_y: the same bits). The last
 * tile's stores run past each row: it goes first, so the rows' own tiles overwrite what lands in rows 1-3, and the
 * 4 floats after row 3 (the next row's e_j, or the slack) are put back.
 */
// @ts-ignore: decorator
@inline function gradRowsF32x4(g: usize, yV: v128, classes: usize, cols: usize, at: usize): void {
  const invS = v128.load(at, ROW_A);
  const k = v128.load(at, ROW_B);
  const stride = classes << 2;
  storeGradRowsF32x4(cols, invS, f32x4.neg(k), g, classes);
  const gY = f32x4.mul(k, v128.load(at, ROW_C));
  store<f32>(g + (<usize>i32x4.extract_lane(yV, 0) << 2), f32x4.extract_lane(gY, 0));
  store<f32>(g + stride + (<usize>i32x4.extract_lane(yV, 1) << 2), f32x4.extract_lane(gY, 1));
  store<f32>(g + (stride << 1) + (<usize>i32x4.extract_lane(yV, 2) << 2), f32x4.extract_lane(gY, 2));
  store<f32>(g + stride * 3 + (<usize>i32x4.extract_lane(yV, 3) << 2), f32x4.extract_lane(gY, 3));
}

/**
 * Focal loss over `rows` rows of `classes` logits (row-major float32) with class indices (int32), the ABI of
 * src/core/abi.ts. Row i of the call is global row rowBase + i. Streams: input (logits), labels, weights (per row,
 * 0: none), classWeights (alpha per class, 0: none), gammas (gamma per class, 0: none; row i uses gamma[y_i] by the
 * general pow), loss (per row) and grad (0: not written), scratch (one row: exp(z - m) when there is no grad), acc.
 * Params: alpha (< 0: none; used without classWeights), gamma and gammaMode (GAMMA_GENERAL with gammas), gradScale,
 * ignoreIndex, flags (FLAG_DETACH_MODULATOR: alpha_y u^gamma is a constant of the gradient). Adds each weighted row loss to the lanes; writes it to loss, and the row's
 * gradient times gradScale to grad. Rows whose target is ignoreIndex give 0 and are not read. Returns `rows`, or
 * STATUS_INVALID when a logit is not finite, a target is outside [0, classes) and not ignoreIndex, or a weight is
 * not finite (the facade then finds which).
 */
export function softmaxFocal(streams: usize, rows: usize, classes: usize, rowBase: usize, params: usize): i32 {
  const logits = load<usize>(streams, STREAM_INPUT);
  const targets = load<usize>(streams, STREAM_LABELS);
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
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  let bad: i32 = 0;
  // Rows go in blocks of ROW_BLOCK, in three phases per block: the rows' exp passes; the scalar math of each row
  // (log1p, pow, divisions: a long dependency chain per row); the gradient rows. With each phase a short loop over
  // independent rows, the core overlaps one row's scalar chain with the next row's instead of waiting on it
  // (kernel-only, fastest of 60 rounds: C = 10 forward 4.4 -> 4.0 ns/logit, C = 80 forward+gradient 1.65 -> 1.53).
  // Same operations per row, same order of the float64 lanes: the results do not change.
  const tiled = classes >= 4 && classes <= TILED_MAX_CLASSES;
  const tileBytes = ((classes + 3) & ~3) << 2; // one row's share of the columns in scratch
  for (let first: usize = 0; first < rows; first += ROW_BLOCK) {
    const count = min<usize>(ROW_BLOCK, rows - first);
    // Phase 1: each row's e_j and sums; the row kind and what phase 2 needs go to the block's scratch. Small C: four
    // rows at a time whose targets are all in range (any other row goes alone, by the row pass).
    for (let b: usize = 0; b < count; b++) {
      const i = first + b;
      const z = logits + ((i * classes) << 2);
      const at = b << 2;
      if (ASC_FEATURE_SIMD) {
        store<i32>(at, 0, ROW_TILED);
        if (tiled && b + 4 <= count) {
          const yV = v128.load(targets + (i << 2));
          const inRange = v128.and(i32x4.ne(yV, i32x4.splat(ignoreIndex)), i32x4.lt_u(yV, i32x4.splat(<i32>classes)));
          if (i32x4.all_true(inRange)) {
            const status = expSumExceptRowsF32x4(z, yV, classes, scratch + b * tileBytes, at);
            if (status != TILED_FALLBACK) {
              bad |= status;
              store<i32>(at, 1, ROW_TILED);
              b += 3;
              continue;
            }
          }
        }
      }
      const y = load<i32>(targets + (i << 2));
      // ignoreIndex may lie inside [0, classes) (as in PyTorch): test it first.
      if (y == ignoreIndex || y < 0 || <usize>y >= classes) {
        // Ignored (or invalid, flagged): 0 loss, 0 gradient, the row's logits unread.
        bad |= <i32>(y != ignoreIndex);
        store<i32>(at, ROW_SKIPPED, ROW_KIND);
        continue;
      }
      // Shifted by the target's own logit, e_y = 1 and r = sum_{j != y} e^(z_j - z_y): p_y = 1 / (1 + r),
      // u = 1 - p_y = r / (1 + r) and -log p_y = log1p(r) stay exact as r -> 0, and the max comes in the same pass.
      const e = gradOut ? gradOut + ((i * classes) << 2) : scratch;
      const zY = load<f32>(z + (<usize>y << 2));
      const r = rowExpSumExcept(z, zY, classes, <usize>y, e);
      bad |= <i32>!rowFinite;
      if (rowLargest - zY <= SHIFT_LIMIT) {
        store<i32>(at, ROW_BY_TARGET, ROW_KIND);
        store<f32>(at, <f32>r, ROW_A);
      } else {
        // The target lies more than SHIFT_LIMIT below the row's largest logit (p_y < e^-64): e^(z_j - z_y) could
        // overflow, so the row is taken again shifted by the max, s = e_y + r >= 1. u ~ 1 here: no cancellation.
        const m = rowLargest;
        const rm = rowExpSumExcept(z, m, classes, <usize>y, e);
        const eY = load<f32>(e + (<usize>y << 2));
        store<i32>(at, ROW_BY_MAX, ROW_KIND);
        store<f32>(at, <f32>(<f64>eY + rm), ROW_A); // s
        store<f32>(at, <f32>rm, ROW_B);
        store<f32>(at, eY, ROW_C);
        store<f32>(at, zY - m, ROW_D);
      }
    }
    // Phase 2: per row, p_y, u, -log p_y, the loss into its lane, and the gradient's factors for phase 3. Four rows
    // shifted by their target (the usual kind) go as one vector through the scalar row's operations (vmath's twins,
    // same order: the same bits); any other group of four goes row by row.
    for (let b: usize = 0; b < count;) {
      if (ASC_FEATURE_SIMD) {
        if (b + 4 <= count && i32x4.all_true(i32x4.eq(v128.load(b << 2, ROW_KIND), i32x4.splat(ROW_BY_TARGET)))) {
          bad |= rowMathByTargetF32x4(
            first + b, b << 2, targets, weights, alphas, lossOut, gradOut, rowBase, alpha, gammaMode, gamma, gHi, gLo,
            gradScale, acc, gammas, detach,
          );
          b += 4;
          continue;
        }
      }
      bad |= rowMath(
        first + b, b << 2, targets, weights, alphas, lossOut, gradOut, rowBase, alpha, gammaMode, gamma, gHi, gLo,
        gradScale, acc, gammas, detach,
      );
      b++;
    }
    // Phase 3: the gradient rows, g_j = -k p_j with p_j = e_j invS formed first (-k invS alone can underflow:
    // alpha 1e-30, p_y 1e-14), and g_y = k (1 - p_y) with the accurate u.
    if (gradOut) {
      for (let b: usize = 0; b < count; b++) {
        const i = first + b;
        const at = b << 2;
        const g = gradOut + ((i * classes) << 2);
        if (ASC_FEATURE_SIMD) {
          if (load<i32>(at, ROW_TILED)) {
            gradRowsF32x4(g, v128.load(targets + (i << 2)), classes, scratch + b * tileBytes, at);
            b += 3;
            continue;
          }
        }
        if (load<i32>(at, ROW_KIND) == ROW_SKIPPED) {
          memory.fill(g, 0, classes << 2);
          continue;
        }
        const k = load<f32>(at, ROW_B);
        scaleRow2(g, classes, load<f32>(at, ROW_A), -k);
        store<f32>(g + (<usize>load<i32>(targets + (i << 2)) << 2), k * load<f32>(at, ROW_C));
      }
    }
  }
  return bad ? STATUS_INVALID : <i32>rows;
}
