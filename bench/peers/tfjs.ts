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

/** The anchor's defaults (AsymmetricLoss.__init__). */
const ASL = { gammaPos: 1, gammaNeg: 4, clip: 0.05, eps: 1e-8 };

/**
 * ASL's one_sided_w under disable_torch_grad_focal_loss: tfjs-core has no tf.stopGradient (nor a
 * StopGradient kernel), so the weight is a tf.customGrad whose gradient is zero for every input; the ops inside
 * its forward run below the tape (tfjs records only the customGrad node), as torch.set_grad_enabled(False) does.
 */
const aslModulator = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [xsPos, xsNeg, y] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
  const pt = tf.add(tf.mul(xsPos, y), tf.mul(xsNeg, tf.sub(1, y)));
  const oneSidedGamma = tf.add(tf.mul(ASL.gammaPos, y), tf.mul(ASL.gammaNeg, tf.sub(1, y)));
  return {
    value: tf.pow(tf.sub(1, pt), oneSidedGamma),
    gradFunc: () => [tf.zerosLike(xsPos), tf.zerosLike(xsNeg), tf.zerosLike(y)],
  };
}) as (xsPos: tf.Tensor, xsNeg: tf.Tensor, y: tf.Tensor) => tf.Tensor;

/**
 * Alibaba-MIIL's AsymmetricLoss (src/loss_functions/losses.py) with its defaults, line by line in tfjs ops:
 *   xs_pos = torch.sigmoid(x); xs_neg = 1 - xs_pos
 *   xs_neg = (xs_neg + self.clip).clamp(max=1)                      clip 0.05
 *   los_pos = y * torch.log(xs_pos.clamp(min=self.eps))             eps 1e-8
 *   los_neg = (1 - y) * torch.log(xs_neg.clamp(min=self.eps)); loss = los_pos + los_neg
 *   with the gradient disabled: pt = xs_pos * y + xs_neg * (1 - y)
 *     one_sided_w = torch.pow(1 - pt, gamma_pos * y + gamma_neg * (1 - y))      gamma_pos 1, gamma_neg 4
 *   loss *= one_sided_w; return -loss.sum()
 * clamp(max) and clamp(min) are tf.minimum and tf.maximum (both pass the gradient at equality, as torch's clamp).
 * The sum goes per image (row), then over the images: tfjs-wasm's Sum kernel adds a whole row into one float32 in
 * order (tfjs-backend-wasm/src/cc/kernels/Sum.cc), which over the 64 × 9605 terms at once drifts 3.4e-4 from the
 * float64 sum (a sequential float32 sum in JS gives the same figure); row by row it stays near 4e-6, as torch's
 * cascaded sum would. The extra reduction is 64 additions.
 */
export function asymmetricTf(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  const xsPos = tf.sigmoid(x);
  const xsNeg = tf.minimum(tf.add(tf.sub(1, xsPos), ASL.clip), 1);
  const losPos = tf.mul(y, tf.log(tf.maximum(xsPos, ASL.eps)));
  const losNeg = tf.mul(tf.sub(1, y), tf.log(tf.maximum(xsNeg, ASL.eps)));
  const loss = tf.add(losPos, losNeg);
  return tf.neg(tf.sum<tf.Scalar>(tf.sum(tf.mul(loss, aslModulator(xsPos, xsNeg, y)), 1)));
}

/**
 * mmdet's distribution_focal_loss (mmdet/models/losses/gfocal_loss.py), mean over rows, in tfjs ops:
 *   dis_left = label.long(); dis_right = dis_left + 1
 *   weight_left = dis_right.float() - label; weight_right = label - dis_left.float()
 *   loss = F.cross_entropy(pred, dis_left) * weight_left + F.cross_entropy(pred, dis_right) * weight_right
 * as one cross entropy against the two-bin target distribution (the same sum): -sum(t * logSoftmax(z)), t the
 * weighted one-hots of dis_left and dis_right, made from y on every call as the anchor does. A dis_right of bins
 * (y = bins - 1 exactly, weight_right 0) is out of tf.oneHot's range: its row is all zeros on both backends.
 * The one-hots stay int32 (mul casts them): tfjs-wasm's OneHot kernel writes int32 whatever the dtype asked, so
 * tf.oneHot(i, n, 1, 0, 'float32') there holds the bits of int 1 (1.4e-45), and on/off values that are not integers
 * become 0.
 */
export function distributionFocalTf(z: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  const bins = z.shape[1];
  const disLeft = tf.cast(tf.floor(y), 'int32');
  const disRight = tf.add(disLeft, tf.scalar(1, 'int32')); // a plain 1 would make it float32, which oneHot rejects
  const weightLeft = tf.sub(tf.cast(disRight, 'float32'), y);
  const weightRight = tf.sub(y, tf.cast(disLeft, 'float32'));
  const target = tf.add(
    tf.mul(tf.oneHot(disLeft, bins), tf.expandDims(weightLeft, 1)),
    tf.mul(tf.oneHot(disRight, bins), tf.expandDims(weightRight, 1)),
  );
  return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(z)), 1)));
}

