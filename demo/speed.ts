// The demo's closing line: the engine beside the loop a user would write in plain TypeScript, both computing the
// mean sigmoid focal loss and its gradient over the same N = 1e6 logits, timed on the spot (median of a few runs).
import type { Focal } from '../src/index.js';
import { normal, rng } from './data.js';

export interface SpeedResult {
  n: number;
  engineMs: number;
  plainMs: number;
  /** Largest |engine grad - plain grad| relative to the largest |plain grad|, and the loss's relative difference. */
  gradDiff: number;
  lossDiff: number;
  simd: boolean;
}

/**
 * Plain TypeScript, stable form (softplus for the log terms), float64 arithmetic, alpha = 0.25, gamma = 2:
 * loss = alpha_t q^2 ce with q = 1 - p_t; d loss / dx = alpha_t (2 q (dq/dx) ce + q^2 (p - t)), dq/dx = p(1-p)(1-2t).
 */
export function plainFocalWithGrad(logits: Float32Array, targets: Float32Array, grad: Float32Array): number {
  const n = logits.length;
  const alpha = 0.25;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const x = logits[i]!;
    const t = targets[i]!;
    const e = Math.exp(-Math.abs(x));
    const p = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    const softplusAbs = Math.log1p(e);
    const ce = t * (Math.max(-x, 0) + softplusAbs) + (1 - t) * (Math.max(x, 0) + softplusAbs);
    const q = t * (1 - p) + (1 - t) * p;
    const alphaT = alpha * t + (1 - alpha) * (1 - t);
    sum += alphaT * q * q * ce;
    grad[i] = (alphaT * (2 * q * p * (1 - p) * (1 - 2 * t) * ce + q * q * (p - t))) / n;
  }
  return sum / n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function measureSpeed(fl: Focal, n = 1_000_000, runs = 7): SpeedResult {
  const gauss = normal(rng(42));
  const random = rng(43);
  const logits = Float32Array.from({ length: n }, () => 3 * gauss());
  const targets = Float32Array.from({ length: n }, () => (random() < 0.01 ? 1 : 0));
  const engineGrad = new Float32Array(n);
  const plainGrad = new Float32Array(n);
  const options = { alpha: 0.25, gamma: 2, reduction: 'mean', gradOut: engineGrad } as const;
  let engineLoss = 0;
  let plainLoss = 0;
  const engineTimes: number[] = [];
  const plainTimes: number[] = [];
  for (let r = 0; r < runs + 2; r++) { // two warm-up runs each, interleaved so both see the same machine state
    let t0 = performance.now();
    engineLoss = fl.sigmoidFocalLossWithGrad(logits, targets, options).loss as number;
    if (r >= 2) engineTimes.push(performance.now() - t0);
    t0 = performance.now();
    plainLoss = plainFocalWithGrad(logits, targets, plainGrad);
    if (r >= 2) plainTimes.push(performance.now() - t0);
  }
  let maxGrad = 0;
  let maxDiff = 0;
  for (let i = 0; i < n; i++) {
    maxGrad = Math.max(maxGrad, Math.abs(plainGrad[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(engineGrad[i]! - plainGrad[i]!));
  }
  return {
    n, engineMs: median(engineTimes), plainMs: median(plainTimes), simd: fl.simd,
    gradDiff: maxDiff / maxGrad, lossDiff: Math.abs(engineLoss - plainLoss) / Math.abs(plainLoss),
  };
}
