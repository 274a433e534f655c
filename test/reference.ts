// The float64 reference, written straight from the formulas (Lin et al. 2017, "Focal Loss for Dense Object
// Detection", eqs. 1-5; torchvision.ops.sigmoid_focal_loss for the per-element form). Every kernel is tested
// against these. Only the evaluation order is chosen for float64 stability (log1p/expm1 forms), never the math.

/** log(1 + e^x), without overflow: max(x, 0) + log1p(e^-|x|). */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** 1 / (1 + e^-x), from whichever side does not overflow. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export interface SigmoidFocalRefOptions {
  alpha: number | null;
  gamma: number;
}

/**
 * One element of the sigmoid focal loss and d loss / d x, in float64.
 *   p = sigmoid(x); ce = -(t log p + (1-t) log(1-p)); p_t = p t + (1-p)(1-t)
 *   loss = alpha_t (1 - p_t)^gamma ce,  alpha_t = alpha t + (1-alpha)(1-t)   (alpha null or < 0: alpha_t = 1)
 * The derivative by the product rule: d/dx (1-p_t)^gamma = gamma (1-p_t)^(gamma-1) (1-2t) p (1-p),
 * d ce/dx = p - t. (1 - p_t)^(gamma-1) p (1-p) is evaluated as (1-p_t)^gamma * [p (1-p) / (1-p_t)], the same
 * value, because for gamma < 1 the literal form is 0 * inf where 1 - p_t underflows even in float64.
 */
export function sigmoidFocalRef(x: number, t: number, { alpha, gamma }: SigmoidFocalRefOptions): { loss: number; grad: number } {
  const p = sigmoid(x);
  const pc = sigmoid(-x); // 1 - p without cancellation
  const ce = t * softplus(-x) + (1 - t) * softplus(x); // -log p = softplus(-x), -log(1-p) = softplus(x)
  const q = t * pc + (1 - t) * p; // 1 - p_t
  const alphaT = alpha === null || alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
  const mod = gamma === 0 ? 1 : Math.pow(q, gamma);
  const loss = alphaT * mod * ce;
  const ratio = q > 0 ? (p * pc) / q : 0; // p (1-p) / (1-p_t), in [0, 1]
  const dMod = gamma === 0 ? 0 : gamma * mod * ratio * (1 - 2 * t);
  const pMinusT = (1 - t) * p - t * pc; // = p - t, without the 1 - p cancellation of the literal form
  const grad = alphaT * (dMod * ce + mod * pMinusT);
  return { loss, grad };
}

/** The reduced loss over arrays, in float64, with the engine's semantics for weights and normalizer. */
export function sigmoidFocalReduced(
  x: ArrayLike<number>, t: ArrayLike<number>,
  options: SigmoidFocalRefOptions & { reduction: 'none' | 'mean' | 'sum'; weights?: ArrayLike<number>; normalizer?: number },
): { loss: number | Float64Array; grad: Float64Array } {
  const n = x.length;
  const losses = new Float64Array(n);
  const grad = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = options.weights ? options.weights[i]! : 1;
    const r = sigmoidFocalRef(x[i]!, t[i]!, options);
    losses[i] = w * r.loss;
    grad[i] = w * r.grad;
    sum += losses[i]!;
  }
  if (options.reduction === 'none') return { loss: losses, grad };
  const divisor = options.reduction === 'sum' ? 1 : options.normalizer ?? n;
  if (divisor !== 1) for (let i = 0; i < n; i++) grad[i]! /= divisor;
  return { loss: n === 0 && options.reduction === 'mean' ? 0 : sum / divisor, grad };
}

/** Central finite difference of f at x in float64, for checking the analytic gradients above. */
export function centralDifference(f: (x: number) => number, x: number): number {
  const h = 1e-6 * Math.max(1, Math.abs(x));
  return (f(x + h) - f(x - h)) / (2 * h);
}

/**
 * Relative error with the absolute floor of the tests: |got - want| / max(|want|, floor). Values whose
 * reference is below the floor (float32 subnormals) are judged absolutely.
 */
export function relativeError(got: number, want: number, floor = 1e-37): number {
  if (got === want) return 0;
  return Math.abs(got - want) / Math.max(Math.abs(want), floor);
}

/** Worst relative error over two arrays, and where it is. */
export function worstRelativeError(
  got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-37,
): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < want.length; i++) {
    const e = relativeError(got[i]!, want[i]!, floor);
    if (!(e <= error)) {
      error = e;
      index = i;
    }
  }
  return { error, index };
}

/**
 * The size of the terms that make up the sigmoid focal gradient, for judging soft targets: near p = t the
 * gradient is a difference of terms of this size, so float32 inputs can only give it to ~1e-7 of this, not of
 * its (vanishing) value. For x > 0 the engine forms p - t as (1-t) - sigmoid(-x), otherwise sigmoid(x) - t.
 */
export function sigmoidFocalGradMagnitude(x: number, t: number, { alpha, gamma }: SigmoidFocalRefOptions): number {
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const ce = t * softplus(-x) + (1 - t) * softplus(x);
  const q = t * pc + (1 - t) * p;
  const alphaT = alpha === null || alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
  const mod = gamma === 0 ? 1 : Math.pow(q, gamma);
  const ratio = q > 0 ? (p * pc) / q : 0;
  const sides = x > 0 ? 1 - t + pc : t + p;
  return alphaT * mod * (gamma * ratio * Math.abs(1 - 2 * t) * ce + sides);
}

// ---- softmax focal loss, binary focal loss from probabilities, the primitives (issue 4) ------------------------
// Multi-class: Lin et al. eq. 5 on the softmax probability of the target class, as mmcv softmax_focal_loss and
// Keras CategoricalFocalCrossentropy (whose label_smoothing is t (1 - eps) + eps / C). Binary from probabilities:
// Keras BinaryFocalCrossentropy (from_logits = false), p clipped to float32-rounded [eps, 1 - eps] in the logs.

/**
 * log softmax of one row in float64: (z_j - m) - log(sum_k e^(z_k - m)), m = max z. The sum is taken as
 * 1 + r with r the sum over all but the first maximum and log1p(r), so log p stays exact as p -> 1.
 */
