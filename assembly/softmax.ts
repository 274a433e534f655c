// Multi-class focal loss from logits (mmcv softmax_focal_loss / Keras CategoricalFocalCrossentropy semantics) and
// the softmax / log-softmax rows behind the exposed primitives. One fused pass per row, f32x4 over the classes:
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
  expCappedF32, expCappedF32x4, expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, GAMMA_HALF, GAMMA_ONE, GAMMA_TWO, GAMMA_ZERO,
  log1pF32, logF32, logF32x4, powF32, powF32x4, powModeF32, powModeF32x4, splitHighF32,
} from './vmath';

// ---- shared row passes ------------------------------------------------------------------------------------
// ROW_SLACK: in the SIMD build the passes take the last classes % 4 of a row as one masked vector, so they read
// and write up to 3 floats past a row's end. Every row buffer the facade passes (logits, gradOut, scratch, dst)
// is laid out with at least 4 floats of slack after its last row (src/softmax.ts ROW_SLACK).
// f32x4.pmax is "a < b ? b : a"; the scalar passes use the same select so both builds agree on -0 and NaN.
// @ts-ignore: decorator
@inline function pmaxF32(a: f32, b: f32): f32 { return select<f32>(b, a, a < b); }

// Set by rowMax: false when the row holds a NaN or an infinity (the facade then finds which).
let rowFinite: bool = true;

// How far (in logit units) the class-index kernel lets the target's logit sit below the row's max and still
// shift by it: e^64 times up to 2^28 classes stays below the float32 maximum.
const SHIFT_LIMIT: f32 = 64.0;

/** Largest of the `classes` logits at z; clears rowFinite when one is not finite. Exact in any order. */
// @ts-ignore: decorator
@inline function rowMax(z: usize, classes: usize): f32 {
  let j: usize = 0;
  let m: f32 = -Infinity;
  let finite = true;
  if (ASC_FEATURE_SIMD) {
    let mV = f32x4.splat(-Infinity);
    let okV = i32x4.splat(-1);
    for (; j + 4 <= classes; j += 4) {
      const x = v128.load(z + (j << 2));
      okV = v128.and(okV, finiteF32x4(x));
      mV = f32x4.pmax(mV, x);
    }
    // The last classes % 4 as one masked vector (the row buffers carry 4 floats of slack: see ROW_SLACK).
    if (j < classes) {
      const x = v128.load(z + (j << 2));
      const inRow = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(classes - j)));
      okV = v128.and(okV, v128.or(finiteF32x4(x), v128.not(inRow)));
      mV = f32x4.pmax(mV, v128.bitselect(x, f32x4.splat(-Infinity), inRow));
      j = classes;
    }
    finite = i32x4.all_true(okV);
    m = pmaxF32(pmaxF32(f32x4.extract_lane(mV, 0), f32x4.extract_lane(mV, 1)),
      pmaxF32(f32x4.extract_lane(mV, 2), f32x4.extract_lane(mV, 3)));
  }
  for (; j < classes; j++) {
    const x = load<f32>(z + (j << 2));
    finite = finite & (abs<f32>(x) < Infinity);
    m = pmaxF32(m, x);
  }
  rowFinite = finite;
  return m;
}

/**
 * Writes e_j = exp(z_j - m) to `e` and returns r = sum_j e_j - 1 in float64: the e_j of the non-maximal classes
 * summed in four lanes (lane = j mod 4, as in reduce.ts, so both builds add in the same order) plus the count of
 * maxima minus one. Leaving the 1s out keeps r exact when it is far below 1 (p_y -> 1).
 */
