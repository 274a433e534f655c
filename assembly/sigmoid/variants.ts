// The sigmoid family beyond torchvision's focal loss: FL*, Quality Focal Loss, Varifocal Loss, Poly-1 focal, the
// asymmetric loss (ASL), and the focal loss with masks, class weights, posWeight, reduced and normalized focal
// terms. A family file of its own beside focal.ts (which keeps the plain, tuned kernel). Each export is one loss;
// they share one loop body, `family`, specialized per loss at compile time (the variant is a constant, so Binaryen
// folds away the others).
// The loop reads logits and targets once and writes loss and gradient in the same pass; the asymmetric loss's SIMD
// part runs in blocks and passes instead (asymmetricBlocksF32x4), its scalar twin and tail stay in the loop.
// Pieces every variant uses, with p = sigmoid(x), t in [0, 1], from e = exp(-|x|) (no overflow, no 1 - p
// cancellation): ce = t softplus(-x) + (1-t) softplus(x) (= BCE(x, t)), q = t (1-p) + (1-t) p (= 1 - p_t),
// p - t formed as (1-t) - sigmoid(-x) for x > 0.
import {
  FLAG_DETACH_MODULATOR, FLAG_HAS_IGNORE, FLAG_IOU_WEIGHTED, FLAG_NORMALIZED, FLAG_NORMALIZED_DIAG, FLAG_REDUCED,
  GAMMA_ZERO, PARAM_ALPHA, PARAM_CLIP, PARAM_DF_COEF, PARAM_EPS, PARAM_EPSILON, PARAM_FLAGS, PARAM_GAMMA,
  PARAM_GAMMA_MODE, PARAM_GAMMA_NEG, PARAM_GRAD_SCALE, PARAM_IGNORE_VALUE, PARAM_INV_S, PARAM_SHIFT, PARAM_THRESHOLD,
  PARAM_THRESHOLD_SCALE, STATUS_INVALID, STREAM_ACC, STREAM_CLASS_WEIGHTS, STREAM_FOCAL_ACC, STREAM_GRAD, STREAM_INPUT,
  STREAM_GAMMAS, STREAM_LOSS, STREAM_MASK, STREAM_POS_WEIGHTS, STREAM_TARGETS, STREAM_WEIGHTS,
} from '../abi';
import {
  expNonPositiveF32, expNonPositiveF32x4, finiteF32x4, log1pUnitF32, log1pUnitF32x4, logF32, logF32x4, MIN_NORMAL,
  negAbsF32x4, powModeF32, powModeF32x4, powPerElementF32, powPerElementF32x4, splitHighF32,
} from '../math/vmath';
import { addLanesHigh, addLanesLow, addToLane } from '../math/reduce';

const FOCAL: i32 = 0;
const STAR: i32 = 1;
const QUALITY: i32 = 2;
const VARIFOCAL: i32 = 3;
const POLY: i32 = 4;
const ASYMMETRIC: i32 = 5;

// The asymmetric loss's SIMD part, in blocks of ASL_BLOCK elements and short passes per block, as focal.ts (its
// comment says why: one vector's work is one long dependency chain, a sigmoid, a log, a general pow and up to four
// divisions, ~800 instructions under V8, which filled the core's window with waiting instructions of one vector).
// The passes store their results in scratch rows at constant addresses (float32 stores: the same bits as keeping
// them in registers), so every element gets the same operations in the same order as the scalar twin in `family`.
const ASL_BLOCK: usize = 512;
const ASL_BLOCK_BYTES: i32 = <i32>ASL_BLOCK * 4;
const ASL_X: usize = memory.data(ASL_BLOCK_BYTES, 16); // the logit, 0 where not kept
const ASL_T: usize = memory.data(ASL_BLOCK_BYTES, 16); // the target, 0 where not kept
const ASL_KEEP: usize = memory.data(ASL_BLOCK_BYTES, 16); // all-ones lanes where kept
const ASL_EXP: usize = memory.data(ASL_BLOCK_BYTES, 16); // e = exp(-|x|)
const ASL_SIGMOID: usize = memory.data(ASL_BLOCK_BYTES, 16); // sigmoid(|x|) = 1 / (1 + e)
const ASL_SOFTPLUS: usize = memory.data(ASL_BLOCK_BYTES, 16); // softplus(-|x|) = log1p(e)
const ASL_U: usize = memory.data(ASL_BLOCK_BYTES, 16); // xs_neg's float32 rounding u (see below)
const ASL_Q: usize = memory.data(ASL_BLOCK_BYTES, 16); // q = 1 - p_t (shifted for the negatives)
const ASL_LOG_U: usize = memory.data(ASL_BLOCK_BYTES, 16); // log u
const ASL_W: usize = memory.data(ASL_BLOCK_BYTES, 16); // w = q^g

