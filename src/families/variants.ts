// The sigmoid family beyond torchvision's focal loss: FL*, Quality Focal Loss, Varifocal Loss and Poly-1 focal.
// Each is its options and its kernel's parameters; the inputs, masks, class weights and reductions are the
// family's (common.ts), the loop the elementwise driver's, the arithmetic assembly/sigmoid/variants.ts's.
import { FLAG_DETACH_MODULATOR, FLAG_IOU_WEIGHTED } from '../core/abi.js';
import type { ElementwisePlan } from '../core/elementwise.js';
import { gammaMode } from '../core/params.js';
import { alphaOption, booleanOption, finiteOption, gammaOption, show } from '../options/checks.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import {
  MASK_OPTIONS, REDUCTION_OPTIONS, sigmoidFamilyPlan, type GradOutOptions, type ReductionOptions, type SigmoidMaskOptions,
} from './common.js';
import { DEFAULTS } from '../options/defaults.js';

/** Options of `sigmoidFocalLossStar` (FL*). */
export interface SigmoidFocalStarOptions extends SigmoidMaskOptions, ReductionOptions {
  /** alpha_t = alpha t + (1 - alpha)(1 - t). Default null (fvcore's -1: no weighting). */
  alpha?: number | null;
  /** > 0. Default 1 (fvcore). */
  gamma?: number;
  /** The paper's shift: p_t* = sigmoid(gamma x_t + beta). Default 0 (fvcore has no beta). */
  beta?: number;
}
export interface SigmoidFocalStarGradOptions extends SigmoidFocalStarOptions, GradOutOptions {}

/** Options of `qualityFocalLoss` (QFL). */
export interface QualityFocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Exponent of |t - sigma(x)|, >= 0. Default 2 (mmdet, the paper). */
  beta?: number;
}
export interface QualityFocalGradOptions extends QualityFocalOptions, GradOutOptions {}

/** Options of `varifocalLoss` (VFL). */
export interface VarifocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Weight of the negatives (t = 0), finite and >= 0. Default 0.75 (mmdet). */
  alpha?: number;
  /** Exponent of p on the negatives, >= 0. Default 2. */
  gamma?: number;
  /** Weight each positive by its target q (true, default) or by 1. */
  iouWeighted?: boolean;
  /** true: the weight is a constant of the gradient (RT-DETR's `weight.detach()`): the loss is unchanged; the
   * negatives' gradient is alpha p^gamma p (their weight alpha p^gamma detached), the positives' is unchanged
   * (their weight q, or 1, does not depend on the logit). Default false (mmdet: not detached). */
  detachModulator?: boolean;
}
export interface VarifocalGradOptions extends VarifocalOptions, GradOutOptions {}

/** Options of `polyFocalLoss` (Poly-1 focal). */
export interface PolyFocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** As sigmoidFocalLoss: default 0.25, null or < 0 for none. Weighs the focal term only. */
  alpha?: number | null;
  /** Default 2. */
  gamma?: number;
  /** Coefficient of (1 - p_t)^(gamma+1), any finite number. Default 1. */
  epsilon?: number;
}
export interface PolyFocalGradOptions extends PolyFocalOptions, GradOutOptions {}

const SHARED = [...REDUCTION_OPTIONS, ...MASK_OPTIONS];
export const STAR_OPTIONS = knownOptions(['alpha', 'gamma', 'beta', ...SHARED]);
export const QUALITY_OPTIONS = knownOptions(['beta', ...SHARED]);
export const VARIFOCAL_OPTIONS = knownOptions(['alpha', 'gamma', 'iouWeighted', 'detachModulator', ...SHARED]);
export const POLY_OPTIONS = knownOptions(['alpha', 'gamma', 'epsilon', ...SHARED]);

export function starPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const options = lossOptionsOf(optionsArg, STAR_OPTIONS, 'sigmoidFocalLossStar', withGrad);
  const alpha = alphaOption(options.alpha, 'options.alpha', DEFAULTS.sigmoidFocalLossStar.alpha);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.sigmoidFocalLossStar.gamma);
  if (gamma === 0) throw new RangeError('options.gamma = 0: expected a finite number > 0 (FL* divides by gamma)');
  const shift = finiteOption(options.beta, 'options.beta', DEFAULTS.sigmoidFocalLossStar.beta);
  return sigmoidFamilyPlan(logits, targets, options, withGrad, { kernel: 'sigmoidFocalStar', params: { alpha, gamma, shift } });
}

export function qualityPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const options = lossOptionsOf(optionsArg, QUALITY_OPTIONS, 'qualityFocalLoss', withGrad);
  const beta = gammaOption(options.beta, 'options.beta', DEFAULTS.qualityFocalLoss.beta);
  // The kernel's exponent field carries QFL's beta.
  return sigmoidFamilyPlan(logits, targets, options, withGrad, {
    kernel: 'qualityFocal', params: { gamma: beta, gammaMode: gammaMode(beta) },
  });
}

export function varifocalPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const options = lossOptionsOf(optionsArg, VARIFOCAL_OPTIONS, 'varifocalLoss', withGrad);
  const alpha = finiteOption(options.alpha, 'options.alpha', DEFAULTS.varifocalLoss.alpha);
  if (!(alpha >= 0)) throw new RangeError(`options.alpha = ${show(alpha)}: expected a finite number >= 0 (the weight of the negatives)`);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.varifocalLoss.gamma);
  const iouWeighted = booleanOption(options.iouWeighted, 'options.iouWeighted', DEFAULTS.varifocalLoss.iouWeighted);
  const detach = booleanOption(options.detachModulator, 'options.detachModulator', DEFAULTS.varifocalLoss.detachModulator);
  const flags = (iouWeighted ? FLAG_IOU_WEIGHTED : 0) | (detach ? FLAG_DETACH_MODULATOR : 0);
  return sigmoidFamilyPlan(logits, targets, options, withGrad, {
    kernel: 'varifocal', params: { alpha, gamma, gammaMode: gammaMode(gamma), flags },
  });
}

export function polyPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const options = lossOptionsOf(optionsArg, POLY_OPTIONS, 'polyFocalLoss', withGrad);
  const alpha = alphaOption(options.alpha, 'options.alpha', DEFAULTS.polyFocalLoss.alpha);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.polyFocalLoss.gamma);
  const epsilon = finiteOption(options.epsilon, 'options.epsilon', DEFAULTS.polyFocalLoss.epsilon);
  return sigmoidFamilyPlan(logits, targets, options, withGrad, {
    kernel: 'polyFocal', params: { alpha, gamma, gammaMode: gammaMode(gamma), epsilon },
  });
}
