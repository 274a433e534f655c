// THE region loop of the overlap losses (Dice, Tversky, Dice + focal): a loss per (item, class) region needs the
// region's sums over every position before any gradient, so a call is two passes over memory, the floor for these
// losses. Pass 1 stages each item's positions chunk by chunk with the classes planar (class c of the chunk's
// positions contiguous), and the kernel adds them into per-class float64 lanes; the family's plan turns the sums
// into the loss and per-class coefficients; pass 2 reads the input again and writes the gradient (and diceFocal's
// per-element loss) — with a softmax and no focal term, the input it reads is pass 1's softmax, left in the
// gradient's array, instead of the logits. A family's plan describes the call (RegionCall); it never loops.
// Sums: lane = spatial index mod 4 within the item, lanes combined as (0 + 1) + (2 + 3) at the item's end: the same
// bits whatever the chunking, the build or the layout (class axis 1 or last).
import { ACTIVATION_SOFTMAX, CHUNK, FLAG_FOCAL_TERM, FLAG_SOFTMAX_STAGED, STREAM_GRAD, STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_REGION_COEFS, STREAM_REGION_SUMS, STREAM_SCRATCH, STREAM_TARGETS } from './abi.js';
import type { Readable } from './arena.js';
import type { Engine, RegionKernelName } from './engine.js';
import type { LossResult } from './elementwise.js';
import type { ClassLayout } from './layout.js';
import { locate, type Locator } from './locate.js';
import { clearStreams, setStream, writeParams, type KernelParams } from './params.js';
import { copyLabels } from './rows.js';

/** A validated overlap call, as a family's plan describes it. */
export interface RegionCall {
  /** Items (the batch): each is `layout.rows / items` positions, whole slices of the layout. */
  items: number;
  layout: ClassLayout;
  logits: Readable;
  /** Same-shape targets (one-hot or soft), or class indices, one per position. */
  targets?: Readable;
  labels?: Int32Array | readonly number[];
  params: KernelParams;
  withGrad: boolean;
  gradOut?: Float32Array;
  /** Dice + focal 'none': the per-element loss, classes [firstClass, C) of the layout (MONAI's B x C' x spatial). */
  elementLoss?: { out: Float32Array; firstClass: number };
}

/** The per-class values of pass 1: items x classes x [sum p t, sum p^k, sum t^k, sum of focal terms]. */
export const REGION_SUMS = 4;
/** The per-class coefficients of pass 2: items x classes x [a, b, f, d] (assembly/dice/overlap.ts). */
export const REGION_COEFS = 4;

/** A validated region call, how to name its bad values, and what it makes of pass 1's sums. */
export interface RegionPlan {
  call: RegionCall;
  locator(): Locator;
  /**
   * From pass 1's sums: the loss (undefined when pass 2 writes it per element) and the coefficients of pass 2
   * (undefined when there is no pass 2).
   */
  settle(sums: Float64Array): { loss: number | Float32Array | undefined; coefs: Float32Array | undefined };
}

/** Positions a kernel call takes: a multiple of 4 (the lanes line up), about a chunk of floats over the classes. */
function positionsPerChunk(classes: number): number {
  return Math.max(4, Math.floor(CHUNK / classes / 4) * 4);
}

/** Pass 1's sums of items [firstItem, lastItem) (or the first item holding a bad value). */
export interface RegionPassResult {
  sums: Float64Array;
  invalidItem?: number;
}

/**
 * One pass over items [firstItem, lastItem) (whole items: the pool splits a call by items): pass 1 returns their
 * sums, pass 2 (with every item's coefs) writes their gradient and element loss. With `keepSoftmax`, pass 1 also
 * writes its softmax into the gradient's array, and pass 2 stages that instead of the logits (FLAG_SOFTMAX_STAGED): a
 * copy out and back in costs less than the softmax's exps again.
 */