// Returns the number of kept elements among the first n & ~3, or -1 when one of them is invalid. Inlined into one
// copy per set of constant flags; the pointers are 0 for an absent stream.
// @ts-ignore: decorator
@inline function asymmetricBlocksF32x4(
  logits: usize, targets: usize, weights: usize, classWeights: usize, mask: usize, hasIgnore: bool,
  lossOut: usize, gradOut: usize, n: usize, acc: usize, twoGammas: bool, detach: bool, mode: i32,
  gamma: f32, gHi: f32, gLo: f32, gammaNeg: f32, clip: f32, eps: f32, negLogEps: f32, ignoreValue: f32, gradScale: f32,
): i32 {
  const one = f32x4.splat(1.0);
  const zero = f32x4.splat(0);
  const gammaV = f32x4.splat(gamma);
  const gHiV = f32x4.splat(gHi);
  const gLoV = f32x4.splat(gLo);
  const gammaNegV = f32x4.splat(gammaNeg);
  const clipV = f32x4.splat(clip);
  const epsV = f32x4.splat(eps);
  const negLogEpsV = f32x4.splat(negLogEps);
  const ignoreV = f32x4.splat(ignoreValue);
  const gradScaleV = f32x4.splat(gradScale);
  let acc01 = v128.load(acc);
  let acc23 = v128.load(acc, 16);
  let badV = i32x4.splat(0);
  let keptV = i32x4.splat(0);
  const vectorEnd = n & ~3;
  for (let start: usize = 0; start < vectorEnd; start += ASL_BLOCK) {
    const bytes = min<usize>(ASL_BLOCK, vectorEnd - start) << 2;
    const base = start << 2;
    // Pass 1: what is kept, the checks, e = exp(-|x|).
    for (let j: usize = 0; j < bytes; j += 16) {
      let x = v128.load(logits + base + j);
      let t = v128.load(targets + base + j);
      let keep = i32x4.splat(-1);
      if (mask) keep = f32x4.ne(v128.load(mask + base + j), zero);
      if (hasIgnore) keep = v128.andnot(keep, f32x4.eq(t, ignoreV));
      keptV = i32x4.sub(keptV, keep);
      // Ignored elements compute on (0, 0), which is finite, and are zeroed at the end.
      x = v128.and(x, keep);
      t = v128.and(t, keep);
      let valid = v128.and(finiteF32x4(x), v128.and(f32x4.ge(t, zero), f32x4.le(t, one)));
      if (weights) valid = v128.and(valid, v128.or(finiteF32x4(v128.load(weights + base + j)), v128.not(keep)));
      badV = v128.or(badV, v128.not(valid));
      v128.store(j, x, ASL_X);
      v128.store(j, t, ASL_T);
      v128.store(j, keep, ASL_KEEP);
      v128.store(j, expNonPositiveF32x4(negAbsF32x4(x)), ASL_EXP);
    }
    // Pass 2: sigmoid(|x|) and log1p(e).
    for (let j: usize = 0; j < bytes; j += 16) {
      const e = v128.load(j, ASL_EXP);
      v128.store(j, f32x4.div(one, f32x4.add(one, e)), ASL_SIGMOID);
      v128.store(j, log1pUnitF32x4(e), ASL_SOFTPLUS);
    }
    // Pass 3: u (xs_neg's rounding) and q.
    for (let j: usize = 0; j < bytes; j += 16) {
      const x = v128.load(j, ASL_X);
      const t = v128.load(j, ASL_T);
      const sHi = v128.load(j, ASL_SIGMOID);
      const sLo = f32x4.mul(v128.load(j, ASL_EXP), sHi);
      const pos = f32x4.gt(x, zero);
      const p = v128.bitselect(sHi, sLo, pos);
      const pc = v128.bitselect(sLo, sHi, pos);
      const dnRaw = f32x4.sub(p, clipV);
      const dn = v128.and(dnRaw, f32x4.gt(dnRaw, zero));
      v128.store(j, v128.bitselect(f32x4.add(pc, clipV), f32x4.sub(one, dn), pos), ASL_U);
      v128.store(j, f32x4.add(f32x4.mul(t, pc), f32x4.mul(f32x4.sub(one, t), dn)), ASL_Q);
    }
    // Pass 4: log u.
    for (let j: usize = 0; j < bytes; j += 16) v128.store(j, logF32x4(v128.load(j, ASL_U)), ASL_LOG_U);
    // Pass 5: w = q^g, g = t gammaPos + (1-t) gammaNeg per lane (two exponents) or gamma by its mode. q = 0 (every
    // negative below the clip) is raised as 1 and its result set to pow's 0^g (0, or 1 for g = 0): pow's own path
    // for 0 scales its polynomial down past 2^-149, an underflow that costs the core a microcode assist per lane.
    for (let j: usize = 0; j < bytes; j += 16) {
      const q = v128.load(j, ASL_Q);
      const qPos = f32x4.gt(q, zero);
      const qSafe = v128.bitselect(q, one, qPos);
      let g = gammaV;
      let w: v128;
      if (twoGammas) {
        const t = v128.load(j, ASL_T);
        g = f32x4.add(f32x4.mul(gammaV, t), f32x4.mul(gammaNegV, f32x4.sub(one, t)));
        w = powPerElementF32x4(qSafe, g);
      } else {
        w = powModeF32x4(qSafe, mode, gammaV, gHiV, gLoV);
      }
      v128.store(j, v128.bitselect(w, v128.and(one, f32x4.eq(g, zero)), qPos), ASL_W);
    }
    // Pass 6: the loss and its gradient (ASL: see the scalar twin in `family` for the formulas).
    for (let j: usize = 0; j < bytes; j += 16) {
      const x = v128.load(j, ASL_X);
      const t = v128.load(j, ASL_T);
      const keep = v128.load(j, ASL_KEEP);
      const e = v128.load(j, ASL_EXP);
      const sHi = v128.load(j, ASL_SIGMOID);
      const l = v128.load(j, ASL_SOFTPLUS);
      const u = v128.load(j, ASL_U);
      const w = v128.load(j, ASL_W);
      const sLo = f32x4.mul(e, sHi);
      const pos = f32x4.gt(x, zero);
      const p = v128.bitselect(sHi, sLo, pos);
      const pc = v128.bitselect(sLo, sHi, pos);
      const spNeg = v128.bitselect(l, f32x4.add(f32x4.abs(x), l), pos); // softplus(-x) = -log p
      const tc = f32x4.sub(one, t);
      const posKeep = f32x4.ge(p, epsV);
      const nlPos = v128.bitselect(spNeg, negLogEpsV, posKeep);
      const dnRaw = f32x4.sub(p, clipV);
      const shifted = f32x4.gt(dnRaw, zero); // xs_neg < 1: the clamp at 1 is not active
      const dn = v128.and(dnRaw, shifted);
      // c, the rest of xs_neg beyond u, as the scalar twin forms it.
      const uNeg = f32x4.sub(one, dn);
      const cNeg = f32x4.sub(f32x4.neg(dn), f32x4.sub(uNeg, one));
      const uPos = f32x4.add(pc, clipV);
      const bb = f32x4.sub(uPos, pc);
      const cPos = f32x4.add(f32x4.sub(pc, f32x4.sub(uPos, bb)), f32x4.sub(clipV, bb));
      const c = v128.bitselect(cPos, cNeg, pos);
      const negAboveEps = f32x4.ge(u, epsV);
      // One division by u for both the log's correction and the gradient's p (1-p) / u, except where u is
      // subnormal (clip 0 and an eps below 2^-126 let it count): 1 / u overflows there, and those lanes divide.
      const invU = f32x4.div(one, u);
      const tinyU = f32x4.lt(u, f32x4.splat(MIN_NORMAL));
      const anyTinyU = v128.any_true(tinyU);
      let cOverU = f32x4.mul(c, invU);
      if (anyTinyU) cOverU = v128.bitselect(f32x4.div(c, u), cOverU, tinyU);
      const logXsNeg = f32x4.add(v128.load(j, ASL_LOG_U), cOverU);
      const nlNeg = v128.and(v128.bitselect(f32x4.neg(logXsNeg), negLogEpsV, negAboveEps), shifted);
      const ce = f32x4.add(f32x4.mul(t, nlPos), f32x4.mul(tc, nlNeg));
      let loss = f32x4.mul(w, ce);
      let scale = one;
      if (weights) scale = v128.load(weights + base + j);
      if (classWeights) {
        const cw = v128.load(classWeights + base + j);
        scale = weights ? f32x4.mul(scale, cw) : cw;
      }
      if (weights || classWeights) loss = f32x4.mul(loss, scale);
      loss = v128.and(loss, keep);
      acc01 = addLanesLow(acc01, loss);
      acc23 = addLanesHigh(acc23, loss);
      if (lossOut) v128.store(lossOut + base + j, loss);
      if (gradOut) {
        const dlPos = v128.and(f32x4.neg(pc), posKeep);
        const ppc = f32x4.mul(p, pc);
        let ppcOverU = f32x4.mul(ppc, invU);
        if (anyTinyU) ppcOverU = v128.bitselect(f32x4.div(ppc, u), ppcOverU, tinyU);
        const dlNeg = v128.and(ppcOverU, v128.and(shifted, negAboveEps));
        const dce = f32x4.add(f32x4.mul(t, dlPos), f32x4.mul(tc, dlNeg));
        let grad: v128;
        if (detach || (mode == GAMMA_ZERO && !twoGammas)) {
          grad = f32x4.mul(w, dce);
        } else {
          const q = v128.load(j, ASL_Q);
          const g = twoGammas ? f32x4.add(f32x4.mul(gammaV, t), f32x4.mul(gammaNegV, tc)) : gammaV;
          const r = v128.bitselect(f32x4.div(f32x4.mul(p, pc), q), zero, f32x4.gt(q, zero));
          const rs = v128.bitselect(f32x4.mul(r, f32x4.sub(tc, t)), f32x4.neg(p), shifted);
          grad = f32x4.mul(w, f32x4.add(f32x4.mul(f32x4.mul(g, rs), ce), dce));
        }
        if (weights || classWeights) grad = f32x4.mul(grad, scale);
        v128.store(gradOut + base + j, f32x4.mul(v128.and(grad, keep), gradScaleV));
      }
    }
  }
  v128.store(acc, acc01);
  v128.store(acc, acc23, 16);
  if (v128.any_true(badV)) return -1;
  return i32x4.extract_lane(keptV, 0) + i32x4.extract_lane(keptV, 1) + i32x4.extract_lane(keptV, 2)
    + i32x4.extract_lane(keptV, 3);
}