/**
 * MONAI's DiceLoss (monai/losses/dice.py) with softmax=True, to_onehot_y=True and its defaults, 'mean':
 *   input = torch.softmax(input, 1); target = one_hot(target, num_classes=n_pred_ch)
 *   reduce_axis = the spatial axes (batch=False)
 *   intersection = sum(target * input); ground_o = sum(target); pred_o = sum(input)
 *   f = 1 - (2 * intersection + smooth_nr) / (ground_o + pred_o + smooth_dr)       smooth 1e-5 both
 *   torch.mean(f)
 * tfjs's softmax works on the last axis only, so NCHW goes to NHWC first (what a tfjs user does with the
 * layout); the one-hot of the N×H×W labels is NHWC already. The gradient flows back through the transpose.
 */
export function diceTf(x: tf.Tensor4D, labels: tf.Tensor3D): tf.Scalar {
  const input = tf.softmax(tf.transpose(x, [0, 2, 3, 1]));
  const target = tf.cast(tf.oneHot(labels, x.shape[1]), 'float32'); // int32 first: see distributionFocalTf
  const reduceAxis = [1, 2];
  const intersection = tf.sum(tf.mul(target, input), reduceAxis);
  const groundO = tf.sum(target, reduceAxis);
  const predO = tf.sum(input, reduceAxis);
  const f = tf.sub(1, tf.div(tf.add(tf.mul(2, intersection), 1e-5), tf.add(tf.add(groundO, predO), 1e-5)));
  return tf.mean(f);
}

/**
 * Deformable-DETR's HungarianMatcher cost_class (models/matcher.py), in tfjs ops, Q×C logits to the Q×M cost:
 *   out_prob = pred_logits.sigmoid(); alpha = 0.25; gamma = 2.0
 *   neg_cost_class = (1 - alpha) * (out_prob ** gamma) * (-(1 - out_prob + 1e-8).log())
 *   pos_cost_class = alpha * ((1 - out_prob) ** gamma) * (-(out_prob + 1e-8).log())
 *   cost_class = pos_cost_class[:, tgt_ids] - neg_cost_class[:, tgt_ids]
 */
export function focalMatchingCostTf(logits: tf.Tensor2D, targetClasses: tf.Tensor1D): tf.Tensor2D {
  const alpha = 0.25;
  const gamma = 2;
  const outProb = tf.sigmoid(logits);
  const negCost = tf.mul(tf.mul(1 - alpha, tf.pow(outProb, gamma)), tf.neg(tf.log(tf.add(tf.sub(1, outProb), 1e-8))));
  const posCost = tf.mul(tf.mul(alpha, tf.pow(tf.sub(1, outProb), gamma)), tf.neg(tf.log(tf.add(outProb, 1e-8))));
  return tf.sub(tf.gather(posCost, targetClasses, 1), tf.gather(negCost, targetClasses, 1));
}

/**
 * What every tfjs contender shares: its name, a setup that switches to `backend` and then makes the input tensors
 * (so they live in that backend), a teardown that disposes them, and the tensors in between.
 */
function tfInputs(backend: TfBackend, make: () => tf.Tensor[]):
Pick<Contender, 'impl' | 'setup' | 'teardown'> & { tensors: () => tf.Tensor[] } {
  let inputs: tf.Tensor[] = [];
  return {
    impl: backend === 'cpu' ? 'tfjs-cpu' : 'tfjs-wasm',
    async setup() {
      await useBackend(backend);
      inputs = make();
    },
    teardown() {
      for (const t of inputs) t.dispose();
      inputs = [];
    },
    tensors: () => inputs,
  };
}

/**
 * A contender computing `loss(inputs)` on `backend`: forward, or forward+grad with respect to the first input.
 * `make` builds the input tensors (after the backend is switched, so they live in that backend).
 */
export function tfContender(
  backend: TfBackend, withGrad: boolean, make: () => tf.Tensor[], loss: (inputs: tf.Tensor[]) => tf.Scalar,
): Contender {
  const { tensors, ...lifecycle } = tfInputs(backend, make);
  const valueAndGrad = tf.valueAndGrad((x: tf.Tensor) => loss([x, ...tensors().slice(1)]));
  const forward = (): tf.Scalar => tf.tidy(() => loss(tensors()));
  const both = (): { value: tf.Scalar; grad: tf.Tensor } => tf.tidy(() => valueAndGrad(tensors()[0]!));
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
  return { ...lifecycle, check: () => run(true), timed: () => run(false) };
}

/**
 * A contender for a computation returning a matrix (the DETR matching cost), forward only. Its consumer (the
 * Hungarian solver) runs in JS, as the engine's result is a Float32Array, so the timed call reads the matrix back
 * (dataSync); `asOutput` makes the check's Output from it exactly as the suite does for the engine.
 */
export function tfMatrixContender(
  backend: TfBackend, make: () => tf.Tensor[], compute: (inputs: tf.Tensor[]) => tf.Tensor,
  asOutput: (matrix: Float32Array) => Output,
): Contender {
  const { tensors, ...lifecycle } = tfInputs(backend, make);
  const read = (): Float32Array => {
    const matrix = tf.tidy(() => compute(tensors()));
    const values = matrix.dataSync() as Float32Array;
    matrix.dispose();
    return values;
  };
  return { ...lifecycle, check: () => asOutput(read()), timed: read };
}

export { tf };
