// Multi-class focal loss from logits (mmcv softmax_focal_loss / Keras CategoricalFocalCrossentropy semantics), with
// class indices or soft targets, label smoothing, class-axis layouts and compat presets: options in, the call for
// the row driver out; the arithmetic is assembly/softmax/hard.ts's (class indices) and soft.ts's (distributions).
import { FLAG_DETACH_MODULATOR, GAMMA_GENERAL, STREAM_INPUT, STREAM_TARGETS, STREAM_WEIGHTS } from '../core/abi.js';
import { layoutIndex, layoutOption, type ClassLayout } from '../core/layout.js';
import { finiteRule, FINITE, isFinite32, isUnit, UNIT, type Locator, type ValueRule } from '../core/locate.js';
import { gammaMode, type KernelParams } from '../core/params.js';
import type { Float16Like } from '../core/public-types.js';
import type { HalfFloats } from '../core/half.js';
import type { RowCall, RowPlan, RowStream } from '../core/rows.js';
import {
  booleanOption, checkLength, checkLive, classAlphaOption, classesOption, float16Option, gammaOption, ignoreIndexOption,
  inputFloats, isFloats, lossOutputs, normalizerOption, perClass, perClassGammas, readable, reductionOption, rowCount,
  show, smallFloats, unitOption, weightsOption, type Floats,
} from '../options/checks.js';
import { softmaxCompat, softmaxCompatAlpha, softmaxCompatDivisor, type Compat } from '../options/compat.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import { REDUCTION_OPTIONS, ROW_INPUT_NAMES, type GradOutOptions, type ReductionOptions } from './common.js';
import { DEFAULTS } from '../options/defaults.js';

/** Options of `softmaxFocalLoss` (and of `softmaxFocalLossWithGrad`, which adds `gradOut`). */
export interface SoftmaxFocalOptions extends ReductionOptions {
  /** C, the number of classes (the row length of logits). Default logits.length / targets.length for class
   * indices; required with soft targets. */
  classes?: number;
  /** Class weighting: null (default) for none; a number in [0, 1] scales every row; an array of C non-negative
   * numbers weighs row i by alpha[y_i] (soft targets: class c's term by alpha[c]). */
  alpha?: number | Floats | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (weighted) softmax cross-entropy. Or one per class (length C,
   * each finite and >= 0): row i uses gamma[y_i] (soft targets and label smoothing: class c's term uses gamma[c]).
   * 0, 1/2, 1 and 2 by the scalar gamma's exact forms (an array of one of them gives the scalar call's bits), 3 and
   * 4 by products, others by the general pow (float32 rounding). */
  gamma?: number | Floats;
  /** true: the modulating factor alpha_y (1 - p_y)^gamma is a constant of the gradient (stop-gradient, RT-DETR's
   * `weight.detach()`): the loss is unchanged and d loss / d z_j = alpha_y (1 - p_y)^gamma (p_j - 1[j = y]) (soft
   * targets: the sum of that over the classes, each term weighted by alpha_c t_c). Default false. */
  detachModulator?: boolean;
  /** Rows whose target is this index give 0 loss and 0 gradient and do not count in 'mean'. Default -100. */
  ignoreIndex?: number;
  /** With class indices: the target row becomes y (1 - eps) + eps / C, as Keras label_smoothing. Default 0. */
  labelSmoothing?: number;
  /** The logits' shape, any rank (e.g. [N, C, H, W]), with `classAxis`: the classes lie on that axis, not last.
   * Class-index targets then have the shape without the class axis (one per position, in that order), soft targets
   * and the gradient the logits' shape; 'none' gives one loss per position. No transposed copy is made. */
  shape?: readonly number[];
  /** The class axis of `shape`, in [-rank, rank) (negative counts from the end). Default -1 (class last). */
  classAxis?: number;
  /** A Python library's semantics: 'kornia' | 'keras' | 'mmcv' | 'monai' set alpha's convention (kornia and MONAI:
   * a scalar alpha gives class 0 1 - alpha, the others alpha), the 'mean' divisor and the defaults (docs/compat.md's
   * table). Options given beside it override its defaults. 'torchvision', 'mmdet', 'smp': a RangeError (no softmax
   * focal loss there). */
  compat?: Compat;
}