export function logSoftmaxRef(z: ArrayLike<number>): Float64Array {
  let top = 0;
  for (let j = 1; j < z.length; j++) if (z[j]! > z[top]!) top = j;
  const m = z[top]!;
  let r = 0;
  for (let j = 0; j < z.length; j++) if (j !== top) r += Math.exp(z[j]! - m);
  const logSum = Math.log1p(r);
  return Float64Array.from({ length: z.length }, (_, j) => z[j]! - m - logSum);
}

export function softmaxRef(z: ArrayLike<number>): Float64Array {
  return logSoftmaxRef(z).map(Math.exp);
}

export interface SoftmaxFocalRefOptions {
  /** null: 1; a number (negative: 1) scales every class; an array weighs class c by alpha[c]. */
  alpha: number | ArrayLike<number> | null;
  /** A number, or one per class: class c's term uses gamma[c] (class indices: the row's gamma[y]). */
  gamma: number | ArrayLike<number>;
  /** The modulating factor a constant of the gradient (stop-gradient): the coefficient is -a t u^gamma. */
  detachModulator?: boolean;
}

function classGamma(gamma: SoftmaxFocalRefOptions['gamma'], c: number): number {
  return typeof gamma === 'number' ? gamma : gamma[c]!;
}

function classWeight(alpha: SoftmaxFocalRefOptions['alpha'], c: number): number {
  if (alpha === null) return 1;
  if (typeof alpha === 'number') return alpha < 0 ? 1 : alpha;
  return alpha[c]!;
}

/**
 * One class term of the multi-class focal loss and its coefficient, in float64:
 *   term = -a t (1 - p_c)^gamma log p_c,  coefficient = a t (gamma u^(gamma-1) p_c log p_c - u^gamma), u = 1 - p_c
 * so that d term / d z_j = coefficient * (1[j=c] - p_j) (chain rule through p_c; d p_c / d z_j = p_c (1[j=c] - p_j),
 * d log p_c / d z_j = 1[j=c] - p_j). u = -expm1(log p_c): no cancellation as p_c -> 1. At u = 0 the first term of
 * the coefficient is its limit 0 (log p_c ~ -u, so gamma u^(gamma-1) p_c log p_c ~ -gamma u^gamma).
 */
function focalClassTerm(
  logP: number, a: number, t: number, gamma: number, detach = false,
): { term: number; coefficient: number; u: number } {
  const p = Math.exp(logP);
  const u = -Math.expm1(logP);
  const mod = gamma === 0 ? 1 : Math.pow(u, gamma);
  const term = -a * t * mod * logP;
  // gamma u^(gamma-1) p log p as -gamma u^gamma p (-log p / u): the literal u^(gamma-1) overflows float64 for a
  // subnormal u (u = 1e-312 at a logit gap of 717), where the ratio is simply 1.
  // Detached (stopgrad of a t u^gamma): only the derivative of -log p_c remains, coefficient -a t u^gamma.
  const first = detach || gamma === 0 || u === 0 ? 0 : -gamma * mod * p * (-logP / u);
  return { term, coefficient: a * t * (first - mod), u };
}

/** One row of the softmax focal loss with class index y, and d loss / d z (the row). */
export function softmaxFocalRef(
  z: ArrayLike<number>, y: number, { alpha, gamma, detachModulator }: SoftmaxFocalRefOptions,
): { loss: number; grad: Float64Array } {
  const logP = logSoftmaxRef(z);
  const p = logP.map(Math.exp);
  const { term, coefficient, u } = focalClassTerm(logP[y]!, classWeight(alpha, y), 1, classGamma(gamma, y), detachModulator);
  const grad = Float64Array.from({ length: z.length }, (_, j) => coefficient * (j === y ? u : -p[j]!));
  return { loss: term, grad };
}

/**
 * One row with soft targets t (a distribution over the C classes): loss = sum_c -alpha_c t_c (1-p_c)^gamma log p_c,
 * d loss / d z_j = sum_c k_c (1[j=c] - p_j) = k_j (1 - p_j) - p_j sum_{c != j} k_c, with k_c the coefficients
 * above. The sums over c != j come from prefix and suffix sums (the k_c share a sign), so none cancels.
 * Also returns, per class, the size of the two terms the gradient is the difference of (for judging it where
 * they cancel, near t_j = p_j).
 */
export function softmaxFocalSoftRef(
  z: ArrayLike<number>, t: ArrayLike<number>, { alpha, gamma, detachModulator }: SoftmaxFocalRefOptions,
): { loss: number; grad: Float64Array; magnitude: Float64Array } {
  const C = z.length;
  const logP = logSoftmaxRef(z);
  const terms = Array.from(
    { length: C }, (_, c) => focalClassTerm(logP[c]!, classWeight(alpha, c), t[c]!, classGamma(gamma, c), detachModulator),
  );
  let loss = 0;
  for (const { term } of terms) loss += term;
  const prefix = new Float64Array(C + 1);
  for (let c = 0; c < C; c++) prefix[c + 1] = prefix[c]! + terms[c]!.coefficient;
  const suffix = new Float64Array(C + 1);
  for (let c = C - 1; c >= 0; c--) suffix[c] = suffix[c + 1]! + terms[c]!.coefficient;
  const grad = new Float64Array(C);
  const magnitude = new Float64Array(C);
  for (let j = 0; j < C; j++) {
    const own = terms[j]!.coefficient * terms[j]!.u;
    const others = Math.exp(logP[j]!) * (prefix[j]! + suffix[j + 1]!);
    grad[j] = own - others;
    magnitude[j] = Math.abs(own) + Math.abs(others);
  }
  return { loss, grad, magnitude };
}

/** Keras label smoothing of a class index: t_c = 1[c = y] (1 - eps) + eps / C. */
export function smoothedTargetRef(y: number, classes: number, epsilon: number): Float64Array {
  return Float64Array.from({ length: classes }, (_, c) => (c === y ? 1 : 0) * (1 - epsilon) + epsilon / classes);
}

/**
 * The reduced softmax focal loss over N rows (row-major logits), float64, with the engine's semantics: rows whose
 * target is ignoreIndex give 0 and do not count; 'mean' divides by the rows counted (or the normalizer), 0 if none.
 * `targets` holds class indices, or with `soft` set, N x C soft targets; labelSmoothing applies to class indices.
 */
