// The demo's model and its training loop: logistic regression over the anchor features, trained by Adam on the
// gradient that sigmoidFocalLossWithGrad returns for the logits (the chain rule to the weights by hand), and the
// metrics of the rare class: average precision, recall at a fixed false-positive rate, where the loss comes from.
import type { Focal } from '../src/index.js';
import { rng, type DataSet } from './data.js';

export interface LossChoice {
  name: string;
  alpha: number | null;
  gamma: number;
}

export const CE: LossChoice = { name: 'cross-entropy', alpha: null, gamma: 0 };
export const FOCAL: LossChoice = { name: 'focal', alpha: 0.25, gamma: 2 };

export interface TrainConfig {
  steps: number;
  batch: number;
  learningRate: number;
  /** Evaluate on the test set every this many steps (and after the last). */
  evalEvery: number;
  seed: number;
  /** The paper's prior initialization (section 3.3): the bias starts at -log((1 - pi) / pi). */
  prior: number;
}

export interface Metrics {
  step: number;
  ap: number;
  recallAtFpr: number;
  /** Share of the loss (the run's own loss, on held-out anchors) that comes from easy negatives (p_t > 0.9). */
  easyShare: number;
  /** The same loss, as a share of the loss of all negatives (the paper's Fig. 4 looks at negatives alone). */
  easyShareOfNegatives: number;
}

export interface TrainResult {
  loss: LossChoice;
  curve: Metrics[];
  final: Metrics;
  weights: Float64Array;
  bias: number;
}

/** The false-positive rate at which recall is reported: one false alarm per 1000 negatives. */
export const FPR = 1e-3;
/** An example is "easy" when the model already gives it p_t above this (the paper's 100x point). */
export const EASY_PT = 0.9;

export function scores(data: DataSet, w: Float64Array, b: number, out: Float32Array): Float32Array {
  const { x, n, features } = data;
  for (let i = 0; i < n; i++) {
    let s = b;
    const row = i * features;
    for (let f = 0; f < features; f++) s += w[f]! * x[row + f]!;
    out[i] = s;
  }
  return out;
}

/** The scores of the positives and of the negatives, each sorted descending (native typed-array sort). */
export function splitSorted(score: Float32Array, y: Float32Array): { positives: Float32Array; negatives: Float32Array } {
  let count = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) count++;
  const positives = new Float32Array(count);
  const negatives = new Float32Array(y.length - count);
  let p = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) positives[p++] = score[i]!;
    else negatives[n++] = score[i]!;
  }
  return { positives: positives.sort().reverse(), negatives: negatives.sort().reverse() };
}

/** How many of the descending `sorted` are >= value (binary search). */
function countAtLeast(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! >= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Average precision of the positives ranked by score: the mean over positives of the precision at its rank.
 * A negative tied with a positive counts as ranked above it (the pessimistic convention).
 */
export function averagePrecision(positives: Float32Array, negatives: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < positives.length; k++) {
    const falseAbove = countAtLeast(negatives, positives[k]!);
    sum += (k + 1) / (k + 1 + falseAbove);
  }
  return positives.length === 0 ? 0 : sum / positives.length;
}

/** Share of positives scored strictly above the threshold that lets through `fpr` of the negatives. */
export function recallAtFpr(positives: Float32Array, negatives: Float32Array, fpr: number): number {
  const allowed = Math.floor(fpr * negatives.length);
  const threshold = negatives[allowed] ?? -Infinity; // scores strictly above it pass: at most `allowed` negatives
  let found = 0;
  for (const s of positives) if (s > threshold) found++;
  return positives.length === 0 ? 0 : found / positives.length;
}

/**
 * The share of the summed per-anchor loss that comes from negatives the model already gets right with p_t > 0.9,
 * of the whole loss and of the negatives' loss.
 */
