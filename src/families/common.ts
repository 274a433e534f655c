// What every loss of the sigmoid family shares: logits and targets of one length, the reduction options, and the
// masks and per-class weights that the variant kernel takes (assembly/sigmoid/variants.ts). A loss's plan adds its
// own parameters and calls `sigmoidFamilyPlan`, which returns the call for the elementwise driver.
import {
  FLAG_HAS_IGNORE, STREAM_CLASS_WEIGHTS, STREAM_GAMMAS, STREAM_INPUT, STREAM_MASK, STREAM_POS_WEIGHTS, STREAM_TARGETS, STREAM_WEIGHTS,
} from '../core/abi.js';
import type { ElementwiseCall, ElementwisePlan, InputStream } from '../core/elementwise.js';
import type { ElementwiseKernelName } from '../core/engine.js';
import { finiteRule, unitRule, UNIT, type Locator, type ValueRule } from '../core/locate.js';
import type { HalfFloats } from '../core/half.js';
import type { KernelParams } from '../core/params.js';
import {
  checkLength, classesOption, float16Option, inputFloats, readable, smallFloats, finiteOption, lossOutputs, maskOption, normalizerOption, perClass,
  reductionOption, show, weightsOption, type Floats, type Reduction,
} from '../options/checks.js';

/** Masks and per-class weights, accepted by every loss of the sigmoid family. */
export interface SigmoidMaskOptions {
  /** Per-element mask (same length as logits): 0 ignores the element (0 loss, 0 gradient, not counted by
   * 'mean'); any other value keeps it. */
  mask?: Floats | Uint8Array;
  /** Elements whose target equals this value are ignored as by `mask` (their target is not validated). */
  ignoreIndex?: number;
  /** C, for multi-label logits laid out N x C (class axis last): element i belongs to class i mod C. Default:
   * the length of classWeights (or of posWeight, or of sigmoidFocalLoss's per-class gamma). */
  classes?: number;
  /** Per-class weights (length C, finite, >= 0), multiplied in like `weights`. */
  classWeights?: Floats;
}

/** The reduction and the caller-owned loss output, as every loss takes them. */
export interface ReductionOptions {
  /** 'mean' (default; asymmetricLoss: 'sum'), 'sum', or 'none' for one loss per element. */
  reduction?: Reduction;
  /** Per-element weights (same length as the first argument), multiplied in before the reduction. */
  weights?: Floats;
  /** With 'mean': divide the sum by this (e.g. the number of positives) instead of the element count. */
  normalizer?: number;
  /** With 'none': a caller-owned Float32Array (length >= N) to write the losses into, returned as the loss. */
  out?: Float32Array;
  /** true: every Uint16Array argument holds IEEE 754 binary16 bits (as onnxruntime-web hands over float16
   * tensors), converted exactly as they are staged; a Uint16Array is refused otherwise. A Float16Array needs no
   * option. Default false. */
  float16?: boolean;
}

/** The gradient's caller-owned output, taken by every ...WithGrad method. */
export interface GradOutOptions {
  /** A caller-owned Float32Array (as long as the first argument) to write the gradient into, returned as `grad`. */
  gradOut?: Float32Array;
}

/** How an elementwise loss on logits names its arrays, for the output overlap checks (made once). */
const LOGITS_INPUT_NAMES = ['logits', 'targets', 'options.weights', 'options.mask'] as const;

/** How a row loss's errors name its arrays (logits, targets, weights), for the output overlap checks. */
export const ROW_INPUT_NAMES = ['logits', 'targets', 'options.weights'] as const;

export const REDUCTION_OPTIONS = ['reduction', 'weights', 'normalizer', 'out', 'float16'] as const;
export const MASK_OPTIONS = ['mask', 'ignoreIndex', 'classes', 'classWeights'] as const;

