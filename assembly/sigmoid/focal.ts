// Binary / multi-label focal loss from logits (torchvision.ops.sigmoid_focal_loss semantics), fused: one sweep over
// the input, block by block, gives each element's loss (or its share of the sum) and its gradient.
// Per element, with p = sigmoid(x), t in [0, 1]:
//   ce = t softplus(-x) + (1-t) softplus(x)          (= -(t log p + (1-t) log(1-p)))
//   q  = t sigmoid(-x) + (1-t) sigmoid(x)             (= 1 - p_t, a sum of positives: no 1 - p cancellation)
//   loss = alpha_t q^gamma ce,   alpha_t = alpha t + (1-alpha)(1-t)
//   dloss/dx = alpha_t q^gamma (gamma r (1-2t) ce + (p - t)),   r = p (1-p) / q in [0, 1]
// The gradient uses q^gamma r instead of gamma q^(gamma-1) dq: no q^(gamma-1) appears, so gamma in (0, 1) stays
// finite as p_t -> 1 (for t = 1: dL/dz = -alpha_t q^gamma (gamma (1-q) CE + q)).
import {
  GAMMA_TWO, GAMMA_ZERO, PARAM_ALPHA, PARAM_GAMMA, PARAM_GAMMA_MODE, PARAM_GRAD_SCALE, STATUS_INVALID, STREAM_ACC,
  STREAM_GRAD, STREAM_INPUT, STREAM_LOSS, STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, log1pUnitF32, log1pUnitF32x4, negAbsF32x4, pmaxF32,
  powModeF32, powModeF32x4, splitHighF32,
} from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';

// The SIMD loop runs in blocks of BLOCK elements, in three passes per block: e = exp(-|x|); then sigmoid(|x|) and
// log1p(e); then everything else. Why: V8 emits each vector's ~150 instructions in source order and one vector's
// work is a single long dependency chain (exp, then a division, then the log1p polynomial, ...), so the core's
// out-of-order window fills with waiting instructions of one or two vectors and the units idle. Short passes over
// many independent vectors keep them busy: 4.3 -> 2.9 ns/element for forward+gradient (README, Performance).
// The scratch rows are static data of this instance (one per engine or worker: wasm runs one call at a time), at
// constant addresses that go into the loads' offset field, so V8 needs no address arithmetic for them.
const BLOCK: usize = 512;
const BLOCK_BYTES: i32 = <i32>BLOCK * 4;
const SCRATCH_EXP: usize = memory.data(BLOCK_BYTES, 16); // e = exp(-|x|)
const SCRATCH_SIGMOID: usize = memory.data(BLOCK_BYTES, 16); // sigmoid(|x|) = 1 / (1 + e)
const SCRATCH_SOFTPLUS: usize = memory.data(BLOCK_BYTES, 16); // softplus(-|x|) = log1p(e)
// The smallest positive float32: max(q, it) is q for every q > 0 and turns q = 0 (where p (1 - p) = 0 too) into a
// harmless divisor, one instruction instead of a compare and a select.
const MIN_SUBNORMAL: f32 = 1.4e-45;