export function softmaxFocalReduced(
  logits: ArrayLike<number>, targets: ArrayLike<number>, classes: number,
  options: SoftmaxFocalRefOptions & {
    reduction: 'none' | 'mean' | 'sum'; weights?: ArrayLike<number>; normalizer?: number; ignoreIndex?: number;
    soft?: boolean; labelSmoothing?: number;
  },
): { loss: number | Float64Array; grad: Float64Array; magnitude: Float64Array } {
  const rows = classes > 0 ? logits.length / classes : 0;
  const ignoreIndex = options.ignoreIndex ?? -100;
  const losses = new Float64Array(rows);
  const grad = new Float64Array(rows * classes);
  const magnitude = new Float64Array(rows * classes);
  let sum = 0;
  let counted = 0;
  for (let i = 0; i < rows; i++) {
    const z = Array.from({ length: classes }, (_, j) => logits[i * classes + j]!);
    let row: { loss: number; grad: Float64Array; magnitude?: Float64Array };
    if (options.soft) {
      const t = Array.from({ length: classes }, (_, j) => targets[i * classes + j]!);
      row = softmaxFocalSoftRef(z, t, options);
    } else {
      const y = targets[i]!;
      if (y === ignoreIndex) continue;
      row = options.labelSmoothing
        ? softmaxFocalSoftRef(z, smoothedTargetRef(y, classes, options.labelSmoothing), options)
        : softmaxFocalRef(z, y, options);
    }
    counted++;
    const w = options.weights ? options.weights[i]! : 1;
    losses[i] = w * row.loss;
    sum += losses[i]!;
    for (let j = 0; j < classes; j++) {
      grad[i * classes + j] = w * row.grad[j]!;
      magnitude[i * classes + j] = Math.abs(w) * (row.magnitude ? row.magnitude[j]! : Math.abs(row.grad[j]!));
    }
  }
  if (options.reduction === 'none') return { loss: losses, grad, magnitude };
  const divisor = options.reduction === 'sum' ? 1 : options.normalizer ?? counted;
  if (divisor === 0) return { loss: 0, grad, magnitude };
  for (let i = 0; i < grad.length; i++) {
    grad[i]! /= divisor;
    magnitude[i]! /= divisor;
  }
  return { loss: sum / divisor, grad, magnitude };
}

export interface BinaryFocalRefOptions {
  alpha: number | null;
  gamma: number;
  epsilon: number;
}

/**
 * One element of the binary focal loss from a probability p, and d loss / d p, in float64 (Keras semantics):
 *   pc = clip(p, fround(eps), fround(1 - eps)); ce = -(t log pc + (1-t) log(1 - pc))
 *   1 - p_t = t (1-p) + (1-t) p  (p as given);  loss = alpha_t (1 - p_t)^gamma ce
 *   d loss / d p = alpha_t (gamma (1-p_t)^(gamma-1) (1-2t) ce + (1-p_t)^gamma d ce/dp),
 *   d ce / dp = -(t / pc - (1-t) / (1-pc)) for p in [lo, hi], 0 outside (the clip blocks it).
 * log(1 - pc) is evaluated as log1p(-pc), the same value without the rounding of 1 - pc.
 */
export function binaryFocalRef(p: number, t: number, { alpha, gamma, epsilon }: BinaryFocalRefOptions): {
  loss: number; grad: number; magnitude: number;
} {
  const lo = Math.fround(epsilon);
  const hi = Math.fround(1 - epsilon);
  const pc = Math.min(Math.max(p, lo), hi);
  const ce = -(t * Math.log(pc) + (1 - t) * Math.log1p(-pc));
  const q = t * (1 - p) + (1 - t) * p;
  const alphaT = alpha === null || alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
  const mod = gamma === 0 ? 1 : Math.pow(q, gamma);
  const loss = alphaT * mod * ce;
  const dce = p >= lo && p <= hi ? -(t / pc - (1 - t) / (1 - pc)) : 0;
  const dmod = gamma === 0 ? 0 : gamma * Math.pow(q, gamma - 1) * (1 - 2 * t);
  const grad = alphaT * (dmod * ce + mod * dce);
  const magnitude = Math.abs(alphaT) * (Math.abs(dmod * ce) + Math.abs(mod * dce));
  return { loss, grad, magnitude };
}

// ---- the sigmoid family beyond torchvision (issue 9): FL*, QFL, VFL, Poly-1, masks and weights ---------------
// Each written from its anchor: FL* from Lin et al. 2017 appendix A as fvcore sigmoid_focal_loss_star computes it
// (plus the paper's beta); QFL from Li et al. 2020 (Generalized Focal Loss) as mmdet quality_focal_loss; VFL from
// Zhang et al. 2021 (VarifocalNet) as mmdet varifocal_loss (the negative weight alpha p^gamma not detached); Poly-1
// focal from Leng et al. 2022 (focal loss + epsilon (1 - p_t)^(gamma+1)); reduced / normalized focal terms from
// smp losses/_functional.py focal_loss_with_logits; posWeight as kornia / BCEWithLogits pos_weight.

export interface VariantElement {
  loss: number;
  grad: number;
}

/** FL*: z = gamma x (2t-1) + beta, loss = alpha_t (-log sigmoid(z)) / gamma; d/dx = -alpha_t (2t-1) sigmoid(-z). */
export function focalStarRef(x: number, t: number, { alpha, gamma, beta }: { alpha: number | null; gamma: number; beta: number }): VariantElement {
  const z = gamma * x * (2 * t - 1) + beta;
  const alphaT = alpha === null || alpha < 0 ? 1 : alpha * t + (1 - alpha) * (1 - t);
  return { loss: (alphaT * softplus(-z)) / gamma, grad: -alphaT * (2 * t - 1) * sigmoid(-z) };
}

/**
 * QFL: loss = |t - p|^beta BCE(x, t); by the product rule
 * d/dx = beta |d|^(beta-1) sign(d) p (1-p) BCE + |d|^beta (p - t), d = p - t (the first term 0 at d = 0).
 * `d` may be given to evaluate at a perturbed p - t (for judging float32 results where p - t cancels).
 */
export function qualityFocalRef(x: number, t: number, { beta }: { beta: number }, dOverride?: number): VariantElement {
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const ce = t * softplus(-x) + (1 - t) * softplus(x);
  const d = dOverride ?? (1 - t) * p - t * pc; // p - t without the 1 - p cancellation
  const ad = Math.abs(d);
  const mod = beta === 0 ? 1 : Math.pow(ad, beta);
  const first = beta === 0 || d === 0 ? 0 : beta * Math.pow(ad, beta - 1) * Math.sign(d) * p * pc * ce;
  return { loss: mod * ce, grad: first + mod * d };
}

