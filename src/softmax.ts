// Multi-class focal loss from logits (mmcv softmax_focal_loss / Keras CategoricalFocalCrossentropy semantics):
// options are validated into a plan, then whole rows stream through the arena into assembly/softmax.ts, as many
// rows per chunk as fit (one when a row is wider than a chunk: the slots widen to C, never to N).
import type { Engine } from './engine.js';
import type { Staging } from './memory.js';
import { gammaMode } from './sigmoid.js';
import { softmaxCompat, softmaxCompatAlpha, softmaxCompatDivisor, type Compat } from './compat.js';
import {
  layoutChunk, layoutIndex, layoutOption, layoutSlotElements, stageRows, unstageRows, type ClassLayout,
} from './layout.js';
import {
  alphaOption, checkFloats, checkLength, checkOptions, gammaOption, isFloats, normalizerOption, lossOutputs,
  reductionOption, show, weightsOption,
  type Floats, type Reduction,
} from './validate.js';

/** Options of `softmaxFocalLoss` (and of `softmaxFocalLossWithGrad`, which adds `gradOut`). */
export interface SoftmaxFocalOptions {
  /** C, the number of classes (the row length of logits). Default logits.length / targets.length for class
   * indices; required with soft targets. */
  classes?: number;
  /** Class weighting: null (default) for none; a number in [0, 1] scales every row; an array of C non-negative
   * numbers weighs row i by alpha[y_i] (soft targets: class c's term by alpha[c]). */
  alpha?: number | Floats | null;
  /** Focusing parameter, >= 0. Default 2; 0 gives (weighted) softmax cross-entropy. */
  gamma?: number;
  /** Rows whose target is this index give 0 loss and 0 gradient and do not count in 'mean'. Default -100. */
  ignoreIndex?: number;
  /** With class indices: the target row becomes y (1 - eps) + eps / C, as Keras label_smoothing. Default 0. */
  labelSmoothing?: number;
  /** 'mean' (default: over the rows not ignored, 0 when there are none), 'sum', or 'none' for one loss per row. */
  reduction?: Reduction;
  /** Per-row weights (length N), multiplied in before the reduction. */
  weights?: Floats;
  /** With 'mean': divide the sum by this instead of the number of rows counted. */
  normalizer?: number;
  /** With 'none': a caller-owned Float32Array (length >= N) to write the row losses into, returned as the loss. */
  out?: Float32Array;
  /** The logits' shape, any rank (e.g. [N, C, H, W]), with `classAxis`: the classes lie on that axis, not last.
   * Class-index targets then have the shape without the class axis (one per position, in that order), soft targets
   * and the gradient the logits' shape; 'none' gives one loss per position. No transposed copy is made. */
  shape?: readonly number[];
  /** The class axis of `shape`, in [-rank, rank) (negative counts from the end). Default -1 (class last). */
  classAxis?: number;
  /** A Python library's semantics: 'kornia' | 'keras' | 'mmcv' | 'monai' set alpha's convention (kornia and MONAI:
   * a scalar alpha gives class 0 1 - alpha, the others alpha), the 'mean' divisor and the defaults (README's compat
   * table). Options given beside it override its defaults. 'torchvision', 'mmdet', 'smp': a RangeError (no softmax
   * focal loss there). */
  compat?: Compat;
}

export interface SoftmaxFocalGradOptions extends SoftmaxFocalOptions {
  /** A caller-owned Float32Array (length >= N x C) to write the gradient into, returned as `grad`. */
  gradOut?: Float32Array;
}

/** Class indices (one per row) or soft targets (a distribution per row, N x C). */
export type SoftmaxTargets = Int32Array | readonly number[] | Float32Array | Float64Array;

