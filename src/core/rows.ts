// THE row loop of every row kernel (the softmax focal losses, the softmax / log-softmax primitives): stage whole
// rows (as many as fit a slot; a row wider than a chunk widens the slots to C, never to N), through a class-axis
// layout when the classes are not last, call the kernel, locate a bad value, copy the outputs out, and keep one
// float64 sum per block of rows. A family's plan describes the call (RowCall); it never loops.
// Sums: rows are summed in blocks of ⌊(CHUNK - ROW_SLACK) / C⌋ rows (at least one), a function of C alone: the
// lanes are cleared at each block's first row and combined at its last, and the block sums added in block order.
// So a sum does not depend on the staging (class-last or a layout, copied or in place) nor on a worker pool that
// runs whole blocks: all give the same bits.
import {
  CHUNK, ROW_SLACK, STREAM_ACC, STREAM_CLASS_WEIGHTS, STREAM_GAMMAS, STREAM_GRAD, STREAM_LABELS, STREAM_LOSS, STREAM_SCRATCH,
} from './abi.js';
import { detachedError, type Arena, type Readable } from './arena.js';
import { show } from './describe.js';
import type { Engine, RowKernelName } from './engine.js';
import { layoutChunk, layoutSlotElements, stageRows, unstageRows, type ClassLayout } from './layout.js';
import { locate, type Locator } from './locate.js';
import { clearStreams, setStream, writeParams, type KernelParams } from './params.js';
import { gradientMayOverflow, reduce, type InputStream, type LossResult, type Outputs, type Reduction } from './elementwise.js';

/** An array a row kernel reads: `classes` values per row (logits, soft targets), or one per row (weights). */
export interface RowStream extends InputStream {
  per: 'class' | 'row';
}

/** A validated row call, as a family's plan describes it. Structured-cloneable (the pool sends it). */
export interface RowCall {
  kernel: RowKernelName;
  rows: number;
  classes: number;
  inputs: readonly RowStream[];
  /** Class indices (int32 on the labels stream), checked as they are copied. */
  labels?: Int32Array | readonly number[];
  /** One float32 per class on the class-weights stream (softmax's per-class alpha). */
  classTable?: Readable;
  /** One float32 per class on the gammas stream (softmax's per-class gamma): a slot of its own when given. */
  gammaTable?: Readable;
  /** Classes on an axis other than the last (options.shape / classAxis), or undefined for rows x C. */
  layout?: ClassLayout;
  params: KernelParams;
  reduction: Reduction;
  /** What 'mean' divides by (known before the pass: the rows not ignored, or a normalizer). */
  divisor: number;
  /** Whether the result is written ('none', and the primitives), one per row or `classes` per row. */
  writeLoss: boolean;
  lossPer: 'row' | 'class';
  out?: Float32Array;
  withGrad: boolean;
  gradOut?: Float32Array;
}

/** The result arrays of a row call (as an elementwise call's): the caller's out / gradOut, or new ones. */
export type RowOutputs = Outputs;

/** Rows [first, last) run: the block sums added in order (and each block's, with perBlock), or the rows flagged. */
export interface RowPassResult {
  total: number;
  sums?: Float64Array;
  invalid?: { from: number; count: number };
  /** With `invalid`: the values were valid, but this row's loss or gradient overflowed float32. */
  overflow?: { index: number; what: 'loss' | 'gradient' };
}

const NO_OVERRIDES: KernelParams = {};

/** Rows per sum block: a function of C only (see the file comment). */
export function sumBlockRows(classes: number): number {
  return Math.max(1, Math.floor((CHUNK - ROW_SLACK) / classes));
}

export function blockCount(rows: number, classes: number): number {
  return Math.ceil(rows / sumBlockRows(classes));
}

function newRowOutputs(call: RowCall): RowOutputs {
  const lossLength = call.lossPer === 'row' ? call.rows : call.rows * call.classes;
  return {
    loss: call.writeLoss ? call.out ?? new Float32Array(lossLength) : undefined,
    grad: call.withGrad ? call.gradOut ?? new Float32Array(call.rows * call.classes) : undefined,
  };
}

/**
 * Runs rows [first, last) (whole sum blocks) of a call. Rows-by-classes views of the engine's memory (fl.alloc,
 * whose padding the kernels' last vector may touch) are read and written in place; everything else is staged.
 */
