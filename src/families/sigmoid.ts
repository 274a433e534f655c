// Binary and multi-label focal loss from logits (torchvision.ops.sigmoid_focal_loss semantics), with kornia's
// posWeight, smp's reduced and normalized focal terms, masks and class weights. One plan picks the kernel: the tuned
// plain kernel (assembly/sigmoid/focal.ts) when no mask or class option is given, else the focal member of the
// variant kernel (assembly/sigmoid/variants.ts), which also takes a per-class gamma and the detached modulator.
import { FLAG_DETACH_MODULATOR, FLAG_REDUCED, GAMMA_GENERAL } from '../core/abi.js';
import type { ElementwisePlan } from '../core/elementwise.js';
import { gammaMode } from '../core/params.js';
import {
  alphaOption, booleanOption, checkNumber, float16Option, gammaOption, perClassGammas, readable, show, smallFloats, type Floats,
} from '../options/checks.js';
import { sigmoidCompat, type Compat } from '../options/compat.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import {
  elementwiseArgs, elementwiseCall, elementwiseStreams, MASK_OPTIONS, REDUCTION_OPTIONS, sigmoidFamilyLocator, sigmoidFamilyPlan,
  type GradOutOptions, type ReductionOptions, type SigmoidMaskOptions,
} from './common.js';
import { DEFAULTS } from '../options/defaults.js';

/** Options of `sigmoidFocalLoss` (and of `sigmoidFocalLossWithGrad`, which adds `gradOut`). */
export interface SigmoidFocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Weight of the positive class: alpha_t = alpha t + (1 - alpha)(1 - t). Default 0.25; null or < 0: none. */
  alpha?: number | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (alpha-balanced) binary cross-entropy. Or one per class
   * (length C, each finite and >= 0: per-class focusing as long-tail detectors use it, EFL): element i of N x C
   * logits (class axis last) uses gamma[i mod C]. C is `classes`, else the length of classWeights or posWeight,
   * else the array's own length. 0, 1/2, 1 and 2 by the scalar gamma's exact forms, 3 and 4 by products, others by
   * the general pow: an array of equal values agrees with the scalar call to float32 rounding, not always bit for
   * bit. Not with `reducedThreshold`. */
  gamma?: number | Floats;
  /** true: the modulating factor alpha_t (1 - p_t)^gamma is a constant of the gradient (stop-gradient, as RT-DETR's
   * `weight.detach()`): the loss is unchanged and the gradient is alpha_t (1 - p_t)^gamma (p - t). With
   * `normalized`, the sum of the focal terms is then a constant too. Default false. */
  detachModulator?: boolean;
  /** kornia's pos_weight: weight of the positive term t log p inside the cross-entropy (BCEWithLogits
   * pos_weight); a number, or one per class (length C). Finite, >= 0. */
  posWeight?: number | Floats;
  /** smp's reduced focal loss: the focal term is ((1 - p_t) / threshold)^gamma where p_t >= threshold, 1 below.
   * In (0, 1]. */
  reducedThreshold?: number;
  /** smp's normalized focal loss: every loss divided by the sum of the focal terms (at least 1e-6), before the
   * reduction; the gradient includes that sum's dependence on the logits. Default false. */
  normalized?: boolean;
  /** A Python library's defaults and 'mean' divisor (see docs/compat.md); options given beside it
   * override its defaults. 'mmcv' divides 'mean' by N rows of N x C logits, so it needs `classes`. */
  compat?: Compat;
}

export interface SigmoidFocalGradOptions extends SigmoidFocalOptions, GradOutOptions {}

export const SIGMOID_FOCAL_OPTIONS = knownOptions([
  'alpha', 'gamma', ...REDUCTION_OPTIONS, ...MASK_OPTIONS, 'posWeight', 'reducedThreshold', 'normalized', 'detachModulator',
  'compat',
]);