/**
 * The shared loop. Per element: `keep` unless mask[i] == 0 or (FLAG_HAS_IGNORE and t == ignoreValue); an element not
 * kept gives 0 loss and 0 gradient, is not validated and not counted. scale = weights[i] * classWeights[i]
 * (either pointer 0 for none; the facade passes class weights tiled so that element i reads index i).
 * Adds each loss to the lanes at `acc` (and, for FOCAL, each focal term to `acc2` when acc2 != 0); writes the loss
 * to lossOut and gradient * gradScale to gradOut unless those are 0. Returns the number of kept elements, or -1
 * when a kept element has a non-finite logit or weight or a target outside [0, 1].
 * Parameters: alpha (< 0: none), gamma (the exponent, formed by `mode`: QFL passes its beta), and the variant's own:
 * FL*'s shift (its beta), Poly-1's epsilon, the reduced focal term's threshold and thresholdScale (threshold^-gamma),
 * the asymmetric loss's gammaNeg (gamma is its gammaPos), clip and eps (FLAG_DETACH_MODULATOR).
 * FOCAL: `gammas` (0: none) gives each element its own exponent (per-class gamma, tiled as classWeights; the facade
 * then passes mode GAMMA_GENERAL), and FLAG_DETACH_MODULATOR makes alpha_t q^gamma a constant of the gradient
 * (d/dx = alpha_t q^gamma dce; the normalized form's S with it). VARIFOCAL: FLAG_DETACH_MODULATOR makes the
 * negatives' alpha p^gamma a constant (d/dx = alpha p^gamma p); the positives' weight does not depend on x.
 */