export function runRows(
  engine: Engine, call: RowCall, outputs: RowOutputs, first: number, last: number, perBlock = false,
): RowPassResult {
  const { arena, kernels } = engine;
  const kernel = kernels[call.kernel];
  const { classes: C, layout, inputs } = call;
  const { loss, grad } = outputs;
  // + labels, class table, loss, grad, scratch (+ raw) (+ gamma table)
  const slotCount = inputs.length + 5 + (layout ? 1 : 0) + (call.gammaTable ? 1 : 0);
  const what = (): string => `options.classes = ${C} (rows wider than the staging slots)`;
  // A layout stages whole segments of up to 2^17 floats for speed; any width of at least a row gives the same
  // results, so while views from fl.alloc are live (no grow allowed) it takes the narrowest slots instead.
  let elements = layout ? layoutSlotElements(layout, ROW_SLACK) : C + ROW_SLACK;
  if (layout && arena.viewsLive && !arena.fits(slotCount, elements)) elements = C + ROW_SLACK;
  const staging = arena.stage(slotCount, elements, what);
  const slots = staging.slots; // inputs first, then labels, table, loss, grad, scratch (read by index: no arrays per call)
  const labelsAt = slots[inputs.length]!;
  const tableAt = slots[inputs.length + 1]!;
  const lossAt = slots[inputs.length + 2]!;
  const gradAt = slots[inputs.length + 3]!;
  const scratchAt = slots[inputs.length + 4]!;
  const rawAt = layout ? slots[inputs.length + 5]! : 0;
  const gammaAt = call.gammaTable ? slots[slotCount - 1]! : 0;
  const rowsPerChunk = Math.floor((staging.elements - ROW_SLACK) / C);
  const blockRows = sumBlockRows(C);
  const sums = perBlock ? new Float64Array(Math.ceil((last - first) / blockRows)) : undefined;
  let total = 0;
  if (call.classTable) arena.copyIn(call.classTable, 0, C, tableAt, 'options.alpha');
  if (call.gammaTable) arena.copyIn(call.gammaTable, 0, C, gammaAt, 'options.gamma');
  writeParams(arena, call.params, NO_OVERRIDES);
  clearStreams(arena);
  const i32 = arena.i32;
  // The streams whose address is the same for every block of the call.
  if (call.classTable) setStream(i32, arena, STREAM_CLASS_WEIGHTS, tableAt);
  if (call.gammaTable) setStream(i32, arena, STREAM_GAMMAS, gammaAt);
  setStream(i32, arena, STREAM_SCRATCH, scratchAt);
  setStream(i32, arena, STREAM_ACC, arena.acc);
  const lossWidth = call.lossPer === 'row' ? 1 : C;
  const lossInPlace = inPlace(arena, layout, loss, call.lossPer); // softmax rows of C = 1 are still rows: padded views only
  const gradInPlace = inPlace(arena, layout, grad, 'class');
  const bases: number[] = []; // each input stream's address for row `from` of the chunk
  // As the elementwise driver: gradients are scanned for an overflow only when something scales them up.
  const scanGrad = grad !== undefined && gradientMayOverflow(inputs, call.classTable !== undefined, call.params.alpha, call.params.gradScale);
  for (let from = first, count = 0; from < last; from += count) {
    count = layout ? layoutChunk(layout, from, rowsPerChunk, last) : Math.min(rowsPerChunk, last - from);
    // Stage the chunk's rows; the base address of each stream for row `from`.
    for (let k = 0; k < inputs.length; k++) {
      const { values, name, per } = inputs[k]!;
      if (inPlace(arena, layout, values, per)) {
        bases[k] = values.byteOffset + from * (per === 'class' ? C : 1) * 4;
        continue;
      }
      if (per === 'class' && layout) stageRows(engine, layout, values, from, count, rawAt, slots[k]!, name);
      else if (per === 'class') arena.copyIn(values, from * C, count * C, slots[k]!, name);
      else arena.copyIn(values, from, count, slots[k]!, name);
      bases[k] = slots[k]!;
    }
    if (call.labels) copyLabels(engine, call.labels, from, count, labelsAt);
    const lossBase = lossInPlace ? loss!.byteOffset + from * lossWidth * 4 : lossAt;
    const gradBase = gradInPlace ? grad!.byteOffset + from * C * 4 : gradAt;
    // One kernel call per part of a sum block, so the block sums do not depend on how rows were staged.
    for (let row = from; row < from + count;) {
      const block = Math.floor((row - first) / blockRows);
      const end = Math.min(from + count, first + (block + 1) * blockRows);
      const skip = row - from;
      if ((row - first) % blockRows === 0) arena.clearLanes(arena.acc);
      for (let k = 0; k < inputs.length; k++) {
        const input = inputs[k]!;
        setStream(i32, arena, input.stream, bases[k]! + skip * (input.per === 'class' ? C : 1) * 4);
      }
      if (call.labels) setStream(i32, arena, STREAM_LABELS, labelsAt + skip * 4);
      if (loss) setStream(i32, arena, STREAM_LOSS, lossBase + skip * lossWidth * 4);
      if (grad) setStream(i32, arena, STREAM_GRAD, gradBase + skip * C * 4);
      const status = kernel(arena.streams, end - row, C, row, arena.params);
      // The block's sum so far (its lanes are cleared at its first row).
      const laneSum = arena.sumLanes(arena.acc);
      // A row loss that overflowed makes the lanes infinite or NaN: the rows are run again into the loss slot to
      // find it (the locator first looks for an invalid value). A gradient that may have overflowed is scanned.
      if (!Number.isFinite(laneSum)) {
        setStream(i32, arena, STREAM_LOSS, lossAt);
        kernel(arena.streams, end - row, C, row, arena.params);
        const bad = kernels.firstNonFinite(lossAt, (end - row) * lossWidth);
        return { total, invalid: { from: row, count: end - row }, overflow: { index: row + Math.floor(bad / lossWidth), what: 'loss' } };
      }
      if (status < 0) return { total, invalid: { from: row, count: end - row } };
      const bad = scanGrad ? kernels.firstNonFinite(gradBase + skip * C * 4, (end - row) * C) : -1;
      if (bad >= 0) {
        return { total, invalid: { from: row, count: end - row }, overflow: { index: row + Math.floor(bad / C), what: 'gradient' } };
      }
      if (end === first + (block + 1) * blockRows || end === last) {
        total += laneSum;
        if (sums) sums[block] = laneSum;
      }
      row = end;
    }
    if (loss && !lossInPlace) arena.copyOut(lossAt, count * lossWidth, loss, from * lossWidth);
    if (grad && !gradInPlace && layout) unstageRows(engine, layout, gradAt, from, count, rawAt, grad);
    else if (grad && !gradInPlace) arena.copyOut(gradAt, count * C, grad, from * C);
  }
  return { total, sums };
}

