// Conformance table for `{ compat }`: per preset, the engine (both builds) against a float64 reference of that
// library's formula, written from its source (file and commit cited beside each reference). Losses per element
// ('none') within 1e-5 relative, reductions within 1e-6; the gradient of the 'mean' loss against a central
// difference of the same reference (1e-5 of its largest entry). Inputs stay where the libraries' clamps
// (Keras' clip to [1e-7, 1 - 1e-7], mmcv's max(p, FLT_MIN)) do not act: the engine does not clamp.
import { beforeAll, describe, expect, test } from 'vitest';
import type { Focal } from '../src/index.js';
import { builds, rng } from './engines.js';
import { logSoftmaxRef, relativeError, worstRelativeError } from './reference.js';

const ELEMENT_TOLERANCE = 1e-5;
const REDUCTION_TOLERANCE = 1e-6;
const GRAD_TOLERANCE = 1e-5;

type Reduction = 'none' | 'mean' | 'sum';
/** A float64 reference: per-element (or per-row) losses, and how the library reduces them. */
interface RefResult {
  losses: Float64Array;
  /** The library's 'mean' divisor for these inputs. */
  meanDivisor: number;
}

const logSigmoid = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
/** BCE with logits, as torch's binary_cross_entropy_with_logits: max(x, 0) - x t + log1p(e^-|x|). */
const bceWithLogits = (x: number, t: number): number => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

// ---- the references, one per library ---------------------------------------------------------------------------

/** pytorch/vision torchvision/ops/focal_loss.py @ 148ddaaa5d27abc8300dbb4e689d1aea31892930, sigmoid_focal_loss:
 * ce = BCE-with-logits, p_t = p t + (1-p)(1-t), loss = ce (1-p_t)^gamma, times alpha_t when alpha >= 0; 'mean' =
 * loss.mean() over every element. Defaults alpha 0.25, gamma 2, reduction 'none'. */
function torchvisionRef(x: ArrayLike<number>, t: ArrayLike<number>, alpha = 0.25, gamma = 2): RefResult {
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    const p = sigmoid(x[i]!);
    const pT = p * t[i]! + (1 - p) * (1 - t[i]!);
    const loss = bceWithLogits(x[i]!, t[i]!) * (1 - pT) ** gamma;
    return alpha >= 0 ? (alpha * t[i]! + (1 - alpha) * (1 - t[i]!)) * loss : loss;
  });
  return { losses, meanDivisor: x.length };
}

/** kornia kornia/losses/focal.py, binary_focal_loss_with_logits as of kornia 0.7.1 (logsigmoid form, ignore_index
 * -100 masking; the stored kornia/kornia copy @ 0004e8bb9f399a02b811591c6450c7bba6dc3d6b is the older eps form):
 * pos = -alpha sigmoid(-x)^gamma t logsigmoid(x), neg = -(1-alpha) sigmoid(x)^gamma (1-t) logsigmoid(-x); ignored
 * elements (target = ignore_index) give 0 and stay in torch.mean's count. Defaults alpha 0.25, reduction 'none'. */
function korniaBinaryRef(x: ArrayLike<number>, t: ArrayLike<number>, alpha = 0.25, gamma = 2, ignore = -100): RefResult {
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    if (t[i] === ignore) return 0;
    const pos = -(sigmoid(-x[i]!) ** gamma) * t[i]! * logSigmoid(x[i]!);
    const neg = -(sigmoid(x[i]!) ** gamma) * (1 - t[i]!) * logSigmoid(-x[i]!);
    return alpha * pos + (1 - alpha) * neg;
  });
  return { losses, meanDivisor: x.length };
}

/** keras-team/keras keras/src/losses/losses.py @ 04bf53803f04e2af22c601df4748345aa405f704,
 * binary_focal_crossentropy(from_logits=True): p = sigmoid(x), bce on p clipped to [1e-7, 1 - 1e-7],
 * p_t = t p + (1-t)(1-p), loss = (1-p_t)^gamma bce, alpha_t only with apply_class_balancing (default False);
 * mean over the last axis, then 'sum_over_batch_size': for equal rows, the mean over every element. */
