// The peer every user has: focal loss as a plain TypeScript loop, written the obvious way from the formulas
// (Math.exp / Math.log / Math.pow over Float32Array, float64 arithmetic, a hand-written gradient). No stability
// tricks: log(1 - p) is -Infinity once p rounds to 1 (|x| > ~36), so the bench's logits stay well inside that.

/** Sigmoid focal loss, 'mean' reduction, torchvision semantics: the formula as a user would type it. */
export function sigmoidFocalPlain(logits: Float32Array, targets: Float32Array, alpha: number, gamma: number): number {
  const n = logits.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const t = targets[i]!;
    const p = 1 / (1 + Math.exp(-x));
    const ce = -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
    const pT = p * t + (1 - p) * (1 - t);
    const alphaT = alpha * t + (1 - alpha) * (1 - t);
    sum += alphaT * Math.pow(1 - pT, gamma) * ce;
  }
  return n > 0 ? sum / n : 0;
}

/**
 * The same loss and its gradient d(mean)/dx, by the product rule:
 * d(1 - p_t)/dx = (1 - 2t) p (1 - p), d ce/dx = p - t.
 */
export function sigmoidFocalPlainWithGrad(
  logits: Float32Array, targets: Float32Array, alpha: number, gamma: number, grad: Float32Array,
): number {
  const n = logits.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const t = targets[i]!;
    const p = 1 / (1 + Math.exp(-x));
    const ce = -(t * Math.log(p) + (1 - t) * Math.log(1 - p));
    const pT = p * t + (1 - p) * (1 - t);
    const alphaT = alpha * t + (1 - alpha) * (1 - t);
    const q = 1 - pT;
    sum += alphaT * Math.pow(q, gamma) * ce;
    const dq = (1 - 2 * t) * p * (1 - p);
    grad[i] = (alphaT * (gamma * Math.pow(q, gamma - 1) * dq * ce + Math.pow(q, gamma) * (p - t))) / n;
  }
  return n > 0 ? sum / n : 0;
}

/**
 * Softmax focal loss, 'mean' over rows, no alpha (mmcv / Keras semantics): logits row-major N×C, one class
 * index per row. Row i: p = softmax(z_i), loss_i = -(1 - p_y)^gamma log p_y, log-softmax by max-subtraction
 * (every tutorial's softmax does that much).
 */
export function softmaxFocalPlain(logits: Float32Array, targets: Int32Array, classes: number, gamma: number): number {
  const rows = targets.length;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const row = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]!);
    let sumExp = 0;
    for (let c = 0; c < classes; c++) sumExp += Math.exp(logits[row + c]! - max);
    const logPy = logits[row + targets[i]!]! - max - Math.log(sumExp);
    const pY = Math.exp(logPy);
    sum += -Math.pow(1 - pY, gamma) * logPy;
  }
  return rows > 0 ? sum / rows : 0;
}

/**
 * The same loss and its gradient d(mean)/dz: with u = 1 - p_y,
 * dloss/dz_c = (delta_cy - p_c) (gamma u^(gamma-1) p_y log p_y - u^gamma).
 */
export function softmaxFocalPlainWithGrad(
  logits: Float32Array, targets: Int32Array, classes: number, gamma: number, grad: Float32Array,
): number {
  const rows = targets.length;
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const row = i * classes;
    const y = targets[i]!;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]!);
    let sumExp = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(logits[row + c]! - max);
      grad[row + c] = e;
      sumExp += e;
    }
    const logPy = logits[row + y]! - max - Math.log(sumExp);
    const pY = Math.exp(logPy);
    const u = 1 - pY;
    sum += -Math.pow(u, gamma) * logPy;
    const f = (gamma * Math.pow(u, gamma - 1) * pY * logPy - Math.pow(u, gamma)) / rows;
    for (let c = 0; c < classes; c++) {
      const p = grad[row + c]! / sumExp;
      grad[row + c] = ((c === y ? 1 : 0) - p) * f;
    }
  }
  return rows > 0 ? sum / rows : 0;
}
