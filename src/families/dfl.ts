// Distribution Focal Loss (Li et al. 2020, Generalized Focal Loss): mmdet's distribution_focal_loss
// (mmdet/models/losses/gfocal_loss.py) and, with compat 'ultralytics', ultralytics' DFLoss (ultralytics/utils/loss.py).
// Options in, the call for the row driver out; the arithmetic is assembly/dfl/focal.ts's.
import { STREAM_INPUT, STREAM_TARGETS, STREAM_WEIGHTS } from '../core/abi.js';
import type { LossResult } from '../core/elementwise.js';
import { finiteRule, FINITE, isFinite32, type Locator, type ValueRule } from '../core/locate.js';
import type { RowPlan, RowStream } from '../core/rows.js';
import {
  checkLength, classesOption, float16Option, inputFloats, lossOutputs, normalizerOption, readable, reductionOption,
  rowCount, show, weightsOption, type Floats, type Reduction,
} from '../options/checks.js';
import { DEFAULTS } from '../options/defaults.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import { REDUCTION_OPTIONS, ROW_INPUT_NAMES, type GradOutOptions, type ReductionOptions } from './common.js';

/** The library whose DFL a call follows. */
export type DflCompat = 'mmdet' | 'ultralytics';

/** Options of `distributionFocalLoss` (and of `distributionFocalLossWithGrad`, which adds `gradOut`). */
export interface DistributionFocalOptions extends ReductionOptions {
  /** The number of bins (the row length of logits; mmdet's reg_max + 1, ultralytics' reg_max). Default
   * logits.length / targets.length. */
  bins?: number;
  /** 'mmdet' (the default semantics: one loss per row, `weights` per row, `normalizer` as avg_factor) or
   * 'ultralytics' (DFLoss: targets clamped to bins - 1.01, each box's loss the mean of its 4 sides' rows; 'none'
   * gives one loss per box; no `weights`). */
  compat?: DflCompat;
}

export interface DistributionFocalGradOptions extends DistributionFocalOptions, GradOutOptions {}

export const DFL_OPTIONS = knownOptions(['bins', ...REDUCTION_OPTIONS, 'compat']);

const DFL_COMPATS: readonly DflCompat[] = ['mmdet', 'ultralytics'];

function dflCompatOption(value: unknown): DflCompat {
  if (value === undefined) return 'mmdet';
  const expected = `one of ${DFL_COMPATS.map((c) => `'${c}'`).join(', ')} (distributionFocalLoss)`;
  if (typeof value !== 'string') throw new TypeError(`options.compat = ${show(value)}: expected ${expected}`);
  if (!(DFL_COMPATS as readonly string[]).includes(value)) throw new RangeError(`options.compat = ${show(value)}: expected ${expected}`);
  return value as DflCompat;
}

/**
 * The targets ultralytics' DFLoss sees: `target.clamp_(0, reg_max - 1 - 0.01)` on float32, so values in
 * (float32(bins - 1.01), bins - 1] become float32(bins - 1.01). Values outside [0, bins - 1] stay as they are, so
 * the kernel flags them and the locator names them in the caller's array.
 */
function clampedTargets(targets: Floats, bins: number): Float32Array {
  const hi = Math.fround(bins - 1 - 0.01);
  const top = bins - 1;
  const out = new Float32Array(targets.length);
  for (let i = 0; i < targets.length; i++) {
    const v = targets[i];
    if (typeof v !== 'number') throw new TypeError(`targets[${i}] = ${show(v)}: expected a number`);
    const t = Math.fround(v);
    out[i] = t > hi && t <= top ? hi : t;
  }
  return out;
}

/** Each box's loss, the mean of its 4 rows' (ultralytics' `.mean(-1, keepdim=True)`), into `out`. */
function boxMeans(rows: Float32Array, out: Float32Array): Float32Array {
  for (let b = 0; 4 * b + 3 < rows.length; b++) {
    out[b] = (rows[4 * b]! + rows[4 * b + 1]! + rows[4 * b + 2]! + rows[4 * b + 3]!) / 4;
  }
  return out;
}

