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
import { locate, type Locator } from './locate.js';
import { clearStreams, setStream, writeParams, type KernelParams } from './params.js';
import type { Readable } from './arena.js';

export type Reduction = 'none' | 'mean' | 'sum';

/** An array the kernel reads, one value per element, on the stream table at `stream` (abi.ts STREAM_*). */
export interface InputStream {
  stream: number;
  values: Readable;
  name: string;
}

/** Per-class values of N x C elements (class axis last), tiled so that element i reads class i mod C. */
interface ClassTable {
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

/** One pass over the chunks: what the kernel writes, and the parameter-block fields this pass sets. */
export interface Pass {
  writeLoss: boolean;
  writeGrad: boolean;
  /** Over the call's params: gradScale always, and the normalized second pass's flags, invS and dfCoef. */
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

function newOutputs(call: ElementwiseCall): Outputs {
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

/** The 'mean' divisor when it is known before the pass (1 for 'none' and 'sum'), or undefined for 'kept'. */
function knownDivisor(call: ElementwiseCall): number | undefined {
  if (call.reduction !== 'mean') return 1;
  return call.divisor === 'kept' ? undefined : call.divisor;
}

/**
 * The passes a call makes: `firstPass`, then `secondPass` when it returns one, then `reductionOf`. The engine runs
 * them on one thread, the pool across workers: one sequence of passes and one reduction for both, so their results
 * are the same bits.
 */
export function firstPass(call: ElementwiseCall): Pass {
  if (call.normalized) {
    // smp's normalized focal loss needs S = sum of the focal terms before any gradient: a first pass sums the
    // losses and S, the second writes loss / S and the gradient with S's own derivative. The one option that costs
    // a second pass.
    return { writeLoss: false, writeGrad: false, params: { gradScale: 1 }, sumFocal: true };
  }
  // 'mean' divides by the kept count. Without a mask that is known now; with one it is known after the pass, so
  // the gradient is scaled afterwards (float32 products, the same bits as the kernel's own scaling).
  const known = knownDivisor(call);
  const gradScale = known !== undefined && known > 0 ? 1 / known : 1;
  return { writeLoss: call.writeLoss, writeGrad: call.withGrad, params: { gradScale }, sumFocal: false };
}

export function secondPass(call: ElementwiseCall, first: PassTotals): Pass | undefined {
  if (!call.normalized || !(call.writeLoss || call.withGrad)) return undefined;
  const divisor = knownDivisor(call) ?? first.kept;
  const s = Math.max(first.focal, NORMALIZED_EPS);
  const clamped = first.focal < NORMALIZED_EPS; // clamp_min: S then has no gradient
  const none = call.reduction === 'none';
  return {
    writeLoss: call.writeLoss,
    writeGrad: call.withGrad,
    params: {
      flags: (call.params.flags ?? 0) | FLAG_NORMALIZED | (none && !clamped ? FLAG_NORMALIZED_DIAG : 0),
      invS: 1 / s,
      dfCoef: clamped || none ? 0 : -first.total / (s * s),
      gradScale: divisor > 0 ? 1 / divisor : 1,
    },
    sumFocal: false,
  };
}

/** How a call ends, from its first pass's totals: the sum, the 'mean' divisor, a factor the gradient still needs. */
export function reductionOf(call: ElementwiseCall, first: PassTotals): Reduced {
  const known = knownDivisor(call);
  const divisor = known ?? first.kept;
  if (call.normalized) return { total: first.total / Math.max(first.focal, NORMALIZED_EPS), divisor, gradFactor: undefined };
  const gradFactor = call.withGrad && known === undefined && divisor > 0 ? Math.fround(1 / divisor) : undefined;
  return { total: first.total, divisor, gradFactor };
}

/** The reduced loss: the sum, or the mean over the divisor (0 when nothing counts). */
export function reduce(reduction: Reduction, reduced: Reduced): number {
  if (reduction === 'sum') return reduced.total;
  return reduced.divisor > 0 ? reduced.total / reduced.divisor : 0;
}

/** The gradient multiplied by the factor a 'kept' divisor leaves for after the pass. */
function scaleGradient(grad: Float32Array, n: number, factor: number): void {
  for (let i = 0; i < n; i++) grad[i] = grad[i]! * factor;
}

/**
 * Whether a gradient could overflow float32 for finite input: only when something scales it up (weights, class
 * tables, an alpha above 1, a 'mean' divisor below 1). Then each chunk's gradient is scanned (one SIMD pass over
 * the chunk, still in cache); otherwise every gradient is bounded by a small constant and no scan is made.
 */
export function gradientMayOverflow(
  inputs: readonly { stream: number }[], tables: boolean, alpha = 0, gradScale = 1,
): boolean {
  if (tables || alpha > 1 || gradScale > 1) return true;
  for (const input of inputs) if (input.stream === STREAM_WEIGHTS) return true;
  return false;
}

const NO_TABLES: readonly ClassTable[] = [];

/**
 * Runs chunks [first, last) of a call through its kernel. Inputs that are views of the engine's memory (fl.alloc)
 * are read in place, outputs written in place; everything else goes through the staging slots.
 */
export function runPass(
  engine: Engine, call: ElementwiseCall, outputs: Outputs, pass: Pass, first: number, last: number, perChunk = false,
): PassResult {
  const { arena, kernels } = engine;
  const kernel = kernels[call.kernel];
  const { n, inputs } = call;
  const tables = call.tables ?? NO_TABLES;
  const classes = call.classes ?? 1;
  const loss = pass.writeLoss ? outputs.loss : undefined;
  const grad = pass.writeGrad ? outputs.grad : undefined;
  // Every slot the call needs is laid out (and the memory grown) before any view is read. The loss slot is there
  // even when no loss is written: an overflowing chunk is run again into it to find the element.
  const slotCount = inputs.length + tables.length + 2;
  const width = CHUNK + (tables.length > 0 ? classes : 0);
  const { slots } = arena.stage(slotCount, width, () => `options.classes = ${classes} (the class-weight tables)`);
  const lossSlot = slots[slotCount - 2]!;
  const gradSlot = slots[slotCount - 1]!;
  const scanGrad = grad !== undefined &&
    gradientMayOverflow(inputs, tables.length > 0, call.params.alpha, pass.params.gradScale);
  // Per-class values tiled once per pass, so that the chunk starting at `from` reads element i's class value at
  // offset (from mod C) + i: class tables become plain per-element streams, at no cost per element.
  for (let k = 0; k < tables.length; k++) {
    const f32 = arena.f32;
    const base = slots[inputs.length + k]! >>> 2;
    const values = tables[k]!.values;
    const length = Math.min(n, CHUNK) + classes;
    for (let j = 0; j < length; j++) f32[base + j] = values[j % classes]!;
  }
  writeParams(arena, call.params, pass.params);
  clearStreams(arena);
  const lossInPlace = arena.owns(loss);
  const gradInPlace = arena.owns(grad);
  let inPlace = 0; // bit k: input k is a view from fl.alloc() (a bit mask: no array made per call)
  for (let k = 0; k < inputs.length; k++) if (arena.owns(inputs[k]!.values)) inPlace |= 1 << k;
  const i32 = arena.i32;
  setStream(i32, arena, STREAM_ACC, arena.acc);
  if (pass.sumFocal) setStream(i32, arena, STREAM_FOCAL_ACC, arena.focalAcc);
  const sums = perChunk ? new Float64Array(last - first) : undefined;
  const focalSums = perChunk && pass.sumFocal ? new Float64Array(last - first) : undefined;
  let kept = 0;
  let total = 0;
  let focal = 0;
  for (let chunk = first; chunk < last; chunk++) {
    const from = chunk * CHUNK;
    const count = Math.min(CHUNK, n - from);
    arena.clearLanes(arena.acc);
    if (pass.sumFocal) arena.clearLanes(arena.focalAcc);
    for (let k = 0; k < inputs.length; k++) {
      const { values, name, stream } = inputs[k]!;
      let at: number;
      if (inPlace & (1 << k)) {
        at = (values as Float32Array).byteOffset + from * 4; // a view from fl.alloc(), read in place
      } else {
        at = slots[k]!;
        arena.copyIn(values, from, count, at, name);
      }
      setStream(i32, arena, stream, at);
    }
    for (let k = 0; k < tables.length; k++) {
      setStream(i32, arena, tables[k]!.stream, slots[inputs.length + k]! + (from % classes) * 4);
    }
    const lossAt = loss ? (lossInPlace ? loss.byteOffset + from * 4 : lossSlot) : 0;
    const gradAt = grad ? (gradInPlace ? grad.byteOffset + from * 4 : gradSlot) : 0;
    setStream(i32, arena, STREAM_LOSS, lossAt);
    setStream(i32, arena, STREAM_GRAD, gradAt);
    const status = kernel(arena.streams, count, arena.params);
    const chunkSum = arena.sumLanes(arena.acc);
    // A loss that overflowed makes the chunk's float64 sum infinite or NaN (every loss is added, written or not);
    // so does an invalid value, which the locator tells apart (a NaN sum is also how some kernels flag one).
    if (status < 0 || !Number.isFinite(chunkSum)) {
      if (!Number.isFinite(chunkSum)) {
        if (!lossAt) {
          setStream(i32, arena, STREAM_LOSS, lossSlot);
          kernel(arena.streams, count, arena.params);
        }
        const index = from + kernels.firstNonFinite(lossAt || lossSlot, count);
        return { total, focal, kept, invalid: chunk, overflow: { index, what: 'loss' } };
      }
      return { total, focal, kept, invalid: chunk };
    }
    if (scanGrad) {
      const bad = kernels.firstNonFinite(gradAt, count);
      if (bad >= 0) return { total, focal, kept, invalid: chunk, overflow: { index: from + bad, what: 'gradient' } };
    }
    kept += status;
    if (loss && !lossInPlace) arena.copyOut(lossSlot, count, loss, from);
    if (grad && !gradInPlace) arena.copyOut(gradSlot, count, grad, from);
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
  const from = result.invalid! * CHUNK;
  return locate(locator, from, Math.min(CHUNK, n - from), result.overflow);
}

/** A validated call and how to name its bad values. */
export interface ElementwisePlan {
  call: ElementwiseCall;
  /** Built only when a kernel has flagged something (most calls never need it). */
  locator(): Locator;
}

/** Runs a planned call on one engine: every pass over every chunk, then the reduction. */
export function runElementwise(engine: Engine, plan: ElementwisePlan, what: string): LossResult {
  const { call } = plan;
  const { arena } = engine;
  arena.enter(what);
  try {
    const outputs = newOutputs(call);
    const chunks = chunkCount(call.n);
    const first = runPass(engine, call, outputs, firstPass(call), 0, chunks);
    if (first.invalid !== undefined) throw passError(plan.locator(), call.n, first);
    const second = secondPass(call, first);
    if (second) {
      const result = runPass(engine, call, outputs, second, 0, chunks);
      if (result.invalid !== undefined) throw passError(plan.locator(), call.n, result);
    }
    return finish(call, outputs, reductionOf(call, first));
  } finally {
    arena.leave();
  }
}

/** The result of a call from its outputs and reduction (shared with the pool). */
export function finish(call: ElementwiseCall, outputs: Outputs, reduced: Reduced): LossResult {
  if (outputs.grad && reduced.gradFactor !== undefined) scaleGradient(outputs.grad, call.n, reduced.gradFactor);
  return { loss: outputs.loss ?? reduce(call.reduction, reduced), grad: outputs.grad };
}