// One vector of four elements at byte offset `at` (`j` within the block's scratch rows): loss, gradient stores;
// returns the weighted losses for the reduction. The flags are constants in the specialized copies of the loop.
// @ts-ignore: decorator
@inline function focalStepF32x4(
  at: usize, j: usize, logits: usize, targets: usize, weights: usize, lossOut: usize, gradOut: usize,
  hasAlpha: bool, hasWeights: bool, withLoss: bool, withGrad: bool,
  alphaV: v128, alphaNegV: v128, gammaMode: i32, gammaV: v128, gHiV: v128, gLoV: v128, gradScaleV: v128,
): v128 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const x = v128.load(logits + at);
  const t = v128.load(targets + at);
  const ax = v128.and(x, i32x4.splat(0x7fffffff));
  const e = v128.load(j, SCRATCH_EXP);
  const sHi = v128.load(j, SCRATCH_SIGMOID); // sigmoid(|x|)
  const sLo = f32x4.mul(e, sHi); // sigmoid(-|x|)
  const l = v128.load(j, SCRATCH_SOFTPLUS); // softplus(-|x|)
  const pos = f32x4.gt(x, zero);
  const p = v128.bitselect(sHi, sLo, pos);
  const pc = v128.bitselect(sLo, sHi, pos);
  // ce = t softplus(-x) + (1-t) softplus(x) with softplus(+-x) = relu(+-x) + l: positive terms, no selects.
  const reluX = f32x4.pmax(x, zero);
  const tc = f32x4.sub(one, t);
  const ce = f32x4.add(f32x4.add(f32x4.mul(t, f32x4.sub(ax, reluX)), f32x4.mul(tc, reluX)), l);
  const q = f32x4.add(f32x4.mul(t, pc), f32x4.mul(tc, p));
  const mod = powModeF32x4(q, gammaMode, gammaV, gHiV, gLoV);
  let loss = f32x4.mul(mod, ce);
  let scale = one;
  if (hasAlpha) scale = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, tc));
  if (hasWeights) {
    const w = v128.load(weights + at);
    scale = hasAlpha ? f32x4.mul(scale, w) : w;
  }
  if (hasAlpha || hasWeights) loss = f32x4.mul(loss, scale);
  // A target outside [0, 1] makes t (1 - t) < 0 (a NaN target makes the loss NaN by itself): such lanes become NaN,
  // which the float64 lanes carry to the end of the call, where the kernel reports them (valid input never gives
  // NaN, and losses are >= 0, so no inf - inf). Three instructions instead of a separate check.
  loss = v128.or(loss, f32x4.lt(f32x4.mul(t, tc), zero));
  if (withLoss) v128.store(lossOut + at, loss);
  if (withGrad) {
    // p - t = (1-t) p - t (1-p): exact for hard targets, and for soft ones no worse than its terms.
    const pMinusT = f32x4.sub(f32x4.mul(tc, p), f32x4.mul(t, pc));
    let inner = pMinusT;
    if (gammaMode != GAMMA_ZERO) {
      const r = f32x4.div(f32x4.mul(p, pc), f32x4.pmax(q, f32x4.splat(MIN_SUBNORMAL)));
      const oneMinus2t = f32x4.sub(one, f32x4.add(t, t));
      inner = f32x4.add(f32x4.mul(f32x4.mul(f32x4.mul(gammaV, r), oneMinus2t), ce), pMinusT);
    }
    v128.store(gradOut + at, f32x4.mul(f32x4.mul(f32x4.mul(mod, inner), scale), gradScaleV));
  }
  return loss;
}

