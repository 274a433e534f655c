// The asymmetric loss (ASL, Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification"), with the semantics
// of Alibaba-MIIL's AsymmetricLoss (src/loss_functions/losses.py): a sigmoid-family loss on N x C multi-label logits,
// one exponent for the positives and one for the negatives, the negatives' probability shifted by `clip`, logs
// clamped at `eps`, and the modulator detached from the gradient by default. Its options and kernel parameters; the
// inputs, masks, class weights and reductions are the family's (common.ts), the arithmetic the ASYMMETRIC variant of
// assembly/sigmoid/variants.ts.
import { FLAG_DETACH_MODULATOR } from '../core/abi.js';
import type { ElementwisePlan } from '../core/elementwise.js';
import { gammaMode } from '../core/params.js';
import { booleanOption, gammaOption, logClampOption, shiftClipOption } from '../options/checks.js';
import { DEFAULTS } from '../options/defaults.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import {
  MASK_OPTIONS, REDUCTION_OPTIONS, sigmoidFamilyPlan, type GradOutOptions, type ReductionOptions, type SigmoidMaskOptions,
} from './common.js';

/** Options of `asymmetricLoss` (ASL). */
export interface AsymmetricOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Exponent of the positives' modulator (1 - p)^gammaPos, finite and >= 0. Default 1 (the anchor's gamma_pos). */
  gammaPos?: number;
  /** Exponent of the negatives' modulator p_m^gammaNeg, finite and >= 0. Default 4 (the anchor's gamma_neg). */
  gammaNeg?: number;
  /** Probability shift of the negatives, p_m = max(p - clip, 0), in [0, 1) (0: none). Default 0.05. */
  clip?: number;
  /** Lower clamp of the probabilities inside the logs, in (0, 0.5). Default 1e-8. */
  eps?: number;
  /** The gradient treats the modulator as a constant (the anchor's disable_torch_grad_focal_loss). Default true. */
  detachModulator?: boolean;
}
export interface AsymmetricGradOptions extends AsymmetricOptions, GradOutOptions {}

export const ASYMMETRIC_OPTIONS = knownOptions([
  'gammaPos', 'gammaNeg', 'clip', 'eps', 'detachModulator', ...REDUCTION_OPTIONS, ...MASK_OPTIONS,
]);

export function asymmetricPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const options = lossOptionsOf(optionsArg, ASYMMETRIC_OPTIONS, 'asymmetricLoss', withGrad);
  const defaults = DEFAULTS.asymmetricLoss;
  const gammaPos = gammaOption(options.gammaPos, 'options.gammaPos', defaults.gammaPos);
  const gammaNeg = gammaOption(options.gammaNeg, 'options.gammaNeg', defaults.gammaNeg);
  const clip = shiftClipOption(options.clip, 'options.clip', defaults.clip);
  const eps = logClampOption(options.eps, 'options.eps', defaults.eps);
  const detach = booleanOption(options.detachModulator, 'options.detachModulator', defaults.detachModulator);
  // The kernel's exponent field carries gammaPos (and its mode, used when the two exponents are equal).
  return sigmoidFamilyPlan(logits, targets, options, withGrad, {
    kernel: 'asymmetricFocal',
    reduction: defaults.reduction,
    params: {
      gamma: gammaPos, gammaMode: gammaMode(gammaPos), gammaNeg, clip, eps, flags: detach ? FLAG_DETACH_MODULATOR : 0,
    },
  });
}
