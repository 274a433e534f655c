// The sigmoid family beyond torchvision's focal loss (FL*, QFL, VFL, Poly-1) and the focal loss with masks, class
// weights, posWeight, reduced and normalized focal terms: options → validated plan → chunked calls into
// assembly/sigmoid-variants.ts, as src/sigmoid.ts does for the plain kernel. sigmoidFocalLoss routes here when
// one of the mask/weight options is present, so the plain path keeps its tuned kernel.
import type { Engine, Kernels } from './engine.js';
import { CHUNK } from './memory.js';
import { gammaMode } from './sigmoid.js';
import {
  alphaOption, checkFloats, checkLength, checkOptions, gammaOption, normalizerOption, lossOutputs,
  reductionOption, show, weightsOption,
  type Floats, type Reduction,
} from './validate.js';

/** Masks and per-class weights, accepted by every loss of the sigmoid family. */
export interface SigmoidMaskOptions {
  /** Per-element mask (same length as logits): 0 ignores the element (0 loss, 0 gradient, not counted by
   * 'mean'); any other value keeps it. */
  mask?: Floats | Uint8Array;
  /** Elements whose target equals this value are ignored as by `mask` (their target is not validated). */
  ignoreIndex?: number;
  /** C, for multi-label logits laid out N x C (class axis last): element i belongs to class i mod C. Default:
   * the length of classWeights (or of posWeight). */
  classes?: number;
  /** Per-class weights (length C, finite, >= 0), multiplied in like `weights`. */
  classWeights?: Floats;
}

interface ReductionOptions {
  /** 'mean' (default: over the kept elements), 'sum', or 'none' for one loss per element. */
  reduction?: Reduction;
  /** Per-element weights (same length as logits), multiplied in before the reduction. */
  weights?: Floats;
  /** With 'mean': divide the sum by this instead of the count of kept elements. */
  normalizer?: number;
  /** With 'none': a caller-owned Float32Array (length >= N) to write the losses into, returned as the loss. */
  out?: Float32Array;
}

interface GradOut {
  /** A caller-owned Float32Array (length >= N) to write the gradient into, returned as `grad`. */
  gradOut?: Float32Array;
}

/** The options sigmoidFocalLoss gains from this file (kornia's posWeight, smp's reduced / normalized focal loss). */
export interface SigmoidFocalExtraOptions extends SigmoidMaskOptions {
  /** kornia's pos_weight: weight of the positive term t log p inside the cross-entropy (BCEWithLogits
   * pos_weight); a number, or one per class (length C). Finite, >= 0. */
  posWeight?: number | Floats;
  /** smp's reduced focal loss: the focal term is ((1 - p_t) / threshold)^gamma where p_t >= threshold, 1 below.
   * In (0, 1]. */
  reducedThreshold?: number;
  /** smp's normalized focal loss: every loss divided by the sum of the focal terms (at least 1e-6), before the
   * reduction; the gradient includes that sum's dependence on the logits. Default false. */
  normalized?: boolean;
}

/** Options of `sigmoidFocalLossStar` (FL*). */
export interface SigmoidFocalStarOptions extends SigmoidMaskOptions, ReductionOptions {
  /** alpha_t = alpha t + (1 - alpha)(1 - t). Default null (fvcore's -1: no weighting). */
  alpha?: number | null;
  /** > 0. Default 1 (fvcore). */
  gamma?: number;
  /** The paper's shift: p_t* = sigmoid(gamma x_t + beta). Default 0 (fvcore has no beta). */
  beta?: number;
}
export interface SigmoidFocalStarGradOptions extends SigmoidFocalStarOptions, GradOut {}

/** Options of `qualityFocalLoss` (QFL). */
export interface QualityFocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Exponent of |t - sigma(x)|, >= 0. Default 2 (mmdet, the paper). */
  beta?: number;
}
export interface QualityFocalGradOptions extends QualityFocalOptions, GradOut {}

