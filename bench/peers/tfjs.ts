// The peer a user reaching for a library would pick: focal loss composed from @tensorflow/tfjs-core ops, on the
// cpu backend (@tensorflow/tfjs-backend-cpu, plain JS kernels) and on @tensorflow/tfjs-backend-wasm (XNNPACK,
// SIMD), with the gradient from tf.valueAndGrad (tf.grad's machinery, returning the loss of the same pass).
// Threads: tfjs-backend-wasm reports no multithread support under Node (its flag returns false for IS_NODE,
// tfjs issue 3830), and forcing the flag fails: the pthread worker is a blob: URL, which Node's Worker rejects
// (ERR_WORKER_PATH). So tfjs-wasm runs single-threaded, like the engine.
// Gradients: tfjs-core registers its gradient functions only from its ESM sources (the @tensorflow/tfjs bundle
// imports them), which Node cannot load as they are (extensionless imports); esbuild (a devDependency) bundles
// them once into a temporary file. Registries and the engine live on the global object, so they are shared.
// Inputs are tensors made before timing; the timed call reads the loss back (dataSync of a scalar) and leaves
// the gradient as a computed tensor (both backends compute eagerly), so tfjs is not charged for a read-back.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Contender, Output } from '../harness.js';

export type TfBackend = 'cpu' | 'wasm';

const require = createRequire(import.meta.url);
let wasmPathsSet = false;
let gradientsRegistered = false;

/** Registers tfjs-core's gradient functions (see the top of this file). */
async function registerGradients(): Promise<void> {
  if (gradientsRegistered) return;
  const outfile = join(tmpdir(), `focal-wasm-bench-tfjs-gradients-${tf.version_core}-${process.pid}.mjs`);
  buildSync({
    entryPoints: [require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js')],
    bundle: true, format: 'esm', platform: 'node', outfile, logLevel: 'error',
  });
  try {
    await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
  gradientsRegistered = true;
}

/** Switches tfjs to `backend`. The wasm backend loads its .wasm from node_modules by file path: no network. */
export async function useBackend(backend: TfBackend): Promise<void> {
  await registerGradients();
  // Production mode, as a deployed app would run: no debug checks, no "install tfjs-node" banner.
  tf.env().set('PROD', true);
  if (backend === 'wasm' && !wasmPathsSet) {
    setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend '${backend}' failed to initialize`);
}

/** wasmFeatures, or why tfjs-wasm is unavailable: a family suite's note either way. */
export async function wasmFeaturesNote(): Promise<string> {
  try {
    return await wasmFeatures();
  } catch (e) {
    return `tfjs-wasm unavailable: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** What tfjs-backend-wasm runs with here, for the notes under the table. */
export async function wasmFeatures(): Promise<string> {
  await useBackend('wasm');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `tfjs ${tf.version_core}; tfjs-wasm: SIMD ${simd ? 'on' : 'off'}, ` +
    `${threads ? 'multithreaded' : '1 thread (tfjs-backend-wasm starts no threads in Node)'}`;
}

/**
 * torchvision.ops.sigmoid_focal_loss, line by line in tfjs ops, reduced by mean. (tfjs-core alone has no
 * chained ops such as x.mul(y): those come with the @tensorflow/tfjs bundle, so the functional forms are used.)
 */
export function sigmoidFocalTf(x: tf.Tensor, t: tf.Tensor, alpha: number, gamma: number): tf.Scalar {
  const p = tf.sigmoid(x);
  const ce = tf.losses.sigmoidCrossEntropy(t, x, undefined, 0, tf.Reduction.NONE);
  const pT = tf.add(tf.mul(p, t), tf.mul(tf.sub(1, p), tf.sub(1, t)));
  const loss = tf.mul(ce, tf.pow(tf.sub(1, pT), gamma));
  const alphaT = tf.add(tf.mul(alpha, t), tf.mul(1 - alpha, tf.sub(1, t)));
  return tf.mean(tf.mul(alphaT, loss));
}

/** Softmax focal loss (mmcv / Keras semantics, no alpha), mean over rows: log-softmax, pick y by one-hot. */
export function softmaxFocalTf(z: tf.Tensor2D, y: tf.Tensor1D, gamma: number): tf.Scalar {
  const logP = tf.logSoftmax(z);
  const logPy = tf.sum(tf.mul(logP, tf.oneHot(y, z.shape[1])), 1);
  const pY = tf.exp(logPy);
  return tf.mean(tf.neg(tf.mul(tf.pow(tf.sub(1, pY), gamma), logPy)));
}

/**
 * A contender computing `loss(inputs)` on `backend`: forward, or forward+grad with respect to the first input.
 * `make` builds the input tensors (after the backend is switched, so they live in that backend).
 */
export function tfContender(
  backend: TfBackend, withGrad: boolean, make: () => tf.Tensor[], loss: (inputs: tf.Tensor[]) => tf.Scalar,
): Contender {
  let inputs: tf.Tensor[] = [];
  const valueAndGrad = tf.valueAndGrad((x: tf.Tensor) => loss([x, ...inputs.slice(1)]));
  const forward = (): tf.Scalar => tf.tidy(() => loss(inputs));
  const both = (): { value: tf.Scalar; grad: tf.Tensor } => tf.tidy(() => valueAndGrad(inputs[0]!));
  const run = (readGrad: boolean): Output => {
    if (!withGrad) {
      const value = forward();
      const out = { loss: value.dataSync()[0]! };
      value.dispose();
      return out;
    }
    const { value, grad } = both();
    const out: Output = { loss: value.dataSync()[0]! };
    if (readGrad) out.grad = grad.dataSync();
    value.dispose();
    grad.dispose();
    return out;
  };
  return {
    impl: backend === 'cpu' ? 'tfjs-cpu' : 'tfjs-wasm',
    async setup() {
      await useBackend(backend);
      inputs = make();
    },
    check: () => run(true),
    timed: () => run(false),
    teardown() {
      for (const t of inputs) t.dispose();
      inputs = [];
    },
  };
}

export { tf };
