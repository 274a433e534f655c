// Binary focal loss from probabilities (Keras BinaryFocalCrossentropy, from_logits = false, semantics): options in,
// the call for the elementwise driver out; the arithmetic is assembly/binary/focal.ts's.
import type { ElementwisePlan } from '../core/elementwise.js';
import { finiteRule, unitRule } from '../core/locate.js';
import { gammaMode } from '../core/params.js';
import { alphaOption, clipOption, gammaOption, readable } from '../options/checks.js';
import { binaryCompat, type Compat } from '../options/compat.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import {
  elementwiseArgs, elementwiseCall, elementwiseStreams, REDUCTION_OPTIONS, type GradOutOptions, type ReductionOptions,
} from './common.js';
import { DEFAULTS } from '../options/defaults.js';

/** Options of `binaryFocalLoss` (and of `binaryFocalLossWithGrad`, which adds `gradOut`). */
export interface BinaryFocalOptions extends ReductionOptions {
  /** Weight of the positive class: alpha_t = alpha t + (1 - alpha)(1 - t). Default 0.25 (Keras: no balancing
   * unless apply_class_balancing); null or < 0: none. */
  alpha?: number | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (alpha-balanced) binary cross-entropy. */
  gamma?: number;
  /** The log terms use p clipped to [epsilon, 1 - epsilon], both rounded to float32. Default 1e-7 (Keras). */
  epsilon?: number;
  /** 'keras': Keras' defaults (alpha null: no class balancing); options given beside it override them. The other
   * presets take logits: a RangeError here (use sigmoidFocalLoss). */
  compat?: Compat;
}

export interface BinaryFocalGradOptions extends BinaryFocalOptions, GradOutOptions {}

export const BINARY_OPTIONS = knownOptions(['alpha', 'gamma', 'epsilon', ...REDUCTION_OPTIONS, 'compat']);

export function binaryPlan(probsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const given = lossOptionsOf(optionsArg, BINARY_OPTIONS, 'binaryFocalLoss', withGrad);
  const options = binaryCompat(given); // compat: 'keras' (Keras' defaults under the options given)
  const args = elementwiseArgs(probsArg, targetsArg, options, 'probs');
  const { first: probs, targets, weights } = args;
  const alpha = alphaOption(options.alpha, 'options.alpha', DEFAULTS.binaryFocalLoss.alpha);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.binaryFocalLoss.gamma);
  const clip = clipOption(options.epsilon, 'options.epsilon', DEFAULTS.binaryFocalLoss.epsilon);
  const streams = elementwiseStreams(args, options, withGrad, 'probs');
  return {
    call: elementwiseCall('binaryFocal', args, streams, withGrad, { alpha, gamma, gammaMode: gammaMode(gamma), ...clip }),
    locator: () => ({
      rules: [
        unitRule(readable(probs), 'probs'), unitRule(readable(targets), 'targets'),
        ...(weights ? [finiteRule(readable(weights), 'options.weights')] : []),
      ],
    }),
  };
}