export function sigmoidFocalPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const given = lossOptionsOf(optionsArg, SIGMOID_FOCAL_OPTIONS, 'sigmoidFocalLoss', withGrad);
  const options = sigmoidCompat(given, logits); // a compatibility preset's defaults under the options given
  const alpha = alphaOption(options.alpha, 'options.alpha', DEFAULTS.sigmoidFocalLoss.alpha);
  // A per-class gamma (an array) goes to the variant kernel; a number keeps the plain kernel's path and bits.
  // (typeof first: a number or absent gamma, every plain call, pays one test.)
  const gammas = perClassGammas(options.gamma, options);
  const gamma = gammas ? 0 : gammaOption(options.gamma, 'options.gamma', DEFAULTS.sigmoidFocalLoss.gamma);
  if (gammas || usesExtras(options)) return extrasPlan(logits, targets, options, withGrad, alpha, gamma, gammas);
  const args = elementwiseArgs(logits, targets, options, 'logits');
  const { weights } = args;
  const streams = elementwiseStreams(args, options, withGrad, 'logits');
  return {
    call: elementwiseCall('sigmoidFocal', args, streams, withGrad, { alpha, gamma, gammaMode: gammaMode(gamma) }),
    locator: () => sigmoidFamilyLocator(readable(args.first), readable(args.targets), weights && readable(weights), undefined, undefined),
  };
}

function usesExtras(options: Record<string, unknown>): boolean {
  // Named reads (a keyed read per name costs several times more on every call).
  return options.mask !== undefined || options.ignoreIndex !== undefined || options.classes !== undefined ||
    options.classWeights !== undefined || options.posWeight !== undefined || options.reducedThreshold !== undefined ||
    (options.normalized !== undefined && options.normalized !== false) ||
    (options.detachModulator !== undefined && options.detachModulator !== false);
}

/**
 * Masks, class weights, posWeight, reduced or normalized focal terms, a per-class gamma (`gammas`, then `gamma` is
 * unused), the detached modulator: the focal member of the variant kernel.
 */
function extrasPlan(
  logits: unknown, targets: unknown, options: Record<string, unknown>, withGrad: boolean, alpha: number, gamma: number,
  gammas?: Floats,
): ElementwisePlan {
  let threshold = 0;
  let thresholdScale = 1;
  let flags = 0;
  if (booleanOption(options.detachModulator, 'options.detachModulator', DEFAULTS.sigmoidFocalLoss.detachModulator)) {
    flags |= FLAG_DETACH_MODULATOR;
  }
  if (options.reducedThreshold !== undefined && gammas) {
    throw new RangeError('options.reducedThreshold: expected a number gamma (threshold^-gamma is one factor), not a per-class options.gamma');
  }
  if (options.reducedThreshold !== undefined) {
    const th = checkNumber(options.reducedThreshold, 'options.reducedThreshold', 'a number in (0, 1]');
    thresholdScale = Math.fround(th ** -gamma);
    if (!(th > 0 && th <= 1) || !Number.isFinite(thresholdScale)) {
      throw new RangeError(`options.reducedThreshold = ${show(th)}: expected a number in (0, 1] with threshold^-gamma a finite float32`);
    }
    threshold = th;
    flags |= FLAG_REDUCED;
  }
  const normalized = booleanOption(options.normalized, 'options.normalized', DEFAULTS.sigmoidFocalLoss.normalized);
  const posWeight = options.posWeight === undefined || typeof options.posWeight === 'number'
    ? options.posWeight as number | undefined
    : smallFloats(options.posWeight, 'options.posWeight', float16Option(options));
  return sigmoidFamilyPlan(logits, targets, options, withGrad, {
    kernel: 'sigmoidFocalMasked',
    params: { alpha, gamma, gammaMode: gammas ? GAMMA_GENERAL : gammaMode(gamma), threshold, thresholdScale, flags },
    posWeight,
    gammas,
    normalized,
  });
}