/**
 * VFL: positives (t > 0) w BCE(x, t), w = t (iouWeighted) or 1; negatives alpha |p - t|^gamma BCE(x, t) with
 * t = 0, i.e. alpha p^gamma softplus(x); d/dx (negatives) = alpha (gamma p^(gamma-1) p (1-p) softplus(x) + p^gamma p).
 */
export function varifocalRef(
  x: number, t: number,
  { alpha, gamma, iouWeighted, detachModulator }: { alpha: number; gamma: number; iouWeighted: boolean; detachModulator?: boolean },
): VariantElement {
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const ce = t * softplus(-x) + (1 - t) * softplus(x);
  if (t > 0) {
    const w = iouWeighted ? t : 1;
    return { loss: w * ce, grad: w * ((1 - t) * p - t * pc) };
  }
  const pg = gamma === 0 ? 1 : Math.pow(p, gamma);
  // Detached (RT-DETR weight.detach()): the weight alpha p^gamma is a constant, d/dx = alpha p^gamma p.
  const dWeight = detachModulator || gamma === 0 || p === 0 ? 0 : gamma * Math.pow(p, gamma - 1) * p * pc;
  return { loss: alpha * pg * ce, grad: alpha * (dWeight * ce + pg * p) };
}

/** Poly-1 focal: FL (torchvision, alpha_t on it) + epsilon (1 - p_t)^(gamma+1); the extra term's derivative is
 * epsilon (gamma+1) (1-p_t)^gamma (1-2t) p (1-p). */
export function polyFocalRef(
  x: number, t: number, { alpha, gamma, epsilon }: { alpha: number | null; gamma: number; epsilon: number },
): VariantElement & { magnitude: number } {
  const fl = sigmoidFocalRef(x, t, { alpha, gamma });
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const q = t * pc + (1 - t) * p;
  const poly = epsilon * Math.pow(q, gamma + 1);
  const dPoly = epsilon * (gamma + 1) * Math.pow(q, gamma) * (1 - 2 * t) * p * pc;
  const magnitude = sigmoidFocalGradMagnitude(x, t, { alpha, gamma }) + Math.abs(dPoly);
  return { loss: fl.loss + poly, grad: fl.grad + dPoly, magnitude };
}

export interface FocalExtrasRefOptions {
  alpha: number | null;
  gamma: number;
  /** Per-element positive weight (kornia pos_weight, expanded over the class axis). */
  posWeight?: number;
  reducedThreshold?: number;
  /** The focal term a constant of the gradient (stop-gradient): grad = alpha_t f dce, and df = 0. */
  detachModulator?: boolean;
}

/**
 * One element of the focal loss with posWeight and smp's reduced focal term, before alpha and weights are
 * split out: returns the loss, its derivative, the focal term f and df/dx (for the normalized form).
 *   ce = -(pw t log p + (1-t) log(1-p)); p_t = 1 - q, q = t (1-p) + (1-t) p
 *   f = q^gamma, or with threshold th: (q / th)^gamma where p_t >= th, 1 where p_t < th (smp)
 *   loss = alpha_t f ce; d/dx = alpha_t (df ce + f dce), df = gamma f p (1-p) (1-2t) / q, dce = (1-t) p - pw t (1-p)
 */
export function focalExtrasRef(x: number, t: number, o: FocalExtrasRefOptions): VariantElement & { f: number; df: number } {
  const pw = o.posWeight ?? 1;
  const p = sigmoid(x);
  const pc = sigmoid(-x);
  const ce = pw * t * softplus(-x) + (1 - t) * softplus(x);
  const dce = (1 - t) * p - pw * t * pc;
  const q = t * pc + (1 - t) * p;
  const alphaT = o.alpha === null || o.alpha < 0 ? 1 : o.alpha * t + (1 - o.alpha) * (1 - t);
  let f = o.gamma === 0 ? 1 : Math.pow(q, o.gamma);
  let df = o.gamma === 0 || q === 0 ? 0 : (o.gamma * f * p * pc * (1 - 2 * t)) / q;
  if (o.reducedThreshold !== undefined) {
    const th = o.reducedThreshold;
    if (1 - q < th) {
      f = 1;
      df = 0;
    } else {
      f *= Math.pow(th, -o.gamma);
      df *= Math.pow(th, -o.gamma);
    }
  }
  if (o.detachModulator) df = 0;
  return { loss: alphaT * f * ce, grad: alphaT * (df * ce + f * dce), f, df };
}

export interface FamilyReduceOptions {
  reduction: 'none' | 'mean' | 'sum';
  weights?: ArrayLike<number>;
  normalizer?: number;
  mask?: ArrayLike<number>;
  ignoreIndex?: number;
  classWeights?: ArrayLike<number>;
  /** smp normalized focal loss (only with focalExtrasRef elements, which report f and df). */
  normalized?: boolean;
}

/**
 * The reduced loss of any element function above, with the engine's semantics: masked / ignored elements give 0
 * and are not counted; weights and class weights (element i has class i mod C) multiply loss and gradient;
 * 'mean' divides by the kept count or the normalizer. With `normalized` (smp): every loss is divided by
 * S = max(sum of f over kept elements, 1e-6), and the gradient of the reduced loss includes S's derivative
 * (for 'none', the diagonal d(loss_i / S) / dx_i).
 */