/** Options of `varifocalLoss` (VFL). */
export interface VarifocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** Weight of the negatives (t = 0), finite and >= 0. Default 0.75 (mmdet). */
  alpha?: number;
  /** Exponent of p on the negatives, >= 0. Default 2. */
  gamma?: number;
  /** Weight each positive by its target q (true, default) or by 1. */
  iouWeighted?: boolean;
}
export interface VarifocalGradOptions extends VarifocalOptions, GradOut {}

/** Options of `polyFocalLoss` (Poly-1 focal). */
export interface PolyFocalOptions extends SigmoidMaskOptions, ReductionOptions {
  /** As sigmoidFocalLoss: default 0.25, null or < 0 for none. Weighs the focal term only. */
  alpha?: number | null;
  /** Default 2. */
  gamma?: number;
  /** Coefficient of (1 - p_t)^(gamma+1), any finite number. Default 1. */
  epsilon?: number;
}
export interface PolyFocalGradOptions extends PolyFocalOptions, GradOut {}

type KernelName = 'sigmoidFocalMasked' | 'sigmoidFocalStar' | 'qualityFocal' | 'varifocal' | 'polyFocal';

// Flags of assembly/sigmoid-variants.ts.
const HAS_IGNORE = 1;
const IOU_WEIGHTED = 2;
const REDUCED = 4;
const NORMALIZED = 8;
const NORMALIZED_DIAG = 16;
const NORMALIZED_EPS = 1e-6; // smp focal_loss_with_logits: norm_factor.clamp_min(eps)

interface VariantParams {
  a: number;
  b: number;
  c: number;
  d: number;
  mode: number;
  flags: number;
}

interface VariantPlan extends VariantParams {
  kernel: KernelName;
  n: number;
  logits: Floats;
  targets: Floats;
  weights: Floats | undefined;
  mask: Floats | Uint8Array | undefined;
  ignoreIndex: number | undefined;
  classes: number;
  classWeights: Float32Array | undefined;
  posWeights: Float32Array | undefined;
  normalized: boolean;
  reduction: Reduction;
  normalizer: number | undefined;
  out: Float32Array | undefined;
  gradOut: Float32Array | undefined;
}

function checkNumber(value: unknown, name: string, expected: string): number {
  if (typeof value !== 'number') throw new TypeError(`${name} = ${show(value)}: expected ${expected}`);
  return value;
}