interface SoftmaxPlan {
  rows: number;
  classes: number;
  logits: Floats;
  /** Class indices, or undefined for soft targets. */
  labels: Int32Array | readonly number[] | undefined;
  /** Soft targets (rows x classes), or undefined for class indices. */
  soft: Float32Array | Float64Array | undefined;
  weights: Floats | undefined;
  alpha: number;
  alphas: Floats | undefined;
  gamma: number;
  ignoreIndex: number;
  smoothing: number;
  /** Classes on an axis other than the last (options.shape / classAxis), or undefined for N x C rows. */
  layout: ClassLayout | undefined;
  reduction: Reduction;
  divisor: number;
  out: Float32Array | undefined;
  gradOut: Float32Array | undefined;
}

/**
 * Floats of slack the row kernels need after the last row of each buffer: their SIMD passes take a row's last
 * C % 4 classes as one masked vector, reading and writing up to 3 floats past the row (assembly/softmax.ts).
 */
export const ROW_SLACK = 4;

/** Whole rows of `classes` that fit in a slot with ROW_SLACK to spare. */
export function chunkRows(staging: Staging, classes: number): number {
  return Math.floor((staging.elements - ROW_SLACK) / classes);
}

/** A positive integer option (`classes`). */
export function classesOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a positive integer`);
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 28) {
    throw new RangeError(`${name} = ${show(value)}: expected a positive integer`);
  }
  return value;
}

/** Rows of `classes` in `length` values: the length must be a whole number of rows. */
export function rowCount(length: number, classes: number, name: string): number {
  if (length % classes !== 0) {
    throw new RangeError(`${name}.length = ${length}: expected a multiple of the number of classes (${classes})`);
  }
  return length / classes;
}

function ignoreIndexOption(value: unknown, name: string): number {
  if (value === undefined) return -100;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected an integer`);
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RangeError(`${name} = ${show(value)}: expected an integer (a 32-bit one)`);
  }
  return value;
}

function smoothingOption(value: unknown, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected a number in [0, 1]`);
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} = ${show(value)}: expected a number in [0, 1]`);
  return value;
}

/** alpha: null / a number (as sigmoidFocalLoss, no weighting when negative) / C non-negative class weights. */
function softmaxAlphaOption(value: unknown, name: string, classes: number): { alpha: number; alphas?: Floats } {
  if (value === undefined || value === null || typeof value === 'number') {
    return { alpha: alphaOption(value, name, null) };
  }
  if (!isFloats(value)) {
    throw new TypeError(`${name}: expected null, a number, or an array of ${classes} class weights, got ${show(value)}`);
  }
  checkLength(value, name, classes, 'one weight per class');
  for (let c = 0; c < classes; c++) {
    const a = value[c];
    if (typeof a !== 'number') throw new TypeError(`${name}[${c}] = ${show(a)}: expected a number`);
    if (!(a >= 0) || !Number.isFinite(Math.fround(a))) {
      throw new RangeError(`${name}[${c}] = ${show(a)}: expected a finite number >= 0`);
    }
  }
  return { alpha: -1, alphas: value };
}

function plan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown, withGrad: boolean): SoftmaxPlan {
  const logits = checkFloats(logitsArg, 'logits');
  let labels: Int32Array | readonly number[] | undefined;
  let soft: Float32Array | Float64Array | undefined;
  if (targetsArg instanceof Int32Array || Array.isArray(targetsArg)) labels = targetsArg;
  else if (targetsArg instanceof Float32Array || targetsArg instanceof Float64Array) soft = targetsArg;
  else {
    throw new TypeError(
      `targets: expected class indices (an Int32Array or an array of numbers) or soft targets ` +
        `(a Float32Array or Float64Array of N x C), got ${show(targetsArg)}`,
    );
  }
  const { options, compat } = softmaxCompat(checkOptions(optionsArg)); // a preset's defaults under the options given
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
  const { alpha, alphas } = softmaxAlphaOption(softmaxCompatAlpha(compat, options.alpha, classes), 'options.alpha', classes);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  const ignoreIndex = ignoreIndexOption(options.ignoreIndex, 'options.ignoreIndex');
  const smoothing = smoothingOption(options.labelSmoothing, 'options.labelSmoothing');
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', rows, 'one weight per row');
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  const inputs = [[logits, 'logits'], [targetsArg, 'targets'], [weights, 'options.weights']] as const;
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, rows, rows * classes, inputs);
  let divisor = 1;
  if (reduction === 'mean') {
    divisor = normalizer ?? softmaxCompatDivisor(compat, rows, classes) ?? (labels ? countedRows(labels, ignoreIndex) : rows);
  }
  return {
    rows, classes, logits, labels, soft, weights, alpha, alphas, gamma, ignoreIndex, smoothing, reduction, divisor,
    out, gradOut, layout,
  };
}

