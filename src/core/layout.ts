// Class-axis layouts for softmaxFocalLoss: `{ shape, classAxis }` describes logits of any rank with the classes on
// any axis (NCHW segmentation outputs: shape [N, C, H, W], classAxis 1). The logits are seen as a block
// outer x C x inner; each chunk of positions is copied into the arena as whole segments, turned into rows by
// assembly/layout/gather.ts, run through the row kernels unchanged, and the gradient rows go back the same way. Position
// order is the class-last order (the shape without the class axis), so every result is bit-identical to the
// class-last call on a transposed copy.
import type { Engine } from './engine.js';
import type { Readable } from './arena.js';
import { DEFAULTS } from '../options/defaults.js';
import { show } from './describe.js';

/** Logits seen as outer x classes x inner (row-major); positions (rows) are numbered o inner + i. */
export interface ClassLayout {
  shape: readonly number[];
  /** The class axis, in [0, rank). */
  classAxis: number;
  outer: number;
  classes: number;
  inner: number;
  /** outer x inner: the number of positions, the length of class-index targets. */
  rows: number;
}

/**
 * options.shape and options.classAxis, validated against logits.length (and options.classes, and the number of
 * class-index targets when given): undefined when neither option is set (class-last rows, as before).
 */
export function layoutOption(
  options: Record<string, unknown>, logitsLength: number, labelCount: number | undefined,
): ClassLayout | undefined {
  const shapeArg = options.shape;
  const axisArg = options.classAxis;
  if (shapeArg === undefined) {
    if (axisArg !== undefined) {
      throw new TypeError('options.shape = undefined: expected the logits\' shape (required with options.classAxis)');
    }
    return undefined;
  }
  if (!Array.isArray(shapeArg) && !(shapeArg instanceof Int32Array)) {
    throw new TypeError(`options.shape = ${show(shapeArg)}: expected an array of positive integers (the logits' shape)`);
  }
  const shape = Array.from(shapeArg as ArrayLike<unknown>, (d, k) => {
    if (typeof d !== 'number') throw new TypeError(`options.shape[${k}] = ${show(d)}: expected a positive integer`);
    if (!Number.isSafeInteger(d) || d < 1) throw new RangeError(`options.shape[${k}] = ${show(d)}: expected a positive integer`);
    return d;
  });
  const rank = shape.length;
  if (rank === 0) throw new RangeError('options.shape = []: expected at least one dimension (the class axis)');
  const product = shape.reduce((a, b) => a * b, 1);
  if (product !== logitsLength) {
    throw new RangeError(
      `options.shape = [${shape.join(', ')}]: expected dimensions whose product (${product}) is logits.length = ${logitsLength}`,
    );
  }
  let axis: number = DEFAULTS.softmaxFocalLoss.classAxis;
  if (axisArg !== undefined) {
    if (typeof axisArg !== 'number') throw new TypeError(`options.classAxis = ${show(axisArg)}: expected an integer`);
    if (!Number.isInteger(axisArg) || axisArg < -rank || axisArg >= rank) {
      throw new RangeError(`options.classAxis = ${show(axisArg)}: expected an integer in [${-rank}, ${rank}) for a shape of rank ${rank}`);
    }
    axis = axisArg;
  }
  const classAxis = axis < 0 ? axis + rank : axis;
  const classes = shape[classAxis]!;
  if (classes > 2 ** 28) {
    throw new RangeError(`options.shape[${classAxis}] = ${classes}: expected at most 2^28 classes on the class axis`);
  }
  const given = options.classes;
  if (given !== undefined && given !== classes) {
    if (typeof given !== 'number') throw new TypeError(`options.classes = ${show(given)}: expected a positive integer`);
    throw new RangeError(`options.classes = ${show(given)}: expected ${classes}, options.shape[${classAxis}] (or leave it out)`);
  }
  const outer = shape.slice(0, classAxis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(classAxis + 1).reduce((a, b) => a * b, 1);
  const rows = outer * inner;
  if (labelCount !== undefined && labelCount !== rows) {
    const rest = shape.filter((_, k) => k !== classAxis);
    throw new RangeError(
      `targets.length = ${labelCount}: expected ${rows}, one class index per position (the shape without the class ` +
        `axis: [${rest.join(', ')}])`,
    );
  }
  return { shape, classAxis, outer, classes, inner, rows };
}

/**
 * Floats per staging slot for a layout: room for about 1024 positions (each class's segment then copies in one
 * long Float32Array.set; at 100 floats a segment, the per-call cost doubles the copy), at most 2^17 floats
 * (512 KiB a slot), at least one row. It grows with C, never with N.
 */
export function layoutSlotElements(layout: ClassLayout, slack: number): number {
  const { classes: C, inner } = layout;
  if (inner === 1) return C + slack;
  return Math.max(C, Math.min(Math.min(inner, 1024) * C, 2 ** 17)) + slack;
}

/**
 * Positions in the chunk that starts at `from` and stays below `end`: whole outer slices when they fit, else (the
 * rest of) one slice. A chunk never spans part of two slices: a worker of the pool starts and ends where sum
 * blocks do, anywhere in a slice, and takes the rest of that slice first.
 */
export function layoutChunk(layout: ClassLayout, from: number, rowsPerChunk: number, end = layout.rows): number {
  const { inner } = layout;
  const left = end - from;
  if (from % inner === 0 && inner <= rowsPerChunk && left >= inner) {
    return Math.min(Math.floor(rowsPerChunk / inner), Math.floor(left / inner)) * inner;
  }
  return Math.min(rowsPerChunk, inner - (from % inner), left);
}

/** Index in the original layout of class c at position `row`. */
export function layoutIndex(layout: ClassLayout, row: number, c: number): number {
  const { classes, inner } = layout;
  const o = Math.floor(row / inner);
  return (o * classes + c) * inner + (row - o * inner);
}

/**
 * Copies the `count` positions from `from` of src (in the layout) into rows at `rowsAt` (count x C), through the
 * raw slot at `rawAt`: whole segments in, one transpose in wasm. `name` names src in errors.
 */
export function stageRows(
  engine: Engine, layout: ClassLayout, src: Readable, from: number, count: number, rawAt: number, rowsAt: number,
  name: string,
): void {
  const { arena, kernels } = engine;
  const { classes: C, inner } = layout;
  if (inner === 1) {
    arena.copyIn(src, from * C, count * C, rowsAt, name); // class axis last: already rows
  } else if (from % inner === 0 && count % inner === 0) {
    // Whole outer slices: one contiguous block of count / inner slices of C x inner.
    arena.copyIn(src, from * C, count * C, rawAt, name);
    kernels.layoutGather(rawAt, rowsAt, count / inner, C, inner);
  } else {
    // Part of one slice: C segments of `count`, one per class.
    const o = Math.floor(from / inner);
    const i0 = from - o * inner;
    for (let c = 0; c < C; c++) arena.copyIn(src, (o * C + c) * inner + i0, count, rawAt + c * count * 4, name);
    kernels.layoutGather(rawAt, rowsAt, 1, C, count);
  }
}

/** The inverse of stageRows: `count` rows at `rowsAt` into dst (in the layout) at positions from `from`. */
export function unstageRows(
  engine: Engine, layout: ClassLayout, rowsAt: number, from: number, count: number, rawAt: number, dst: Float32Array,
): void {
  const { arena, kernels } = engine;
  const { classes: C, inner } = layout;
  if (inner === 1) {
    arena.copyOut(rowsAt, count * C, dst, from * C);
  } else if (from % inner === 0 && count % inner === 0) {
    kernels.layoutScatter(rowsAt, rawAt, count / inner, C, inner);
    arena.copyOut(rawAt, count * C, dst, from * C);
  } else {
    kernels.layoutScatter(rowsAt, rawAt, 1, C, count);
    const o = Math.floor(from / inner);
    const i0 = from - o * inner;
    for (let c = 0; c < C; c++) arena.copyOut(rawAt + c * count * 4, count, dst, (o * C + c) * inner + i0);
  }
}