function kerasBinaryRef(x: ArrayLike<number>, t: ArrayLike<number>, gamma = 2): RefResult {
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    const p = sigmoid(x[i]!);
    const pc = Math.min(Math.max(p, 1e-7), 1 - 1e-7);
    const bce = -(t[i]! * Math.log(pc) + (1 - t[i]!) * Math.log(1 - pc));
    const pT = t[i]! * p + (1 - t[i]!) * (1 - p);
    return (1 - pT) ** gamma * bce;
  });
  return { losses, meanDivisor: x.length };
}

/** The same Keras file, binary_focal_crossentropy(from_logits=False) on probabilities p: bce on p clipped to
 * [epsilon, 1 - epsilon] (backend.epsilon() = 1e-7; Keras computes in float32, so the bounds are float32 values),
 * the focal factor (1 - p_t)^gamma on p as given; no class balancing by default; the mean over every element. */
function kerasBinaryProbsRef(p: ArrayLike<number>, t: ArrayLike<number>, gamma = 2): RefResult {
  const lo = Math.fround(1e-7);
  const hi = Math.fround(1 - 1e-7);
  const losses = Float64Array.from({ length: p.length }, (_, i) => {
    const pc = Math.min(Math.max(p[i]!, lo), hi);
    const bce = -(t[i]! * Math.log(pc) + (1 - t[i]!) * Math.log1p(-pc));
    const pT = t[i]! * p[i]! + (1 - t[i]!) * (1 - p[i]!);
    return (1 - pT) ** gamma * bce;
  });
  return { losses, meanDivisor: p.length };
}

/** open-mmlab/mmcv mmcv/ops/focal_loss.py @ 07a25f34b9024f5ac91efa134f38e7775a7546db with
 * mmcv/ops/csrc/common/cuda/sigmoid_focal_loss_cuda_kernel.cuh @ 469a21c03c58af7217d25f3a2e84d660c359612a:
 * N x C logits, a class index per row (C = background: every class negative); element (n, c):
 * -alpha (1-p)^gamma log(max(p, FLT_MIN)) if c = t_n, else -(1-alpha) p^gamma log(max(1-p, FLT_MIN));
 * 'mean' = sum / N (rows, not N x C). Defaults gamma 2, alpha 0.25, reduction 'mean'. */
function mmcvSigmoidRef(x: ArrayLike<number>, labels: ArrayLike<number>, classes: number, alpha = 0.25, gamma = 2): RefResult {
  const FLT_MIN = 1.1754943508222875e-38;
  const losses = Float64Array.from({ length: x.length }, (_, k) => {
    const p = sigmoid(x[k]!);
    const positive = labels[Math.floor(k / classes)] === k % classes;
    return positive
      ? -alpha * (1 - p) ** gamma * Math.log(Math.max(p, FLT_MIN))
      : -(1 - alpha) * p ** gamma * Math.log(Math.max(1 - p, FLT_MIN));
  });
  return { losses, meanDivisor: x.length / classes };
}

/** open-mmlab/mmdetection mmdet/models/losses/focal_loss.py @ 00e97308fa85d98e9049a312cee5f9a451a3f44b,
 * py_sigmoid_focal_loss: pt = (1-p) t + p (1-t) (i.e. 1 - p_t), focal_weight = alpha_t pt^gamma, loss = BCE x
 * focal_weight, weight_reduce_loss: 'mean' = loss.mean() over N x C, or sum / avg_factor when given. */
function mmdetRef(x: ArrayLike<number>, t: ArrayLike<number>, alpha = 0.25, gamma = 2, avgFactor?: number): RefResult {
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    const p = sigmoid(x[i]!);
    const pt = (1 - p) * t[i]! + p * (1 - t[i]!);
    return bceWithLogits(x[i]!, t[i]!) * (alpha * t[i]! + (1 - alpha) * (1 - t[i]!)) * pt ** gamma;
  });
  return { losses, meanDivisor: avgFactor ?? x.length };
}