/** A finite number within float32 range (the kernels take it as float32). */
function finiteOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = checkNumber(value, name, 'a finite number');
  if (!Number.isFinite(Math.fround(v))) throw new RangeError(`${name} = ${show(v)}: expected a finite number (within float32 range)`);
  return v;
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${name} = ${show(value)}: expected true or false`);
  return value;
}

/** Per-class values: finite and >= 0, length C. */
function perClass(value: Floats, name: string, classes: number): Float32Array {
  checkLength(value, name, classes, 'options.classes');
  const out = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    const v = value[c];
    if (typeof v !== 'number') throw new TypeError(`${name}[${c}] = ${show(v)}: expected a number`);
    if (!(v >= 0) || !Number.isFinite(Math.fround(v))) {
      throw new RangeError(`${name}[${c}] = ${show(v)}: expected a finite number >= 0`);
    }
    out[c] = v;
  }
  return out;
}

function isMaskArray(value: unknown): value is Floats | Uint8Array {
  return value instanceof Uint8Array || value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value);
}

/** Everything but the variant's own parameters: inputs, reduction, outputs, masks and class weights. */
function planCommon(
  kernel: KernelName, logitsArg: unknown, targetsArg: unknown, options: Record<string, unknown>, withGrad: boolean,
  params: VariantParams, focalExtras: boolean,
): VariantPlan {
  const logits = checkFloats(logitsArg, 'logits');
  const targets = checkFloats(targetsArg, 'targets');
  const n = logits.length;
  checkLength(targets, 'targets', n, 'the length of logits');
  const reduction = reductionOption(options.reduction, 'options.reduction');
  const weights = weightsOption(options.weights, 'options.weights', n, 'the length of logits');
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);

  let mask: Floats | Uint8Array | undefined;
  if (options.mask !== undefined) {
    if (!isMaskArray(options.mask)) {
      throw new TypeError(`options.mask: expected a Uint8Array, Float32Array, Float64Array or an array of numbers, got ${show(options.mask)}`);
    }
    mask = options.mask;
    if (mask.length !== n) throw new RangeError(`options.mask.length = ${mask.length}: expected ${n} (the length of logits)`);
  }
  const ignoreIndex = options.ignoreIndex === undefined ? undefined : finiteOption(options.ignoreIndex, 'options.ignoreIndex', 0);

  const classWeightsArg = options.classWeights === undefined ? undefined : checkFloats(options.classWeights, 'options.classWeights');
  let posWeightArg: number | Floats | undefined;
  if (focalExtras && options.posWeight !== undefined) {
    posWeightArg = typeof options.posWeight === 'number' ? options.posWeight : checkFloats(options.posWeight, 'options.posWeight');
  }
  let classes = 1;
  if (options.classes !== undefined) {
    classes = checkNumber(options.classes, 'options.classes', 'a positive integer');
    if (!Number.isInteger(classes) || classes < 1) {
      throw new RangeError(`options.classes = ${show(classes)}: expected a positive integer`);
    }
  } else if (classWeightsArg) {
    classes = classWeightsArg.length;
  } else if (posWeightArg !== undefined && typeof posWeightArg !== 'number') {
    classes = posWeightArg.length;
  }
  if (classes < 1) throw new RangeError('options.classWeights.length = 0: expected at least one class');
  if (n % classes !== 0) {
    throw new RangeError(`logits.length = ${n}: expected a multiple of ${classes} (options.classes: rows of C classes, class axis last)`);
  }
  const classWeights = classWeightsArg ? perClass(classWeightsArg, 'options.classWeights', classes) : undefined;
  let posWeights: Float32Array | undefined;
  if (typeof posWeightArg === 'number') {
    posWeights = perClass([posWeightArg], 'options.posWeight', 1);
    posWeights = new Float32Array(classes).fill(posWeights[0]!);
  } else if (posWeightArg) {
    posWeights = perClass(posWeightArg, 'options.posWeight', classes);
  }

  const inputs = [[logits, 'logits'], [targets, 'targets'], [weights, 'options.weights'], [mask, 'options.mask']] as const;
  const { out, gradOut } = lossOutputs(options, reduction, withGrad, n, n, inputs);
  const flags = params.flags | (ignoreIndex !== undefined ? HAS_IGNORE : 0);
  const normalized = focalExtras && (flags & NORMALIZED) !== 0;
  return {
    kernel, n, logits, targets, weights, mask, ignoreIndex, classes, classWeights, posWeights, normalized, reduction,
    normalizer, out, gradOut, ...params, flags: flags & ~NORMALIZED,
  };
}

/** The first element of chunk [from, from + count) that a kernel flagged, as the RangeError naming it. */
function locate(p: VariantPlan, from: number, count: number): RangeError {
  const ignore = p.ignoreIndex === undefined ? undefined : Math.fround(p.ignoreIndex);
  for (let i = from; i < from + count; i++) {
    const t = p.targets[i] as number;
    if (p.mask && Math.fround(p.mask[i] as number) === 0) continue;
    if (ignore !== undefined && Math.fround(t) === ignore) continue;
    const x = p.logits[i] as number;
    if (!Number.isFinite(Math.fround(x))) {
      return new RangeError(`logits[${i}] = ${show(x)}: expected a finite number (within float32 range)`);
    }
    const t32 = Math.fround(t);
    if (!(t32 >= 0 && t32 <= 1)) {
      return new RangeError(`targets[${i}] = ${show(t)}: expected a value in [0, 1]` +
        (p.ignoreIndex === undefined ? '' : ` or options.ignoreIndex (${show(p.ignoreIndex)})`));
    }
    const w = p.weights?.[i] as number | undefined;
    if (w !== undefined && !Number.isFinite(Math.fround(w))) {
      return new RangeError(`options.weights[${i}] = ${show(w)}: expected a finite number (within float32 range)`);
    }
  }
  return new RangeError(`invalid values between index ${from} and ${from + count - 1}`);
}

function run(engine: Engine, p: VariantPlan, withGrad: boolean): { loss: number | Float32Array; grad?: Float32Array } {
  const { arena } = engine;
  const kernel: Kernels[KernelName] = engine.kernels[p.kernel];
  const { n, reduction, classes } = p;
  const tiled = p.classWeights !== undefined || p.posWeights !== undefined;
  const lossOut = reduction === 'none' ? p.out ?? new Float32Array(n) : undefined;
  const grad = withGrad ? p.gradOut ?? new Float32Array(n) : undefined;
  // Only the slots this call uses (a plain call needs four, as src/sigmoid.ts; fl.alloc() reserves room for five).
  const used = [true, true, !!p.weights, !!p.mask, !!lossOut, !!grad, !!p.classWeights, !!p.posWeights, p.normalized];
  const { acc, slots } = arena.stage(used.filter(Boolean).length, CHUNK + (tiled ? classes : 0));
  let next = 0;
  const [logitsAt, targetsAt, weightsAt, maskAt, lossAt, gradAt, classAt, posAt, acc2] =
    used.map((u) => (u ? slots[next++]! : 0)) as [number, number, number, number, number, number, number, number, number];
  // Per-class values tiled once per call, so that the chunk starting at `from` reads element i's class value at
  // offset (from mod C) + i: class weights become a plain per-element stream, at no cost per element.
  const tile = (values: Float32Array, at: number): void => {
    const f32 = arena.f32;
    const base = at >>> 2;
    const length = Math.min(n, CHUNK) + classes;
    for (let j = 0; j < length; j++) f32[base + j] = values[j % classes]!;
  };
  if (p.classWeights) tile(p.classWeights, classAt);
  if (p.posWeights) tile(p.posWeights, posAt);

  const masked = p.mask !== undefined || p.ignoreIndex !== undefined;

  /** One pass over the input; returns the float64 sums of the losses and focal terms, and the kept count. */
  const pass = (
    writeLoss: boolean, writeGrad: boolean, gradScale: number, flags: number, invS: number, dfCoef: number,
    sumFocal: boolean,
  ): { total: number; focal: number; kept: number } => {
    let total = 0;
    let focal = 0;
    let kept = 0;
    for (let from = 0; from < n; from += CHUNK) {
      const count = Math.min(CHUNK, n - from);
      arena.clearLanes(acc);
      if (sumFocal) arena.clearLanes(acc2);
      // Views from fl.alloc() are read and written in place; everything else goes through the staging slots.
      const logitsPtr = arena.input(p.logits, from, count, logitsAt, 'logits');
      const targetsPtr = arena.input(p.targets, from, count, targetsAt, 'targets');
      const weightsPtr = p.weights ? arena.input(p.weights, from, count, weightsAt, 'options.weights') : 0;
      const maskPtr = p.mask ? arena.input(p.mask as Floats, from, count, maskAt, 'options.mask') : 0;
      const lossPtr = writeLoss ? arena.outputAt(lossOut!, from, lossAt) : 0;
      const gradPtr = writeGrad ? arena.outputAt(grad!, from, gradAt) : 0;
      const offset = (from % classes) * 4;
      const status = kernel(
        logitsPtr, targetsPtr, weightsPtr, p.classWeights ? classAt + offset : 0,
        p.posWeights ? posAt + offset : 0, maskPtr, lossPtr, gradPtr,
        count, p.a, p.b, p.c, p.d, p.mode, flags, p.ignoreIndex ?? 0, gradScale, invS, dfCoef, acc,
        sumFocal ? acc2 : 0,
      );
      if (status < 0) throw locate(p, from, count);
      kept += status;
      if (writeLoss) arena.output(lossPtr, count, lossOut!, from);
      if (writeGrad) arena.output(gradPtr, count, grad!, from);
      // Chunk sums are added in chunk order (as src/sigmoid.ts), so no result depends on the chunking.
      total += arena.sumLanes(acc);
      if (sumFocal) focal += arena.sumLanes(acc2);
    }
    return { total, focal, kept };
  };

  // 'mean' divides by the kept count. Without a mask that is n, known now; with one it is known after the pass,
  // so the gradient is scaled afterwards (float32 products, the same bits as the kernel's own scaling).
  const knownDivisor = reduction !== 'mean' ? 1 : p.normalizer ?? (masked ? undefined : n);
  let divisor: number;
  let total: number;
  if (!p.normalized) {
    const gradScale = knownDivisor !== undefined && knownDivisor > 0 ? 1 / knownDivisor : 1;
    const r = pass(lossOut !== undefined, grad !== undefined, gradScale, p.flags, 1, 0, false);
    divisor = knownDivisor ?? r.kept;
    total = r.total;
    if (grad && knownDivisor === undefined && divisor > 0) scaleInPlace(grad, n, Math.fround(1 / divisor));
  } else {
    // smp's normalized focal loss needs S = sum of the focal terms before any gradient: a first pass sums the
    // losses and S, the second writes loss / S and the gradient with S's own derivative. The one option that
    // costs a second pass.
    const first = pass(false, false, 1, p.flags, 1, 0, true);
    divisor = knownDivisor ?? first.kept;
    const s = Math.max(first.focal, NORMALIZED_EPS);
    total = first.total / s;
    if (lossOut || grad) {
      const clamped = first.focal < NORMALIZED_EPS; // clamp_min: S then has no gradient
      const flags = p.flags | NORMALIZED | (reduction === 'none' && !clamped ? NORMALIZED_DIAG : 0);
      const dfCoef = clamped || reduction === 'none' ? 0 : -first.total / (s * s);
      const gradScale = divisor > 0 ? 1 / divisor : 1;
      pass(lossOut !== undefined, grad !== undefined, gradScale, flags, 1 / s, dfCoef, false);
    }
  }
  const loss = lossOut ?? (reduction === 'sum' ? total : divisor > 0 ? total / divisor : 0);
  return { loss, grad };
}

function scaleInPlace(values: Float32Array, n: number, factor: number): void {
  for (let i = 0; i < n; i++) values[i] = values[i]! * factor;
}

// ---- one plan per loss: the variant's own parameters ---------------------------------------------------------

const MASK_KEYS = ['mask', 'ignoreIndex', 'classes', 'classWeights', 'posWeight', 'reducedThreshold', 'normalized'];

/** true when sigmoidFocalLoss options ask for something only this file's kernel does. */
export function usesFocalExtras(options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const o = options as Record<string, unknown>;
  return MASK_KEYS.some((k) => o[k] !== undefined && !(k === 'normalized' && o[k] === false));
}

function focalPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): VariantPlan {
  const options = checkOptions(optionsArg);
  const alpha = alphaOption(options.alpha, 'options.alpha', 0.25);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  let c = 0;
  let d = 1;
  let flags = 0;
  if (options.reducedThreshold !== undefined) {
    const th = checkNumber(options.reducedThreshold, 'options.reducedThreshold', 'a number in (0, 1]');
    d = Math.fround(th ** -gamma);
    if (!(th > 0 && th <= 1) || !Number.isFinite(d)) {
      throw new RangeError(`options.reducedThreshold = ${show(th)}: expected a number in (0, 1] with threshold^-gamma a finite float32`);
    }
    c = th;
    flags |= REDUCED;
  }
  if (booleanOption(options.normalized, 'options.normalized', false)) flags |= NORMALIZED;
  return planCommon('sigmoidFocalMasked', logits, targets, options, withGrad,
    { a: alpha, b: gamma, c, d, mode: gammaMode(gamma), flags }, true);
}

function starPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): VariantPlan {
  const options = checkOptions(optionsArg);
  const alpha = alphaOption(options.alpha, 'options.alpha', null);
  const gamma = gammaOption(options.gamma, 'options.gamma', 1);
  if (gamma === 0) throw new RangeError('options.gamma = 0: expected a finite number > 0 (FL* divides by gamma)');
  const beta = finiteOption(options.beta, 'options.beta', 0);
  return planCommon('sigmoidFocalStar', logits, targets, options, withGrad,
    { a: alpha, b: gamma, c: beta, d: 0, mode: 0, flags: 0 }, false);
}

function qualityPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): VariantPlan {
  const options = checkOptions(optionsArg);
  const beta = gammaOption(options.beta, 'options.beta', 2);
  return planCommon('qualityFocal', logits, targets, options, withGrad,
    { a: -1, b: beta, c: 0, d: 0, mode: gammaMode(beta), flags: 0 }, false);
}

function varifocalPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): VariantPlan {
  const options = checkOptions(optionsArg);
  const alpha = finiteOption(options.alpha, 'options.alpha', 0.75);
  if (!(alpha >= 0)) throw new RangeError(`options.alpha = ${show(alpha)}: expected a finite number >= 0 (the weight of the negatives)`);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  const iouWeighted = booleanOption(options.iouWeighted, 'options.iouWeighted', true);
  return planCommon('varifocal', logits, targets, options, withGrad,
    { a: alpha, b: gamma, c: 0, d: 0, mode: gammaMode(gamma), flags: iouWeighted ? IOU_WEIGHTED : 0 }, false);
}

function polyPlan(logits: unknown, targets: unknown, optionsArg: unknown, withGrad: boolean): VariantPlan {
  const options = checkOptions(optionsArg);
  const alpha = alphaOption(options.alpha, 'options.alpha', 0.25);
  const gamma = gammaOption(options.gamma, 'options.gamma', 2);
  const epsilon = finiteOption(options.epsilon, 'options.epsilon', 1);
  return planCommon('polyFocal', logits, targets, options, withGrad,
    { a: alpha, b: gamma, c: epsilon, d: 0, mode: gammaMode(gamma), flags: 0 }, false);
}

type Planner = (logits: unknown, targets: unknown, options: unknown, withGrad: boolean) => VariantPlan;

function lossOnly(planner: Planner) {
  return (engine: Engine, logits: unknown, targets: unknown, options: unknown): number | Float32Array =>
    run(engine, planner(logits, targets, options, false), false).loss;
}

function withGrad(planner: Planner) {
  return (engine: Engine, logits: unknown, targets: unknown, options: unknown): { loss: number | Float32Array; grad: Float32Array } => {
    const { loss, grad } = run(engine, planner(logits, targets, options, true), true);
    return { loss, grad: grad! };
  };
}

export const sigmoidFocalLossMasked = lossOnly(focalPlan);
export const sigmoidFocalLossMaskedWithGrad = withGrad(focalPlan);
export const sigmoidFocalLossStar = lossOnly(starPlan);
export const sigmoidFocalLossStarWithGrad = withGrad(starPlan);
export const qualityFocalLoss = lossOnly(qualityPlan);
export const qualityFocalLossWithGrad = withGrad(qualityPlan);
export const varifocalLoss = lossOnly(varifocalPlan);
export const varifocalLossWithGrad = withGrad(varifocalPlan);
export const polyFocalLoss = lossOnly(polyPlan);
export const polyFocalLossWithGrad = withGrad(polyPlan);