/** The rows 'mean' divides by: those whose target is not ignoreIndex (the gradient needs it before the pass). */
function countedRows(labels: Int32Array | readonly number[], ignoreIndex: number): number {
  let counted = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignoreIndex) counted++;
  return counted;
}

/** Copies class indices into an int32 slot; an entry that is not a 32-bit integer is refused here. */
function copyLabels(engine: Engine, labels: Int32Array | readonly number[], from: number, count: number, ptr: number): void {
  const i32 = new Int32Array(engine.arena.f32.buffer, ptr, count);
  if (labels instanceof Int32Array) {
    i32.set(labels.subarray(from, from + count));
    return;
  }
  for (let i = 0; i < count; i++) {
    const v = labels[from + i];
    if (typeof v !== 'number') throw new TypeError(`targets[${from + i}] = ${show(v)}: expected a class index`);
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new RangeError(`targets[${from + i}] = ${show(v)}: expected an integer class index`);
    }
    i32[i] = v;
  }
}

/** After a kernel flagged rows [from, from + count): the error for the first offending value. */
function locateInvalid(p: SoftmaxPlan, from: number, count: number): RangeError {
  const C = p.classes;
  for (let r = from; r < from + count; r++) {
    const y = p.labels ? (p.labels[r] as number) : 0;
    const ignored = p.labels !== undefined && y === p.ignoreIndex; // the kernel skips these rows, in range or not
    const inRange = !ignored && y >= 0 && y < C;
    if (inRange) {
      for (let c = 0; c < C; c++) {
        const j = p.layout ? layoutIndex(p.layout, r, c) : r * C + c;
        const v = p.logits[j] as number;
        if (!Number.isFinite(Math.fround(v))) {
          return new RangeError(`logits[${j}] = ${show(v)}: expected a finite number (within float32 range)`);
        }
      }
    } else if (!ignored) {
      return new RangeError(
        `targets[${r}] = ${show(y)}: expected a class index in [0, ${C}) or ignoreIndex (${p.ignoreIndex})`,
      );
    }
    if (p.soft) {
      for (let c = 0; c < C; c++) {
        const j = p.layout ? layoutIndex(p.layout, r, c) : r * C + c;
        const t = Math.fround(p.soft[j]!);
        if (!(t >= 0 && t <= 1)) {
          return new RangeError(`targets[${j}] = ${show(p.soft[j])}: expected a value in [0, 1] (row ${r} of the soft targets)`);
        }
      }
    }
    if (p.weights) {
      const w = p.weights[r] as number;
      if (!Number.isFinite(Math.fround(w))) {
        return new RangeError(`options.weights[${r}] = ${show(w)}: expected a finite number (within float32 range)`);
      }
    }
  }
  return new RangeError(`invalid values between rows ${from} and ${from + count - 1}`);
}