export function runRegionPass(
  engine: Engine, call: RegionCall, kernelName: RegionKernelName, coefs: Float32Array | undefined, keepSoftmax: boolean,
  firstItem = 0, lastItem = call.items,
): RegionPassResult {
  const { arena, kernels } = engine;
  const kernel = kernels[kernelName];
  const { layout, items } = call;
  const { classes: C, inner } = layout;
  const perItem = layout.rows / items;
  const maxCount = positionsPerChunk(C);
  const width = Math.max(C * maxCount, C * 32);
  const { slots } = arena.stage(9, width, () => `options.shape (${C} classes)`);
  const [xAt, tAt, rawAt, labelsAt, scratchAt, gradAt, lossAt, sumsAt, coefsAt] = slots as [
    number, number, number, number, number, number, number, number, number,
  ];
  const sums = new Float64Array((lastItem - firstItem) * C * REGION_SUMS);
  const gradPass = coefs !== undefined;
  const grad = gradPass ? call.gradOut : undefined;
  const elementLoss = gradPass ? call.elementLoss : undefined;
  const staged = gradPass && keepSoftmax;
  writeParams(arena, call.params, staged ? { flags: (call.params.flags ?? 0) | FLAG_SOFTMAX_STAGED } : {});
  const input = staged ? call.gradOut! : call.logits;
  clearStreams(arena);
  const i32 = arena.i32;
  setStream(i32, arena, STREAM_INPUT, xAt);
  if (call.targets) setStream(i32, arena, STREAM_TARGETS, tAt);
  if (call.labels) setStream(i32, arena, STREAM_LABELS, labelsAt);
  setStream(i32, arena, STREAM_SCRATCH, scratchAt);
  setStream(i32, arena, STREAM_REGION_SUMS, sumsAt);
  setStream(i32, arena, STREAM_REGION_COEFS, coefsAt);
  if (gradPass) setStream(i32, arena, STREAM_GRAD, gradAt);
  if (elementLoss) setStream(i32, arena, STREAM_LOSS, lossAt);
  for (let b = firstItem; b < lastItem; b++) {
    const f64 = arena.f64;
    f64.fill(0, sumsAt >>> 3, (sumsAt >>> 3) + C * 16);
    if (coefs) arena.f32.set(coefs.subarray(b * C * REGION_COEFS, (b + 1) * C * REGION_COEFS), coefsAt >>> 2);
    const end = (b + 1) * perItem;
    for (let pos = b * perItem, count = 0; pos < end; pos += count) {
      const o = Math.floor(pos / inner);
      const i0 = pos - o * inner;
      count = Math.min(maxCount, end - pos, inner === 1 ? Infinity : inner - i0);
      stagePlanar(engine, layout, input, staged ? 'options.gradOut' : 'logits', pos, count, rawAt, xAt);
      if (call.targets) stagePlanar(engine, layout, call.targets, 'targets', pos, count, rawAt, tAt);
      if (call.labels) copyLabels(engine, call.labels, pos, count, labelsAt);
      const status = kernel(arena.streams, count, C, pos - b * perItem, arena.params);
      if (status < 0) return { sums, invalidItem: b };
      if (keepSoftmax && !gradPass) unstagePlanar(engine, layout, scratchAt, pos, count, rawAt, call.gradOut!, 0);
      if (grad) unstagePlanar(engine, layout, gradAt, pos, count, rawAt, grad, 0);
      if (elementLoss) unstagePlanar(engine, layout, lossAt, pos, count, rawAt, elementLoss.out, elementLoss.firstClass);
    }
    if (!gradPass) {
      // Each sum's four lanes, combined in the fixed order.
      const view = arena.f64;
      const at = sumsAt >>> 3;
      for (let k = 0; k < C * REGION_SUMS; k++) {
        const lane = at + 4 * k;
        sums[(b - firstItem) * C * REGION_SUMS + k] = (view[lane]! + view[lane + 1]!) + (view[lane + 2]! + view[lane + 3]!);
      }
    }
  }
  return { sums };
}

/** Positions [pos, pos + count) of one slice (or class-last rows) into C planar segments of `count` at `planarAt`. */
function stagePlanar(
  engine: Engine, layout: ClassLayout, src: Readable, name: string, pos: number, count: number, rawAt: number,
  planarAt: number,
): void {
  const { arena, kernels } = engine;
  const { classes: C, inner } = layout;
  if (inner === 1) {
    arena.copyIn(src, pos * C, count * C, rawAt, name); // rows of C: one transpose
    kernels.layoutScatter(rawAt, planarAt, 1, C, count);
    return;
  }
  const o = Math.floor(pos / inner);
  const i0 = pos - o * inner;
  for (let c = 0; c < C; c++) arena.copyIn(src, (o * C + c) * inner + i0, count, planarAt + c * count * 4, name);
}

/** The inverse of stagePlanar, for classes [firstClass, C) into dst laid out with C - firstClass classes. */
function unstagePlanar(
  engine: Engine, layout: ClassLayout, planarAt: number, pos: number, count: number, rawAt: number, dst: Float32Array,
  firstClass: number,
): void {
  const { arena, kernels } = engine;
  const { classes: C, inner } = layout;
  const kept = C - firstClass;
  if (inner === 1) {
    kernels.layoutGather(planarAt, rawAt, 1, C, count);
    if (firstClass === 0) {
      arena.copyOut(rawAt, count * C, dst, pos * C);
    } else {
      for (let r = 0; r < count; r++) arena.copyOut(rawAt + (r * C + firstClass) * 4, kept, dst, (pos + r) * kept);
    }
    return;
  }
  const o = Math.floor(pos / inner);
  const i0 = pos - o * inner;
  for (let c = firstClass; c < C; c++) {
    arena.copyOut(planarAt + c * count * 4, count, dst, (o * kept + c - firstClass) * inner + i0);
  }
}

/** Pass 2 of a softmax without the focal term needs only p: pass 1 keeps it in the gradient's array. */
export function keepsSoftmax(call: RegionCall): boolean {
  const { activation, flags } = call.params;
  return call.withGrad && activation === ACTIVATION_SOFTMAX && ((flags ?? 0) & FLAG_FOCAL_TERM) === 0;
}

/** Runs a planned region call on one engine: pass 1, the plan's reduction, pass 2 when there is one. */
export function runRegionCall(engine: Engine, plan: RegionPlan, what: string): LossResult {
  const { call } = plan;
  const perItem = call.layout.rows / call.items;
  const { arena } = engine;
  arena.enter(what);
  try {
    const keepSoftmax = keepsSoftmax(call);
    const first = runRegionPass(engine, call, 'diceSums', undefined, keepSoftmax);
    if (first.invalidItem !== undefined) throw locate(plan.locator(), first.invalidItem * perItem, perItem);
    const { loss, coefs } = plan.settle(first.sums);
    if (coefs) runRegionPass(engine, call, 'diceGrad', coefs, keepSoftmax);
    return { loss: loss ?? call.elementLoss!.out, grad: call.withGrad ? call.gradOut : undefined };
  } finally {
    arena.leave();
  }
}