/** qubvel-org/segmentation_models.pytorch segmentation_models_pytorch/losses/_functional.py @
 * 14c60e202bad4b0f5a14927950a1cab72f3af42e focal_loss_with_logits, and losses/focal.py @
 * 0d10bc20be06bdeb3eb2476bfaab8d6de9cbd6d1 FocalLoss (binary / multilabel mode): elements whose target is
 * ignore_index are filtered out; logpt = BCE, pt = exp(-logpt), loss = (1-pt)^gamma logpt, times alpha_t when alpha
 * is given (FocalLoss default None); 'mean' = loss.mean() over the kept elements. */
function smpRef(x: ArrayLike<number>, t: ArrayLike<number>, alpha: number | null = null, gamma = 2, ignore?: number): RefResult {
  let kept = 0;
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    if (ignore !== undefined && t[i] === ignore) return 0;
    kept++;
    const logpt = bceWithLogits(x[i]!, t[i]!);
    const loss = (1 - Math.exp(-logpt)) ** gamma * logpt;
    return alpha === null ? loss : loss * (alpha * t[i]! + (1 - alpha) * (1 - t[i]!));
  });
  return { losses, meanDivisor: kept };
}

/** Project-MONAI/MONAI monai/losses/focal_loss.py @ 00bb6413ffafaf0766e376a6c462d604ba9f08b7, sigmoid_focal_loss:
 * loss = x - x t - logsigmoid(x), times exp(gamma logsigmoid(-x (2t - 1))), times alpha_t when alpha is given
 * (default None); FocalLoss 'mean' = loss.mean() over every element. */
function monaiSigmoidRef(x: ArrayLike<number>, t: ArrayLike<number>, alpha: number | null = null, gamma = 2): RefResult {
  const losses = Float64Array.from({ length: x.length }, (_, i) => {
    const loss = (x[i]! - x[i]! * t[i]! - logSigmoid(x[i]!)) * Math.exp(gamma * logSigmoid(-x[i]! * (2 * t[i]! - 1)));
    return alpha === null ? loss : (t[i]! * alpha + (1 - t[i]!) * (1 - alpha)) * loss;
  });
  return { losses, meanDivisor: x.length };
}

/** Softmax rows: the class axis at `axis` of `shape` (positions in class-last order), as the Python libraries
 * index (N, C, *) tensors. Returns log p for each position's classes. */
function logSoftmaxAt(z: ArrayLike<number>, shape: readonly number[], axis: number): Float64Array[] {
  const C = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const rows = z.length / C;
  return Array.from({ length: rows }, (_, r) => {
    const o = Math.floor(r / inner);
    const i = r - o * inner;
    return logSoftmaxRef(Array.from({ length: C }, (_, c) => z[(o * C + c) * inner + i]!));
  });
}

/** kornia kornia/losses/focal.py, focal_loss as of kornia 0.7/0.8 (the form with alpha_fac = [1 - alpha] +
 * [alpha] * (C - 1) and ignore_index masking of the one-hot): loss_tmp = -(1 - p)^gamma log p one_hot, times
 * alpha_fac per class when alpha is given; torch.mean over the N x C x * tensor (ignored positions included).
 * Per position the loss is the sum over the class axis (one non-zero entry). */
function korniaSoftmaxRef(
  z: ArrayLike<number>, labels: ArrayLike<number>, shape: readonly number[], alpha: number | null, gamma = 2, ignore = -100,
): RefResult {
  const logP = logSoftmaxAt(z, shape, 1);
  const C = shape[1]!;
  const losses = Float64Array.from(logP, (lp, r) => {
    const y = labels[r]!;
    if (y === ignore) return 0;
    const a = alpha === null ? 1 : y === 0 ? 1 - alpha : alpha;
    return -a * (-Math.expm1(lp[y]!)) ** gamma * lp[y]!;
  });
  return { losses, meanDivisor: logP.length * C };
}

/** Project-MONAI/MONAI monai/losses/focal_loss.py @ 00bb6413ffafaf0766e376a6c462d604ba9f08b7, softmax_focal_loss
 * (use_softmax=True): loss = -(1 - p)^gamma log p target (one-hot), alpha_fac = [1 - alpha, alpha, ...] when alpha
 * is given; FocalLoss 'mean' = loss.mean() over B x C x spatial. */