export function familyReduced(
  x: ArrayLike<number>, t: ArrayLike<number>,
  element: (x: number, t: number, i: number) => VariantElement & { f?: number; df?: number },
  o: FamilyReduceOptions,
): { loss: number | Float64Array; grad: Float64Array } {
  const n = x.length;
  const losses = new Float64Array(n);
  const grad = new Float64Array(n);
  const f = new Float64Array(n);
  const df = new Float64Array(n);
  const C = o.classWeights?.length ?? 1;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (o.mask && o.mask[i] === 0) continue;
    if (o.ignoreIndex !== undefined && t[i] === o.ignoreIndex) continue;
    kept++;
    const w = (o.weights ? o.weights[i]! : 1) * (o.classWeights ? o.classWeights[i % C]! : 1);
    const r = element(x[i]!, t[i]!, i);
    losses[i] = w * r.loss;
    grad[i] = w * r.grad;
    f[i] = r.f ?? 0;
    df[i] = r.df ?? 0;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += losses[i]!;
  if (o.normalized) {
    let s = 0;
    for (let i = 0; i < n; i++) s += f[i]!;
    const clamped = s < 1e-6;
    const sc = Math.max(s, 1e-6);
    for (let i = 0; i < n; i++) {
      const coefficient = clamped ? 0 : o.reduction === 'none' ? -losses[i]! / (sc * sc) : -sum / (sc * sc);
      grad[i] = grad[i]! / sc + coefficient * df[i]!;
      losses[i] = losses[i]! / sc;
    }
    sum /= sc;
  }
  if (o.reduction === 'none') return { loss: losses, grad };
  const divisor = o.reduction === 'sum' ? 1 : o.normalizer ?? kept;
  if (divisor === 0) return { loss: 0, grad };
  for (let i = 0; i < n; i++) grad[i]! /= divisor;
  return { loss: sum / divisor, grad };
}

// ---- Distribution Focal Loss (issue 15): mmdet distribution_focal_loss and ultralytics DFLoss ------------------
// mmdet/models/losses/gfocal_loss.py: dis_left = label.long(), weight_left = dis_right - label, weight_right =
// label - dis_left, loss = CE(pred, dis_left) weight_left + CE(pred, dis_right) weight_right. Here the right term is
// left out when its weight is 0 (mmdet would index past the last bin at y = bins - 1).

/** log softmax pieces of a row in float64: its max m, and log S = log(sum_j e^(z_j - m)) as log1p of S - 1. */
function rowLogSum(z: ArrayLike<number>, at: number, bins: number): { m: number; logS: number; S: number; rest: number } {
  let m = -Infinity;
  for (let j = 0; j < bins; j++) m = Math.max(m, z[at + j]!);
  // S - 1: the other bins' exponentials summed first, then the maxima's 1s but one (exact), so a tiny S - 1 keeps
  // its precision (starting from -1 would round it away).
  let others = 0;
  let ties = 0;
  for (let j = 0; j < bins; j++) {
    if (z[at + j] === m) ties++;
    else others += Math.exp(z[at + j]! - m);
  }
  const rest = others + (ties - 1);
  return { m, logS: Math.log1p(rest), S: 1 + rest, rest };
}

/**
 * One row of DFL in float64 with target weights wl (bin l) and wr (bin l + 1; 0: the term is absent): the loss
 * wl CE(l) + wr CE(l + 1) and its gradient (wl + wr) p_j - wl 1[j = l] - wr 1[j = l + 1], with magnitude_j =
 * p_j + the target weight at j (the size of the terms the gradient is the difference of).
 */
export function dflRowRef(
  z: ArrayLike<number>, at: number, bins: number, l: number, wl: number, wr: number,
): { loss: number; grad: Float64Array; magnitude: Float64Array } {
  const { m, logS, S, rest } = rowLogSum(z, at, bins);
  const ce = (k: number): number => (m - z[at + k]!) + logS;
  const loss = wl * ce(l) + (wr !== 0 ? wr * ce(l + 1) : 0);
  const grad = new Float64Array(bins);
  const magnitude = new Float64Array(bins);
  for (let j = 0; j < bins; j++) {
    const isMax = z[at + j] === m;
    const p = isMax ? 1 / S : Math.exp(z[at + j]! - m) / S;
    const t = j === l ? wl : j === l + 1 ? wr : 0;
    // At a max, p - t = (1 - t) - (S - 1) / S without the cancellation of 1/S - t near 1 (wl + wr = 1 there).
    grad[j] = t === 0 ? (wl + wr) * p : isMax && wl + wr === 1 ? (1 - t) - rest / S : (wl + wr) * p - t;
    magnitude[j] = p + t;
  }
  return { loss, grad, magnitude };
}

/** mmdet's DFL over N rows, with the engine's weights / normalizer / reduction semantics (mmdet's weight_reduce_loss). */
export function dflReduced(
  z: ArrayLike<number>, y: ArrayLike<number>, bins: number,
  options: { reduction: 'none' | 'mean' | 'sum'; weights?: ArrayLike<number>; normalizer?: number },
): { loss: number | Float64Array; grad: Float64Array; magnitude: Float64Array } {
  const n = y.length;
  const losses = new Float64Array(n);
  const grad = new Float64Array(n * bins);
  const magnitude = new Float64Array(n * bins);
  const divisor = options.reduction === 'mean' ? options.normalizer ?? n : 1;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const target = Math.fround(y[i]!);
    const l = Math.floor(target);
    const w = options.weights ? Math.fround(options.weights[i]!) : 1;
    const row = dflRowRef(z, i * bins, bins, l, l + 1 - target, target - l);
    losses[i] = w * row.loss;
    sum += losses[i]!;
    for (let j = 0; j < bins; j++) {
      grad[i * bins + j] = (w * row.grad[j]!) / divisor;
      magnitude[i * bins + j] = (Math.abs(w) * row.magnitude[j]!) / divisor;
    }
  }
  if (options.reduction === 'none') return { loss: losses, grad, magnitude };
  return { loss: options.reduction === 'sum' ? sum : n === 0 ? 0 : sum / divisor, grad, magnitude };
}

/**
 * ultralytics DFLoss (ultralytics/utils/loss.py), transcribed in float64 (the clamp bound rounded to float32, as
 * torch compares float32 targets with it; the weights wl, wr exact, where torch's float32 wr = 1 - wl rounds when
 * tl = 0 and the target is tiny: 1e-4 comes out 1e-4 (1 +- 6e-4) there):
 *   target = target.clamp_(0, self.reg_max - 1 - 0.01); tl = target.long(); tr = tl + 1
 *   wl = tr - target; wr = 1 - wl
 *   (CE(pred, tl) wl + CE(pred, tr) wr).mean(-1, keepdim=True)        # over the 4 sides of each box
 * `reg_max` is the number of bins. Reduction 'none' gives the N box losses; 'mean' / 'sum' reduce them over boxes
 * ('mean': / normalizer when given). The gradient is that of the reduced loss, d / d pred.
 */