/** What a sigmoid-family loss adds to the shared options: its kernel and parameters. */
export interface FamilyKernel {
  kernel: ElementwiseKernelName;
  params: KernelParams;
  /** posWeight per class (the focal loss only), already checked against C by the caller's `posWeights`. */
  posWeight?: number | Floats;
  /** gamma per class (the focal loss only), checked here against C (entries finite, >= 0). */
  gammas?: Floats;
  /** smp's normalized focal loss (two passes). */
  normalized?: boolean;
  /** The reduction when none is given: 'mean' unless the loss's anchor says otherwise (ASL sums). */
  reduction?: Reduction;
}

/** The arrays and reduction every elementwise loss takes, checked in this order. */
export interface ElementwiseArgs {
  first: Floats | HalfFloats;
  targets: Floats | HalfFloats;
  n: number;
  reduction: Reduction;
  weights: Floats | HalfFloats | undefined;
  normalizer: number | undefined;
  /** options.float16: Uint16Array arguments hold binary16 bits. */
  float16: boolean;
}

/** The first array (logits, or probabilities named `firstName`), targets of its length, reduction, weights. */
export function elementwiseArgs(
  firstArg: unknown, targetsArg: unknown, options: Record<string, unknown>, firstName: string,
  defaultReduction: Reduction = 'mean',
): ElementwiseArgs {
  const float16 = float16Option(options);
  const first = inputFloats(firstArg, firstName, float16);
  const targets = inputFloats(targetsArg, 'targets', float16);
  const n = first.length;
  checkLength(targets, 'targets', n, `the length of ${firstName}`);
  const reduction = reductionOption(options.reduction, 'options.reduction', defaultReduction);
  const weights = weightsOption(options.weights, 'options.weights', n, `the length of ${firstName}`, float16);
  const normalizer = normalizerOption(options.normalizer, 'options.normalizer', reduction);
  return { first, targets, n, reduction, weights, normalizer, float16 };
}

/** The caller's out / gradOut, checked against the arrays (a mask among them), and the input streams. */
export function elementwiseStreams(
  args: ElementwiseArgs, options: Record<string, unknown>, withGrad: boolean, firstName: string,
  mask?: Floats | Uint8Array,
): { inputs: InputStream[]; out: Float32Array | undefined; gradOut: Float32Array | undefined } {
  const { first, targets, weights, n } = args;
  const names = firstName === 'logits' ? LOGITS_INPUT_NAMES : [firstName, 'targets', 'options.weights', 'options.mask'];
  const { out, gradOut } = lossOutputs(options, args.reduction, withGrad, n, n, [first, targets, weights, mask], names);
  const inputs: InputStream[] = [
    { stream: STREAM_INPUT, values: first, name: firstName },
    { stream: STREAM_TARGETS, values: targets, name: 'targets' },
  ];
  if (weights) inputs.push({ stream: STREAM_WEIGHTS, values: weights, name: 'options.weights' });
  if (mask) inputs.push({ stream: STREAM_MASK, values: mask, name: 'options.mask' });
  return { inputs, out, gradOut };
}

/** The call of an elementwise loss without masks: 'mean' divides by the normalizer or N. */
export function elementwiseCall(
  kernel: ElementwiseKernelName, args: ElementwiseArgs, streams: ReturnType<typeof elementwiseStreams>,
  withGrad: boolean, params: KernelParams,
): ElementwiseCall {
  const { n, reduction } = args;
  return {
    kernel, n, inputs: streams.inputs, params, reduction,
    divisor: reduction === 'mean' ? args.normalizer ?? n : 1,
    writeLoss: reduction === 'none', out: streams.out, withGrad, gradOut: streams.gradOut,
  };
}

