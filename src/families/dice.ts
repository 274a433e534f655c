// Overlap losses for segmentation, MONAI 1.5 semantics: DiceLoss and DiceFocalLoss (monai/losses/dice.py),
// TverskyLoss (monai/losses/tversky.py) with the focal half of MONAI's FocalLoss (monai/losses/focal_loss.py), plus
// the Focal Tversky loss (Abraham & Khan 2019) as tverskyLoss's `exponent`. Options in, the call for the region
// driver (src/core/regions.ts) out; between its two passes, `settle` turns the per-(item, class) sums into the loss
// and the per-class coefficients of the gradient. The arithmetic per element is assembly/dice/overlap.ts's.
import { ACTIVATION_NONE, ACTIVATION_SIGMOID, ACTIVATION_SOFTMAX, FLAG_FOCAL_TERM, FLAG_SQUARED_PRED } from '../core/abi.js';
import type { HalfFloats } from '../core/half.js';
import { layoutIndex, layoutOption } from '../core/layout.js';
import { FINITE, isFinite32, isUnit, UNIT, type Locator, type ValueRule } from '../core/locate.js';
import { gammaMode } from '../core/params.js';
import { REGION_COEFS, REGION_SUMS, type RegionPlan } from '../core/regions.js';
import {
  alphaOption, booleanOption, checkLength, checkLive, checkNumber, float16Option, gammaOption, inputFloats, isFloats,
  lossOutputs, perClass, readable, reductionOption, show, type Floats, type Reduction,
} from '../options/checks.js';
import { DEFAULTS } from '../options/defaults.js';
import { knownOptions, lossOptionsOf } from '../options/strict.js';
import type { GradOutOptions } from './common.js';

/** Class indices (an Int32Array, or an array with one per position) or targets of the logits' shape. */
export type OverlapTargets = Floats | Int32Array;

/** How logits become probabilities: MONAI's `softmax=True` (over the class axis), `sigmoid=True`, or neither. */
export type Activation = 'softmax' | 'sigmoid' | 'none';

/** Options every overlap loss takes (diceLoss, tverskyLoss, diceFocalLoss). */
export interface OverlapOptions {
  /** The logits' shape [N, C, ...spatial] (or with the classes on `classAxis`): axis 0 is the batch. Required. */
  shape: readonly number[];
  /** The class axis of `shape`, in [1, rank) or [-rank + 1, 0) (negative counts from the end). Default 1 (MONAI's
   * N x C x spatial); -1 for class-last (N x spatial x C). */
  classAxis?: number;
  /** 'softmax' (default, over the classes), 'sigmoid' (per element), or 'none': the input holds probabilities
   * in [0, 1]. */
  activation?: Activation;
  /** false: class 0 (the background) is left out of the loss (MONAI `include_background`). Default true. */
  includeBackground?: boolean;
  /** Added to the numerator (MONAI `smooth_nr`), >= 0. Default 1e-5. */
  smoothNr?: number;
  /** Added to the denominator (MONAI `smooth_dr`), > 0 (so that an empty class gives a finite loss). Default 1e-5. */
  smoothDr?: number;
  /** true: the sums run over the batch too, one loss per class (MONAI `batch`). Default false. */
  batch?: boolean;
  /** 'mean' (default) of the per-(item, class) losses, 'sum', or 'none': one loss per item and class, [N][C']
   * (per class with `batch`); diceFocalLoss 'none': one per element of the N x C' x spatial block. */
  reduction?: Reduction;
  /** With 'none': a caller-owned Float32Array to write the losses into. */
  out?: Float32Array;
  /** Uint16Array arguments hold binary16 bits (see ReductionOptions.float16). Default false. */
  float16?: boolean;
}

/** Options of `diceLoss` (and of `diceLossWithGrad`, which adds `gradOut`). */
export interface DiceOptions extends OverlapOptions {
  /** true: sum p^2 and t^2 in the denominator (MONAI `squared_pred`). Default false. */
  squaredPred?: boolean;
  /** true: the Jaccard (soft IoU) loss 1 - (2 I + smoothNr) / (2 (P + G - I) + smoothDr). Default false. */
  jaccard?: boolean;
  /** MONAI's `weight`: a number for every class or one per class counted (C, or C - 1 without the background),
   * each finite and >= 0, multiplying each class's loss; ignored when one class is counted, as MONAI ignores it. */
  classWeights?: number | Floats;
}

