// The peers of each family as harness contenders, in table order: plain TS, tfjs-cpu, tfjs-wasm. A family suite
// puts its engine contenders (SIMD first: the reference) before these and hands the lot to runCase.
import type { Contender } from '../harness.js';
import type { Pass } from '../table.js';
import { sigmoidFocalPlain, sigmoidFocalPlainWithGrad, softmaxFocalPlain, softmaxFocalPlainWithGrad } from './plain.js';
import { sigmoidFocalTf, softmaxFocalTf, tf, tfContender, type TfBackend } from './tfjs.js';

const BACKENDS: TfBackend[] = ['cpu', 'wasm'];

/** Sigmoid focal loss peers, 'mean' reduction; the plain loop writes its gradient into one reused array. */
export function sigmoidPeers(
  logits: Float32Array, targets: Float32Array, options: { alpha: number; gamma: number }, pass: Pass,
): Contender[] {
  const { alpha, gamma } = options;
  const grad = pass === 'forward+grad' ? new Float32Array(logits.length) : undefined;
  return [
    {
      impl: 'plain TS',
      check: grad
        ? () => ({ loss: sigmoidFocalPlainWithGrad(logits, targets, alpha, gamma, grad), grad })
        : () => ({ loss: sigmoidFocalPlain(logits, targets, alpha, gamma) }),
    },
    ...BACKENDS.map((backend) => tfContender(
      backend, pass === 'forward+grad',
      () => [tf.tensor1d(logits), tf.tensor1d(targets)],
      ([x, t]) => sigmoidFocalTf(x!, t!, alpha, gamma),
    )),
  ];
}

/** Softmax focal loss peers (no alpha), 'mean' over rows; logits row-major rows × classes. */
export function softmaxPeers(
  logits: Float32Array, targets: Int32Array, options: { classes: number; gamma: number }, pass: Pass,
): Contender[] {
  const { classes, gamma } = options;
  const grad = pass === 'forward+grad' ? new Float32Array(logits.length) : undefined;
  return [
    {
      impl: 'plain TS',
      check: grad
        ? () => ({ loss: softmaxFocalPlainWithGrad(logits, targets, classes, gamma, grad), grad })
        : () => ({ loss: softmaxFocalPlain(logits, targets, classes, gamma) }),
    },
    ...BACKENDS.map((backend) => tfContender(
      backend, pass === 'forward+grad',
      () => [tf.tensor2d(logits, [targets.length, classes]), tf.tensor1d(targets, 'int32')],
      ([z, y]) => softmaxFocalTf(z as tf.Tensor2D, y as tf.Tensor1D, gamma),
    )),
  ];
}
