// Binary and multi-label focal loss from logits (torchvision.ops.sigmoid_focal_loss semantics): options are
// validated into a plan, then the inputs stream through the arena chunk by chunk into assembly/sigmoid.ts.
import type { Engine } from './engine.js';
import { sigmoidCompat, type Compat } from './compat.js';
import { CHUNK } from './memory.js';
import {
  alphaOption, checkFloats, checkLength, checkOptions, findInvalid, finiteRule, gammaOption, normalizerOption,
  lossOutputs, reductionOption, unitIntervalRule, weightsOption,
  type Floats, type Reduction, type ValueRule,
} from './validate.js';
import {
  sigmoidFocalLossMasked, sigmoidFocalLossMaskedWithGrad, usesFocalExtras, type SigmoidFocalExtraOptions,
} from './sigmoid-variants.js';

// Masks, class weights, posWeight, reducedThreshold, normalized: handled by src/sigmoid-variants.ts (its own
// kernel), so this path and its tuned kernel stay as they are when none of them is given.
/** Options of `sigmoidFocalLoss` (and of `sigmoidFocalLossWithGrad`, which adds `gradOut`). */
export interface SigmoidFocalOptions extends SigmoidFocalExtraOptions {
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
  /** A Python library's defaults and 'mean' divisor (see the README's compat table); options given beside it
   * override its defaults. 'mmcv' divides 'mean' by N rows of N x C logits, so it needs `classes`. */
  compat?: Compat;
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

/** @internal A validated call; also what src/pool.ts sends its workers (src/pool-worker.ts). */
export interface SigmoidPlan {
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

/** @internal */
export function plan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): SigmoidPlan {
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
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, n, n, inputs);
  const divisor = reduction === 'mean' ? normalizer ?? n : 1;
  return { n, logits, targets, weights, alpha, gamma, reduction, divisor, out, gradOut };
}

/**
 * @internal The worker pool's hook: runs only the whole chunks in [from, to) (from a multiple of CHUNK) and
 * stores each chunk's sum in `sums`, in chunk order; the pool adds them in that order, as the loop below does.
 */
export interface ChunkRange {
  from: number;
  to: number;
  sums: Float64Array;
}

/** @internal */
export function run(
  engine: Engine, p: SigmoidPlan, withGrad: boolean, range?: ChunkRange,
): { loss: number | Float32Array; grad?: Float32Array } {
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
  const [start, end] = range ? [range.from, range.to] : [0, n];
  for (let from = start; from < end; from += CHUNK) {
    const count = Math.min(CHUNK, end - from);
    arena.clearLanes(acc);
    // Views from fl.alloc() are read and written in place; everything else goes through the staging slots.
    const logitsPtr = arena.input(p.logits, from, count, logitsAt, 'logits');
    const targetsPtr = arena.input(p.targets, from, count, targetsAt, 'targets');
    const weightsPtr = p.weights ? arena.input(p.weights, from, count, weightsAt, 'options.weights') : 0;
    const lossPtr = lossOut ? arena.outputAt(lossOut, from, lossAt) : 0;
    const gradPtr = grad ? arena.outputAt(grad, from, gradAt) : 0;
    const status = kernels.sigmoidFocal(
      logitsPtr, targetsPtr, weightsPtr, lossPtr, gradPtr, count, p.alpha, mode, p.gamma, gradScale, acc,
    );
    if (status !== 0) {
      const rules: ValueRule[] = [finiteRule(p.logits, 'logits'), unitIntervalRule(p.targets, 'targets')];
      if (p.weights) rules.push(finiteRule(p.weights, 'options.weights'));
      throw findInvalid(rules, from, count);
    }
    if (lossOut) arena.output(lossPtr, count, lossOut, from);
    if (grad) arena.output(gradPtr, count, grad, from);
    // Chunk sums are added in chunk order: a worker pool that splits at chunk boundaries gets the same total.
    const chunkSum = arena.sumLanes(acc);
    if (range) range.sums[(from - start) / CHUNK] = chunkSum;
    total += chunkSum;
  }
  const loss = lossOut ?? (reduction === 'sum' ? total : p.divisor > 0 ? total / p.divisor : 0);
  return { loss, grad };
}

export function sigmoidFocalLoss(engine: Engine, logits: unknown, targets: unknown, options: unknown): number | Float32Array {
  options = sigmoidCompat(options, logits); // a compatibility preset's defaults under the options given
  if (usesFocalExtras(options)) return sigmoidFocalLossMasked(engine, logits, targets, options);
  return run(engine, plan(logits, targets, options, false), false).loss;
}

export function sigmoidFocalLossWithGrad(
  engine: Engine, logits: unknown, targets: unknown, options: unknown,
): { loss: number | Float32Array; grad: Float32Array } {
  options = sigmoidCompat(options, logits);
  if (usesFocalExtras(options)) return sigmoidFocalLossMaskedWithGrad(engine, logits, targets, options);
  const { loss, grad } = run(engine, plan(logits, targets, options, true), true);
  return { loss, grad: grad! };
}
