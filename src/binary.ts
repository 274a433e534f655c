// Binary focal loss from probabilities (Keras BinaryFocalCrossentropy, from_logits = false, semantics): options
// are validated into a plan, then the inputs stream through the arena chunk by chunk into assembly/binary.ts.
import { binaryCompat, type Compat } from './compat.js';
import type { Engine } from './engine.js';
import { CHUNK } from './memory.js';
import { gammaMode } from './sigmoid.js';
import {
  alphaOption, checkFloats, checkLength, checkOptions, findInvalid, finiteRule, gammaOption, normalizerOption,
  lossOutputs, reductionOption, show, unitIntervalRule, weightsOption,
  type Floats, type Reduction, type ValueRule,
} from './validate.js';

/** Options of `binaryFocalLoss` (and of `binaryFocalLossWithGrad`, which adds `gradOut`). */
export interface BinaryFocalOptions {
  /** Weight of the positive class: alpha_t = alpha t + (1 - alpha)(1 - t). Default 0.25 (Keras: no balancing
   * unless apply_class_balancing); null or < 0: none. */
  alpha?: number | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (alpha-balanced) binary cross-entropy. */
  gamma?: number;
  /** 'mean' (default), 'sum', or 'none' for one loss per element. */
  reduction?: Reduction;
  /** Per-element weights (same length as probs), multiplied in before the reduction. */
  weights?: Floats;
  /** With 'mean': divide the sum by this instead of the element count. */
  normalizer?: number;
  /** The log terms use p clipped to [epsilon, 1 - epsilon], both rounded to float32. Default 1e-7 (Keras). */
  epsilon?: number;
  /** With 'none': a caller-owned Float32Array (length >= N) to write the losses into, returned as the loss. */
  out?: Float32Array;
  /** 'keras': Keras' defaults (alpha null: no class balancing); options given beside it override them. The other
   * presets take logits: a RangeError here (use sigmoidFocalLoss). */
  compat?: Compat;
}

export interface BinaryFocalGradOptions extends BinaryFocalOptions {
  /** A caller-owned Float32Array (length >= N) to write d loss / d probs into, returned as `grad`. */
  gradOut?: Float32Array;
}

/** epsilon, as the float32 clip bounds [lo, hi] the kernel uses (1 - 1e-7 rounds to 0.99999988). */
function clipOption(value: unknown, name: string): { lo: number; hi: number } {
  const epsilon = value === undefined ? 1e-7 : value;
  if (typeof epsilon !== 'number') throw new TypeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  const lo = Math.fround(epsilon);
  const hi = Math.fround(1 - epsilon);
  // Below 2^-24, 1 - epsilon rounds to 1 in float32 and log(1 - p) could be -infinity.
  if (!(epsilon >= 2 ** -24 && epsilon < 0.5) || !(hi < 1)) {
    throw new RangeError(`${name} = ${show(epsilon)}: expected a number in [2^-24, 0.5)`);
  }
  return { lo, hi };
}

interface BinaryPlan {
  n: number;
  probs: Floats;
  targets: Floats;
  weights: Floats | undefined;
  alpha: number;
  gamma: number;
  lo: number;
  hi: number;
  reduction: Reduction;
  divisor: number;
  out: Float32Array | undefined;
  gradOut: Float32Array | undefined;
}

function plan(probsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): BinaryPlan {
  const probs = checkFloats(probsArg, 'probs');
  const targets = checkFloats(targetsArg, 'targets');
  const n = probs.length;
  checkLength(targets, 'targets', n, 'the length of probs');
  const options = checkOptions(optionsArg);
  const alpha = alphaOption(options.alpha, 'options.alpha', 0.25);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  const { lo, hi } = clipOption(options.epsilon, 'options.epsilon');
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', n, 'the length of probs');
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const inputs = [[probs, 'probs'], [targets, 'targets'], [weights, 'options.weights']] as const;
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, n, n, inputs);
  const divisor = reduction === 'mean' ? normalizer ?? n : 1;
  return { n, probs, targets, weights, alpha, gamma, lo, hi, reduction, divisor, out, gradOut };
}

function run(engine: Engine, p: BinaryPlan, withGrad: boolean): { loss: number | Float32Array; grad?: Float32Array } {
  const { arena, kernels } = engine;
  const { n, reduction } = p;
  const { acc, slots } = arena.stage(5);
  const [probsAt, targetsAt, weightsAt, lossAt, gradAt] = slots as [number, number, number, number, number];
  const lossOut = reduction === 'none' ? p.out ?? new Float32Array(n) : undefined;
  const grad = withGrad ? p.gradOut ?? new Float32Array(n) : undefined;
  const gradScale = reduction === 'mean' && p.divisor > 0 ? 1 / p.divisor : 1;
  const mode = gammaMode(p.gamma);
  let total = 0;
  for (let from = 0; from < n; from += CHUNK) {
    const count = Math.min(CHUNK, n - from);
    arena.clearLanes(acc);
    arena.copyIn(p.probs, from, count, probsAt, 'probs');
    arena.copyIn(p.targets, from, count, targetsAt, 'targets');
    if (p.weights) arena.copyIn(p.weights, from, count, weightsAt, 'options.weights');
    const status = kernels.binaryFocal(
      probsAt, targetsAt, p.weights ? weightsAt : 0, lossOut ? lossAt : 0, grad ? gradAt : 0, count,
      p.alpha, mode, p.gamma, gradScale, p.lo, p.hi, acc,
    );
    if (status !== 0) {
      const rules: ValueRule[] = [unitIntervalRule(p.probs, 'probs'), unitIntervalRule(p.targets, 'targets')];
      if (p.weights) rules.push(finiteRule(p.weights, 'options.weights'));
      throw findInvalid(rules, from, count);
    }
    if (lossOut) arena.copyOut(lossAt, count, lossOut, from);
    if (grad) arena.copyOut(gradAt, count, grad, from);
    total += arena.sumLanes(acc); // per chunk, in chunk order, as src/sigmoid.ts
  }
  const loss = lossOut ?? (reduction === 'sum' ? total : p.divisor > 0 ? total / p.divisor : 0);
  return { loss, grad };
}

export function binaryFocalLoss(engine: Engine, probs: unknown, targets: unknown, options: unknown): number | Float32Array {
  options = binaryCompat(options); // compat: 'keras' (Keras' defaults under the options given)
  return run(engine, plan(probs, targets, options, false), false).loss;
}

export function binaryFocalLossWithGrad(
  engine: Engine, probs: unknown, targets: unknown, options: unknown,
): { loss: number | Float32Array; grad: Float32Array } {
  options = binaryCompat(options);
  const { loss, grad } = run(engine, plan(probs, targets, options, true), true);
  return { loss, grad: grad! };
}