function monaiSoftmaxRef(z: ArrayLike<number>, labels: ArrayLike<number>, shape: readonly number[], alpha: number | null, gamma = 2): RefResult {
  return korniaSoftmaxRef(z, labels, shape, alpha, gamma, Number.NaN); // the same formula, nothing ignored
}

/** keras-team/keras keras/src/losses/losses.py @ 04bf53803f04e2af22c601df4748345aa405f704,
 * categorical_focal_crossentropy(from_logits=True): p = softmax, clipped to [1e-7, 1 - 1e-7],
 * sum_c -alpha y_c (1 - p_c)^gamma log p_c (alpha on every class, default 0.25); 'sum_over_batch_size' divides by
 * the number of rows. */
function kerasCategoricalRef(z: ArrayLike<number>, labels: ArrayLike<number>, classes: number, alpha = 0.25, gamma = 2): RefResult {
  const logP = logSoftmaxAt(z, [z.length / classes, classes], 1);
  const losses = Float64Array.from(logP, (lp, r) => {
    const p = Math.min(Math.max(Math.exp(lp[labels[r]!]!), 1e-7), 1 - 1e-7);
    return -alpha * (1 - p) ** gamma * Math.log(p);
  });
  return { losses, meanDivisor: logP.length };
}

/** open-mmlab/mmcv mmcv/ops/focal_loss.py @ 07a25f34b9024f5ac91efa134f38e7775a7546db with
 * mmcv/ops/csrc/common/cuda/softmax_focal_loss_cuda_kernel.cuh @ 469a21c03c58af7217d25f3a2e84d660c359612a:
 * row n with label >= 0: -alpha (1 - p)^gamma log(max(p, FLT_MIN)) (alpha on every class, default 0.25); a
 * negative label gives 0; 'mean' = sum / N, ignored rows counted. */
function mmcvSoftmaxRef(z: ArrayLike<number>, labels: ArrayLike<number>, classes: number, alpha = 0.25, gamma = 2): RefResult {
  const logP = logSoftmaxAt(z, [z.length / classes, classes], 1);
  const losses = Float64Array.from(logP, (lp, r) => {
    const y = labels[r]!;
    return y < 0 ? 0 : -alpha * (-Math.expm1(lp[y]!)) ** gamma * lp[y]!;
  });
  return { losses, meanDivisor: logP.length };
}

// ---- the table ---------------------------------------------------------------------------------------------------

function reduce(ref: RefResult, reduction: Reduction): number | Float64Array {
  if (reduction === 'none') return ref.losses;
  let sum = 0;
  for (const l of ref.losses) sum += l;
  return reduction === 'sum' ? sum : sum / ref.meanDivisor;
}

interface Row {
  preset: string;
  what: string;
  /** The engine call: loss only, or loss and gradient. */
  call(fl: Focal, logits: Float32Array, options: Record<string, unknown>, withGrad: boolean): { loss: number | Float32Array; grad?: Float32Array };
  /** The reference for the current logits. */
  ref(z: ArrayLike<number>): RefResult;
  logits: Float32Array;
  /** Options beside compat (explicit reductions are added per check). */
  options: Record<string, unknown>;
  /** The library's default reduction, checked by a call without one. */
  defaultReduction: Reduction;
}

const random = rng(0xc0de);
const uniform = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (random() - 0.5) * 2 * scale);
const hard = (n: number): Float32Array => Float32Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
const labelsOf = (n: number, classes: number, ignoreEvery = 0): Int32Array =>
  Int32Array.from({ length: n }, (_, i) => (ignoreEvery && i % ignoreEvery === 3 ? -100 : Math.floor(random() * classes)));

const N = 64;
const C = 7;
const sigmoidCall = (t: ArrayLike<number>) => (fl: Focal, x: Float32Array, options: Record<string, unknown>, withGrad: boolean) =>
  withGrad ? fl.sigmoidFocalLossWithGrad(x, t as Float32Array, options) : { loss: fl.sigmoidFocalLoss(x, t as Float32Array, options) };