/** Everything but the loss's own parameters: inputs, reduction, outputs, masks and class weights. */
export function sigmoidFamilyPlan(
  logitsArg: unknown, targetsArg: unknown, options: Record<string, unknown>, withGrad: boolean, own: FamilyKernel,
): ElementwisePlan {
  const args = elementwiseArgs(logitsArg, targetsArg, options, 'logits', own.reduction);
  const { first: logits, targets, n, reduction, weights, normalizer } = args;

  const mask = maskOption(options.mask, 'options.mask', n);
  const ignoreIndex = options.ignoreIndex === undefined ? undefined : finiteOption(options.ignoreIndex, 'options.ignoreIndex', 0);

  const classWeightsArg = options.classWeights === undefined ? undefined : smallFloats(options.classWeights, 'options.classWeights', args.float16);
  const posWeightArg = own.posWeight;
  let classes = classesOption(options.classes, 'options.classes');
  let from = 'options.classWeights';
  if (classes === undefined) {
    if (classWeightsArg) classes = classWeightsArg.length;
    else if (posWeightArg !== undefined && typeof posWeightArg !== 'number') classes = posWeightArg.length;
    else if (own.gammas) {
      classes = own.gammas.length;
      from = 'options.gamma';
    } else classes = 1;
  }
  if (classes < 1) throw new RangeError(`${from}.length = 0: expected at least one class`);
  if (n % classes !== 0) {
    throw new RangeError(`logits.length = ${n}: expected a multiple of ${classes} (options.classes: rows of C classes, class axis last)`);
  }
  const tables: { stream: number; values: Float32Array }[] = [];
  if (classWeightsArg) tables.push({ stream: STREAM_CLASS_WEIGHTS, values: perClass(classWeightsArg, 'options.classWeights', classes) });
  if (typeof posWeightArg === 'number') {
    const [one] = perClass([posWeightArg], 'options.posWeight', 1);
    tables.push({ stream: STREAM_POS_WEIGHTS, values: new Float32Array(classes).fill(one!) });
  } else if (posWeightArg) {
    tables.push({ stream: STREAM_POS_WEIGHTS, values: perClass(posWeightArg, 'options.posWeight', classes) });
  }
  if (own.gammas) tables.push({ stream: STREAM_GAMMAS, values: perClass(own.gammas, 'options.gamma', classes) });

  const streams = elementwiseStreams(args, options, withGrad, 'logits', mask);
  const masked = mask !== undefined || ignoreIndex !== undefined;
  // Built by assignment, not by spreading: a spread over an object whose keys the literal then sets again cost
  // several µs per call in V8 (a slow path per redefined key).
  const params: KernelParams = Object.assign({}, own.params);
  params.flags = (own.params.flags ?? 0) | (ignoreIndex !== undefined ? FLAG_HAS_IGNORE : 0);
  params.ignoreValue = ignoreIndex ?? 0;
  const call: ElementwiseCall = elementwiseCall(own.kernel, args, streams, withGrad, params);
  call.tables = tables;
  call.classes = classes;
  // With a mask or ignoreIndex, 'mean' divides by the elements kept.
  call.divisor = reduction !== 'mean' ? 1 : normalizer ?? (masked ? 'kept' : n);
  call.normalized = own.normalized ?? false;
  return { call, locator: () => sigmoidFamilyLocator(readable(logits), readable(targets), weights && readable(weights), mask, ignoreIndex) };
}

/** How a sigmoid-family call names its bad values: masked and ignored elements are neither read nor checked. */
export function sigmoidFamilyLocator(
  logits: Floats, targets: Floats, weights: Floats | undefined, mask: Floats | Uint8Array | undefined,
  ignoreIndex: number | undefined,
): Locator {
  const masked = mask !== undefined || ignoreIndex !== undefined;
  const ignore = ignoreIndex === undefined ? undefined : Math.fround(ignoreIndex);
  const rules: ValueRule[] = [
    finiteRule(logits, 'logits'),
    unitRule(targets, 'targets', ignoreIndex === undefined ? UNIT : `${UNIT} or options.ignoreIndex (${show(ignoreIndex)})`),
  ];
  if (weights) rules.push(finiteRule(weights, 'options.weights'));
  const skip = masked
    ? (i: number): boolean => (mask !== undefined && Math.fround(mask[i] as number) === 0) ||
      (ignore !== undefined && Math.fround(targets[i] as number) === ignore)
    : undefined;
  return { rules, skip };
}