export interface SoftmaxFocalGradOptions extends SoftmaxFocalOptions, GradOutOptions {}

/** Class indices (one per row) or soft targets (a distribution per row, N x C). */
export type SoftmaxTargets = Int32Array | readonly number[] | Float32Array | Float64Array | Float16Like;

export const SOFTMAX_FOCAL_OPTIONS = knownOptions([
  'classes', 'alpha', 'gamma', 'ignoreIndex', 'labelSmoothing', 'detachModulator', ...REDUCTION_OPTIONS, 'shape',
  'classAxis', 'compat',
]);

/** The rows 'mean' divides by: those whose target is not ignoreIndex (the gradient needs it before the pass). */
function countedRows(labels: Int32Array | readonly number[], ignoreIndex: number): number {
  let counted = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreIndex) counted++;
  return counted;
}

export function softmaxFocalPlan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): RowPlan {
  const given = lossOptionsOf(optionsArg, SOFTMAX_FOCAL_OPTIONS, 'softmaxFocalLoss', withGrad);
  const float16 = float16Option(given);
  const logits = inputFloats(logitsArg, 'logits', float16);
  let labels: Int32Array | readonly number[] | undefined;
  let soft: Floats | HalfFloats | undefined;
  if (targetsArg instanceof Int32Array || Array.isArray(targetsArg)) {
    labels = targetsArg;
    if (!Array.isArray(targetsArg)) checkLive(targetsArg as Int32Array, 'targets');
  } else if (isFloats(targetsArg) || (float16 && targetsArg instanceof Uint16Array)) {
    soft = inputFloats(targetsArg, 'targets', float16);
  } else {
    throw new TypeError(
      `targets: expected class indices (an Int32Array or an array of numbers) or soft targets ` +
        `(a Float32Array or Float64Array of N x C), got ${show(targetsArg)}`,
    );
  }
  const { options, compat } = softmaxCompat(given); // a preset's defaults under the options given
  const layout = layoutOption(options, logits.length, labels?.length);
  let classes = layout?.classes ?? classesOption(options.classes, 'options.classes');
  let rows: number;
  if (labels) {
    if (classes === undefined) {
      if (labels.length === 0 && logits.length === 0) classes = 1;
      else if (labels.length === 0 || logits.length % labels.length !== 0 || logits.length === 0) {
        throw new RangeError(
          `logits.length = ${logits.length}: expected a whole number of rows of targets.length = ${labels.length} ` +
            '(or pass options.classes)',
        );
      } else classes = logits.length / labels.length;
    }
    rows = rowCount(logits.length, classes, 'logits');
    if (labels.length !== rows) {
      throw new RangeError(`targets.length = ${labels.length}: expected ${rows} (one class index per row of ${classes})`);
    }
  } else {
    if (classes === undefined) {
      throw new TypeError('options.classes = undefined: expected the number of classes (required with soft targets)');
    }
    rows = rowCount(logits.length, classes, 'logits');
    checkLength(soft!, 'targets', rows * classes, `soft targets: ${rows} rows x ${classes} classes, as logits`);
  }
  const C = classes;
  const alphaArg = softmaxCompatAlpha(compat, options.alpha, C);
  const { alpha, alphas } = classAlphaOption(
    alphaArg instanceof Uint16Array ? smallFloats(alphaArg, 'options.alpha', float16) : alphaArg, 'options.alpha', C,
    DEFAULTS.softmaxFocalLoss.alpha,
  );
  // A per-class gamma: a table of C read per row (by class index) or per class (soft targets), raised per row.
  const gammaArray = perClassGammas(options.gamma, given);
  const gammas = gammaArray && perClass(gammaArray, 'options.gamma', C, 'one gamma per class');
  const gamma = gammas ? 0 : gammaOption(options.gamma, 'options.gamma', DEFAULTS.softmaxFocalLoss.gamma);
  const detach = booleanOption(options.detachModulator, 'options.detachModulator', DEFAULTS.softmaxFocalLoss.detachModulator);
  const ignoreIndex = ignoreIndexOption(options.ignoreIndex, 'options.ignoreIndex', DEFAULTS.softmaxFocalLoss.ignoreIndex);
  const smoothing = unitOption(options.labelSmoothing, 'options.labelSmoothing', DEFAULTS.softmaxFocalLoss.labelSmoothing);
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', rows, 'one weight per row', float16);
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, rows, rows * C, [logits, targetsArg, weights], ROW_INPUT_NAMES);
  let divisor = 1;
  if (reduction === 'mean') {
    divisor = normalizer ?? softmaxCompatDivisor(compat, rows, C) ?? (labels ? countedRows(labels, ignoreIndex) : rows);
  }
  const inputs: RowStream[] = [{ stream: STREAM_INPUT, values: logits, name: 'logits', per: 'class' }];
  if (soft) inputs.push({ stream: STREAM_TARGETS, values: soft, name: 'targets', per: 'class' });
  if (weights) inputs.push({ stream: STREAM_WEIGHTS, values: weights, name: 'options.weights', per: 'row' });
  const useSoft = soft !== undefined || smoothing > 0;
  // Optional fields assigned, not spread in: each spread in a literal is a call per call (see sigmoidFamilyPlan).
  const params: KernelParams = {
    alpha, gamma, gammaMode: gammas ? GAMMA_GENERAL : gammaMode(gamma), ignoreIndex,
    gradScale: reduction === 'mean' && divisor > 0 ? 1 / divisor : 1,
  };
  if (detach) params.flags = FLAG_DETACH_MODULATOR;
  if (useSoft) {
    // Keras label smoothing, rounded to float32 as the kernel applies it: t' = t (1 - eps) + eps / C.
    params.smoothKeep = Math.fround(1 - smoothing);
    params.smoothLo = Math.fround(smoothing / C);
  }
  const call: RowCall = {
    kernel: useSoft ? 'softmaxFocalSoft' : 'softmaxFocal',
    rows,
    classes: C,
    inputs,
    labels,
    classTable: alphas,
    layout,
    params,
    reduction,
    divisor,
    writeLoss: reduction === 'none',
    lossPer: 'row',
    out,
    withGrad,
    gradOut,
  };
  if (gammas) call.gammaTable = gammas;

  return {
    call,
    locator: () => softmaxLocator(readable(logits), labels, soft && readable(soft), weights && readable(weights), C, ignoreIndex, layout),
  };
}

/** How a softmax call names a flagged row's bad value: its class index, then its logits, soft targets, weight. */
function softmaxLocator(
  logits: Floats, labels: Int32Array | readonly number[] | undefined, soft: Floats | undefined,
  weights: Floats | undefined, C: number, ignoreIndex: number, layout: ClassLayout | undefined,
): Locator {
  const rules: ValueRule[] = [];
  if (labels) {
    rules.push({
      values: labels, name: 'targets', ok: (y) => y >= 0 && y < C, exact: true,
      expected: `a class index in [0, ${C}) or ignoreIndex (${ignoreIndex})`,
    });
  }
  rules.push({ values: logits, name: 'logits', ok: isFinite32, expected: FINITE, span: 'row' });
  if (soft) {
    rules.push({ values: soft, name: 'targets', ok: isUnit, expected: UNIT, span: 'row', where: (r) => ` (row ${r} of the soft targets)` });
  }
  if (weights) rules.push({ ...finiteRule(weights, 'options.weights'), always: true });
  return {
    rules,
    skip: labels ? (r) => labels[r] === ignoreIndex : undefined,
    classes: C,
    index: layout ? (r, c) => layoutIndex(layout, r, c) : undefined,
    unit: 'rows',
  };
}
