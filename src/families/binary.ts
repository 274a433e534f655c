// Binary focal loss from probabilities (Keras BinaryFocalCrossentropy, from_logits = false, semantics): options in,
// the call for the elementwise driver out; the arithmetic is assembly/binary/focal.ts's.
import { STREAM_INPUT, STREAM_TARGETS, STREAM_WEIGHTS } from '../core/abi.js';
import type { ElementwisePlan, InputStream } from '../core/elementwise.js';
import { finiteRule, unitRule } from '../core/locate.js';
import { gammaMode } from '../core/params.js';
import {
  alphaOption, checkFloats, checkLength, gammaOption, lossOutputs, normalizerOption, reductionOption, show,
  weightsOption,
} from '../options/checks.js';
import { binaryCompat, type Compat } from '../options/compat.js';
import { knownOptions, optionsOf } from '../options/strict.js';
import { REDUCTION_OPTIONS, type GradOutOptions, type ReductionOptions } from './common.js';
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

/** epsilon, as the float32 clip bounds [lo, hi] the kernel uses (1 - 1e-7 rounds to 0.99999988). */
function clipOption(value: unknown, name: string): { clipLo: number; clipHi: number } {
  const epsilon = value === undefined ? DEFAULTS.binaryFocalLoss.epsilon : value;
  if (typeof epsilon !== 'number') throw new TypeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  const clipLo = Math.fround(epsilon);
  const clipHi = Math.fround(1 - epsilon);
  // Below 2^-24, 1 - epsilon rounds to 1 in float32 and log(1 - p) could be -infinity.
  if (!(epsilon >= 2 ** -24 && epsilon < 0.5) || !(clipHi < 1)) {
    throw new RangeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  }
  return { clipLo, clipHi };
}

export function binaryPlan(probsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): ElementwisePlan {
  const method = withGrad ? 'binaryFocalLossWithGrad' : 'binaryFocalLoss';
  const given = optionsOf(optionsArg, withGrad ? [...BINARY_OPTIONS, 'gradOut'] : BINARY_OPTIONS, method);
  const options = binaryCompat(given); // compat: 'keras' (Keras' defaults under the options given)
  const probs = checkFloats(probsArg, 'probs');
  const targets = checkFloats(targetsArg, 'targets');
  const n = probs.length;
  checkLength(targets, 'targets', n, 'the length of probs');
  const alpha = alphaOption(options.alpha, 'options.alpha', DEFAULTS.binaryFocalLoss.alpha);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.binaryFocalLoss.gamma);
  const clip = clipOption(options.epsilon, 'options.epsilon');
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', n, 'the length of probs');
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const named = [[probs, 'probs'], [targets, 'targets'], [weights, 'options.weights']] as const;
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, n, n, named);
  const inputs: InputStream[] = [
    { stream: STREAM_INPUT, values: probs, name: 'probs' },
    { stream: STREAM_TARGETS, values: targets, name: 'targets' },
  ];
  if (weights) inputs.push({ stream: STREAM_WEIGHTS, values: weights, name: 'options.weights' });
  const rules = [unitRule(probs, 'probs'), unitRule(targets, 'targets')];
  if (weights) rules.push(finiteRule(weights, 'options.weights'));
  return {
    call: {
      kernel: 'binaryFocal',
      n,
      inputs,
      params: { alpha, gamma, gammaMode: gammaMode(gamma), ...clip },
      reduction,
      divisor: reduction === 'mean' ? normalizer ?? n : 1,
      writeLoss: reduction === 'none',
      out,
      withGrad,
      gradOut,
    },
    locator: { rules },
  };
}