// @ts-ignore: decorator
@inline function rowExpSum(z: usize, m: f32, classes: usize, e: usize): f64 {
  let j: usize = 0;
  let s0: f64 = 0;
  let s1: f64 = 0;
  let s2: f64 = 0;
  let s3: f64 = 0;
  let ties: i32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mV = f32x4.splat(m);
    let acc01 = f64x2.splat(0);
    let acc23 = f64x2.splat(0);
    let tiesV = i32x4.splat(0);
    for (; j + 4 <= classes; j += 4) {
      const x = v128.load(z + (j << 2));
      const ev = expNonPositiveF32x4(f32x4.sub(x, mV));
      v128.store(e + (j << 2), ev);
      const isMax = f32x4.eq(x, mV);
      tiesV = i32x4.sub(tiesV, isMax); // a true lane is -1
      const rest = v128.andnot(ev, isMax);
      acc01 = f64x2.add(acc01, f64x2.promote_low_f32x4(rest));
      acc23 = f64x2.add(acc23, f64x2.promote_low_f32x4(v128.shuffle<f32>(rest, rest, 2, 3, 0, 1)));
    }
    // The last classes % 4 as one masked vector: lanes past the row add +0, which leaves a sum unchanged, so
    // the lanes hold what the scalar twin's tail adds. Writes up to 3 floats past the row into the slack.
    if (j < classes) {
      const x = v128.load(z + (j << 2));
      const inRow = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(classes - j)));
      const ev = expNonPositiveF32x4(f32x4.sub(x, mV));
      v128.store(e + (j << 2), ev);
      const isMax = v128.and(f32x4.eq(x, mV), inRow);
      tiesV = i32x4.sub(tiesV, isMax);
      const rest = v128.and(v128.andnot(ev, isMax), inRow);
      acc01 = f64x2.add(acc01, f64x2.promote_low_f32x4(rest));
      acc23 = f64x2.add(acc23, f64x2.promote_low_f32x4(v128.shuffle<f32>(rest, rest, 2, 3, 0, 1)));
      j = classes;
    }
    s0 = f64x2.extract_lane(acc01, 0);
    s1 = f64x2.extract_lane(acc01, 1);
    s2 = f64x2.extract_lane(acc23, 0);
    s3 = f64x2.extract_lane(acc23, 1);
    ties = (i32x4.extract_lane(tiesV, 0) + i32x4.extract_lane(tiesV, 1)) +
      (i32x4.extract_lane(tiesV, 2) + i32x4.extract_lane(tiesV, 3));
  }
  // The scalar twin: four lanes at a time (the whole row in the scalar build, nothing in the SIMD build) ...
  for (; j + 4 <= classes; j += 4) {
    const at = z + (j << 2);
    const x0 = load<f32>(at);
    const x1 = load<f32>(at, 4);
    const x2 = load<f32>(at, 8);
    const x3 = load<f32>(at, 12);
    const e0 = expNonPositiveF32(x0 - m);
    const e1 = expNonPositiveF32(x1 - m);
    const e2 = expNonPositiveF32(x2 - m);
    const e3 = expNonPositiveF32(x3 - m);
    const out = e + (j << 2);
    store<f32>(out, e0);
    store<f32>(out, e1, 4);
    store<f32>(out, e2, 8);
    store<f32>(out, e3, 12);
    ties += <i32>(x0 == m) + <i32>(x1 == m) + <i32>(x2 == m) + <i32>(x3 == m);
    s0 += <f64>select<f32>(0, e0, x0 == m);
    s1 += <f64>select<f32>(0, e1, x1 == m);
    s2 += <f64>select<f32>(0, e2, x2 == m);
    s3 += <f64>select<f32>(0, e3, x3 == m);
  }
  // ... and the last classes % 4, which fall in lanes 0, 1, 2 in order.
  for (; j < classes; j++) {
    const x = load<f32>(z + (j << 2));
    const ej = expNonPositiveF32(x - m);
    store<f32>(e + (j << 2), ej);
    ties += <i32>(x == m);
    const v = <f64>select<f32>(0, ej, x == m);
    const lane = j & 3;
    if (lane == 0) s0 += v;
    else if (lane == 1) s1 += v;
    else s2 += v;
  }
  return ((s0 + s1) + (s2 + s3)) + <f64>(ties - 1);
}

// Set by rowExpSumExcept: the row's largest logit (NaN-free when rowFinite).
let rowLargest: f32 = 0;