export interface DiceGradOptions extends DiceOptions, GradOutOptions {}

/** Options of `tverskyLoss`. */
export interface TverskyOptions extends OverlapOptions {
  /** Weight of the false positives sum p (1 - t), >= 0. Default 0.5. */
  alpha?: number;
  /** Weight of the false negatives sum (1 - p) t, >= 0. Default 0.5. */
  beta?: number;
  /** The Focal Tversky loss (Abraham & Khan 2019): each class's loss (1 - TI)^exponent, > 0. Default 1 (MONAI's
   * TverskyLoss); the paper's gamma = 4/3 is exponent 0.75. */
  exponent?: number;
}

export interface TverskyGradOptions extends TverskyOptions, GradOutOptions {}

/** Options of `diceFocalLoss`: DiceLoss's, plus the focal half's. */
export interface DiceFocalOptions extends DiceOptions {
  /** Weight of the Dice half, >= 0. Default 1. */
  lambdaDice?: number;
  /** Weight of the focal half, >= 0. Default 1. */
  lambdaFocal?: number;
  /** The focal half's focusing exponent, >= 0. Default 2. */
  gamma?: number;
  /** The focal half's alpha in [0, 1] (alpha t + (1 - alpha)(1 - t)), or null (default) for none. */
  alpha?: number | null;
}

export interface DiceFocalGradOptions extends DiceFocalOptions, GradOutOptions {}

const OVERLAP_OPTIONS = ['shape', 'classAxis', 'activation', 'includeBackground', 'smoothNr', 'smoothDr', 'batch', 'reduction', 'out', 'float16'];
export const DICE_OPTIONS = knownOptions([...OVERLAP_OPTIONS, 'squaredPred', 'jaccard', 'classWeights']);
export const TVERSKY_OPTIONS = knownOptions([...OVERLAP_OPTIONS, 'alpha', 'beta', 'exponent']);
export const DICE_FOCAL_OPTIONS = knownOptions([...DICE_OPTIONS, 'lambdaDice', 'lambdaFocal', 'gamma', 'alpha']);

type OverlapLoss = 'diceLoss' | 'tverskyLoss' | 'diceFocalLoss';

const ACTIVATIONS: Record<Activation, number> = { softmax: ACTIVATION_SOFTMAX, sigmoid: ACTIVATION_SIGMOID, none: ACTIVATION_NONE };

function activationOption(value: unknown, fallback: Activation): Activation {
  if (value === undefined) return fallback;
  const expected = "'softmax', 'sigmoid' or 'none'";
  if (typeof value !== 'string') throw new TypeError(`options.activation = ${show(value)}: expected ${expected}`);
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, value)) throw new RangeError(`options.activation = ${show(value)}: expected ${expected}`);
  return value as Activation;
}

/** A finite number >= 0 (or > 0 with `positive`), within float32 range. */
function nonNegativeOption(value: unknown, name: string, fallback: number, positive = false): number {
  if (value === undefined) return fallback;
  const v = checkNumber(value, name);
  if (!(positive ? v > 0 : v >= 0) || !Number.isFinite(Math.fround(v))) {
    throw new RangeError(`${name} = ${show(v)}: expected a finite number ${positive ? '> 0' : '>= 0'}`);
  }
  return v;
}

/** MONAI's weight: one number for every class, or one per counted class. */
function classWeightsOption(value: unknown, counted: number, float16: boolean): Float32Array | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return perClass(new Array<number>(counted).fill(value), 'options.classWeights', counted);
  if (!isFloats(value)) throw new TypeError(`options.classWeights: expected a number or an array of ${counted} class weights, got ${show(value)}`);
  if (!Array.isArray(value)) checkLive(value as Float32Array, 'options.classWeights');
  const of = 'one weight per class counted (without the background when includeBackground is false)';
  return perClass(float16 ? readable(inputFloats(value, 'options.classWeights', true)) : value, 'options.classWeights', counted, of);
}