export function ultralyticsDflRef(
  z: ArrayLike<number>, y: ArrayLike<number>, bins: number,
  options: { reduction: 'none' | 'mean' | 'sum'; normalizer?: number },
): { loss: number | Float64Array; grad: Float64Array; magnitude: Float64Array } {
  const rows = y.length;
  const boxes = rows / 4;
  const hi = Math.fround(bins - 1 - 0.01);
  const perBox = new Float64Array(boxes);
  const grad = new Float64Array(rows * bins);
  const magnitude = new Float64Array(rows * bins);
  const scale = options.reduction === 'mean' ? 1 / (4 * (options.normalizer ?? boxes)) : 1 / 4;
  for (let i = 0; i < rows; i++) {
    const target = Math.min(Math.max(Math.fround(y[i]!), 0), hi);
    const tl = Math.trunc(target);
    const wl = tl + 1 - target; // exact in float64 (torch rounds it to float32)
    const wr = 1 - wl;
    const row = dflRowRef(z, i * bins, bins, tl, wl, wr);
    perBox[Math.floor(i / 4)]! += row.loss / 4;
    for (let j = 0; j < bins; j++) {
      grad[i * bins + j] = row.grad[j]! * scale;
      magnitude[i * bins + j] = row.magnitude[j]! * scale;
    }
  }
  if (options.reduction === 'none') return { loss: perBox, grad, magnitude };
  const sum = perBox.reduce((a, b) => a + b, 0);
  return { loss: options.reduction === 'sum' ? sum : boxes === 0 ? 0 : sum / (options.normalizer ?? boxes), grad, magnitude };
}

// ---- the asymmetric loss (issue 15): Ridnik et al. 2021 (ASL), Alibaba-MIIL AsymmetricLoss ----------------------
// src/loss_functions/losses.py, per element:
//   xs_pos = sigmoid(x); xs_neg = 1 - xs_pos; if clip > 0: xs_neg = min(xs_neg + clip, 1)
//   loss = -(t log max(xs_pos, eps) + (1-t) log max(xs_neg, eps)) * (1 - p_t)^(gamma_pos t + gamma_neg (1-t)),
//   p_t = xs_pos t + xs_neg (1-t)   (the modulator applied when either gamma is > 0; x^0 = 1 makes that moot)
// and its gradient by autograd: torch.clamp passes the gradient inside its range (bounds included) and none outside;
// with disable_torch_grad_focal_loss the modulator is a constant.

export interface AsymmetricRefOptions {
  gammaPos: number;
  gammaNeg: number;
  clip: number;
  eps: number;
  detachModulator: boolean;
}

/**
 * One element of the asymmetric loss and d loss / d x, in float64. clip and eps are taken as the float32 values the
 * engine receives (as binaryFocalRef's clip bounds). Evaluation order for float64 stability only: log xs_pos =
 * -softplus(-x); 1 - xs_neg = max(p - clip, 0) (clip > 0) or p, and log xs_neg = log1p(-(1 - xs_neg)) while
 * xs_neg >= 1/2, log(pc + clip) below. The modulator's derivative g q^(g-1) dq/dx is evaluated as g w (dq/dx) / q
 * (the same value; 0 where q = 0, its limit there: dq/dx = 0 on that side of the clip, or ce -> 0 with q).
 * `pOverride` evaluates at another p (and 1 - p), for judging float32 results where p - clip cancels.
 */
export function asymmetricRef(
  x: number, t: number, o: AsymmetricRefOptions, pOverride?: { p: number; pc: number },
): VariantElement & { magnitude: number; w: number; ce: number } {
  const clip = Math.fround(o.clip);
  const eps = Math.fround(o.eps);
  const p = pOverride?.p ?? sigmoid(x);
  const pc = pOverride?.pc ?? sigmoid(-x);
  // Positives: log max(p, eps); d/dx log p = 1 - p inside the clamp.
  const posClamped = p < eps;
  const logPos = posClamped ? Math.log(eps) : pOverride ? Math.log(p) : -softplus(-x);
  const dLogPos = posClamped ? 0 : pc;
  // Negatives: xs_neg = min(pc + clip, 1) = 1 - dn; its clamp at 1 passes the gradient where pc + clip <= 1.
  const shiftOpen = clip > 0 ? p >= clip : true;
  const dn = clip > 0 ? Math.max(p - clip, 0) : p; // 1 - xs_neg
  const xsNeg = clip > 0 ? Math.min(pc + clip, 1) : pc;
  const negClamped = xsNeg < eps;
  let logNeg: number;
  if (negClamped) logNeg = Math.log(eps);
  else if (clip === 0) logNeg = pOverride ? Math.log(pc) : -softplus(x);
  else logNeg = dn <= 0.5 ? Math.log1p(-dn) : Math.log(pc + clip);
  const dLogNeg = negClamped || !shiftOpen ? 0 : (-p * pc) / xsNeg; // d xs_neg/dx = -p (1-p)
  const ce = -(t * logPos + (1 - t) * logNeg);
  const dce = -(t * dLogPos + (1 - t) * dLogNeg);
  const q = t * pc + (1 - t) * dn; // 1 - p_t
  const g = o.gammaPos * t + o.gammaNeg * (1 - t);
  const w = o.gammaPos > 0 || o.gammaNeg > 0 ? Math.pow(q, g) : 1;
  const dq = -t * p * pc + (1 - t) * (shiftOpen ? p * pc : 0);
  const dw = o.detachModulator || g === 0 || q === 0 ? 0 : (g * w * dq) / q;
  const loss = w * ce;
  const grad = w * dce + dw * ce;
  const magnitude = Math.abs(w) * (t * Math.abs(dLogPos) + (1 - t) * Math.abs(dLogNeg)) + Math.abs(dw * ce);
  return { loss, grad, magnitude, w, ce };
}

// ---- the DETR focal matching cost (issue 15) ----------------------------------------------------------------------
// Deformable-DETR models/matcher.py, HungarianMatcher.forward:
//   out_prob = pred_logits.sigmoid()
//   neg_cost_class = (1 - alpha) * (out_prob ** gamma) * (-(1 - out_prob + 1e-8).log())
//   pos_cost_class = alpha * ((1 - out_prob) ** gamma) * (-(out_prob + 1e-8).log())
//   cost_class = pos_cost_class[:, tgt_ids] - neg_cost_class[:, tgt_ids]

