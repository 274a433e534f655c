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