export function easyNegativeShare(
  fl: Focal, logits: Float32Array, y: Float32Array, loss: LossChoice,
): { ofTotal: number; ofNegatives: number } {
  const perAnchor = fl.sigmoidFocalLoss(logits, y, { alpha: loss.alpha, gamma: loss.gamma, reduction: 'none' }) as Float32Array;
  const easyLogit = Math.log((1 - EASY_PT) / EASY_PT); // p < 0.1 for a negative is p_t > 0.9
  let total = 0;
  let negatives = 0;
  let easy = 0;
  for (let i = 0; i < perAnchor.length; i++) {
    total += perAnchor[i]!;
    if (y[i] !== 0) continue;
    negatives += perAnchor[i]!;
    if (logits[i]! < easyLogit) easy += perAnchor[i]!;
  }
  return { ofTotal: total > 0 ? easy / total : 0, ofNegatives: negatives > 0 ? easy / negatives : 0 };
}

/** The metrics of the model (w, b) on held-out anchors, the loss shares under the run's own loss. */
export function evaluate(
  fl: Focal, test: DataSet, w: Float64Array, b: number, loss: LossChoice, step: number, buffer: Float32Array,
): Metrics {
  const testScores = scores(test, w, b, buffer);
  const share = easyNegativeShare(fl, testScores, test.y, loss);
  const { positives, negatives } = splitSorted(testScores, test.y);
  return {
    step,
    ap: averagePrecision(positives, negatives),
    recallAtFpr: recallAtFpr(positives, negatives, FPR),
    easyShare: share.ofTotal,
    easyShareOfNegatives: share.ofNegatives,
  };
}

/**
 * Trains logistic regression p = sigmoid(w . x + b) with Adam. Each step takes the next batch of anchors (as a
 * detector takes the anchors of the next image), gets d loss / d logit from the engine, and backpropagates by hand:
 * d loss / d w_f = sum_i g_i x_if, d loss / d b = sum_i g_i. The loss is normalized by the number of positives in
 * the batch, as in the paper.
 */
export function train(
  fl: Focal, data: { train: DataSet; test: DataSet }, loss: LossChoice, config: TrainConfig,
  onStep?: (step: number) => void,
): TrainResult {
  const { train: set, test } = data;
  const { features } = set;
  const random = rng(config.seed);
  const w = new Float64Array(features);
  for (let f = 0; f < features; f++) w[f] = (random() - 0.5) * 0.02;
  let b = -Math.log((1 - config.prior) / config.prior);
  const m = new Float64Array(features + 1);
  const v = new Float64Array(features + 1);
  const grad = new Float64Array(features + 1);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const batch = Math.min(config.batch, set.n);
  const logits = new Float32Array(batch);
  const targets = new Float32Array(batch);
  const dLogits = new Float32Array(batch);
  const buffer = new Float32Array(test.n);
  const curve: Metrics[] = [evaluate(fl, test, w, b, loss, 0, buffer)];
  let offset = 0;
  for (let step = 1; step <= config.steps; step++) {
    let positives = 0;
    for (let i = 0; i < batch; i++) {
      const k = (offset + i) % set.n;
      const row = k * features;
      let s = b;
      for (let f = 0; f < features; f++) s += w[f]! * set.x[row + f]!;
      logits[i] = s;
      targets[i] = set.y[k]!;
      positives += targets[i]!;
    }
    fl.sigmoidFocalLossWithGrad(logits, targets, {
      alpha: loss.alpha, gamma: loss.gamma, reduction: 'mean', normalizer: Math.max(1, positives), gradOut: dLogits,
    });
    grad.fill(0);
    for (let i = 0; i < batch; i++) {
      const g = dLogits[i]!;
      if (g === 0) continue;
      const row = ((offset + i) % set.n) * features;
      for (let f = 0; f < features; f++) grad[f]! += g * set.x[row + f]!;
      grad[features]! += g;
    }
    offset = (offset + batch) % set.n;
    const c1 = 1 - beta1 ** step;
    const c2 = 1 - beta2 ** step;
    for (let j = 0; j <= features; j++) {
      m[j] = beta1 * m[j]! + (1 - beta1) * grad[j]!;
      v[j] = beta2 * v[j]! + (1 - beta2) * grad[j]! ** 2;
      const update = (config.learningRate * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + eps);
      if (j < features) w[j]! -= update;
      else b -= update;
    }
    if (step % config.evalEvery === 0 || step === config.steps) curve.push(evaluate(fl, test, w, b, loss, step, buffer));
    onStep?.(step);
  }
  return { loss, curve, final: curve[curve.length - 1]!, weights: w, bias: b };
}