const binaryCall = (t: ArrayLike<number>) => (fl: Focal, p: Float32Array, options: Record<string, unknown>, withGrad: boolean) =>
  withGrad ? fl.binaryFocalLossWithGrad(p, t as Float32Array, options) : { loss: fl.binaryFocalLoss(p, t as Float32Array, options) };
const softmaxCall = (y: Int32Array) => (fl: Focal, x: Float32Array, options: Record<string, unknown>, withGrad: boolean) =>
  withGrad ? fl.softmaxFocalLossWithGrad(x, y, options) : { loss: fl.softmaxFocalLoss(x, y, options) };

const tvTargets = Float32Array.from({ length: N * C }, (_, i) => (i % 5 === 0 ? random() : random() < 0.3 ? 1 : 0));
const korniaTargets = hard(N * C).map((v, i) => (i % 11 === 4 ? -100 : v));
const kerasTargets = hard(N * C);
const mmcvLabels = Int32Array.from({ length: N }, () => Math.floor(random() * (C + 1))); // C: background
const mmcvOneHot = Float32Array.from({ length: N * C }, (_, k) => (mmcvLabels[Math.floor(k / C)] === k % C ? 1 : 0));
const mmdetTargets = hard(N * C);
const smpTargets = hard(N * C).map((v, i) => (i % 9 === 2 ? 255 : v));
const monaiTargets = hard(N * C);
const segShape = [2, 5, 3, 4];
const segLabels = labelsOf(2 * 3 * 4, 5, 7);
const monaiSegLabels = labelsOf(2 * 3 * 4, 5);
const kerasLabels = labelsOf(N, C);
const mmcvSoftLabels = labelsOf(N, C, 6);

