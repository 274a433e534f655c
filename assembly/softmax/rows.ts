// The row passes every softmax kernel shares: the row max, exp(z - shift) with its float64 sum (with and without
// the target's class), the row scaling, and the float64 lane of a row's loss. Kernels: hard.ts (class indices),
// soft.ts (target distributions), primitives.ts (softmax / log-softmax rows).

import { addLanesHigh, addLanesLow } from '../math/reduce';
import {
  expCappedF32, expCappedF32x4, expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, logF32, pmaxF32,
  storeTransposedF32x4,
} from '../math/vmath';

// ---- shared row passes ------------------------------------------------------------------------------------
// ROW_SLACK: in the SIMD build the passes take the last classes % 4 of a row as one masked vector, so they read
// and write up to 3 floats past a row's end. Every row buffer the facade passes (logits, gradOut, scratch, dst)
// is laid out with at least 4 floats of slack after its last row (src/core/abi.ts ROW_SLACK).
// f32x4.pmax is "a < b ? b : a"; the scalar passes use vmath's pmaxF32, the same select, so both builds agree on
// -0 and NaN.

// Set by rowMax: false when the row holds a NaN or an infinity (the facade then finds which).
export let rowFinite: bool = true;
/** Largest of the `classes` logits at z; clears rowFinite when one is not finite. Exact in any order. */
// @ts-ignore: decorator
@inline export function rowMax(z: usize, classes: usize): f32 {
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
@inline export function rowExpSum(z: usize, m: f32, classes: usize, e: usize): f64 {
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
      acc01 = addLanesLow(acc01, rest);
      acc23 = addLanesHigh(acc23, rest);
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
      acc01 = addLanesLow(acc01, rest);
      acc23 = addLanesHigh(acc23, rest);
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

// Set by expCappedVectors: the lanewise max and min of the vectors it read.
export const EXP_PASS_MAX: usize = memory.data(16, 16);
export const EXP_PASS_MIN: usize = memory.data(16, 16);

/**
 * dst[j] = exp(min(src[j] - shift, 64)) for the `floats` (a multiple of 4) at src (dst may be src), keeping the
 * lanewise max and min of the src vectors (EXP_PASS_MAX, EXP_PASS_MIN: an infinity shows there). The class-index exp
 * pass, over a row's vectors (rowExpSumExcept) or four rows' columns (hard.ts). Eight vectors per iteration, loaded
 * first (kernel-only, against two: C = 80 and 1000 -15 to -17%, C = 10 -3 to -6%; four: half of that; sixteen spill
 * and run 40% slower), then two, then one.
 */
// @ts-ignore: decorator
@inline export function expCappedVectors(src: usize, dst: usize, floats: usize, shift: v128): void {
  let mV = f32x4.splat(-Infinity);
  let nV = f32x4.splat(Infinity);
  let j: usize = 0;
  for (; j + 32 <= floats; j += 32) {
    const x0 = v128.load(src + (j << 2));
    const x1 = v128.load(src + (j << 2), 16);
    const x2 = v128.load(src + (j << 2), 32);
    const x3 = v128.load(src + (j << 2), 48);
    const x4 = v128.load(src + (j << 2), 64);
    const x5 = v128.load(src + (j << 2), 80);
    const x6 = v128.load(src + (j << 2), 96);
    const x7 = v128.load(src + (j << 2), 112);
    mV = f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(mV, x0), x1), x2), x3);
    nV = f32x4.pmin(f32x4.pmin(f32x4.pmin(f32x4.pmin(nV, x0), x1), x2), x3);
    mV = f32x4.pmax(f32x4.pmax(f32x4.pmax(f32x4.pmax(mV, x4), x5), x6), x7);
    nV = f32x4.pmin(f32x4.pmin(f32x4.pmin(f32x4.pmin(nV, x4), x5), x6), x7);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x0, shift)));
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x1, shift)), 16);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x2, shift)), 32);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x3, shift)), 48);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x4, shift)), 64);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x5, shift)), 80);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x6, shift)), 96);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x7, shift)), 112);
  }
  for (; j + 8 <= floats; j += 8) {
    const x0 = v128.load(src + (j << 2));
    const x1 = v128.load(src + (j << 2), 16);
    mV = f32x4.pmax(f32x4.pmax(mV, x0), x1);
    nV = f32x4.pmin(f32x4.pmin(nV, x0), x1);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x0, shift)));
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x1, shift)), 16);
  }
  for (; j < floats; j += 4) {
    const x = v128.load(src + (j << 2));
    mV = f32x4.pmax(mV, x);
    nV = f32x4.pmin(nV, x);
    v128.store(dst + (j << 2), expCappedF32x4(f32x4.sub(x, shift)));
  }
  v128.store(EXP_PASS_MAX, mV);
  v128.store(EXP_PASS_MIN, nV);
}

// Set by rowExpSumExcept: the row's largest logit (NaN-free when rowFinite).
export let rowLargest: f32 = 0;