// @ts-ignore: decorator
@inline function family(
  variant: i32,
  logits: usize, targets: usize, weights: usize, classWeights: usize, posWeights: usize, mask: usize,
  lossOut: usize, gradOut: usize, n: usize, gammas: usize,
  alpha: f32, gamma: f32, shift: f32, epsilon: f32, threshold: f32, thresholdScale: f32, mode: i32, flags: i32, ignoreValue: f32,
  gradScale: f32, invS: f32, dfCoef: f32, acc: usize, acc2: usize, gammaNeg: f32, clip: f32, eps: f32,
): i32 {
  const hasIgnore = (flags & FLAG_HAS_IGNORE) != 0;
  const iouWeighted = (flags & FLAG_IOU_WEIGHTED) != 0;
  const reduced = (flags & FLAG_REDUCED) != 0;
  const normalized = (flags & FLAG_NORMALIZED) != 0;
  const diag = (flags & FLAG_NORMALIZED_DIAG) != 0;
  const detach = (flags & FLAG_DETACH_MODULATOR) != 0;
  // Asymmetric loss: one exponent per target (t gammaPos + (1-t) gammaNeg, pow per element) unless both are equal;
  // -log eps once per call, by the scalar log (the same bits in both builds).
  const twoGammas = variant == ASYMMETRIC && gamma != gammaNeg;
  const negLogEps: f32 = variant == ASYMMETRIC ? -logF32(eps) : 0;
  const hasAlpha = alpha >= 0;
  const alphaNeg: f32 = 1.0 - alpha;
  const gHi = splitHighF32(gamma);
  const gLo = gamma - gHi;
  const gammaPlusOne: f32 = gamma + 1.0;
  const gammaF64 = <f64>gamma;
  const shiftF64 = <f64>shift;
  let i: usize = 0;
  let bad: i32 = 0;
  let kept: i32 = 0;

  if (ASC_FEATURE_SIMD && variant == ASYMMETRIC) {
    // The anchor's defaults (two exponents, detached modulator, a reduction, no mask or weights) get copies of the
    // passes with every flag a constant, as focal.ts's defaults do.
    let status: i32;
    if (!mask && !hasIgnore && !weights && !classWeights && !lossOut && detach && twoGammas) {
      status = gradOut
        ? asymmetricBlocksF32x4(logits, targets, 0, 0, 0, false, 0, gradOut, n, acc, true, true, mode, gamma, gHi, gLo, gammaNeg, clip, eps, negLogEps, ignoreValue, gradScale)
        : asymmetricBlocksF32x4(logits, targets, 0, 0, 0, false, 0, 0, n, acc, true, true, mode, gamma, gHi, gLo, gammaNeg, clip, eps, negLogEps, ignoreValue, gradScale);
    } else {
      status = asymmetricBlocksF32x4(
        logits, targets, weights, classWeights, mask, hasIgnore, lossOut, gradOut, n, acc, twoGammas, detach, mode,
        gamma, gHi, gLo, gammaNeg, clip, eps, negLogEps, ignoreValue, gradScale,
      );
    }
    bad = <i32>(status < 0);
    kept = max<i32>(status, 0);
    i = n & ~3;
  } else if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1.0);
    const zero = f32x4.splat(0);
    const alphaV = f32x4.splat(alpha);
    const alphaNegV = f32x4.splat(alphaNeg);
    const gammaV = f32x4.splat(gamma);
    const gHiV = f32x4.splat(gHi);
    const gLoV = f32x4.splat(gLo);
    const gammaPlusOneV = f32x4.splat(gammaPlusOne);
    const shiftV = f32x4.splat(shift);
    const epsilonV = f32x4.splat(epsilon);
    const thresholdV = f32x4.splat(threshold);
    const thresholdScaleV = f32x4.splat(thresholdScale);
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
        const zLo = f64x2.add(f64x2.mul(f64x2.mul(xLo, twoT1Lo), f64x2.splat(gammaF64)), f64x2.splat(shiftF64));
        const zHi = f64x2.add(f64x2.mul(f64x2.mul(xHi, twoT1Hi), f64x2.splat(gammaF64)), f64x2.splat(shiftF64));
        const z = v128.shuffle<f32>(f32x4.demote_f64x2_zero(zLo), f32x4.demote_f64x2_zero(zHi), 0, 1, 4, 5);
        const az = f32x4.abs(z);
        const e = expNonPositiveF32x4(negAbsF32x4(z));
        const l = log1pUnitF32x4(e);
        const hi = f32x4.div(one, f32x4.add(one, e));
        const lo = f32x4.mul(e, hi);
        const zPos = f32x4.gt(z, zero);
        const spNegZ = v128.bitselect(l, f32x4.add(az, l), zPos); // softplus(-z) = -log sigmoid(z)
        const sigNegZ = v128.bitselect(lo, hi, zPos); // sigmoid(-z)
        loss = f32x4.div(spNegZ, gammaV);
        grad = f32x4.neg(f32x4.mul(f32x4.sub(f32x4.add(t, t), one), sigNegZ));
        if (hasAlpha) {
          const alphaT = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, f32x4.sub(one, t)));
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
          let g = gammaV;
          let mod = zero;
          if (variant == FOCAL && gammas) {
            // Per-class gamma: each lane's own exponent (as the asymmetric loss's two gammas).
            g = v128.load(gammas + (i << 2));
            mod = powPerElementF32x4(q, g);
          } else {
            mod = powModeF32x4(q, mode, gammaV, gHiV, gLoV);
          }
          // d q^gamma / dx = q^gamma k, k = gamma r (1-2t), r = p (1-p) / q in [0, 1]: no q^(gamma-1).
          let k = zero;
          if (mode != GAMMA_ZERO && !(variant == FOCAL && detach)) {
            const r = v128.bitselect(f32x4.div(f32x4.mul(p, pc), q), zero, f32x4.gt(q, zero));
            k = f32x4.mul(f32x4.mul(g, r), oneMinus2t);
          }
          let term = mod;
          if (variant == FOCAL && reduced) {
            // smp: ((1 - p_t) / threshold)^gamma where p_t >= threshold, 1 (a constant) below it.
            const focal = f32x4.ge(f32x4.sub(one, q), thresholdV);
            term = v128.bitselect(f32x4.mul(mod, thresholdScaleV), one, focal);
            k = v128.and(k, focal);
          }
          loss = f32x4.mul(term, ce);
          grad = f32x4.mul(term, f32x4.add(f32x4.mul(k, ce), dce));
          if (hasAlpha) {
            const alphaT = f32x4.add(f32x4.mul(alphaV, t), f32x4.mul(alphaNegV, tc));
            loss = f32x4.mul(loss, alphaT);
            grad = f32x4.mul(grad, alphaT);
          }
          if (variant == FOCAL) {
            focalTerm = term;
            focalSlope = f32x4.mul(term, k);
          } else {
            // Poly-1: + epsilon q^(gamma+1), d/dx = epsilon (gamma+1) q^gamma (1-2t) p (1-p).
            loss = f32x4.add(loss, f32x4.mul(epsilonV, f32x4.mul(q, mod)));
            const dPoly = f32x4.mul(f32x4.mul(gammaPlusOneV, mod), f32x4.mul(oneMinus2t, f32x4.mul(p, pc)));
            grad = f32x4.add(grad, f32x4.mul(epsilonV, dPoly));
          }
        } else if (variant == QUALITY) {
          // |t - p|^beta BCE; d/dx = |d|^beta (beta p (1-p) / d BCE + d), d = p - t: no |d|^(beta-1).
          const ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
          const mod = powModeF32x4(f32x4.abs(pMinusT), mode, gammaV, gHiV, gLoV);
          loss = f32x4.mul(mod, ce);
          let inner = pMinusT;
          if (mode != GAMMA_ZERO) {
            const rs = v128.bitselect(f32x4.div(f32x4.mul(p, pc), pMinusT), zero, f32x4.ne(pMinusT, zero));
            inner = f32x4.add(f32x4.mul(f32x4.mul(gammaV, rs), ce), pMinusT);
          }
          grad = f32x4.mul(mod, inner);
        } else if (variant == VARIFOCAL) {
          // Positives (t > 0): w BCE(x, t), w = t (iouWeighted) or 1. Negatives: alpha p^gamma softplus(x), the
          // weight not detached (mmdet): d/dx = alpha p^gamma (gamma (1-p) softplus(x) + p); detached (RT-DETR's
          // weight.detach(), FLAG_DETACH_MODULATOR): alpha p^gamma p.
          const ce = f32x4.add(f32x4.mul(t, spNeg), f32x4.mul(tc, spPos));
          const positive = f32x4.gt(t, zero);
          const posW = iouWeighted ? t : one;
          const negW = f32x4.mul(alphaV, powModeF32x4(p, mode, gammaV, gHiV, gLoV));
          let negInner = p;
          if (mode != GAMMA_ZERO && !detach) negInner = f32x4.add(f32x4.mul(f32x4.mul(gammaV, pc), spPos), p);
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
      const z = <f32>(((<f64>x * twoT1) * gammaF64) + shiftF64);
      const az = abs<f32>(z);
      const e = expNonPositiveF32(-az);
      const l = log1pUnitF32(e);
      const hi: f32 = 1.0 / (1.0 + e);
      const lo = e * hi;
      const zPos = z > 0;
      const spNegZ = select<f32>(l, az + l, zPos);
      const sigNegZ = select<f32>(lo, hi, zPos);
      loss = spNegZ / gamma;
      grad = -(((t + t) - 1.0) * sigNegZ);
      if (hasAlpha) {
        const alphaT = alpha * t + alphaNeg * (1.0 - t);
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
        let g = gamma;
        let mod: f32 = 0;
        if (variant == FOCAL && gammas) {
          g = load<f32>(gammas + (i << 2));
          mod = powPerElementF32(q, g);
        } else {
          mod = powModeF32(q, mode, gamma, gHi, gLo);
        }
        let k: f32 = 0;
        if (mode != GAMMA_ZERO && !(variant == FOCAL && detach)) {
          const r = select<f32>((p * pc) / q, 0, q > 0);
          k = (g * r) * oneMinus2t;
        }
        let term = mod;
        if (variant == FOCAL && reduced) {
          // 1 - q in float32, as the vector twin (and smp, whose float32 p_t decides): a bare 1.0 would make it float64.
          const focal = (<f32>1.0 - q) >= threshold;
          term = select<f32>(mod * thresholdScale, 1.0, focal);
          k = select<f32>(k, 0, focal);
        }
        loss = term * ce;
        grad = term * (k * ce + dce);
        if (hasAlpha) {
          const alphaT = alpha * t + alphaNeg * tc;
          loss = loss * alphaT;
          grad = grad * alphaT;
        }
        if (variant == FOCAL) {
          focalTerm = term;
          focalSlope = term * k;
        } else {
          loss = loss + epsilon * (q * mod);
          const dPoly = (gammaPlusOne * mod) * (oneMinus2t * (p * pc));
          grad = grad + epsilon * dPoly;
        }
      } else if (variant == QUALITY) {
        const ce = t * spNeg + tc * spPos;
        const mod = powModeF32(abs<f32>(pMinusT), mode, gamma, gHi, gLo);
        loss = mod * ce;
        let inner = pMinusT;
        if (mode != GAMMA_ZERO) {
          const rs = select<f32>((p * pc) / pMinusT, 0, pMinusT != 0);
          inner = (gamma * rs) * ce + pMinusT;
        }
        grad = mod * inner;
      } else if (variant == VARIFOCAL) {
        const ce = t * spNeg + tc * spPos;
        const positive = t > 0;
        const posW: f32 = iouWeighted ? t : 1.0;
        const negW = alpha * powModeF32(p, mode, gamma, gHi, gLo);
        let negInner = p;
        if (mode != GAMMA_ZERO && !detach) negInner = (gamma * pc) * spPos + p;
        loss = select<f32>(posW, negW, positive) * ce;
        grad = select<f32>(posW * pMinusT, negW * negInner, positive);
      } else if (variant == ASYMMETRIC) {
        const posKeep = p >= eps;
        const nlPos = select<f32>(spNeg, negLogEps, posKeep);
        const dlPos = select<f32>(-pc, 0, posKeep);
        const dnRaw = p - clip;
        const shifted = dnRaw > 0;
        const dn = select<f32>(dnRaw, 0, shifted);
        const uNeg = <f32>1.0 - dn;
        const cNeg = -dn - (uNeg - <f32>1.0);
        const uPos = pc + clip;
        const bb = uPos - pc;
        const cPos = (pc - (uPos - bb)) + (clip - bb);
        const u = select<f32>(uPos, uNeg, pos);
        const c = select<f32>(cPos, cNeg, pos);
        const negAboveEps = u >= eps;
        const invU: f32 = 1.0 / u;
        const tinyU = u < MIN_NORMAL; // 1 / u overflows: divide (see the SIMD part)
        const logXsNeg = logF32(u) + (tinyU ? c / u : c * invU);
        const nlNeg = select<f32>(select<f32>(-logXsNeg, negLogEps, negAboveEps), 0, shifted);
        const dlNeg = select<f32>(tinyU ? (p * pc) / u : (p * pc) * invU, 0, shifted && negAboveEps);
        const ce = t * nlPos + tc * nlNeg;
        const dce = t * dlPos + tc * dlNeg;
        const q = t * pc + tc * dn;
        let w: f32 = 1.0;
        let g = gamma;
        if (twoGammas) {
          g = gamma * t + gammaNeg * tc;
          w = powPerElementF32(q, g);
        } else {
          w = powModeF32(q, mode, gamma, gHi, gLo);
        }
        loss = w * ce;
        if (detach || (mode == GAMMA_ZERO && !twoGammas)) {
          grad = w * dce;
        } else {
          const r = select<f32>((p * pc) / q, 0, q > 0);
          const rs = select<f32>(r * (tc - t), -p, shifted);
          const k = g * rs;
          grad = w * (k * ce + dce);
        }
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
  return bad ? STATUS_INVALID : kept;
}

/** The stream table and parameter block of the ABI (src/core/abi.ts) read once, then the variant's loop. */
// @ts-ignore: decorator
@inline function familyEntry(variant: i32, streams: usize, n: usize, params: usize): i32 {
  const focal = variant == FOCAL;
  return family(
    variant,
    load<usize>(streams, STREAM_INPUT), load<usize>(streams, STREAM_TARGETS), load<usize>(streams, STREAM_WEIGHTS),
    load<usize>(streams, STREAM_CLASS_WEIGHTS),
    focal || variant == POLY ? load<usize>(streams, STREAM_POS_WEIGHTS) : 0,
    load<usize>(streams, STREAM_MASK), load<usize>(streams, STREAM_LOSS), load<usize>(streams, STREAM_GRAD), n,
    focal ? load<usize>(streams, STREAM_GAMMAS) : 0,
    variant == QUALITY || variant == ASYMMETRIC ? -1 : load<f32>(params, PARAM_ALPHA),
    load<f32>(params, PARAM_GAMMA),
    variant == STAR ? load<f32>(params, PARAM_SHIFT) : 0,
    variant == POLY ? load<f32>(params, PARAM_EPSILON) : 0,
    focal ? load<f32>(params, PARAM_THRESHOLD) : 0,
    focal ? load<f32>(params, PARAM_THRESHOLD_SCALE) : 0,
    variant == STAR ? GAMMA_ZERO : load<i32>(params, PARAM_GAMMA_MODE),
    load<i32>(params, PARAM_FLAGS) & (focal ? -1 : variant == VARIFOCAL ? FLAG_HAS_IGNORE | FLAG_IOU_WEIGHTED | FLAG_DETACH_MODULATOR
      : variant == ASYMMETRIC ? FLAG_HAS_IGNORE | FLAG_DETACH_MODULATOR : FLAG_HAS_IGNORE),
    load<f32>(params, PARAM_IGNORE_VALUE), load<f32>(params, PARAM_GRAD_SCALE),
    focal ? load<f32>(params, PARAM_INV_S) : 1, focal ? load<f32>(params, PARAM_DF_COEF) : 0,
    load<usize>(streams, STREAM_ACC), focal ? load<usize>(streams, STREAM_FOCAL_ACC) : 0,
    variant == ASYMMETRIC ? load<f32>(params, PARAM_GAMMA_NEG) : 0,
    variant == ASYMMETRIC ? load<f32>(params, PARAM_CLIP) : 0,
    variant == ASYMMETRIC ? load<f32>(params, PARAM_EPS) : 0,
  );
}

// Each export: (streams, n, params) -> the number of kept elements, or STATUS_INVALID. Streams: input (logits),
// targets, and optionally weights, classWeights (tiled), mask, loss, grad; acc. Params: alpha, gamma, gammaMode,
// flags (FLAG_HAS_IGNORE with ignoreValue), gradScale, and each loss's own named below.

/**
 * Focal loss (torchvision form) with masks and weights. Also reads posWeights (tiled per class) and gammas (per-class
 * gamma, tiled per class; mode GAMMA_GENERAL); params threshold and thresholdScale (FLAG_REDUCED); FLAG_NORMALIZED
 * with invS and dfCoef, and focalAcc to sum the focal terms (the facade's first pass); FLAG_DETACH_MODULATOR.
 */
export function sigmoidFocalMasked(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(FOCAL, streams, n, params);
}

/**
 * FL* (Lin et al. 2017, appendix A; fvcore sigmoid_focal_loss_star): gamma > 0 and shift (the paper's beta).
 * loss = alpha_t softplus(-(gamma x (2t-1) + shift)) / gamma.
 */
export function sigmoidFocalStar(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(STAR, streams, n, params);
}

/** Quality Focal Loss (Li et al. 2020; mmdet quality_focal_loss): gamma is QFL's beta. loss = |t - p|^beta BCE(x, t). */
export function qualityFocal(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(QUALITY, streams, n, params);
}

/** Varifocal Loss (Zhang et al. 2021; mmdet varifocal_loss): alpha, gamma, FLAG_IOU_WEIGHTED, FLAG_DETACH_MODULATOR. */
export function varifocal(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(VARIFOCAL, streams, n, params);
}

/** Poly-1 focal loss (Leng et al. 2022): alpha (< 0: none), gamma, epsilon. */
export function polyFocal(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(POLY, streams, n, params);
}

/**
 * Asymmetric loss (Ridnik et al. 2021, ASL; Alibaba-MIIL src/loss_functions/losses.py AsymmetricLoss): gamma is
 * gammaPos, gammaNeg, clip (the probability shift of the negatives), eps (the clamp inside the logs),
 * FLAG_DETACH_MODULATOR (the anchor's disable_torch_grad_focal_loss). loss = q^g (t nlPos + (1-t) nlNeg), see family.
 */
export function asymmetricFocal(streams: usize, n: usize, params: usize): i32 {
  return familyEntry(ASYMMETRIC, streams, n, params);
}
