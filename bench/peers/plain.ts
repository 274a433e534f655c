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

/**
 * Alibaba-MIIL's AsymmetricLoss (src/loss_functions/losses.py) as a user would transcribe it, with the anchor's
 * defaults (gamma_neg 4, gamma_pos 1, clip 0.05, eps 1e-8, the modulator detached): the sum of -loss * w. With a
 * gradient, d/dx of -w ce with w held constant (disable_torch_grad_focal_loss); the clamps pass no gradient.
 */
export function asymmetricPlain(logits: Float32Array, targets: Float32Array, grad?: Float32Array): number {
  const gammaPos = 1;
  const gammaNeg = 4;
  const clip = 0.05;
  const eps = 1e-8;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const y = targets[i]!;
    const xsPos = 1 / (1 + Math.exp(-logits[i]!));
    const xsNeg = Math.min(1 - xsPos + clip, 1);
    const loss = y * Math.log(Math.max(xsPos, eps)) + (1 - y) * Math.log(Math.max(xsNeg, eps));
    const pt = xsPos * y + xsNeg * (1 - y);
    const w = Math.pow(1 - pt, gammaPos * y + gammaNeg * (1 - y));
    sum -= loss * w;
    if (grad) {
      const dp = xsPos * (1 - xsPos);
      const dPos = xsPos > eps ? (y * dp) / xsPos : 0;
      const dNeg = 1 - xsPos + clip < 1 && xsNeg > eps ? ((1 - y) * -dp) / xsNeg : 0;
      grad[i] = -w * (dPos + dNeg);
    }
  }
  return sum;
}

/**
 * mmdet's distribution_focal_loss (mmdet/models/losses/gfocal_loss.py) with 'mean' over the rows: logits N×bins,
 * one continuous target in [0, bins - 1] per row, CE(z, l) (l + 1 - y) + CE(z, l + 1) (y - l), l = floor(y); a
 * log-softmax by max-subtraction. With a gradient: (p_j - t_j) / N, t the two target weights.
 */
export function distributionFocalPlain(logits: Float32Array, targets: Float32Array, bins: number, grad?: Float32Array): number {
  const rows = targets.length;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const at = r * bins;
    let m = -Infinity;
    for (let j = 0; j < bins; j++) m = Math.max(m, logits[at + j]!);
    let s = 0;
    for (let j = 0; j < bins; j++) s += Math.exp(logits[at + j]! - m);
    const logS = Math.log(s) + m;
    const y = targets[r]!;
    const l = Math.floor(y);
    const wl = l + 1 - y;
    const wr = y - l;
    sum += wl * (logS - logits[at + l]!) + (wr > 0 ? wr * (logS - logits[at + l + 1]!) : 0);
    if (grad) {
      for (let j = 0; j < bins; j++) {
        const t = j === l ? wl : j === l + 1 ? wr : 0;
        grad[at + j] = (Math.exp(logits[at + j]! - logS) - t) / rows;
      }
    }
  }
  return rows > 0 ? sum / rows : 0;
}

/**
 * Deformable-DETR's focal matching cost (models/matcher.py, HungarianMatcher cost_class) as the anchor computes it:
 * the negative and positive costs of every query and class, then the columns of the targets' classes.
 * Q×C logits, M target classes; returns the Q×M cost, row q, column m.
 */
export function focalMatchingCostPlain(logits: Float32Array, classes: number, targetClasses: Int32Array): Float32Array {
  const alpha = 0.25;
  const gamma = 2;
  const queries = logits.length / classes;
  const neg = new Float64Array(logits.length);
  const pos = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const p = 1 / (1 + Math.exp(-logits[i]!));
    neg[i] = (1 - alpha) * Math.pow(p, gamma) * -Math.log(1 - p + 1e-8);
    pos[i] = alpha * Math.pow(1 - p, gamma) * -Math.log(p + 1e-8);
  }
  const targets = targetClasses.length;
  const cost = new Float32Array(queries * targets);
  for (let q = 0; q < queries; q++) {
    for (let m = 0; m < targets; m++) {
      const at = q * classes + targetClasses[m]!;
      cost[q * targets + m] = pos[at]! - neg[at]!;
    }
  }
  return cost;
}

/**
 * MONAI DiceLoss (monai/losses/dice.py) with softmax=True, to_onehot_y=True and its defaults, 'mean': logits
 * N×C×S, one class index per position. Per (item, class): I = sum p t, P = sum p, G = sum t,
 * loss = 1 - (2I + 1e-5) / (P + G + 1e-5), averaged. With a gradient: dL/dp = (-2 / den) t + num / den^2 (over
 * N C), back through the softmax p_c (g_c - sum_j p_j g_j).
 */
export function dicePlain(logits: Float32Array, labels: Int32Array, N: number, C: number, grad?: Float32Array): number {
  const S = labels.length / N;
  const p = new Float64Array(logits.length);
  const sums = new Float64Array(N * C * 3);
  for (let b = 0; b < N; b++) {
    for (let s = 0; s < S; s++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, logits[(b * C + c) * S + s]!);
      let total = 0;
      for (let c = 0; c < C; c++) total += Math.exp(logits[(b * C + c) * S + s]! - max);
      for (let c = 0; c < C; c++) {
        const i = (b * C + c) * S + s;
        const pc = Math.exp(logits[i]! - max) / total;
        const t = labels[b * S + s] === c ? 1 : 0;
        p[i] = pc;
        const k = (b * C + c) * 3;
        sums[k] = sums[k]! + pc * t;
        sums[k + 1] = sums[k + 1]! + pc;
        sums[k + 2] = sums[k + 2]! + t;
      }
    }
  }
  let loss = 0;
  for (let k = 0; k < N * C; k++) loss += 1 - (2 * sums[3 * k]! + 1e-5) / (sums[3 * k + 1]! + sums[3 * k + 2]! + 1e-5);
  if (grad) {
    const g = new Float64Array(C);
    for (let b = 0; b < N; b++) {
      for (let s = 0; s < S; s++) {
        let dot = 0;
        for (let c = 0; c < C; c++) {
          const k = b * C + c;
          const den = sums[3 * k + 1]! + sums[3 * k + 2]! + 1e-5;
          const num = 2 * sums[3 * k]! + 1e-5;
          const t = labels[b * S + s] === c ? 1 : 0;
          g[c] = ((-2 / den) * t + num / (den * den)) / (N * C);
          dot += p[k * S + s]! * g[c]!;
        }
        for (let c = 0; c < C; c++) grad[(b * C + c) * S + s] = p[(b * C + c) * S + s]! * (g[c]! - dot);
      }
    }
  }
  return loss / (N * C);
}
