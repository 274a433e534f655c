// THE chunk loop of every elementwise loss (the sigmoid family, the binary loss) and of the sigmoid primitive: stage
// the streams a call has, chunk by chunk, call its kernel, locate a bad value, copy the outputs out, and keep one
// float64 sum per chunk. A family's plan describes the call (ElementwiseCall); it never loops.
// Sums: the kernel adds a chunk into four float64 lanes (lane = index mod 4); the lanes are combined per chunk in a
// fixed order and the chunk sums added in chunk order. CHUNK is a constant, so a sum never depends on the build,
// the runtime, in-place or copied inputs, or a worker pool that runs whole chunks and returns their sums.
import {
  CHUNK, FLAG_NORMALIZED, FLAG_NORMALIZED_DIAG, STREAM_ACC, STREAM_FOCAL_ACC, STREAM_GRAD, STREAM_LOSS, STREAM_WEIGHTS,
} from './abi.js';
import type { Engine, ElementwiseKernelName } from './engine.js';
import { locate, overflowError, type Locator } from './locate.js';
import { writeParams, writeStreams, type KernelParams } from './params.js';
import type { Readable } from './arena.js';

export type Reduction = 'none' | 'mean' | 'sum';

/** An array the kernel reads, one value per element, on the stream table at `stream` (abi.ts STREAM_*). */
export interface InputStream {
  stream: number;
  values: Readable;
  name: string;
}

/** Per-class values of N x C elements (class axis last), tiled so that element i reads class i mod C. */
export interface ClassTable {
  stream: number;
  values: Float32Array;
}

/** A validated elementwise call, as a family's plan describes it. Structured-cloneable (the pool sends it). */
export interface ElementwiseCall {
  kernel: ElementwiseKernelName;
  n: number;
  inputs: readonly InputStream[];
  /** Per-class tables and their period C (the sigmoid family's classWeights and posWeight). */
  tables?: readonly ClassTable[];
  classes?: number;
  params: KernelParams;
  reduction: Reduction;
  /** What 'mean' divides by: a number, or 'kept' (the elements a mask or ignoreIndex leaves, known after the pass). */
  divisor: number | 'kept';
  /** Whether the per-element result is written ('none', and the primitives): into `out` when given. */
  writeLoss: boolean;
  out?: Float32Array;
  withGrad: boolean;
  gradOut?: Float32Array;
  /** smp's normalized focal loss: a first pass sums the focal terms, the second divides by that sum. */
  normalized?: boolean;
}

/** One pass over the chunks: what the kernel writes and the parameter block it reads. */
export interface Pass {
  writeLoss: boolean;
  writeGrad: boolean;
  params: KernelParams;
  /** Sum the focal terms too (the normalized focal loss's first pass). */
  sumFocal: boolean;
}

/**
 * A pass over chunks [first, last): the chunk sums added in chunk order, the kept count, and the chunk whose kernel
 * said STATUS_INVALID (then the other fields are incomplete). With `perChunk`, each chunk's sum (and focal-term
 * sum) is kept too, for the pool to add across workers in the same order.
 */
export interface PassResult extends PassTotals {
  sums?: Float64Array;
  focalSums?: Float64Array;
  invalid?: number;
  /** With `invalid`: the values were valid, but this element's loss or gradient overflowed float32. */
  overflow?: { index: number; what: 'loss' | 'gradient' };
}

/** The result arrays of a call: the caller's out / gradOut, or new ones. */
export interface Outputs {
  loss: Float32Array | undefined;
  grad: Float32Array | undefined;
}

export interface LossResult {
  loss: number | Float32Array;
  grad: Float32Array | undefined;
}

const NORMALIZED_EPS = 1e-6; // smp focal_loss_with_logits: norm_factor.clamp_min(eps)

export function chunkCount(n: number): number {
  return Math.ceil(n / CHUNK);
}

export function newOutputs(call: ElementwiseCall): Outputs {
  return {
    loss: call.writeLoss ? call.out ?? new Float32Array(call.n) : undefined,
    grad: call.withGrad ? call.gradOut ?? new Float32Array(call.n) : undefined,
  };
}

/** Chunk sums added in chunk order: the one order every driver and the pool use. */
export function totalOf(sums: Float64Array): number {
  let total = 0;
  for (let c = 0; c < sums.length; c++) total += sums[c]!;
  return total;
}

/** Combined results of a pass over every chunk. */
export interface PassTotals {
  total: number;
  focal: number;
  kept: number;
}

/** How a reduced call ends: the sum, the divisor of 'mean', and a factor the gradient still needs (or none). */
export interface Reduced {
  total: number;
  divisor: number;
  gradFactor: number | undefined;
}

/**
 * The passes a call makes, in order, as a generator: it yields each pass and receives that pass's totals, and
 * returns how the call is reduced. The engine runs it synchronously, the pool across workers: one sequence of
 * passes and one reduction for both, so their results are the same bits.
 */
