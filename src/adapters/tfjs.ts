// focal-wasm/tfjs: every loss of the registry as a TensorFlow.js loss. The forward pass and the gradient both come
// from the engine (one fused pass), handed to tfjs through tf.customGrad, so a tfjs model trains with them on any
// backend whose tensors can be read synchronously (cpu, wasm). @tensorflow/tfjs-core is an optional peer dependency:
// only this subpath imports it.
import * as tf from '@tensorflow/tfjs-core';
import type { Focal } from '../focal.js';
import type { AsymmetricOptions } from '../families/asymmetric.js';
import type { BinaryFocalOptions } from '../families/binary.js';
import type { DiceFocalOptions, DiceOptions, TverskyOptions } from '../families/dice.js';
import type { DistributionFocalOptions } from '../families/dfl.js';
import { isLossName, LOSS_NAMES, LOSSES, type LossName } from '../families/registry.js';
import type { SigmoidFocalOptions } from '../families/sigmoid.js';
import type { SoftmaxFocalOptions } from '../families/softmax.js';
import type { PolyFocalOptions, QualityFocalOptions, SigmoidFocalStarOptions, VarifocalOptions } from '../families/variants.js';
import { show } from '../options/checks.js';
import type { WithGrad } from '../options/results.js';
import { optionsOf } from '../options/strict.js';

/**
 * A loss is reduced to a tf.Scalar: 'mean' or 'sum' (default: the method's, 'mean', or 'sum' for asymmetricLoss).
 * Caller-owned outputs do not apply.
 */
type ForTfjs<T> = Omit<T, 'reduction' | 'out'> & { reduction?: 'mean' | 'sum' };

/** Which engine loss, and its options (the same names and defaults as the Focal method). */
export type TfjsFocalOptions =
  | ({ loss?: 'sigmoidFocalLoss' } & ForTfjs<SigmoidFocalOptions>)
  | ({ loss: 'sigmoidFocalLossStar' } & ForTfjs<SigmoidFocalStarOptions>)
  | ({ loss: 'qualityFocalLoss' } & ForTfjs<QualityFocalOptions>)
  | ({ loss: 'varifocalLoss' } & ForTfjs<VarifocalOptions>)
  | ({ loss: 'polyFocalLoss' } & ForTfjs<PolyFocalOptions>)
  | ({ loss: 'asymmetricLoss' } & ForTfjs<AsymmetricOptions>)
  | ({ loss: 'binaryFocalLoss' } & ForTfjs<BinaryFocalOptions>)
  | ({ loss: 'softmaxFocalLoss' } & ForTfjs<Omit<SoftmaxFocalOptions, 'classes' | 'shape' | 'classAxis'>>)
  | ({ loss: 'distributionFocalLoss' } & ForTfjs<Omit<DistributionFocalOptions, 'bins'>>)
  | ({ loss: 'diceLoss' } & ForTfjs<Omit<DiceOptions, 'shape'>>)
  | ({ loss: 'tverskyLoss' } & ForTfjs<Omit<TverskyOptions, 'shape'>>)
  | ({ loss: 'diceFocalLoss' } & ForTfjs<Omit<DiceFocalOptions, 'shape'>>);

