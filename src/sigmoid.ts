// Binary and multi-label focal loss from logits (torchvision.ops.sigmoid_focal_loss semantics): options are
// validated into a plan, then the inputs stream through the arena chunk by chunk into assembly/sigmoid.ts.
import type { Engine } from './engine.js';
import { CHUNK } from './memory.js';
import {
  alphaOption, checkFloats, checkLength, checkOptions, findInvalid, finiteRule, gammaOption, normalizerOption,
  outputOption, reductionOption, unitIntervalRule, weightsOption,
  type Floats, type Reduction, type ValueRule,
} from './validate.js';

/** Options of `sigmoidFocalLoss` (and of `sigmoidFocalLossWithGrad`, which adds `gradOut`). */
export interface SigmoidFocalOptions {
  /** Weight of the positive class: alpha_t = alpha t + (1 - alpha)(1 - t). Default 0.25; null or < 0: none. */
  alpha?: number | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (alpha-balanced) binary cross-entropy. */
  gamma?: number;
  /** 'mean' (default), 'sum', or 'none' for one loss per element. */
  reduction?: Reduction;
  /** Per-element weights (same length as logits), multiplied in before the reduction. */
  weights?: Floats;
  /** With 'mean': divide the sum by this (e.g. the number of positives) instead of the element count. */
  normalizer?: number;
  /** With 'none': a caller-owned Float32Array (length >= N) to write the losses into, returned as the loss. */
  out?: Float32Array;
}

export interface SigmoidFocalGradOptions extends SigmoidFocalOptions {
  /** A caller-owned Float32Array (length >= N) to write the gradient into, returned as `grad`. */
  gradOut?: Float32Array;
}

/** How the kernel forms q^gamma (assembly/sigmoid.ts GAMMA_*). */
export function gammaMode(gamma: number): number {
  if (gamma === 0) return 0;
  if (gamma === 1) return 1;
  if (gamma === 2) return 2;
  if (gamma === 0.5) return 3;
  return 4;
}

interface SigmoidPlan {
  n: number;
  logits: Floats;
  targets: Floats;
  weights: Floats | undefined;
  alpha: number;
  gamma: number;
  reduction: Reduction;
  divisor: number;
  out: Float32Array | undefined;
  gradOut: Float32Array | undefined;
}

function plan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): SigmoidPlan {
  const logits = checkFloats(logitsArg, 'logits');
  const targets = checkFloats(targetsArg, 'targets');
  const n = logits.length;
  checkLength(targets, 'targets', n, 'the length of logits');
  const options = checkOptions(optionsArg);
  const alpha = alphaOption(options.alpha, 'options.alpha', 0.25);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', n, 'the length of logits');
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const inputs = [[logits, 'logits'], [targets, 'targets'], [weights, 'options.weights']] as const;
  const out = reduction === 'none' ? outputOption(options.out, 'options.out', n, inputs) : undefined;
  const gradOut = withGrad
    ? outputOption(options.gradOut, 'options.gradOut', n, [...inputs, [out, 'options.out']])
    : undefined;
  const divisor = reduction === 'mean' ? normalizer ?? n : 1;
  return { n, logits, targets, weights, alpha, gamma, reduction, divisor, out, gradOut };
}

function run(engine: Engine, p: SigmoidPlan, withGrad: boolean): { loss: number | Float32Array; grad?: Float32Array } {
  const { arena, kernels } = engine;
  const { n, reduction } = p;
  const { acc, slots } = arena.stage(5);
  const [logitsAt, targetsAt, weightsAt, lossAt, gradAt] = slots as [number, number, number, number, number];
  const lossOut = reduction === 'none' ? p.out ?? new Float32Array(n) : undefined;
  const grad = withGrad ? p.gradOut ?? new Float32Array(n) : undefined;
  // d(mean)/dx_i = dloss_i/dx_i / divisor; the kernel multiplies it in as it writes.
  const gradScale = reduction === 'mean' && p.divisor > 0 ? 1 / p.divisor : 1;
  const mode = gammaMode(p.gamma);
  let total = 0;
  for (let from = 0; from < n; from += CHUNK) {
    const count = Math.min(CHUNK, n - from);
    arena.clearLanes(acc);
    arena.copyIn(p.logits, from, count, logitsAt, 'logits');
    arena.copyIn(p.targets, from, count, targetsAt, 'targets');
    if (p.weights) arena.copyIn(p.weights, from, count, weightsAt, 'options.weights');
    const status = kernels.sigmoidFocal(
      logitsAt, targetsAt, p.weights ? weightsAt : 0, lossOut ? lossAt : 0, grad ? gradAt : 0, count,
      p.alpha, mode, p.gamma, gradScale, acc,
    );
    if (status !== 0) {
      const rules: ValueRule[] = [finiteRule(p.logits, 'logits'), unitIntervalRule(p.targets, 'targets')];
      if (p.weights) rules.push(finiteRule(p.weights, 'options.weights'));
      throw findInvalid(rules, from, count);
    }
    if (lossOut) arena.copyOut(lossAt, count, lossOut, from);
    if (grad) arena.copyOut(gradAt, count, grad, from);
    // Chunk sums are added in chunk order: a worker pool that splits at chunk boundaries gets the same total.
    total += arena.sumLanes(acc);
  }
  const loss = lossOut ?? (reduction === 'sum' ? total : p.divisor > 0 ? total / p.divisor : 0);
  return { loss, grad };
}

export function sigmoidFocalLoss(engine: Engine, logits: unknown, targets: unknown, options: unknown): number | Float32Array {
  return run(engine, plan(logits, targets, options, false), false).loss;
}

export function sigmoidFocalLossWithGrad(
  engine: Engine, logits: unknown, targets: unknown, options: unknown,
): { loss: number | Float32Array; grad: Float32Array } {
  const { loss, grad } = run(engine, plan(logits, targets, options, true), true);
  return { loss, grad: grad! };
}