const ROWS: Row[] = [
  { preset: 'torchvision', what: 'sigmoidFocalLoss, hard and soft targets', logits: uniform(N * C, 8), options: {},
    defaultReduction: 'none', call: sigmoidCall(tvTargets), ref: (x) => torchvisionRef(x, tvTargets) },
  { preset: 'torchvision', what: 'sigmoidFocalLoss, alpha -1 (none), gamma 0.5', logits: uniform(N * C, 8),
    options: { alpha: -1, gamma: 0.5 }, defaultReduction: 'none', call: sigmoidCall(tvTargets),
    ref: (x) => torchvisionRef(x, tvTargets, -1, 0.5) },
  { preset: 'kornia', what: 'sigmoidFocalLoss, ignoreIndex -100 (counted by mean)', logits: uniform(N * C, 8),
    options: { ignoreIndex: -100 }, defaultReduction: 'none', call: sigmoidCall(korniaTargets),
    ref: (x) => korniaBinaryRef(x, korniaTargets) },
  { preset: 'keras', what: 'sigmoidFocalLoss (BinaryFocalCrossentropy, from_logits)', logits: uniform(N * C, 8), options: {},
    defaultReduction: 'mean', call: sigmoidCall(kerasTargets), ref: (x) => kerasBinaryRef(x, kerasTargets) },
  { preset: 'keras', what: 'binaryFocalLoss (BinaryFocalCrossentropy on probabilities)',
    logits: Float32Array.from({ length: N * C }, () => 0.02 + 0.96 * random()), options: {}, defaultReduction: 'mean',
    call: binaryCall(kerasTargets), ref: (p) => kerasBinaryProbsRef(p, kerasTargets) },
  { preset: 'mmcv', what: 'sigmoidFocalLoss, one-hot of class indices, mean over N rows', logits: uniform(N * C, 8),
    options: { classes: C }, defaultReduction: 'mean', call: sigmoidCall(mmcvOneHot),
    ref: (x) => mmcvSigmoidRef(x, mmcvLabels, C) },
  { preset: 'mmdet', what: 'sigmoidFocalLoss', logits: uniform(N * C, 8), options: {}, defaultReduction: 'mean',
    call: sigmoidCall(mmdetTargets), ref: (x) => mmdetRef(x, mmdetTargets) },
  { preset: 'mmdet', what: 'sigmoidFocalLoss, avg_factor as normalizer', logits: uniform(N * C, 8),
    options: { normalizer: 37 }, defaultReduction: 'mean', call: sigmoidCall(mmdetTargets),
    ref: (x) => mmdetRef(x, mmdetTargets, 0.25, 2, 37) },
  { preset: 'smp', what: 'sigmoidFocalLoss, ignoreIndex 255 (not counted), alpha 0.25', logits: uniform(N * C, 8),
    options: { ignoreIndex: 255, alpha: 0.25 }, defaultReduction: 'mean', call: sigmoidCall(smpTargets),
    ref: (x) => smpRef(x, smpTargets, 0.25, 2, 255) },
  { preset: 'smp', what: 'sigmoidFocalLoss, defaults (no alpha)', logits: uniform(N * C, 8), options: {},
    defaultReduction: 'mean', call: sigmoidCall(mmdetTargets), ref: (x) => smpRef(x, mmdetTargets) },
  { preset: 'monai', what: 'sigmoidFocalLoss', logits: uniform(N * C, 8), options: {}, defaultReduction: 'mean',
    call: sigmoidCall(monaiTargets), ref: (x) => monaiSigmoidRef(x, monaiTargets) },
  { preset: 'monai', what: 'sigmoidFocalLoss, alpha 0.25', logits: uniform(N * C, 8), options: { alpha: 0.25 },
    defaultReduction: 'mean', call: sigmoidCall(monaiTargets), ref: (x) => monaiSigmoidRef(x, monaiTargets, 0.25) },
  { preset: 'kornia', what: 'softmaxFocalLoss NCHW, alpha 0.25 (class 0: 0.75), ignore -100', logits: uniform(2 * 5 * 12, 4),
    options: { shape: segShape, classAxis: 1, alpha: 0.25 }, defaultReduction: 'none', call: softmaxCall(segLabels),
    ref: (x) => korniaSoftmaxRef(x, segLabels, segShape, 0.25) },
  { preset: 'monai', what: 'softmaxFocalLoss NCHW, alpha 0.25 (class 0: 0.75)', logits: uniform(2 * 5 * 12, 4),
    options: { shape: segShape, classAxis: 1, alpha: 0.25 }, defaultReduction: 'mean', call: softmaxCall(monaiSegLabels),
    ref: (x) => monaiSoftmaxRef(x, monaiSegLabels, segShape, 0.25) },
  { preset: 'monai', what: 'softmaxFocalLoss NCHW, defaults (no alpha)', logits: uniform(2 * 5 * 12, 4),
    options: { shape: segShape, classAxis: 1 }, defaultReduction: 'mean', call: softmaxCall(monaiSegLabels),
    ref: (x) => monaiSoftmaxRef(x, monaiSegLabels, segShape, null) },
  { preset: 'keras', what: 'softmaxFocalLoss (CategoricalFocalCrossentropy, from_logits)', logits: uniform(N * C, 4),
    options: {}, defaultReduction: 'mean', call: softmaxCall(kerasLabels), ref: (x) => kerasCategoricalRef(x, kerasLabels, C) },
  { preset: 'mmcv', what: 'softmaxFocalLoss, label -100 rows give 0 and count in mean', logits: uniform(N * C, 4),
    options: {}, defaultReduction: 'mean', call: softmaxCall(mmcvSoftLabels), ref: (x) => mmcvSoftmaxRef(x, mmcvSoftLabels, C) },
  { preset: 'mmcv', what: 'softmaxFocalLoss, explicit alpha 0.5 and gamma 1 override the defaults', logits: uniform(N * C, 4),
    options: { alpha: 0.5, gamma: 1 }, defaultReduction: 'mean', call: softmaxCall(mmcvSoftLabels),
    ref: (x) => mmcvSoftmaxRef(x, mmcvSoftLabels, C, 0.5, 1) },
];

const worst: Record<string, number> = {};
function note(key: string, error: number): void {
  worst[key] = Math.max(worst[key] ?? 0, error);
}