export type TfjsLoss = (labels: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;

/** What a loss reads from a tfjs model, in words: its first argument (probs, for the binary loss) or logits. */
function inputWord(name: LossName): string {
  return LOSSES[name].args[0] === 'probs' ? 'probabilities' : 'logits';
}

/** Options the adapter sets itself (softmax: the classes come from the last axis of the logits). */
const SET_HERE: Partial<Record<LossName, readonly string[]>> = {
  softmaxFocalLoss: ['classes', 'shape', 'classAxis'], distributionFocalLoss: ['bins'],
  diceLoss: ['shape'], tverskyLoss: ['shape'], diceFocalLoss: ['shape'],
};

/** The class axis of an overlap loss's logits (options.classAxis, default 1 as MONAI's N x C x spatial). */
function overlapClassAxis(name: LossName, options: Record<string, unknown>, rank: number): number | undefined {
  if (LOSSES[name].driver !== 'regions') return undefined;
  const axis = typeof options.classAxis === 'number' ? options.classAxis : 1;
  return axis < 0 ? axis + rank : axis;
}

type LossWithGrad = (first: Float32Array, second: Float32Array | number[], options: object) => WithGrad;

function asFloat32(values: tf.TypedArray | string[] | Uint8Array): Float32Array {
  if (values instanceof Float32Array) return values;
  if (Array.isArray(values)) throw new TypeError('labels: expected a numeric tensor, got a string tensor');
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * A tfjs loss `(labels, predictions) => tf.Scalar` computed by `focal` (an engine from createFocal /
 * createFocalSync), usable wherever tfjs takes a loss function (optimizer.minimize, tf.grad, tf.variableGrads, a
 * LayersModel's `loss`). `options.loss` names any loss of the engine (default 'sigmoidFocalLoss'):
 * - the sigmoid family: labels and logits of the same shape (binary or multi-label, class axis last for
 *   classWeights);
 * - 'binaryFocalLoss': labels and probabilities of the same shape, as a model ending in a sigmoid hands them over;
 * - 'softmaxFocalLoss': logits [..., C] (class axis last) with labels either of the same shape (one-hot or soft
 *   targets, a distribution per row) or of the logits' shape without the last axis (class indices, int32 or
 *   float holding whole numbers);
 * - 'distributionFocalLoss': logits [..., bins] with labels of the logits' shape without the last axis (one
 *   continuous target in [0, bins - 1] per row);
 * - 'diceLoss', 'tverskyLoss', 'diceFocalLoss': logits [N, C, ...spatial] (or the classes on `classAxis`, e.g. -1
 *   for a channels-last model), the shape taken from the tensor, with labels of the same shape (one-hot or soft) or
 *   of that shape without the class axis (class indices).
 * The gradient with respect to the predictions is the engine's fused gradient (d(reduced loss)/d predictions,
 * multiplied by the incoming dy); labels get a zero gradient. Reads both tensors synchronously (dataSync), so it
 * runs on the cpu and wasm backends; on webgl / webgpu it works but waits for the GPU at each call.
 * @throws TypeError / RangeError at creation for an unknown `loss` or option, or reduction 'none', and at each
 *   call as the Focal method does (a label outside [0, 1], shapes that do not match, ...).
 */