/**
 * One entry of the focal matching cost in float64, pos - neg, with p = sigmoid(x):
 * pos = alpha (1-p)^gamma (-log p), neg = (1-alpha) p^gamma (-log(1-p)), the logs as softplus(-x) and softplus(x)
 * (their exact values). `magnitude` = |pos| + |neg|: the cost is a difference of the two, so where they cancel a
 * float32 result can only be judged against this size (the cost crosses 0 where pos = neg).
 */
export function focalMatchingCostRef(x: number, alpha: number, gamma: number): { cost: number; magnitude: number } {
  const p = sigmoid(x);
  const pc = sigmoid(-x); // 1 - p without cancellation
  const pos = alpha * Math.pow(pc, gamma) * softplus(-x);
  const neg = (1 - alpha) * Math.pow(p, gamma) * softplus(x);
  return { cost: pos - neg, magnitude: Math.abs(pos) + Math.abs(neg) };
}

/**
 * The anchor's own formula, + 1e-8 inside the logs, written as it is written there (float64). Its logs cross 0:
 * -log(1 - s + 1e-8) for a small s (p or 1 - p near 1e-8) is the difference s - 1e-8, which float32 can only give
 * to ~1e-7 of s + 1e-8; so `magnitude` takes each log at least that size. `resolution`: see below.
 */
export function detrFocalCostAnchor(
  x: number, alpha: number, gamma: number,
): { cost: number; magnitude: number; resolution: number } {
  const p = sigmoid(x);
  const pc = 1 - p;
  const logNeg = -Math.log(1 - p + 1e-8);
  const logPos = -Math.log(p + 1e-8);
  const neg = (1 - alpha) * Math.pow(p, gamma) * logNeg;
  const pos = alpha * Math.pow(1 - p, gamma) * logPos;
  const size = (log: number): number => Math.max(Math.abs(log), Math.min(p, sigmoid(-x)) + 1e-8);
  const magnitude = (1 - alpha) * Math.pow(p, gamma) * size(logNeg) + alpha * Math.pow(pc, gamma) * size(logPos);
  // A float32 probability below 2^-126 is subnormal (spaced 2^-149) and 0 below 2^-150: p^gamma for gamma < 1 then
  // carries the error of that spacing, visible here because the logs stay near 1e-8 where the exact ones vanish.
  const spacing = (v: number): number => Math.pow(v + 2 ** -149, gamma) - Math.pow(v, gamma);
  const resolution = (1 - alpha) * spacing(p) * Math.abs(logNeg) + alpha * spacing(Math.min(pc, 1)) * Math.abs(logPos);
  return { cost: pos - neg, magnitude, resolution };
}

export interface OverlapRefOptions {
  loss: 'dice' | 'tversky' | 'diceFocal';
  shape: readonly number[];
  classAxis: number;
  activation: 'softmax' | 'sigmoid' | 'none';
  includeBackground: boolean;
  smoothNr: number;
  smoothDr: number;
  squaredPred: boolean;
  jaccard: boolean;
  batch: boolean;
  classWeights: readonly number[] | null;
  alpha: number; // Tversky: the false positives' weight
  beta: number;
  exponent: number;
  lambdaDice: number;
  lambdaFocal: number;
  gamma: number;
  focalAlpha: number | null;
  reduction: 'mean' | 'sum' | 'none';
}

export const OVERLAP_REF_DEFAULTS: Omit<OverlapRefOptions, 'loss' | 'shape'> = {
  classAxis: 1, activation: 'softmax', includeBackground: true, smoothNr: 1e-5, smoothDr: 1e-5, squaredPred: false,
  jaccard: false, batch: false, classWeights: null, alpha: 0.5, beta: 0.5, exponent: 1, lambdaDice: 1, lambdaFocal: 1,
  gamma: 2, focalAlpha: null, reduction: 'mean',
};

/**
 * MONAI 1.5 DiceLoss / TverskyLoss / DiceFocalLoss (monai/losses/dice.py, tversky.py, focal_loss.py) in float64,
 * and the gradient of the result (for 'none': of the sum of the outputs) with respect to the logits.
 * Per element (item b, class c, spatial s): p from the activation, t from the targets (one-hot from class indices).
 * Per (item, class) (or per class with batch): I = sum p t, P = sum p^k, G = sum t^k (k = 2 with squaredPred),
 *   dice     1 - (2I + nr) / (P + G + dr)           jaccard  1 - (2I + nr) / (2 (P + G - I) + dr)
 *   tversky  (1 - (I + nr) / (I + alpha FP + beta FN + dr))^exponent, FP = sum p (1-t), FN = sum (1-p) t
 * times classWeights[c]; the focal half MONAI's sigmoid_focal_loss on the raw input, z = x (2t - 1):
 *   alpha_t sigmoid(-z)^gamma (t softplus(-x) + (1-t) softplus(x)), times classWeights[c].
 * Reductions as MONAI: mean / sum over (item, class) values; focal mean over all, sum of spatial means; 'none'
 * per value (diceFocal: per element, the Dice value broadcast).
 */