export function* elementwisePasses(call: ElementwiseCall): Generator<Pass, Reduced, PassTotals> {
  const { reduction, withGrad, writeLoss, params } = call;
  const flags = params.flags ?? 0;
  // 'mean' divides by the kept count. Without a mask that is known now; with one it is known after the pass, so
  // the gradient is scaled afterwards (float32 products, the same bits as the kernel's own scaling).
  const known = reduction !== 'mean' ? 1 : call.divisor === 'kept' ? undefined : call.divisor;
  if (!call.normalized) {
    const gradScale = known !== undefined && known > 0 ? 1 / known : 1;
    const first = yield { writeLoss, writeGrad: withGrad, params: { ...params, gradScale }, sumFocal: false };
    const divisor = known ?? first.kept;
    const gradFactor = withGrad && known === undefined && divisor > 0 ? Math.fround(1 / divisor) : undefined;
    return { total: first.total, divisor, gradFactor };
  }
  // smp's normalized focal loss needs S = sum of the focal terms before any gradient: a first pass sums the
  // losses and S, the second writes loss / S and the gradient with S's own derivative. The one option that costs
  // a second pass.
  const first = yield { writeLoss: false, writeGrad: false, params: { ...params, gradScale: 1 }, sumFocal: true };
  const divisor = known ?? first.kept;
  const s = Math.max(first.focal, NORMALIZED_EPS);
  if (writeLoss || withGrad) {
    const clamped = first.focal < NORMALIZED_EPS; // clamp_min: S then has no gradient
    const second: KernelParams = {
      ...params,
      flags: flags | FLAG_NORMALIZED | (reduction === 'none' && !clamped ? FLAG_NORMALIZED_DIAG : 0),
      invS: 1 / s,
      dfCoef: clamped || reduction === 'none' ? 0 : -first.total / (s * s),
      gradScale: divisor > 0 ? 1 / divisor : 1,
    };
    yield { writeLoss, writeGrad: withGrad, params: second, sumFocal: false };
  }
  return { total: first.total / s, divisor, gradFactor: undefined };
}

/** The reduced loss: the sum, or the mean over the divisor (0 when nothing counts). */
export function reduce(reduction: Reduction, reduced: Reduced): number {
  if (reduction === 'sum') return reduced.total;
  return reduced.divisor > 0 ? reduced.total / reduced.divisor : 0;
}

/** The gradient multiplied by the factor a 'kept' divisor leaves for after the pass. */
export function scaleGradient(grad: Float32Array, n: number, factor: number): void {
  for (let i = 0; i < n; i++) grad[i] = grad[i]! * factor;
}

/**
 * Whether a gradient could overflow float32 for finite input: only when something scales it up (weights, class
 * tables, an alpha above 1, a 'mean' divisor below 1). Then each chunk's gradient is scanned (one SIMD pass over
 * the chunk, still in cache); otherwise every gradient is bounded by a small constant and no scan is made.
 */
export function gradientMayOverflow(call: ElementwiseCall, params: KernelParams): boolean {
  return call.inputs.some((s) => s.stream === STREAM_WEIGHTS) || (call.tables?.length ?? 0) > 0 ||
    (params.alpha ?? 0) > 1 || (params.gradScale ?? 1) > 1;
}

/**
 * Runs chunks [first, last) of a call through its kernel. Inputs that are views of the engine's memory (fl.alloc)
 * are read in place, outputs written in place; everything else goes through the staging slots.
 */