/**
 * The class-index kernel's row: writes e_j = exp(z_j - shift) to `e` (capped at e^64: a row with a larger
 * z_j - shift is taken again by its max, which this call also finds), returns the sum of the e_j over j != y in
 * float64 (four lanes, lane = j mod 4), and records the row's largest logit (rowLargest) and its finiteness
 * (rowFinite) on the way, so no separate max pass is needed.
 */
// @ts-ignore: decorator
@inline function rowExpSumExcept(z: usize, shift: f32, classes: usize, y: usize, e: usize): f64 {
  let j: usize = 0;
  let s0: f64 = 0;
  let s1: f64 = 0;
  let s2: f64 = 0;
  let s3: f64 = 0;
  let m: f32 = -Infinity;
  let finite = true;
  if (ASC_FEATURE_SIMD) {
    const shiftV = f32x4.splat(shift);
    const yV = i32x4.splat(<i32>y);
    let idxV = i32x4(0, 1, 2, 3);
    let mV = f32x4.splat(-Infinity);
    let okV = i32x4.splat(-1);
    let nV = f32x4.splat(Infinity);
    let acc01 = f64x2.splat(0);
    let acc23 = f64x2.splat(0);
    // Pass 1, exp with the running max and min, two vectors per iteration (V8 does not unroll); pass 2 adds the
    // stored e_j to the float64 lanes. Split, the exp pass is a short loop the core overlaps well, ~11% faster than
    // one loop doing both (C = 80 and 1000). Finiteness without a test per vector (3% faster): an infinity shows in
    // the max or the min, a NaN logit makes its e_j and so the sum NaN (at j = y, through the shift, every other
    // e_j; a row short of one whole vector goes through the masked tail, which tests each lane).
    const whole = classes & ~3;
    for (; j + 8 <= whole; j += 8) {
      const x0 = v128.load(z + (j << 2));
      const x1 = v128.load(z + (j << 2), 16);
      mV = f32x4.pmax(f32x4.pmax(mV, x0), x1);
      nV = f32x4.pmin(f32x4.pmin(nV, x0), x1);
      v128.store(e + (j << 2), expCappedF32x4(f32x4.sub(x0, shiftV)));
      v128.store(e + (j << 2), expCappedF32x4(f32x4.sub(x1, shiftV)), 16);
    }
    for (; j < whole; j += 4) {
      const x = v128.load(z + (j << 2));
      mV = f32x4.pmax(mV, x);
      nV = f32x4.pmin(nV, x);
      v128.store(e + (j << 2), expCappedF32x4(f32x4.sub(x, shiftV)));
    }
    for (let k: usize = 0; k < whole; k += 4) {
      const rest = v128.andnot(v128.load(e + (k << 2)), i32x4.eq(idxV, yV));
      idxV = i32x4.add(idxV, i32x4.splat(4));
      acc01 = f64x2.add(acc01, f64x2.promote_low_f32x4(rest));
      acc23 = f64x2.add(acc23, f64x2.promote_low_f32x4(v128.shuffle<f32>(rest, rest, 2, 3, 0, 1)));
    }
    // The last classes % 4 as one masked vector (lanes past the row add +0; see ROW_SLACK).
    if (j < classes) {
      const x = v128.load(z + (j << 2));
      const inRow = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(classes - j)));
      okV = v128.and(okV, v128.or(finiteF32x4(x), v128.not(inRow)));
      mV = f32x4.pmax(mV, v128.bitselect(x, f32x4.splat(-Infinity), inRow));
      const ev = expCappedF32x4(f32x4.sub(x, shiftV));
      v128.store(e + (j << 2), ev);
      const rest = v128.and(v128.andnot(ev, i32x4.eq(idxV, yV)), inRow);
      acc01 = f64x2.add(acc01, f64x2.promote_low_f32x4(rest));
      acc23 = f64x2.add(acc23, f64x2.promote_low_f32x4(v128.shuffle<f32>(rest, rest, 2, 3, 0, 1)));
      j = classes;
    }
    finite = i32x4.all_true(okV) & (f32x4.extract_lane(nV, 0) > -Infinity) & (f32x4.extract_lane(nV, 1) > -Infinity) &
      (f32x4.extract_lane(nV, 2) > -Infinity) & (f32x4.extract_lane(nV, 3) > -Infinity);
    m = pmaxF32(pmaxF32(f32x4.extract_lane(mV, 0), f32x4.extract_lane(mV, 1)),
      pmaxF32(f32x4.extract_lane(mV, 2), f32x4.extract_lane(mV, 3)));
    s0 = f64x2.extract_lane(acc01, 0);
    s1 = f64x2.extract_lane(acc01, 1);
    s2 = f64x2.extract_lane(acc23, 0);
    s3 = f64x2.extract_lane(acc23, 1);
  }
  // The scalar twin: four lanes at a time, then the last classes % 4 (lanes 0, 1, 2 in order).
  for (; j + 4 <= classes; j += 4) {
    const at = z + (j << 2);
    const x0 = load<f32>(at);
    const x1 = load<f32>(at, 4);
    const x2 = load<f32>(at, 8);
    const x3 = load<f32>(at, 12);
    finite = finite & (abs<f32>(x0) < Infinity) & (abs<f32>(x1) < Infinity) & (abs<f32>(x2) < Infinity) &
      (abs<f32>(x3) < Infinity);
    m = pmaxF32(pmaxF32(pmaxF32(pmaxF32(m, x0), x1), x2), x3);
    const e0 = expCappedF32(x0 - shift);
    const e1 = expCappedF32(x1 - shift);
    const e2 = expCappedF32(x2 - shift);
    const e3 = expCappedF32(x3 - shift);
    const out = e + (j << 2);
    store<f32>(out, e0);
    store<f32>(out, e1, 4);
    store<f32>(out, e2, 8);
    store<f32>(out, e3, 12);
    s0 += <f64>select<f32>(0, e0, j == y);
    s1 += <f64>select<f32>(0, e1, j + 1 == y);
    s2 += <f64>select<f32>(0, e2, j + 2 == y);
    s3 += <f64>select<f32>(0, e3, j + 3 == y);
  }
  for (; j < classes; j++) {
    const x = load<f32>(z + (j << 2));
    finite = finite & (abs<f32>(x) < Infinity);
    m = pmaxF32(m, x);
    const ej = expCappedF32(x - shift);
    store<f32>(e + (j << 2), ej);
    const v = <f64>select<f32>(0, ej, j == y);
    const lane = j & 3;
    if (lane == 0) s0 += v;
    else if (lane == 1) s1 += v;
    else s2 += v;
  }
  const sum = (s0 + s1) + (s2 + s3);
  // m < inf: no +inf (a NaN never becomes the max); sum == sum: no NaN among the e_j, j != y.
  rowFinite = finite & (m < Infinity) & (sum == sum);
  rowLargest = m;
  return sum;
}