export function overlapRef(
  logits: ArrayLike<number>, targets: ArrayLike<number>, labels: boolean, o: OverlapRefOptions,
): { loss: number | Float64Array; grad: Float64Array } {
  const rank = o.shape.length;
  const k = o.classAxis < 0 ? o.classAxis + rank : o.classAxis;
  const N = o.shape[0]!;
  const C = o.shape[k]!;
  const outer = o.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const inner = o.shape.slice(k + 1).reduce((a, b) => a * b, 1);
  const S = (outer / N) * inner;
  const n = logits.length;
  const first = o.includeBackground || C === 1 ? 0 : 1;
  const kept = C - first;
  // index of element (b, c, s) in the caller's layout, and of its position (class indices)
  const at = (b: number, c: number, s: number): number => {
    const oo = b * (outer / N) + Math.floor(s / inner);
    return (oo * C + c) * inner + (s % inner);
  };
  const pos = (b: number, s: number): number => (b * (outer / N) + Math.floor(s / inner)) * inner + (s % inner);
  const x = (b: number, c: number, s: number): number => logits[at(b, c, s)]!;
  const t = (b: number, c: number, s: number): number => (labels ? (targets[pos(b, s)] === c ? 1 : 0) : targets[at(b, c, s)]!);
  const p = new Float64Array(n);
  for (let b = 0; b < N; b++) {
    for (let s = 0; s < S; s++) {
      if (o.activation === 'softmax') {
        let m = -Infinity;
        for (let c = 0; c < C; c++) m = Math.max(m, x(b, c, s));
        let sum = 0;
        for (let c = 0; c < C; c++) sum += Math.exp(x(b, c, s) - m);
        for (let c = 0; c < C; c++) p[at(b, c, s)] = Math.exp(x(b, c, s) - m) / sum;
      } else {
        for (let c = 0; c < C; c++) p[at(b, c, s)] = o.activation === 'sigmoid' ? sigmoid(x(b, c, s)) : x(b, c, s);
      }
    }
  }
  const ord = o.squaredPred && o.loss !== 'tversky' ? 2 : 1; // TverskyLoss has no squared_pred (nor jaccard)
  const weight = (c: number): number => (o.classWeights && kept > 1 ? o.classWeights[c - first]! : 1);
  const regions = o.batch ? 1 : N;
  const values = new Float64Array(regions * kept);
  const dI = new Float64Array(regions * kept); // d value / d I
  const dP = new Float64Array(regions * kept); // d value / d P (P = sum p^ord)
  for (let r = 0; r < regions; r++) {
    for (let c = first; c < C; c++) {
      let I = 0, P = 0, G = 0, FP = 0, FN = 0;
      for (let b = o.batch ? 0 : r; b < (o.batch ? N : r + 1); b++) {
        for (let s = 0; s < S; s++) {
          const pv = p[at(b, c, s)]!;
          const tv = t(b, c, s);
          I += pv * tv;
          P += pv ** ord;
          G += tv ** ord;
          FP += pv * (1 - tv);
          FN += (1 - pv) * tv;
        }
      }
      const j = r * kept + c - first;
      let f: number, fI: number, fP: number;
      if (o.loss === 'tversky') {
        const num = I + o.smoothNr;
        const den = I + o.alpha * FP + o.beta * FN + o.smoothDr;
        // FP = P - I, FN = G - I: d den / dI = 1 - alpha - beta, d den / dP = alpha
        f = 1 - num / den;
        fI = -(den - num * (1 - o.alpha - o.beta)) / den ** 2;
        fP = (num * o.alpha) / den ** 2;
        if (o.exponent !== 1) {
          const base = Math.max(f, 0);
          const d = base > 0 ? o.exponent * base ** (o.exponent - 1) : 0;
          f = base ** o.exponent;
          fI *= d;
          fP *= d;
        }
      } else {
        const num = 2 * I + o.smoothNr;
        const den = o.jaccard ? 2 * (P + G - I) + o.smoothDr : P + G + o.smoothDr;
        f = 1 - num / den;
        fI = o.jaccard ? -2 / den - (2 * num) / den ** 2 : -2 / den;
        fP = (num * (o.jaccard ? 2 : 1)) / den ** 2;
      }
      values[j] = weight(c) * f;
      dI[j] = weight(c) * fI;
      dP[j] = weight(c) * fP;
    }
  }
  const focal = o.loss === 'diceFocal';
  const lambdaDice = focal ? o.lambdaDice : 1;
  const focalTerm = (xv: number, tv: number): { loss: number; grad: number } => {
    const z = xv * (2 * tv - 1);
    const m = Math.pow(sigmoid(-z), o.gamma);
    const ce = tv * softplus(-xv) + (1 - tv) * softplus(xv);
    const at = o.focalAlpha === null ? 1 : o.focalAlpha * tv + (1 - o.focalAlpha) * (1 - tv);
    // d/dx sigmoid(-z)^gamma = -gamma sigmoid(-z)^gamma sigmoid(z) (2t - 1); d ce / dx = p - t
    const dm = -o.gamma * m * sigmoid(z) * (2 * tv - 1);
    return { loss: at * m * ce, grad: at * (dm * ce + m * (sigmoid(xv) - tv)) };
  };
  let overlapSum = 0;
  for (const v of values) overlapSum += v;
  let focalSum = 0;
  const none = o.reduction === 'none';
  const elementLoss = focal && none ? new Float64Array(N * S * kept) : undefined;
  const focalScale = o.reduction === 'mean' ? 1 / (N * S * kept) : o.reduction === 'sum' ? 1 / S : 1;
  const overlapScale = o.reduction === 'mean' ? 1 / values.length : 1;
  const dicePerValue = lambdaDice * (focal && none ? S : overlapScale);
  const grad = new Float64Array(n);
  const dLdp = new Float64Array(n);
  for (let b = 0; b < N; b++) {
    for (let c = first; c < C; c++) {
      const j = (o.batch ? 0 : b) * kept + c - first;
      for (let s = 0; s < S; s++) {
        const i = at(b, c, s);
        const tv = t(b, c, s);
        dLdp[i] = dicePerValue * (dI[j]! * tv + dP[j]! * (ord === 2 ? 2 * p[i]! : 1));
        if (focal) {
          const fl = focalTerm(x(b, c, s), tv);
          focalSum += weight(c) * fl.loss;
          grad[i] = grad[i]! + o.lambdaFocal * weight(c) * focalScale * fl.grad;
          if (elementLoss) {
            // the logits' layout with `kept` classes
            const oo = b * (outer / N) + Math.floor(s / inner);
            elementLoss[(oo * kept + c - first) * inner + (s % inner)] = lambdaDice * values[j]! + o.lambdaFocal * weight(c) * fl.loss;
          }
        }
      }
    }
  }
  // back through the activation
  for (let b = 0; b < N; b++) {
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += p[at(b, c, s)]! * dLdp[at(b, c, s)]!;
      for (let c = 0; c < C; c++) {
        const i = at(b, c, s);
        const dp = o.activation === 'softmax' ? p[i]! * (dLdp[i]! - dot)
          : o.activation === 'sigmoid' ? dLdp[i]! * sigmoid(x(b, c, s)) * sigmoid(-x(b, c, s)) : dLdp[i]!;
        grad[i] = grad[i]! + dp;
      }
    }
  }
  if (none) return { loss: elementLoss ?? values, grad };
  return { loss: lambdaDice * overlapSum * overlapScale + (focal ? o.lambdaFocal * focalSum * focalScale : 0), grad };
}
