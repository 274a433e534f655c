// The peers of each family as harness contenders, in table order: plain TS, tfjs-cpu, tfjs-wasm, the C builds,
// onnxruntime (forward only). A family suite puts its engine contenders (SIMD first: the reference) before these
// and hands the lot to runCase.
import type { Contender, Output } from '../harness.js';
import type { Pass } from '../table.js';
import { nativeBuilds, type NativeFocal } from './native.js';
import { sigmoidFocalPlain, sigmoidFocalPlainWithGrad, softmaxFocalPlain, softmaxFocalPlainWithGrad } from './plain.js';
import { sigmoidFocalTf, softmaxFocalTf, tf, tfContender, tfMatrixContender, type TfBackend } from './tfjs.js';

const BACKENDS: TfBackend[] = ['cpu', 'wasm'];

/** One contender per native C build (none where bench/peers/native.ts found no compiler), gradient into `grad`. */
function nativeContenders(call: (addon: NativeFocal, grad: Float32Array | null) => number, grad?: Float32Array): Contender[] {
  return nativeBuilds().builds.map(({ impl, addon }) => ({
    impl,
    check: (): Output => (grad ? { loss: call(addon, grad), grad } : { loss: call(addon, null) }),
  }));
}

type OnnxPeers = typeof import('./onnx.js');

/** onnxruntime-node loaded on first use: where its binary cannot load, its rows say why and the run goes on. */
function onnxContender(make: (onnx: OnnxPeers) => Contender): Contender {
  let inner: Contender | undefined;
  return {
    impl: 'onnxruntime',
    async setup() {
      inner = make(await import('./onnx.js'));
      await inner.setup?.();
    },
    check: () => inner!.check(),
  };
}

/** The peers at the limit: the native C builds (gradient into the plain loop's reused array), and onnxruntime
 * for the forward pass. */
function limitPeers(
  pass: Pass, grad: Float32Array | undefined, call: (addon: NativeFocal, grad: Float32Array | null) => number,
  onnx: (peers: OnnxPeers) => Contender,
): Contender[] {
  return [...nativeContenders(call, grad), ...(pass === 'forward' ? [onnxContender(onnx)] : [])];
}

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
    ...limitPeers(pass, grad, (addon, g) => addon.sigmoidFocal(logits, targets, alpha, gamma, g),
      (onnx) => onnx.sigmoidOnnx(logits, targets, alpha, gamma)),
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
    ...limitPeers(pass, grad, (addon, g) => addon.softmaxFocal(logits, targets, classes, -1, gamma, g),
      (onnx) => onnx.softmaxOnnx(logits, targets, classes, gamma)),
  ];
}

/** tfjs-cpu and tfjs-wasm computing `loss` (see tfContender): the peers beside the plain loop of the newer losses. */
export function tfPeers(pass: Pass, make: () => tf.Tensor[], loss: (inputs: tf.Tensor[]) => tf.Scalar): Contender[] {
  return BACKENDS.map((backend) => tfContender(backend, pass === 'forward+grad', make, loss));
}

/** tfjs-cpu and tfjs-wasm computing a matrix, read back on every call (see tfMatrixContender). */
export function tfMatrixPeers(
  make: () => tf.Tensor[], compute: (inputs: tf.Tensor[]) => tf.Tensor, asOutput: (matrix: Float32Array) => Output,
): Contender[] {
  return BACKENDS.map((backend) => tfMatrixContender(backend, make, compute, asOutput));
}