/**
 * log1p(r) for r >= 0 given invS = 1 / (1 + r) rounded: log(u) + (r - (u - 1)) / u with u = 1 + r, as
 * vmath's log1pF32, the correction multiplied by the reciprocal the row needs anyway instead of divided.
 */
// @ts-ignore: decorator
@inline function log1pRecipF32(r: f32, invS: f32): f32 {
  const u: f32 = 1.0 + r;
  return logF32(u) + (r - (u - 1.0)) * invS;
}

/** Adds one row's loss to the float64 lane of its global row index (lane = row mod 4, as reduce.ts). */
// @ts-ignore: decorator
@inline function addRowToLane(acc: usize, row: usize, value: f64): void {
  const at = acc + ((row & 3) << 3);
  store<f64>(at, load<f64>(at) + value);
}

// ---- hard targets -------------------------------------------------------------------------------------------
// The class-index kernel's per-row scratch for one block of rows (static data of this instance: wasm runs one call
// at a time): each row's kind and up to four floats passed from one phase to the next.
const ROW_BLOCK: usize = 32;
const ROW_KIND: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_A: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_B: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_C: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
const ROW_D: usize = memory.data(<i32>ROW_BLOCK * 4, 16);
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
  alpha: f32, gammaMode: i32, gamma: f32, gHi: f32, gLo: f32, gradScale: f32, acc: usize,
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
  const mod = powModeF32(u, gammaMode, gamma, gHi, gLo);
  const loss: f32 = (mod * ce) * scale;
  addRowToLane(acc, rowBase + i, <f64>loss);
  if (lossOut) store<f32>(lossOut + (i << 2), loss);
  if (gradOut) {
    let inner: f32 = 1.0;
    if (gammaMode != GAMMA_ZERO) {
      const rho = select<f32>(ce / u, 1.0, u > 0); // -log p_y / u -> 1 as u -> 0
      inner = 1.0 + (gamma * pY) * rho;
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
  alpha: f32, gammaMode: i32, gamma: f32, gHi: f32, gLo: f32, gradScale: f32, acc: usize,
): i32 {
  const one = f32x4.splat(1.0);
  let bad: i32 = 0;
  let scale = f32x4.splat(alpha < 0 ? 1.0 : alpha);
  if (weights) {
    const w = v128.load(weights + (i << 2));
    bad = <i32>!i32x4.all_true(finiteF32x4(w));
    scale = f32x4.mul(scale, w);
  }
  if (alphas) {
    const y = v128.load(targets + (i << 2));
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
  const mod = powModeF32x4(u, gammaMode, f32x4.splat(gamma), f32x4.splat(gHi), f32x4.splat(gLo));
  const loss = f32x4.mul(f32x4.mul(mod, ce), scale);
  addRowToLane(acc, rowBase + i, <f64>f32x4.extract_lane(loss, 0));
  addRowToLane(acc, rowBase + i + 1, <f64>f32x4.extract_lane(loss, 1));
  addRowToLane(acc, rowBase + i + 2, <f64>f32x4.extract_lane(loss, 2));
  addRowToLane(acc, rowBase + i + 3, <f64>f32x4.extract_lane(loss, 3));
  if (lossOut) v128.store(lossOut + (i << 2), loss);
  if (gradOut) {
    let inner = one;
    if (gammaMode != GAMMA_ZERO) {
      const rho = v128.bitselect(f32x4.div(ce, u), one, f32x4.gt(u, f32x4.splat(0)));
      inner = f32x4.add(one, f32x4.mul(f32x4.mul(f32x4.splat(gamma), invS), rho)); // p_y = invS
    }
    const k = f32x4.mul(f32x4.neg(f32x4.mul(f32x4.mul(mod, inner), scale)), f32x4.splat(gradScale));
    v128.store(at, invS, ROW_A);
    v128.store(at, k, ROW_B);
    v128.store(at, u, ROW_C);
  }
  return bad;
}

/**
 * Focal loss over `rows` rows of `classes` logits (row-major float32) with integer targets (int32). Row i of the
 * call is global row rowBase + i. Adds each weighted row loss to the float64 lanes at `acc`; writes it to
 * `lossOut` unless that is 0; writes the row's gradient times gradScale to `gradOut` unless 0 (`scratch`, one row
 * wide, holds exp(z - m) when there is no gradOut). `alphas` (float32 per class) or else `alpha` (< 0: none)
 * weighs class y; `weights` (per row) may be 0. Rows whose target is ignoreIndex give 0 and are not read.
 * Returns 1 when a logit is not finite, a target is outside [0, classes) and not ignoreIndex, or a weight is not
 * finite (the facade then finds which), else 0.
 */
export function softmaxFocal(
  logits: usize, targets: usize, weights: usize, alphas: usize, lossOut: usize, gradOut: usize, scratch: usize,
  rows: usize, classes: usize, rowBase: usize,
  alpha: f32, gammaMode: i32, gamma: f32, gradScale: f32, ignoreIndex: i32, acc: usize,
): i32 {
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  let bad: i32 = 0;
  // Rows go in blocks of ROW_BLOCK, in three phases per block: the rows' exp passes; the scalar math of each row
  // (log1p, pow, divisions: a long dependency chain per row); the gradient rows. With each phase a short loop over
  // independent rows, the core overlaps one row's scalar chain with the next row's instead of waiting on it
  // (kernel-only, fastest of 60 rounds: C = 10 forward 4.4 -> 4.0 ns/logit, C = 80 forward+gradient 1.65 -> 1.53).
  // Same operations per row, same order of the float64 lanes: the results do not change.
  for (let first: usize = 0; first < rows; first += ROW_BLOCK) {
    const count = min<usize>(ROW_BLOCK, rows - first);
    // Phase 1: each row's e_j and sums; the row kind and what phase 2 needs go to the block's scratch.
    for (let b: usize = 0; b < count; b++) {
      const i = first + b;
      const z = logits + ((i * classes) << 2);
      const y = load<i32>(targets + (i << 2));
      const at = b << 2;
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
            gradScale, acc,
          );
          b += 4;
          continue;
        }
      }
      bad |= rowMath(first + b, b << 2, targets, weights, alphas, lossOut, gradOut, rowBase, alpha, gammaMode, gamma, gHi, gLo, gradScale, acc);
      b++;
    }
    // Phase 3: the gradient rows, g_j = -k p_j with p_j = e_j invS formed first (-k invS alone can underflow:
    // alpha 1e-30, p_y 1e-14), and g_y = k (1 - p_y) with the accurate u.
    if (gradOut) {
      for (let b: usize = 0; b < count; b++) {
        const i = first + b;
        const at = b << 2;
        const g = gradOut + ((i * classes) << 2);
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
  return bad;
}

/** row[j] *= c for the `classes` floats at row. */
// @ts-ignore: decorator
@inline function scaleRow(row: usize, classes: usize, c: f32): void {
  let j: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const cV = f32x4.splat(c);
    // Rounded up to whole vectors: the lanes past the row land in the slack (see ROW_SLACK).
    for (; j < classes; j += 4) v128.store(row + (j << 2), f32x4.mul(v128.load(row + (j << 2)), cV));
  }
  for (; j < classes; j++) store<f32>(row + (j << 2), load<f32>(row + (j << 2)) * c);
}

/** row[j] = (row[j] * a) * b for the `classes` floats at row. */
// @ts-ignore: decorator
@inline function scaleRow2(row: usize, classes: usize, a: f32, b: f32): void {
  let j: usize = 0;
  if (ASC_FEATURE_SIMD) {
    const aV = f32x4.splat(a);
    const bV = f32x4.splat(b);
    for (; j + 4 <= classes; j += 4) {
      v128.store(row + (j << 2), f32x4.mul(f32x4.mul(v128.load(row + (j << 2)), aV), bV));
    }
    // The last classes % 4 as one vector whose lanes past the row are stored back unchanged: they are the next
    // row's e_j, which the kernel's phase 3 has not scaled yet (or the slack after the last row, ROW_SLACK).
    if (j < classes) {
      const v = v128.load(row + (j << 2));
      const inRow = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(classes - j)));
      v128.store(row + (j << 2), v128.bitselect(f32x4.mul(f32x4.mul(v, aV), bV), v, inRow));
      j = classes;
    }
  }
  for (; j < classes; j++) store<f32>(row + (j << 2), (load<f32>(row + (j << 2)) * a) * b);
}

