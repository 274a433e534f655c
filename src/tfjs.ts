// focal-wasm/tfjs: the sigmoid-family losses as TensorFlow.js losses. The forward pass and the gradient both come
// from the engine (one fused pass), handed to tfjs through tf.customGrad, so a tfjs model trains with them on any
// backend whose tensors can be read synchronously (cpu, wasm). @tensorflow/tfjs-core is an optional peer dependency:
// only this subpath imports it.
import * as tf from '@tensorflow/tfjs-core';
import type { Focal } from './focal.js';
import type { SigmoidFocalOptions } from './sigmoid.js';
import type {
  PolyFocalOptions, QualityFocalOptions, SigmoidFocalStarOptions, VarifocalOptions,
} from './sigmoid-variants.js';

/** A loss is reduced to a tf.Scalar: 'mean' (default) or 'sum'. Caller-owned outputs do not apply. */
type ForTfjs<T> = Omit<T, 'reduction' | 'out'> & { reduction?: 'mean' | 'sum' };

/** Which engine loss, and its options (the same names and defaults as the Focal method). */
export type TfjsFocalOptions =
  | ({ loss?: 'sigmoidFocalLoss' } & ForTfjs<SigmoidFocalOptions>)
  | ({ loss: 'sigmoidFocalLossStar' } & ForTfjs<SigmoidFocalStarOptions>)
  | ({ loss: 'qualityFocalLoss' } & ForTfjs<QualityFocalOptions>)
  | ({ loss: 'varifocalLoss' } & ForTfjs<VarifocalOptions>)
  | ({ loss: 'polyFocalLoss' } & ForTfjs<PolyFocalOptions>);

export type TfjsLoss = (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;

const LOSSES = ['sigmoidFocalLoss', 'sigmoidFocalLossStar', 'qualityFocalLoss', 'varifocalLoss', 'polyFocalLoss'];

type WithGrad = (logits: Float32Array, targets: Float32Array, options: object) => { loss: number | Float32Array; grad: Float32Array };

function asFloat32(values: tf.TypedArray | string[] | Uint8Array): Float32Array {
  if (values instanceof Float32Array) return values;
  if (Array.isArray(values)) throw new TypeError('labels: expected a numeric tensor, got a string tensor');
  return Float32Array.from(values as ArrayLike<number>);
}

/**
 * A tfjs loss `(labels, logits) => tf.Scalar` computed by `focal` (an engine from createFocal / createFocalSync),
 * usable wherever tfjs takes a loss function (optimizer.minimize, tf.grad, tf.variableGrads, a LayersModel's
 * `loss`). Labels and logits have the same shape (binary or multi-label, class axis last for classWeights).
 * The gradient with respect to the logits is the engine's fused gradient (d(reduced loss)/d logits, multiplied
 * by the incoming dy); labels get a zero gradient. Reads both tensors synchronously (dataSync), so it runs on
 * the cpu and wasm backends; on webgl / webgpu it works but waits for the GPU at each call.
 * @throws TypeError / RangeError at creation for an unknown `loss` or reduction 'none', and at each call as the
 *   Focal method does (a label outside [0, 1], shapes whose sizes differ, ...).
 */
export function focalLoss(focal: Focal, options: TfjsFocalOptions = {}): TfjsLoss {
  const { loss: name = 'sigmoidFocalLoss', ...rest } = options;
  if (!LOSSES.includes(name)) {
    throw new RangeError(`options.loss = ${JSON.stringify(name)}: expected one of ${LOSSES.join(', ')}`);
  }
  if ((rest.reduction as string | undefined) === 'none') {
    throw new RangeError("options.reduction = 'none': a tfjs loss returns a scalar; expected 'mean' or 'sum'");
  }
  const method = (focal as unknown as Record<string, WithGrad>)[`${name}WithGrad`]!.bind(focal);
  const lossWithGrad = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [labels, logits, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const { loss, grad } = method(asFloat32(logits.dataSync()), asFloat32(labels.dataSync()), rest);
    const gradient = tf.tensor(grad, logits.shape, 'float32');
    save([gradient]);
    return {
      value: tf.scalar(loss as number),
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => [tf.zerosLike(labels), tf.mul(dy, saved[0]!)],
    };
  }) as unknown as (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar;
  return (labels, logits) => {
    if (labels.size !== logits.size) {
      throw new RangeError(`labels: shape [${labels.shape}] has ${labels.size} elements, logits [${logits.shape}] ${logits.size}`);
    }
    // Integer or boolean labels are cast once, so the gradient tfjs sees for them is a float32 zero.
    return lossWithGrad(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'), logits);
  };
}