/**
 * The class-index kernel's row: writes e_j = exp(z_j - shift) to `e` (capped at e^64: a row with a larger
 * z_j - shift is taken again by its max, which this call also finds), returns the sum of the e_j over j != y in
 * float64 (four lanes, lane = j mod 4), and records the row's largest logit (rowLargest) and its finiteness
 * (rowFinite) on the way, so no separate max pass is needed.
 */
// @ts-ignore: decorator
@inline export function rowExpSumExcept(z: usize, shift: f32, classes: usize, y: usize, e: usize): f64 {
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
    // Pass 1, exp with the running max and min (expCappedVectors); pass 2 adds the stored e_j to the float64 lanes.
    // Split, the exp pass is a short loop the core overlaps well, ~11% faster than one loop doing both (C = 80 and
    // 1000; with the sum trailing the exp pass by 8 vectors in one loop, 7-9% slower too). Finiteness without a
    // test per vector (3% faster): an infinity shows in the max or the min, a NaN logit makes its e_j and so the sum
    // NaN (at j = y, through the shift, every other e_j; a row short of one whole vector goes through the masked
    // tail, which tests each lane).
    const whole = classes & ~3;
    expCappedVectors(z, e, whole, shiftV);
    mV = v128.load(EXP_PASS_MAX);
    nV = v128.load(EXP_PASS_MIN);
    j = whole;
    // e_y left out of the sum by a 0 in its place for the sum loop (the +0 the mask gave), then put back: no
    // compare and mask per vector. At y >= whole this touches the tail's (or the slack's) float, written below.
    const atY = e + (y << 2);
    const eY = load<f32>(atY);
    store<f32>(atY, 0);
    for (let k: usize = 0; k < whole; k += 4) {
      const rest = v128.load(e + (k << 2));
      acc01 = addLanesLow(acc01, rest);
      acc23 = addLanesHigh(acc23, rest);
    }
    store<f32>(atY, eY);
    idxV = i32x4.add(idxV, i32x4.splat(<i32>whole));
    // The last classes % 4 as one masked vector (lanes past the row add +0; see ROW_SLACK).
    if (j < classes) {
      const x = v128.load(z + (j << 2));
      const inRow = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(<i32>(classes - j)));
      okV = v128.and(okV, v128.or(finiteF32x4(x), v128.not(inRow)));
      mV = f32x4.pmax(mV, v128.bitselect(x, f32x4.splat(-Infinity), inRow));
      const ev = expCappedF32x4(f32x4.sub(x, shiftV));
      v128.store(e + (j << 2), ev);
      const rest = v128.and(v128.andnot(ev, i32x4.eq(idxV, yV)), inRow);
      acc01 = addLanesLow(acc01, rest);
      acc23 = addLanesHigh(acc23, rest);
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
@inline export function log1pRecipF32(r: f32, invS: f32): f32 {
  const u: f32 = 1.0 + r;
  return logF32(u) + (r - (u - 1.0)) * invS;
}

/** row[j] *= c for the `classes` floats at row. */
// @ts-ignore: decorator
@inline export function scaleRow(row: usize, classes: usize, c: f32): void {
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
@inline export function scaleRow2(row: usize, classes: usize, a: f32, b: f32): void {
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

// ---- four rows to a vector (lanes = rows) -------------------------------------------------------------------

/** Four gradient columns at c, (e invS) factor, stored transposed into four rows `stride` apart at dst. */
// @ts-ignore: decorator
@inline function gradTileF32x4(c: usize, invS: v128, factor: v128, dst: usize, stride: usize): void {
  storeTransposedF32x4(
    f32x4.mul(f32x4.mul(v128.load(c), invS), factor), f32x4.mul(f32x4.mul(v128.load(c, 16), invS), factor),
    f32x4.mul(f32x4.mul(v128.load(c, 32), invS), factor), f32x4.mul(f32x4.mul(v128.load(c, 48), invS), factor),
    dst, stride,
  );
}

/**
 * The gradient rows of a four-row group (the small-C paths of hard.ts and dfl/focal.ts): g_j = (e_j invS) factor for
 * every column j of the tiles at `cols` (column j of the four rows at cols + 16 j), stored transposed into the four
 * rows of `classes` floats at g. The last tile's stores run past each row: it goes first, so the rows' own tiles
 * overwrite what lands in rows 1-3, and the 4 floats after row 3 (the next row's, or the slack) are put back.
 */
// @ts-ignore: decorator
@inline export function storeGradRowsF32x4(cols: usize, invS: v128, factor: v128, g: usize, classes: usize): void {
  const stride = classes << 2;
  const whole = classes & ~3;
  const after = g + (stride << 2);
  const kept = v128.load(after);
  if (whole < classes) gradTileF32x4(cols + (whole << 4), invS, factor, g + (whole << 2), stride);
  for (let j: usize = 0; j < whole; j += 4) gradTileF32x4(cols + (j << 4), invS, factor, g + (j << 2), stride);
  v128.store(after, kept);
}


/**
 * r of a four-row group (the small-C paths of hard.ts and dfl/focal.ts), lanes = rows: the float64 sum of the
 * columns at `cols` (column j of the four rows at cols + 16 j) in the row passes' order, lane j mod 4 of each row in
 * j order, the last classes % 4 columns in lanes 0, 1, 2 (the row pass's masked tail adds +0 in the others), then
 * (s0 + s1) + (s2 + s3), demoted to float32. With `skipMax` (a constant: DFL's rowExpSum), a column's lanes whose
 * logit (the same column at `logits`) equals the row's max `maxV` are left out and the row's count of them, less
 * one, is added before the demotion: rowExpSum's r, the maxima's 1s other than one. Without it (hard.ts, whose
 * e_y is already 0 in its place), `logits` and `maxV` are not read.
 */
// @ts-ignore: decorator
@inline export function columnSumsF32x4(cols: usize, classes: usize, logits: usize, maxV: v128, skipMax: bool): v128 {
  // Eight float64 accumulators: lane l (class j mod 4) of rows 0, 1 (low) and of rows 2, 3 (high).
  let s0L = f64x2.splat(0);
  let s0H = f64x2.splat(0);
  let s1L = f64x2.splat(0);
  let s1H = f64x2.splat(0);
  let s2L = f64x2.splat(0);
  let s2H = f64x2.splat(0);
  let s3L = f64x2.splat(0);
  let s3H = f64x2.splat(0);
  let tiesV = i32x4.splat(0);
  let j: usize = 0;
  for (; j + 4 <= classes; j += 4) {
    const at = j << 4;
    let e0 = v128.load(cols + at);
    let e1 = v128.load(cols + at, 16);
    let e2 = v128.load(cols + at, 32);
    let e3 = v128.load(cols + at, 48);
    if (skipMax) {
      const t0 = f32x4.eq(v128.load(logits + at), maxV);
      const t1 = f32x4.eq(v128.load(logits + at, 16), maxV);
      const t2 = f32x4.eq(v128.load(logits + at, 32), maxV);
      const t3 = f32x4.eq(v128.load(logits + at, 48), maxV);
      tiesV = i32x4.sub(i32x4.sub(tiesV, i32x4.add(t0, t1)), i32x4.add(t2, t3)); // a true lane is -1
      e0 = v128.andnot(e0, t0);
      e1 = v128.andnot(e1, t1);
      e2 = v128.andnot(e2, t2);
      e3 = v128.andnot(e3, t3);
    }
    s0L = addLanesLow(s0L, e0);
    s0H = addLanesHigh(s0H, e0);
    s1L = addLanesLow(s1L, e1);
    s1H = addLanesHigh(s1H, e1);
    s2L = addLanesLow(s2L, e2);
    s2H = addLanesHigh(s2H, e2);
    s3L = addLanesLow(s3L, e3);
    s3H = addLanesHigh(s3H, e3);
  }
  if (j < classes) {
    const at = j << 4;
    let e0 = v128.load(cols + at);
    if (skipMax) {
      const t0 = f32x4.eq(v128.load(logits + at), maxV);
      tiesV = i32x4.sub(tiesV, t0);
      e0 = v128.andnot(e0, t0);
    }
    s0L = addLanesLow(s0L, e0);
    s0H = addLanesHigh(s0H, e0);
    if (j + 1 < classes) {
      let e1 = v128.load(cols + at, 16);
      if (skipMax) {
        const t1 = f32x4.eq(v128.load(logits + at, 16), maxV);
        tiesV = i32x4.sub(tiesV, t1);
        e1 = v128.andnot(e1, t1);
      }
      s1L = addLanesLow(s1L, e1);
      s1H = addLanesHigh(s1H, e1);
    }
    if (j + 2 < classes) {
      let e2 = v128.load(cols + at, 32);
      if (skipMax) {
        const t2 = f32x4.eq(v128.load(logits + at, 32), maxV);
        tiesV = i32x4.sub(tiesV, t2);
        e2 = v128.andnot(e2, t2);
      }
      s2L = addLanesLow(s2L, e2);
      s2H = addLanesHigh(s2H, e2);
    }
  }
  let sumL = f64x2.add(f64x2.add(s0L, s1L), f64x2.add(s2L, s3L));
  let sumH = f64x2.add(f64x2.add(s0H, s1H), f64x2.add(s2H, s3H));
  if (skipMax) {
    const extra = i32x4.sub(tiesV, i32x4.splat(1));
    sumL = f64x2.add(sumL, f64x2.convert_low_i32x4_s(extra));
    sumH = f64x2.add(sumH, f64x2.convert_low_i32x4_s(v128.shuffle<i32>(extra, extra, 2, 3, 0, 1)));
  }
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(sumL), f32x4.demote_f64x2_zero(sumH), 0, 1, 4, 5);
}