// ---- soft targets (and label smoothing) ---------------------------------------------------------------------
/**
 * Focal loss with a target distribution per row: loss_i = -sum_c alpha_c t_c (1 - p_c)^gamma log p_c, and
 * d loss_i / d z_j = k_j - p_j sum_c k_c with k_c = -alpha_c t_c u_c^gamma (1 + gamma p_c rho_c) (each class as
 * in the hard case). The gradient is formed as k_j u_j - p_j (sum_{c != j} k_c), the sum taken in float64.
 * `targets` (float32, rows x classes) gives t, or when it is 0 the int32 class indices at `labels` do (one-hot;
 * ignoreIndex rows give 0, unread). Either is label-smoothed as Keras does, t' = t keep + lo with keep = 1 - eps
 * and lo = eps / C (keep = 1, lo = 0: none); the range check applies to t before smoothing.
 * `scratch` is one row wide. Other arguments and the status as softmaxFocal; a soft target outside [0, 1] is
 * flagged too.
 */
export function softmaxFocalSoft(
  logits: usize, targets: usize, labels: usize, weights: usize, alphas: usize, lossOut: usize, gradOut: usize,
  scratch: usize, rows: usize, classes: usize, rowBase: usize,
  alpha: f32, gammaMode: i32, gamma: f32, gradScale: f32, ignoreIndex: i32, keep: f32, lo: f32, acc: usize,
): i32 {
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
        const mod = powModeF32x4(u, gammaMode, gammaV, gHiV, gLoV);
        const l = f32x4.mul(f32x4.mul(mod, ce), a);
        lossLo = f64x2.add(lossLo, f64x2.promote_low_f32x4(l));
        lossHi = f64x2.add(lossHi, f64x2.promote_low_f32x4(v128.shuffle<f32>(l, l, 2, 3, 0, 1)));
        if (g) {
          let inner = one;
          if (gammaMode != GAMMA_ZERO) {
            const rho = v128.bitselect(f32x4.div(ce, u), one, f32x4.gt(u, zero));
            inner = f32x4.add(one, f32x4.mul(f32x4.mul(gammaV, p), rho));
          }
          const k = f32x4.neg(f32x4.mul(f32x4.mul(mod, inner), a));
          v128.store(g + (j << 2), k);
          kLo = f64x2.add(kLo, f64x2.promote_low_f32x4(k));
          kHi = f64x2.add(kHi, f64x2.promote_low_f32x4(v128.shuffle<f32>(k, k, 2, 3, 0, 1)));
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
      const mod = powModeF32(u, gammaMode, gamma, gHi, gLo);
      const l: f32 = (mod * ce) * a;
      const lane = j & 3;
      if (lane == 0) l0 += <f64>l;
      else if (lane == 1) l1 += <f64>l;
      else if (lane == 2) l2 += <f64>l;
      else l3 += <f64>l;
      if (g) {
        let inner: f32 = 1.0;
        if (gammaMode != GAMMA_ZERO) {
          const rho = select<f32>(ce / u, 1.0, u > 0);
          inner = 1.0 + (gamma * p) * rho;
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
    addRowToLane(acc, rowBase + i, <f64>loss);
    if (lossOut) store<f32>(lossOut + (i << 2), loss);
    if (g) softGradRow(z, scratch, g, classes, m, invS, top, (k0 + k1) + (k2 + k3), w * gradScale);
  }
  return bad;
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

// ---- primitives ---------------------------------------------------------------------------------------------
/**
 * softmax (logOutput = 0) or log-softmax (logOutput = 1) of `rows` rows of `classes` float32 at src into dst
 * (separate buffers). Returns 1 when a value is not finite, else 0.
 */
export function softmaxRows(src: usize, dst: usize, rows: usize, classes: usize, logOutput: i32): i32 {
  let bad: i32 = 0;
  for (let i: usize = 0; i < rows; i++) {
    const z = src + ((i * classes) << 2);
    const out = dst + ((i * classes) << 2);
    const m = rowMax(z, classes);
    bad |= <i32>!rowFinite;
    const rf = <f32>rowExpSum(z, m, classes, out);
    if (logOutput) {
      // log p_j = (z_j - m) - log1p(r): two non-positive terms, no cancellation.
      const logS = log1pF32(rf);
      let j: usize = 0;
      if (ASC_FEATURE_SIMD) {
        const mV = f32x4.splat(m);
        const logSV = f32x4.splat(logS);
        for (; j + 4 <= classes; j += 4) {
          v128.store(out + (j << 2), f32x4.sub(f32x4.sub(v128.load(z + (j << 2)), mV), logSV));
        }
      }
      for (; j < classes; j++) store<f32>(out + (j << 2), (load<f32>(z + (j << 2)) - m) - logS);
    } else {
      const invS: f32 = 1.0 / (1.0 + rf);
      scaleRow(out, classes, invS);
    }
  }
  return bad;
}