export function runPass(
  engine: Engine, call: ElementwiseCall, outputs: Outputs, pass: Pass, first: number, last: number, perChunk = false,
): PassResult {
  const { arena } = engine;
  const kernel = engine.kernels[call.kernel];
  const { n, inputs, tables = [], classes = 1 } = call;
  const loss = pass.writeLoss ? outputs.loss : undefined;
  const grad = pass.writeGrad ? outputs.grad : undefined;
  // Every slot the call needs is laid out (and the memory grown) before any view is read. The loss slot is there
  // even when no loss is written: an overflowing chunk is run again into it to find the element.
  const slotCount = inputs.length + tables.length + 2;
  const width = CHUNK + (tables.length > 0 ? classes : 0);
  const { slots } = arena.stage(slotCount, width, `options.classes = ${classes} (the class-weight tables)`);
  const inputSlots = slots.slice(0, inputs.length);
  const tableSlots = slots.slice(inputs.length, inputs.length + tables.length);
  const [lossSlot, gradSlot] = slots.slice(inputs.length + tables.length) as [number, number];
  const scanGrad = grad !== undefined && gradientMayOverflow(call, pass.params);
  // Per-class values tiled once per pass, so that the chunk starting at `from` reads element i's class value at
  // offset (from mod C) + i: class tables become plain per-element streams, at no cost per element.
  tables.forEach((table, k) => {
    const f32 = arena.f32;
    const base = tableSlots[k]! >>> 2;
    const length = Math.min(n, CHUNK) + classes;
    for (let j = 0; j < length; j++) f32[base + j] = table.values[j % classes]!;
  });
  writeParams(arena, pass.params);
  const sums = perChunk ? new Float64Array(last - first) : undefined;
  const focalSums = perChunk && pass.sumFocal ? new Float64Array(last - first) : undefined;
  const addresses = new Map<number, number>();
  let kept = 0;
  let total = 0;
  let focal = 0;
  for (let chunk = first; chunk < last; chunk++) {
    const from = chunk * CHUNK;
    const count = Math.min(CHUNK, n - from);
    arena.clearLanes(arena.acc);
    addresses.clear();
    addresses.set(STREAM_ACC, arena.acc);
    if (pass.sumFocal) {
      arena.clearLanes(arena.focalAcc);
      addresses.set(STREAM_FOCAL_ACC, arena.focalAcc);
    }
    inputs.forEach((input, k) => {
      const { values, name } = input;
      let at: number;
      if (arena.owns(values)) {
        at = values.byteOffset + from * 4;
      } else {
        at = inputSlots[k]!;
        arena.copyIn(values, from, count, at, name);
      }
      addresses.set(input.stream, at);
    });
    tables.forEach((table, k) => addresses.set(table.stream, tableSlots[k]! + (from % classes) * 4));
    const lossAt = loss ? (arena.owns(loss) ? loss.byteOffset + from * 4 : lossSlot) : 0;
    const gradAt = grad ? (arena.owns(grad) ? grad.byteOffset + from * 4 : gradSlot) : 0;
    if (lossAt) addresses.set(STREAM_LOSS, lossAt);
    if (gradAt) addresses.set(STREAM_GRAD, gradAt);
    writeStreams(arena, addresses);
    const status = kernel(arena.streams, count, arena.params);
    if (status < 0) return { total, focal, kept, invalid: chunk };
    const chunkSum = arena.sumLanes(arena.acc);
    // A loss that overflowed makes the chunk's float64 sum infinite or NaN (every loss is added, written or not).
    if (!Number.isFinite(chunkSum)) {
      if (!lossAt) {
        addresses.set(STREAM_LOSS, lossSlot);
        writeStreams(arena, addresses);
        kernel(arena.streams, count, arena.params);
      }
      return { total, focal, kept, invalid: chunk, overflow: { index: from + engine.kernels.firstNonFinite(lossAt || lossSlot, count), what: 'loss' } };
    }
    if (scanGrad) {
      const bad = engine.kernels.firstNonFinite(gradAt, count);
      if (bad >= 0) return { total, focal, kept, invalid: chunk, overflow: { index: from + bad, what: 'gradient' } };
    }
    kept += status;
    if (loss && lossAt === lossSlot) arena.copyOut(lossSlot, count, loss, from);
    if (grad && gradAt === gradSlot) arena.copyOut(gradSlot, count, grad, from);
    total += chunkSum;
    if (sums) sums[chunk - first] = chunkSum;
    if (pass.sumFocal) {
      const focalSum = arena.sumLanes(arena.focalAcc);
      focal += focalSum;
      if (focalSums) focalSums[chunk - first] = focalSum;
    }
  }
  return { total, focal, kept, sums, focalSums };
}

/** The error for a pass that stopped: the bad value the kernel flagged, or the element whose result overflowed. */
export function passError(locator: Locator, n: number, result: PassResult): RangeError {
  if (result.overflow) return overflowError(locator, result.overflow.index, result.overflow.what);
  const from = result.invalid! * CHUNK;
  return locate(locator, from, Math.min(CHUNK, n - from));
}

/** A validated call and how to name its bad values. */
export interface ElementwisePlan {
  call: ElementwiseCall;
  locator: Locator;
}

/** Runs a planned call on one engine: every pass over every chunk, then the reduction. */
export function runElementwise(engine: Engine, plan: ElementwisePlan, what: string): LossResult {
  const { call } = plan;
  return engine.arena.exclusive(what, () => {
    const outputs = newOutputs(call);
    const chunks = chunkCount(call.n);
    const passes = elementwisePasses(call);
    let step = passes.next();
    while (!step.done) {
      const result = runPass(engine, call, outputs, step.value, 0, chunks);
      if (result.invalid !== undefined) throw passError(plan.locator, call.n, result);
      step = passes.next(result);
    }
    return finish(call, outputs, step.value);
  });
}

/** The result of a call from its outputs and reduction (shared with the pool). */
export function finish(call: ElementwiseCall, outputs: Outputs, reduced: Reduced): LossResult {
  if (outputs.grad && reduced.gradFactor !== undefined) scaleGradient(outputs.grad, call.n, reduced.gradFactor);
  return { loss: outputs.loss ?? reduce(call.reduction, reduced), grad: outputs.grad };
}