for (const build of builds) {
  describe(`compat presets (${build.name})`, () => {
    let fl: Focal;
    beforeAll(async () => {
      fl = await build.create();
    });

    for (const row of ROWS) {
      test(`${row.preset}: ${row.what}`, () => {
        const base = { ...row.options, compat: row.preset };
        const ref = row.ref(row.logits);
        for (const reduction of ['none', 'mean', 'sum'] as const) {
          if (reduction !== 'mean' && 'normalizer' in row.options) continue;
          const got = row.call(fl, row.logits, { ...base, reduction }, false).loss;
          const want = reduce(ref, reduction);
          if (reduction === 'none') {
            const { error, index } = worstRelativeError(got as Float32Array, want as Float64Array);
            note(`${row.preset} none`, error);
            expect(error, `${row.preset} element ${index}`).toBeLessThanOrEqual(ELEMENT_TOLERANCE);
          } else {
            const error = relativeError(got as number, want as number);
            note(`${row.preset} ${reduction}`, error);
            expect(error, `${row.preset} ${reduction}`).toBeLessThanOrEqual(REDUCTION_TOLERANCE);
          }
        }
        // The library's default reduction, with no reduction given.
        const byDefault = row.call(fl, row.logits, base, false).loss;
        if (row.defaultReduction === 'none') expect(byDefault).toBeInstanceOf(Float32Array);
        else expect(relativeError(byDefault as number, reduce(ref, 'mean') as number)).toBeLessThanOrEqual(REDUCTION_TOLERANCE);

        // Gradient of the library's 'mean' loss: a central difference of the reference, per logit.
        const { grad } = row.call(fl, row.logits, { ...base, reduction: 'mean' }, true);
        const x = Float64Array.from(row.logits);
        const mean = (v: Float64Array): number => reduce(row.ref(v), 'mean') as number;
        const numeric = Float64Array.from(x, (xi, k) => {
          const h = 1e-6 * Math.max(1, Math.abs(xi));
          x[k] = xi + h;
          const up = mean(x);
          x[k] = xi - h;
          const down = mean(x);
          x[k] = xi;
          return (up - down) / (2 * h);
        });
        const scale = numeric.reduce((m, g) => Math.max(m, Math.abs(g)), 0);
        let error = 0;
        for (let k = 0; k < numeric.length; k++) error = Math.max(error, Math.abs(grad![k]! - numeric[k]!) / scale);
        note(`${row.preset} grad`, error);
        expect(error, `${row.preset} gradient`).toBeLessThanOrEqual(GRAD_TOLERANCE);
      });
    }

    test('presets without a softmax focal loss, unknown presets, wrong types', () => {
      const logits = uniform(12, 2);
      const y = Int32Array.of(0, 1, 2, 0);
      for (const compat of ['torchvision', 'mmdet', 'smp']) {
        expect(() => fl.softmaxFocalLoss(logits, y, { compat } as never)).toThrow(RangeError);
        expect(() => fl.softmaxFocalLoss(logits, y, { compat } as never)).toThrow(new RegExp(`options.compat = '${compat}'`));
      }
      expect(() => fl.softmaxFocalLoss(logits, y, { compat: 'pytorch' } as never)).toThrow(/options\.compat = 'pytorch': expected one of/);
      expect(() => fl.sigmoidFocalLoss(logits, hard(12), { compat: 3 } as never)).toThrow(TypeError);
      expect(() => fl.binaryFocalLoss(hard(12), hard(12), { compat: 'torchvision' })).toThrow(/options\.compat = 'torchvision': not available for binaryFocalLoss/);
      // mmcv's sigmoid 'mean' divides by N rows: it needs C.
      expect(() => fl.sigmoidFocalLoss(logits, hard(12), { compat: 'mmcv' })).toThrow(/options\.classes = undefined/);
      // kornia's alpha convention still validates alpha.
      expect(() => fl.softmaxFocalLoss(logits, y, { compat: 'kornia', alpha: 2 })).toThrow(RangeError);
      // An explicit alpha array is used as given under kornia's convention.
      const a = [0.1, 0.2, 0.7];
      expect(fl.softmaxFocalLoss(logits, y, { compat: 'kornia', alpha: a, reduction: 'sum' }))
        .toBe(fl.softmaxFocalLoss(logits, y, { alpha: a, reduction: 'sum' }));
    });
  });
}

test('worst errors against the libraries\' references', () => {
  console.log(Object.entries(worst).map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('\n'));
  expect(Object.keys(worst).length).toBeGreaterThan(0);
});