export function focalLoss(focal: Focal, options: TfjsFocalOptions = {}): TfjsLoss {
  const { loss: name = 'sigmoidFocalLoss', ...rest } = options as { loss?: unknown } & Record<string, unknown>;
  if (!isLossName(name)) {
    throw new RangeError(`options.loss = ${show(name)}: expected one of ${LOSS_NAMES.map((n) => `'${n}'`).join(', ')}`);
  }
  if (rest.reduction === 'none') {
    throw new RangeError("options.reduction = 'none': a tfjs loss returns a scalar; expected 'mean' or 'sum'");
  }
  // A preset whose library reduces with 'none' by default (torchvision, kornia) needs the reduction said.
  if (rest.reduction === undefined && (rest.compat === 'torchvision' || rest.compat === 'kornia')) {
    throw new RangeError(
      `options.compat = '${rest.compat}': its default reduction is 'none', and a tfjs loss returns a scalar; ` +
        "pass reduction 'mean' or 'sum' beside it",
    );
  }
  // The options are the engine method's, checked by name now (a misspelt one fails at creation) and by value at
  // each call; the ones the adapter sets itself are not among them.
  const setHere = ['out', ...(SET_HERE[name] ?? [])];
  optionsOf(rest, LOSSES[name].options.filter((key) => !setHere.includes(key)), `the tfjs ${name}`);
  const method = (focal as unknown as Record<string, LossWithGrad>)[`${name}WithGrad`]!.bind(focal);
  const softmax = name === 'softmaxFocalLoss';
  const lossWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [labels, predictions, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const x = asFloat32(predictions.dataSync());
    let result: WithGrad;
    if (softmax) {
      const classes = predictions.shape[predictions.shape.length - 1] ?? 1;
      const indices = labels.size !== predictions.size;
      // Class indices go as numbers, so the engine refuses one that is not a whole number (never truncated).
      const targets = indices ? Array.from(labels.dataSync() as ArrayLike<number>) : asFloat32(labels.dataSync());
      result = method(x, targets, { ...rest, classes });
    } else if (name === 'distributionFocalLoss') {
      // One continuous target per row of bins (the logits' last axis).
      result = method(x, asFloat32(labels.dataSync()), { ...rest, bins: predictions.shape[predictions.shape.length - 1] ?? 1 });
    } else if (LOSSES[name].driver === 'regions') {
      // The logits' shape from the tensor; labels of the same shape (one-hot or soft) or class indices (the shape
      // without the class axis), which go as numbers so that one that is not a whole number is refused.
      const indices = labels.size !== predictions.size;
      const targets = indices ? Array.from(labels.dataSync() as ArrayLike<number>) : asFloat32(labels.dataSync());
      result = method(x, targets, { ...rest, shape: predictions.shape });
    } else {
      result = method(x, asFloat32(labels.dataSync()), rest);
    }
    const gradient = tf.tensor(result.grad, predictions.shape, 'float32');
    save([gradient]);
    return {
      value: tf.scalar(result.loss as number),
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => [tf.zerosLike(labels), tf.mul(dy, saved[0]!)],
    };
  }) as unknown as (labels: tf.Tensor, predictions: tf.Tensor) => tf.Scalar;
  return (labels, predictions) => {
    checkShapes(name, labels, predictions, rest);
    // Integer or boolean labels are cast once, so the gradient tfjs sees for them is a float32 zero.
    return lossWithGrad(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'), predictions);
  };
}

function checkShapes(name: LossName, labels: tf.Tensor, predictions: tf.Tensor, options: Record<string, unknown>): void {
  const sameShape = labels.shape.length === predictions.shape.length && labels.shape.every((d, i) => d === predictions.shape[i]);
  if (sameShape) return;
  const axis = overlapClassAxis(name, options, predictions.shape.length);
  if (axis !== undefined) {
    const indexShape = predictions.shape.filter((_, i) => i !== axis);
    if (labels.shape.length === indexShape.length && labels.shape.every((d, i) => d === indexShape[i])) return;
    throw new RangeError(
      `labels: shape [${labels.shape}]: expected [${predictions.shape}] (one-hot or soft targets) or [${indexShape}] ` +
        `(class indices, the class axis ${axis} removed) for logits of shape [${predictions.shape}]`,
    );
  }
  if (name === 'distributionFocalLoss') {
    const rows = predictions.shape.slice(0, -1);
    if (labels.shape.length === rows.length && labels.shape.every((d, i) => d === rows[i])) return;
    throw new RangeError(`labels: shape [${labels.shape}]: expected [${rows}] (one target per row of bins) for logits of shape [${predictions.shape}]`);
  }
  if (name === 'softmaxFocalLoss') {
    const rows = predictions.shape.slice(0, -1);
    const indexShape = labels.shape.length === rows.length && labels.shape.every((d, i) => d === rows[i]);
    if (indexShape) return;
    throw new RangeError(
      `labels: shape [${labels.shape}]: expected [${predictions.shape}] (one-hot or soft targets) or [${rows}] ` +
        `(class indices) for logits of shape [${predictions.shape}]`,
    );
  }
  throw new RangeError(`labels: shape [${labels.shape}]: expected the ${inputWord(name)}' shape [${predictions.shape}]`);
}