export function distributionFocalPlan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): RowPlan {
  const options = lossOptionsOf(optionsArg, DFL_OPTIONS, 'distributionFocalLoss', withGrad);
  const float16 = float16Option(options);
  const logits = inputFloats(logitsArg, 'logits', float16);
  const targets = inputFloats(targetsArg, 'targets', float16);
  const compat = dflCompatOption(options.compat);
  const ultralytics = compat === 'ultralytics';
  let bins = classesOption(options.bins, 'options.bins');
  if (bins === undefined) {
    if (targets.length === 0 && logits.length === 0) bins = ultralytics ? 2 : 1;
    else if (targets.length === 0 || logits.length % targets.length !== 0) {
      throw new RangeError(
        `logits.length = ${logits.length}: expected a whole number of rows of targets.length = ${targets.length} ` +
          '(or pass options.bins)',
      );
    } else bins = logits.length / targets.length;
  }
  const B = bins;
  const rows = rowCount(logits.length, B, 'logits');
  checkLength(targets, 'targets', rows, `one target per row of ${B} bins`);
  const reduction: Reduction = reductionOption(options.reduction, 'options.reduction', DEFAULTS.distributionFocalLoss.reduction);
  if (ultralytics) {
    if (options.weights !== undefined) {
      throw new TypeError(
        "options.weights: not an option of distributionFocalLoss with compat 'ultralytics' (DFLoss takes no weights; " +
          "weigh the per-box losses of reduction 'none' instead)",
      );
    }
    if (bins < 2) throw new RangeError(`options.bins = ${bins}: compat 'ultralytics' needs at least 2 bins (targets are clamped to bins - 1.01)`);
    if (rows % 4 !== 0) {
      throw new RangeError(`targets.length = ${rows}: expected a multiple of 4 with compat 'ultralytics' (the 4 sides of each box)`);
    }
  }
  const weights = weightsOption(options.weights, 'options.weights', rows, 'one weight per row', float16);
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const boxes = rows / 4;
  const { out, gradOut } = lossOutputs(
    options, reduction, withGrad, ultralytics ? boxes : rows, rows * bins, [logits, targets, weights], ROW_INPUT_NAMES,
  );

  // mmdet: 'mean' divides the (weighted) row losses by avg_factor (normalizer) or N. ultralytics: a box's loss is
  // the mean of its 4 rows, so every row's gradient carries 1/4, and the sums are divided by 4 (times the boxes
  // or the normalizer for 'mean'); 'none' writes the rows, then boxMeans.
  let callReduction = reduction;
  let divisor = 1;
  let gradScale = 1;
  if (!ultralytics) {
    if (reduction === 'mean') divisor = normalizer ?? rows;
    gradScale = reduction === 'mean' && divisor > 0 ? 1 / divisor : 1;
  } else if (reduction === 'none') {
    gradScale = 0.25;
  } else {
    callReduction = 'mean';
    divisor = 4 * (reduction === 'mean' ? normalizer ?? boxes : 1);
    gradScale = divisor > 0 ? 1 / divisor : 1;
  }
  const staged = ultralytics ? clampedTargets(readable(targets), bins) : targets;
  const inputs: RowStream[] = [
    { stream: STREAM_INPUT, values: logits, name: 'logits', per: 'class' },
    { stream: STREAM_TARGETS, values: staged, name: 'targets', per: 'row' },
  ];
  if (weights) inputs.push({ stream: STREAM_WEIGHTS, values: weights, name: 'options.weights', per: 'row' });
  const perBox = ultralytics && reduction === 'none';

  return {
    call: {
      kernel: 'distributionFocal',
      rows,
      classes: bins,
      inputs,
      params: { gradScale },
      reduction: callReduction,
      divisor,
      writeLoss: reduction === 'none',
      lossPer: 'row',
      out: perBox ? undefined : out,
      withGrad,
      gradOut,
    },
    locator: () => dflLocator(readable(logits), readable(targets), weights && readable(weights), B),
    finish: perBox
      ? (result: LossResult): LossResult => ({
        loss: boxMeans(result.loss as Float32Array, out ?? new Float32Array(boxes)),
        grad: result.grad,
      })
      : undefined,
  };
}

/** How a DFL call names a flagged row's bad value: its target, then its logits, then its weight. */
function dflLocator(logits: Floats, targets: Floats, weights: Floats | undefined, bins: number): Locator {
  const rules: ValueRule[] = [
    { values: targets, name: 'targets', ok: (y) => y >= 0 && y <= bins - 1, expected: `a value in [0, ${bins - 1}] (bins - 1)` },
    { values: logits, name: 'logits', ok: isFinite32, expected: FINITE, span: 'row' },
  ];
  if (weights) rules.push({ ...finiteRule(weights, 'options.weights'), always: true });
  return { rules, classes: bins, unit: 'rows' };
}