/** In place: class-last views with their padding (row streams) or any view (one value per row). */
function inPlace(arena: Arena, layout: ClassLayout | undefined, values: unknown, per: 'class' | 'row'): values is Float32Array {
  return per === 'row' ? arena.owns(values) : !layout && arena.ownsPadded(values);
}

/** Whether a number is a 32-bit integer, as a class index (or ignoreIndex) must be. */
export function isInt32(v: number): boolean {
  return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
}

/** Copies class indices into an int32 slot; an entry that is not a 32-bit integer is refused here. */
export function copyLabels(engine: Engine, labels: Int32Array | readonly number[], from: number, count: number, ptr: number): void {
  const i32 = engine.arena.i32;
  const at = ptr >>> 2;
  if (labels instanceof Int32Array) {
    if (labels.length < from + count) throw detachedError('targets');
    if (count <= 16) {
      for (let i = 0; i < count; i++) i32[at + i] = labels[from + i]!; // no subarray object for a few rows
    } else {
      i32.set(labels.subarray(from, from + count), at);
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    const v = labels[from + i];
    if (typeof v !== 'number') throw new TypeError(`targets[${from + i}] = ${show(v)}: expected a class index`);
    if (!isInt32(v)) {
      throw new RangeError(`targets[${from + i}] = ${show(v)}: expected an integer class index`);
    }
    i32[at + i] = v;
  }
}

/** The error for rows that stopped: the bad value a kernel flagged, or the row whose result overflowed. */
export function rowsError(locator: Locator, result: RowPassResult): RangeError {
  return locate(locator, result.invalid!.from, result.invalid!.count, result.overflow);
}

/** A validated row call and how to name its bad values. */
export interface RowPlan {
  call: RowCall;
  /** Built only when a kernel has flagged something (most calls never need it). */
  locator(): Locator;
  /** A last step on the result, on the calling thread (DFL's ultralytics mode: each box's mean of its 4 rows). */
  finish?(result: LossResult): LossResult;
}

/** Runs a planned row call on one engine, then its reduction. */
export function runRowCall(engine: Engine, plan: RowPlan, what: string): LossResult {
  const { call } = plan;
  const { arena } = engine;
  arena.enter(what);
  try {
    const outputs = newRowOutputs(call);
    const result = runRows(engine, call, outputs, 0, call.rows);
    if (result.invalid) throw rowsError(plan.locator(), result);
    const finished = finishRows(call, outputs, result.total);
    return plan.finish ? plan.finish(finished) : finished;
  } finally {
    arena.leave();
  }
}

/** The result of a row call from its outputs and the sum of its blocks (shared with the pool). */
export function finishRows(call: RowCall, outputs: RowOutputs, total: number): LossResult {
  const loss = outputs.loss ?? reduce(call.reduction, { total, divisor: call.divisor, gradFactor: undefined });
  return { loss, grad: outputs.grad };
}