function run(engine: Engine, p: SoftmaxPlan, withGrad: boolean): { loss: number | Float32Array; grad?: Float32Array } {
  const { arena, kernels } = engine;
  const { rows, classes: C, reduction } = p;
  // A layout takes a 9th slot (the raw block) and longer slots (see layoutSlotElements).
  const staging: Staging = p.layout
    ? arena.stage(9, layoutSlotElements(p.layout, ROW_SLACK))
    : arena.stage(8, C + ROW_SLACK);
  const { acc, slots } = staging;
  const [logitsAt, labelsAt, weightsAt, lossAt, gradAt, scratchAt, alphasAt, softAt] = slots as [
    number, number, number, number, number, number, number, number,
  ];
  const rowsPerChunk = chunkRows(staging, C);
  const lossOut = reduction === 'none' ? p.out ?? new Float32Array(rows) : undefined;
  const grad = withGrad ? p.gradOut ?? new Float32Array(rows * C) : undefined;
  // d(mean)/dz = dloss/dz / divisor; the kernel multiplies it in as it writes.
  const gradScale = reduction === 'mean' && p.divisor > 0 ? 1 / p.divisor : 1;
  const mode = gammaMode(p.gamma);
  const useSoft = p.soft !== undefined || p.smoothing > 0;
  // Keras label smoothing, rounded to float32 as the kernel applies it: t' = t (1 - eps) + eps / C.
  const keep = Math.fround(1 - p.smoothing);
  const lo = Math.fround(p.smoothing / C);
  if (p.alphas) arena.copyIn(p.alphas, 0, C, alphasAt, 'options.alpha');
  arena.clearLanes(acc);
  const layout = p.layout;
  const rawAt = staging.slots[8]!;
  for (let from = 0, count = 0; from < rows; from += count) {
    count = layout ? layoutChunk(layout, from, rowsPerChunk) : Math.min(rowsPerChunk, rows - from);
    if (layout) stageRows(engine, layout, p.logits, from, count, rawAt, logitsAt, 'logits');
    else arena.copyIn(p.logits, from * C, count * C, logitsAt, 'logits');
    if (p.labels) copyLabels(engine, p.labels, from, count, labelsAt);
    if (p.soft && layout) stageRows(engine, layout, p.soft, from, count, rawAt, softAt, 'targets');
    else if (p.soft) arena.copyIn(p.soft, from * C, count * C, softAt, 'targets');
    if (p.weights) arena.copyIn(p.weights, from, count, weightsAt, 'options.weights');
    const weightsPtr = p.weights ? weightsAt : 0;
    const alphasPtr = p.alphas ? alphasAt : 0;
    const status = useSoft
      ? kernels.softmaxFocalSoft(
        logitsAt, p.soft ? softAt : 0, labelsAt, weightsPtr, alphasPtr, lossOut ? lossAt : 0, grad ? gradAt : 0,
        scratchAt, count, C, from, p.alpha, mode, p.gamma, gradScale, p.ignoreIndex, keep, lo, acc,
      )
      : kernels.softmaxFocal(
        logitsAt, labelsAt, weightsPtr, alphasPtr, lossOut ? lossAt : 0, grad ? gradAt : 0, scratchAt,
        count, C, from, p.alpha, mode, p.gamma, gradScale, p.ignoreIndex, acc,
      );
    if (status !== 0) throw locateInvalid(p, from, count);
    if (lossOut) arena.copyOut(lossAt, count, lossOut, from);
    if (grad && layout) unstageRows(engine, layout, gradAt, from, count, rawAt, grad);
    else if (grad) arena.copyOut(gradAt, count * C, grad, from * C);
  }
  const total = arena.sumLanes(acc);
  const loss = lossOut ?? (reduction === 'sum' ? total : p.divisor > 0 ? total / p.divisor : 0);
  return { loss, grad };
}

export function softmaxFocalLoss(engine: Engine, logits: unknown, targets: unknown, options: unknown): number | Float32Array {
  return run(engine, plan(logits, targets, options, false), false).loss;
}

export function softmaxFocalLossWithGrad(
  engine: Engine, logits: unknown, targets: unknown, options: unknown,
): { loss: number | Float32Array; grad: Float32Array } {
  const { loss, grad } = run(engine, plan(logits, targets, options, true), true);
  return { loss, grad: grad! };
}