/** Class indices (an Int32Array, or a plain array one per position) or same-shape targets. */
function targetsOf(targetsArg: unknown, logitsLength: number, float16: boolean): { labels?: Int32Array | readonly number[]; soft?: Floats | HalfFloats } {
  if (targetsArg instanceof Int32Array) {
    checkLive(targetsArg, 'targets');
    return { labels: targetsArg };
  }
  if (Array.isArray(targetsArg) && targetsArg.length !== logitsLength) return { labels: targetsArg };
  if (isFloats(targetsArg) || (float16 && targetsArg instanceof Uint16Array)) return { soft: inputFloats(targetsArg, 'targets', float16) };
  throw new TypeError(
    `targets: expected class indices (an Int32Array or an array, one per position) or targets of the logits' shape ` +
      `(a Float32Array or Float64Array), got ${show(targetsArg)}`,
  );
}

function overlapPlan(loss: OverlapLoss, logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): RegionPlan {
  const allowed = loss === 'diceLoss' ? DICE_OPTIONS : loss === 'tverskyLoss' ? TVERSKY_OPTIONS : DICE_FOCAL_OPTIONS;
  const options = lossOptionsOf(optionsArg, allowed, loss, withGrad);
  const defaults = DEFAULTS[loss];
  const float16 = float16Option(options);
  const logits = inputFloats(logitsArg, 'logits', float16);
  const { labels, soft } = targetsOf(targetsArg, logits.length, float16);
  if (options.shape === undefined) {
    throw new TypeError(`options.shape = undefined: expected the logits' shape, [N, C, ...spatial] (required by ${loss})`);
  }
  const layoutArgs = Object.assign({}, options); // assigned, not spread (see sigmoidFamilyPlan)
  layoutArgs.classAxis = options.classAxis ?? defaults.classAxis;
  const layout = layoutOption(layoutArgs, logits.length, labels?.length)!;
  const rank = layout.shape.length;
  if (rank < 2 || layout.classAxis === 0) {
    throw new RangeError(
      `options.classAxis = ${show(options.classAxis ?? defaults.classAxis)}: expected a class axis after the batch axis 0 ` +
        `(shape [${layout.shape.join(', ')}])`,
    );
  }
  const C = layout.classes;
  const items = layout.shape[0]!;
  const positions = layout.rows / items; // spatial positions per item
  if (soft) checkLength(soft, 'targets', logits.length, "targets of the logits' shape (or one class index per position)");
  const activation = activationOption(options.activation, defaults.activation);
  if (activation === 'softmax' && C === 1) {
    throw new RangeError(`options.activation = 'softmax': a softmax over ${C} class is 1 (MONAI skips it with a warning); use 'sigmoid' or 'none'`);
  }
  if (labels && C === 1) {
    throw new RangeError('targets: class indices need at least 2 classes (MONAI ignores to_onehot_y for one channel); pass targets of the logits\' shape');
  }
  // MONAI ignores include_background=False for a single channel (with a warning), and so do we.
  const firstClass = booleanOption(options.includeBackground, 'options.includeBackground', defaults.includeBackground) || C === 1 ? 0 : 1;
  const counted = C - firstClass;
  const smoothNr = nonNegativeOption(options.smoothNr, 'options.smoothNr', defaults.smoothNr);
  const smoothDr = nonNegativeOption(options.smoothDr, 'options.smoothDr', defaults.smoothDr, true);
  const batch = booleanOption(options.batch, 'options.batch', defaults.batch);
  const reduction = reductionOption(options.reduction, 'options.reduction', defaults.reduction);
  const dice = loss !== 'tverskyLoss';
  const focal = loss === 'diceFocalLoss';
  const squared = dice && booleanOption(options.squaredPred, 'options.squaredPred', DEFAULTS.diceLoss.squaredPred);
  const jaccard = dice && booleanOption(options.jaccard, 'options.jaccard', DEFAULTS.diceLoss.jaccard);
  const weightsGiven = dice ? classWeightsOption(options.classWeights, counted, float16) : undefined;
  const weights = counted > 1 ? weightsGiven : undefined; // MONAI: `if weight is not None and num_of_classes != 1`
  const fpWeight = loss === 'tverskyLoss' ? nonNegativeOption(options.alpha, 'options.alpha', DEFAULTS.tverskyLoss.alpha) : 0;
  const fnWeight = loss === 'tverskyLoss' ? nonNegativeOption(options.beta, 'options.beta', DEFAULTS.tverskyLoss.beta) : 0;
  const exponent = loss === 'tverskyLoss' ? nonNegativeOption(options.exponent, 'options.exponent', DEFAULTS.tverskyLoss.exponent, true) : 1;
  const lambdaDice = focal ? nonNegativeOption(options.lambdaDice, 'options.lambdaDice', DEFAULTS.diceFocalLoss.lambdaDice) : 1;
  const lambdaFocal = focal ? nonNegativeOption(options.lambdaFocal, 'options.lambdaFocal', DEFAULTS.diceFocalLoss.lambdaFocal) : 0;
  const gamma = focal ? gammaOption(options.gamma, 'options.gamma', DEFAULTS.diceFocalLoss.gamma) : 0;
  const alpha = focal ? alphaOption(options.alpha, 'options.alpha', DEFAULTS.diceFocalLoss.alpha) : -1;

  const regions = batch ? 1 : items; // one loss per (region, counted class)
  const elementLoss = focal && reduction === 'none';
  const lossLength = elementLoss ? items * positions * counted : regions * counted;
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, lossLength, logits.length, [logits, soft ?? labels], ['logits', 'targets']);

  /** The loss of one region and class from its sums, and its derivatives by sum p t and by sum p^k. */
  const regionLoss = (I: number, P: number, G: number): [number, number, number] => {
    if (!dice) {
      // Tversky: TI = (I + nr) / (I + alpha (P - I) + beta (G - I) + dr), MONAI's fp = sum p (1 - t), fn = sum (1 - p) t.
      const num = I + smoothNr;
      const den = I + fpWeight * (P - I) + fnWeight * (G - I) + smoothDr;
      const f = 1 - num / den;
      const dI = -(den - num * (1 - fpWeight - fnWeight)) / (den * den);
      const dP = (num * fpWeight) / (den * den);
      if (exponent === 1) return [f, dI, dP];
      // (1 - TI)^exponent, 1 - TI clamped at 0 (it is below 0 only when smoothNr > smoothDr); the derivative at 0 is
      // taken as 0 (a subgradient; the true one is infinite for exponent < 1).
      const base = Math.max(f, 0);
      const outer = base > 0 ? exponent * base ** (exponent - 1) : 0;
      return [base ** exponent, outer * dI, outer * dP];
    }
    const num = 2 * I + smoothNr;
    const den = jaccard ? 2 * (P + G - I) + smoothDr : P + G + smoothDr;
    const denP = jaccard ? 2 : 1;
    const f = 1 - num / den;
    const dI = -2 / den + (jaccard ? -(2 * num) / (den * den) : 0);
    const dP = (num * denP) / (den * den);
    return [f, dI, dP];
  };

  const settle = (sums: Float64Array): { loss: number | Float32Array | undefined; coefs: Float32Array | undefined } => {
    const at = (b: number, c: number, k: number): number => sums[(b * C + c) * REGION_SUMS + k]!;
    const values = new Float64Array(regions * counted);
    const derivs = new Float64Array(regions * counted * 2);
    for (let r = 0; r < regions; r++) {
      for (let c = firstClass; c < C; c++) {
        let I = 0;
        let P = 0;
        let G = 0;
        for (let b = batch ? 0 : r; b < (batch ? items : r + 1); b++) {
          I += at(b, c, 0);
          P += at(b, c, 1);
          G += at(b, c, 2);
        }
        const k = r * counted + c - firstClass;
        const w = weights ? weights[c - firstClass]! : 1;
        const [f, dI, dP] = regionLoss(I, P, G);
        values[k] = w * f;
        derivs[2 * k] = w * dI;
        derivs[2 * k + 1] = w * dP * (squared ? 2 : 1);
      }
    }
    let overlapTotal = 0;
    for (let k = 0; k < values.length; k++) overlapTotal += values[k]!;
    let focalTotal = 0;
    if (focal) {
      for (let b = 0; b < items; b++) {
        for (let c = firstClass; c < C; c++) focalTotal += (weights ? weights[c - firstClass]! : 1) * at(b, c, 3);
      }
    }
    // MONAI's reductions: the overlap losses' mean over (region, class), the focal term's mean over every element
    // ('sum': each (item, class)'s mean over the positions, summed).
    const overlapScale = reduction === 'mean' && values.length > 0 ? 1 / values.length : 1;
    const focalScale = reduction === 'mean' ? 1 / Math.max(1, items * positions * counted) : reduction === 'sum' ? 1 / Math.max(1, positions) : 1;
    let loss: number | Float32Array | undefined;
    if (reduction !== 'none') {
      loss = lambdaDice * overlapTotal * overlapScale + (focal ? lambdaFocal * focalTotal * focalScale : 0);
    } else if (!elementLoss) {
      loss = out ?? new Float32Array(values.length);
      for (let k = 0; k < values.length; k++) loss[k] = values[k]!;
    }
    if (!withGrad && !elementLoss) return { loss, coefs: undefined };
    // 'none': the gradient of the sum of the outputs (diceFocal: each (item, class) value is in every position's).
    const gradScale = lambdaDice * (elementLoss ? positions : overlapScale);
    const coefs = new Float32Array(items * C * REGION_COEFS);
    for (let b = 0; b < items; b++) {
      for (let c = firstClass; c < C; c++) {
        const k = (batch ? 0 : b) * counted + c - firstClass;
        const j = (b * C + c) * REGION_COEFS;
        coefs[j] = gradScale * derivs[2 * k]!;
        coefs[j + 1] = gradScale * derivs[2 * k + 1]!;
        coefs[j + 2] = lambdaFocal * (weights ? weights[c - firstClass]! : 1) * focalScale;
        coefs[j + 3] = lambdaDice * values[k]!;
        for (let m = 0; m < 4; m++) {
          if (!Number.isFinite(coefs[j + m]!)) {
            throw new RangeError(
              `options.smoothDr = ${show(smoothDr)}: the gradient of class ${c} overflows float32 (a denominator that ` +
                'small makes it infinite); use a larger smoothDr',
            );
          }
        }
      }
    }
    return { loss, coefs };
  };

  const targetsRule: ValueRule = labels
    ? { values: labels, name: 'targets', ok: (v) => Number.isInteger(v) && v >= 0 && v < C, exact: true, expected: `a class index in [0, ${C - 1}]` }
    : { values: readable(soft!), name: 'targets', ok: isUnit, expected: UNIT, span: 'row' };
  return {
    call: {
      items,
      layout,
      logits,
      targets: soft,
      labels,
      params: {
        activation: ACTIVATIONS[activation],
        firstClass,
        flags: (squared ? FLAG_SQUARED_PRED : 0) | (focal ? FLAG_FOCAL_TERM : 0),
        alpha,
        gamma,
        gammaMode: gammaMode(gamma),
      },
      withGrad,
      gradOut: withGrad ? gradOut ?? new Float32Array(logits.length) : undefined,
      elementLoss: elementLoss ? { out: out ?? new Float32Array(lossLength), firstClass } : undefined,
    },
    locator: (): Locator => ({
      rules: [
        activation === 'none'
          ? { values: readable(logits), name: 'logits', ok: isUnit, expected: "a probability in [0, 1] (activation 'none')", span: 'row' }
          : { values: readable(logits), name: 'logits', ok: isFinite32, expected: FINITE, span: 'row' },
        targetsRule,
      ],
      classes: C,
      index: (row, c) => layoutIndex(layout, row, c),
      unit: 'rows',
    }),
    settle,
  };
}

export const dicePlan = (logits: unknown, targets: unknown, options: unknown, withGrad: boolean): RegionPlan =>
  overlapPlan('diceLoss', logits, targets, options, withGrad);
export const tverskyPlan = (logits: unknown, targets: unknown, options: unknown, withGrad: boolean): RegionPlan =>
  overlapPlan('tverskyLoss', logits, targets, options, withGrad);
export const diceFocalPlan = (logits: unknown, targets: unknown, options: unknown, withGrad: boolean): RegionPlan =>
  overlapPlan('diceFocalLoss', logits, targets, options, withGrad);