// The SIMD part: every whole vector of the n elements (the first n & ~3), block by block. Returns 1 when an input
// is invalid: a logit not finite (-|x| = -inf, or NaN, in pass 1), a target outside [0, 1] (a NaN sum), a weight
// not finite. Inlined into one copy per set of constant flags, so the defaults' copy has no branch in its loop.
// @ts-ignore: decorator
@inline function focalBlocksF32x4(
  logits: usize, targets: usize, weights: usize, lossOut: usize, gradOut: usize, n: usize,
  hasAlpha: bool, hasWeights: bool, withLoss: bool, withGrad: bool,
  alpha: f32, alphaNeg: f32, gammaMode: i32, gamma: f32, gHi: f32, gLo: f32, gradScale: f32, acc: usize,
): i32 {
  const alphaV = f32x4.splat(alpha);
  const alphaNegV = f32x4.splat(alphaNeg);
  const gammaV = f32x4.splat(gamma);
  const gHiV = f32x4.splat(gHi);
  const gLoV = f32x4.splat(gLo);
  const gradScaleV = f32x4.splat(gradScale);
  const one = f32x4.splat(1.0);
  let acc01 = v128.load(acc);
  let acc23 = v128.load(acc, 16);
  const minusInf = f32x4.splat(-Infinity);
  let validV = i32x4.splat(-1);
  const vectorEnd = n & ~3;
  for (let start: usize = 0; start < vectorEnd; start += BLOCK) {
    const bytes = min<usize>(BLOCK, vectorEnd - start) << 2;
    const blockLogits = logits + (start << 2);
    // Passes 1 and 2, two vectors per iteration (V8 does not unroll); with an odd number of vectors, the second of
    // the last pair is the first again (j1 = j), so no pass reads past the block.
    for (let j: usize = 0; j < bytes; j += 32) {
      const j1 = min<usize>(j + 16, bytes - 16);
      const nax0 = negAbsF32x4(v128.load(blockLogits + j));
      const nax1 = negAbsF32x4(v128.load(blockLogits + j1));
      validV = v128.and(validV, v128.and(f32x4.gt(nax0, minusInf), f32x4.gt(nax1, minusInf)));
      v128.store(j, expNonPositiveF32x4(nax0), SCRATCH_EXP);
      v128.store(j1, expNonPositiveF32x4(nax1), SCRATCH_EXP);
    }
    for (let j: usize = 0; j < bytes; j += 32) {
      const j1 = min<usize>(j + 16, bytes - 16);
      const e0 = v128.load(j, SCRATCH_EXP);
      const e1 = v128.load(j1, SCRATCH_EXP);
      v128.store(j, f32x4.div(one, f32x4.add(one, e0)), SCRATCH_SIGMOID);
      v128.store(j1, f32x4.div(one, f32x4.add(one, e1)), SCRATCH_SIGMOID);
      v128.store(j, log1pUnitF32x4(e0), SCRATCH_SOFTPLUS);
      v128.store(j1, log1pUnitF32x4(e1), SCRATCH_SOFTPLUS);
    }
    // Pass 3, four vectors per iteration; the lanes still receive their elements in index order.
    let j: usize = 0;
    for (; j + 64 <= bytes; j += 64) {
      const at = (start << 2) + j;
      const l0 = focalStepF32x4(at, j, logits, targets, weights, lossOut, gradOut, hasAlpha, hasWeights, withLoss, withGrad, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l1 = focalStepF32x4(at + 16, j + 16, logits, targets, weights, lossOut, gradOut, hasAlpha, hasWeights, withLoss, withGrad, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l2 = focalStepF32x4(at + 32, j + 32, logits, targets, weights, lossOut, gradOut, hasAlpha, hasWeights, withLoss, withGrad, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      const l3 = focalStepF32x4(at + 48, j + 48, logits, targets, weights, lossOut, gradOut, hasAlpha, hasWeights, withLoss, withGrad, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      if (hasWeights) {
        validV = v128.and(validV, v128.and(
          v128.and(finiteF32x4(v128.load(weights + at)), finiteF32x4(v128.load(weights + at, 16))),
          v128.and(finiteF32x4(v128.load(weights + at, 32)), finiteF32x4(v128.load(weights + at, 48))),
        ));
      }
      acc01 = addLanesLow(addLanesLow(addLanesLow(addLanesLow(acc01, l0), l1), l2), l3);
      acc23 = addLanesHigh(addLanesHigh(addLanesHigh(addLanesHigh(acc23, l0), l1), l2), l3);
    }
    for (; j < bytes; j += 16) {
      const at = (start << 2) + j;
      const l0 = focalStepF32x4(at, j, logits, targets, weights, lossOut, gradOut, hasAlpha, hasWeights, withLoss, withGrad, alphaV, alphaNegV, gammaMode, gammaV, gHiV, gLoV, gradScaleV);
      if (hasWeights) validV = v128.and(validV, finiteF32x4(v128.load(weights + at)));
      acc01 = addLanesLow(acc01, l0);
      acc23 = addLanesHigh(acc23, l0);
    }
  }
  v128.store(acc, acc01);
  v128.store(acc, acc23, 16);
  const nanSum = v128.or(f64x2.ne(acc01, acc01), f64x2.ne(acc23, acc23));
  return <i32>(!i32x4.all_true(validV) || v128.any_true(nanSum));
}

/**
 * Focal loss over n elements (the ABI of src/core/abi.ts). Streams: input (logits) and targets (float32), weights
 * (0: none), loss and grad (0: not written), acc (four float64 lanes). Params: alpha (< 0: no alpha weighting),
 * gamma and gammaMode, gradScale. Adds weight * loss into the lanes; writes each weighted loss to loss, and each
 * gradient times weight * gradScale to grad. Returns n, or STATUS_INVALID when a logit is not finite, a target is
 * outside [0, 1] or a weight is not finite (the facade then finds which).
 */
export function sigmoidFocal(streams: usize, n: usize, params: usize): i32 {
  const logits = load<usize>(streams, STREAM_INPUT);
  const targets = load<usize>(streams, STREAM_TARGETS);
  const weights = load<usize>(streams, STREAM_WEIGHTS);
  const lossOut = load<usize>(streams, STREAM_LOSS);
  const gradOut = load<usize>(streams, STREAM_GRAD);
  const acc = load<usize>(streams, STREAM_ACC);
  const alpha = load<f32>(params, PARAM_ALPHA);
  const gammaMode = load<i32>(params, PARAM_GAMMA_MODE);
  const gamma = load<f32>(params, PARAM_GAMMA);
  const gradScale = load<f32>(params, PARAM_GRAD_SCALE);
  const hasAlpha = alpha >= 0;
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  let i: usize = 0;
  let bad: i32 = 0;

  if (ASC_FEATURE_SIMD) {
    // The paper's defaults (gamma 2, alpha given, no weights, a reduction) get copies of the loop with every flag a
    // constant: ~11% faster than the general copy, whose loop tests the flags per vector.
    if (gammaMode == GAMMA_TWO && hasAlpha && !weights && !lossOut) {
      bad = gradOut
        ? focalBlocksF32x4(logits, targets, 0, 0, gradOut, n, true, false, false, true, alpha, alphaNeg, GAMMA_TWO, gamma, gHi, gLo, gradScale, acc)
        : focalBlocksF32x4(logits, targets, 0, 0, 0, n, true, false, false, false, alpha, alphaNeg, GAMMA_TWO, gamma, gHi, gLo, gradScale, acc);
    } else {
      bad = focalBlocksF32x4(
        logits, targets, weights, lossOut, gradOut, n, hasAlpha, weights != 0, lossOut != 0, gradOut != 0,
        alpha, alphaNeg, gammaMode, gamma, gHi, gLo, gradScale, acc,
      );
    }
    i = n & ~3;
  }

  for (; i < n; i++) {
    const x = load<f32>(logits + (i << 2));
    const t = load<f32>(targets + (i << 2));
    const valid = (abs<f32>(x) < Infinity) & (t >= 0) & (t <= 1);
    bad |= <i32>!valid;

    const ax = abs<f32>(x);
    const e = expNonPositiveF32(-ax);
    const u: f32 = 1.0 + e;
    const sHi: f32 = 1.0 / u;
    const sLo = e * sHi;
    const l = log1pUnitF32(e);
    const pos = x > 0;
    const p = select<f32>(sHi, sLo, pos);
    const pc = select<f32>(sLo, sHi, pos);
    const reluX = pmaxF32(x, 0);
    const tc: f32 = 1.0 - t;
    const ce = (t * (ax - reluX) + tc * reluX) + l;
    const q = t * pc + tc * p;
    const mod = powModeF32(q, gammaMode, gamma, gHi, gLo);
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
      const pMinusT = tc * p - t * pc;
      let inner = pMinusT;
      if (gammaMode != GAMMA_ZERO) {
        // The vector form's value (q = 0 gives p (1 - p) = 0 there too); written as a select because the scalar
        // build with max(q, MIN_SUBNORMAL) here ran ~1.5x slower (binaryen's code shape, measured, not understood).
        const r = select<f32>((p * pc) / q, 0, q > 0);
        const oneMinus2t: f32 = 1.0 - (t + t);
        inner = ((gamma * r) * oneMinus2t) * ce + pMinusT;
      }
      store<f32>(gradOut + (i << 2), ((mod * inner) * scale) * gradScale);
    }
  }
  return bad ? STATUS_INVALID : <i32>n;
}
