// focal-wasm/tfjs: a small tfjs model trained a few steps with the engine's loss (gradient through tf.customGrad)
// ends with the same weights as with the same loss composed from tf ops and differentiated by tfjs, on the cpu
// backend and, where it loads offline, the wasm backend.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createFocalSync, type Focal } from '../src/index.js';
import { focalLoss, type TfjsFocalOptions } from '../src/adapters/tfjs.js';
import { rng } from './engines.js';

const require = createRequire(import.meta.url);
setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');

/** torchvision sigmoid_focal_loss, composed from tf ops (mean). */
function composedFocal(alpha: number, gamma: number, classWeights?: tf.Tensor) {
  return (labels: tf.Tensor, logits: tf.Tensor): tf.Scalar => {
    const p = tf.sigmoid(logits);
    // BCE with logits: max(x, 0) - x t + log(1 + e^-|x|)
    const ce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    const pT = tf.add(tf.mul(p, labels), tf.mul(tf.sub(1, p), tf.sub(1, labels)));
    const alphaT = tf.add(tf.mul(alpha, labels), tf.mul(1 - alpha, tf.sub(1, labels)));
    let loss = tf.mul(tf.mul(alphaT, tf.pow(tf.sub(1, pT), gamma)), ce);
    if (classWeights) loss = tf.mul(loss, classWeights);
    return tf.mean(loss) as tf.Scalar;
  };
}

/** mmdet quality_focal_loss (beta 2), composed from tf ops (sum). */
function composedQuality(beta: number) {
  return (labels: tf.Tensor, logits: tf.Tensor): tf.Scalar => {
    const p = tf.sigmoid(logits);
    const ce = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.sum(tf.mul(tf.pow(tf.abs(tf.sub(labels, p)), beta), ce)) as tf.Scalar;
  };
}

const B = 64;
const D = 12;
const C = 5;

/** Trains logits = x W + b for a few SGD steps; returns the final W and b. */
function train(loss: (labels: tf.Tensor, logits: tf.Tensor) => tf.Scalar, softLabels: boolean, rate: number, steps = 8): {
  w: Float32Array; b: Float32Array; losses: number[];
} {
  const random = rng(softLabels ? 2 : 1);
  const x = tf.tensor2d(Float32Array.from({ length: B * D }, () => (random() - 0.5) * 4), [B, D]);
  const labels = tf.tensor2d(
    Float32Array.from({ length: B * C }, () => (softLabels ? (random() < 0.5 ? 0 : random()) : random() < 0.3 ? 1 : 0)),
    [B, C],
  );
  const w = tf.variable(tf.tensor2d(Float32Array.from({ length: D * C }, () => (random() - 0.5) * 0.5), [D, C]));
  const b = tf.variable(tf.zeros([C]));
  const optimizer = tf.train.sgd(rate);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const value = optimizer.minimize(() => loss(labels, tf.add(tf.matMul(x, w), b)), true, [w, b]);
    losses.push(value!.dataSync()[0]!);
    value!.dispose();
  }
  const result = { w: w.dataSync() as Float32Array, b: b.dataSync() as Float32Array, losses };
  tf.dispose([x, labels, w, b]);
  optimizer.dispose();
  return result;
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}

const backends: { name: string; available: () => Promise<boolean> }[] = [
  { name: 'cpu', available: async () => tf.setBackend('cpu') },
  {
    name: 'wasm',
    available: async () => {
      try {
        return await tf.setBackend('wasm');
      } catch (e) {
        console.warn(`tfjs wasm backend did not load offline: ${(e as Error).message}`);
        return false;
      }
    },
  },
];

describe.each(backends)('focal-wasm/tfjs on the tfjs $name backend', ({ name, available }) => {
  let fl: Focal;
  let ready = false;
  beforeAll(async () => {
    fl = createFocalSync();
    ready = await available();
    await tf.ready();
    if (ready) expect(tf.getBackend()).toBe(name);
  });

  const cases: { what: string; options: TfjsFocalOptions; composed: () => (l: tf.Tensor, x: tf.Tensor) => tf.Scalar; soft: boolean; rate: number }[] = [
    { what: 'sigmoidFocalLoss (defaults)', options: {}, composed: () => composedFocal(0.25, 2), soft: false, rate: 0.5 },
    { what: 'sigmoidFocalLoss, classWeights', options: { classWeights: [1, 2, 0.5, 1, 3], alpha: 0.75, gamma: 1.5 },
      composed: () => composedFocal(0.75, 1.5, tf.tensor1d([1, 2, 0.5, 1, 3])), soft: false, rate: 0.5 },
    { what: 'qualityFocalLoss, sum', options: { loss: 'qualityFocalLoss', reduction: 'sum' }, composed: () => composedQuality(2), soft: true, rate: 0.005 },
  ];

  test.each(cases)('$what: 8 SGD steps give the weights of the tf-ops version', ({ what, options, composed, soft, rate }) => {
    if (!ready) {
      console.warn(`skipped on ${name}: backend not available`);
      return;
    }
    const engine = train(focalLoss(fl, options), soft, rate);
    const reference = train(composed(), soft, rate);
    const dw = maxDifference(engine.w, reference.w);
    const db = maxDifference(engine.b, reference.b);
    console.log(`tfjs ${name}, ${what}: max weight difference ${dw.toExponential(2)} (W), ${db.toExponential(2)} (b); ` +
      `loss ${engine.losses[0]!.toFixed(5)} -> ${engine.losses.at(-1)!.toFixed(5)}`);
    expect(dw).toBeLessThanOrEqual(1e-5);
    expect(db).toBeLessThanOrEqual(1e-5);
    // Training did move the weights (the comparison is not between two untouched initializations).
    expect(engine.losses.at(-1)!).toBeLessThan(engine.losses[0]!);
    for (let i = 0; i < engine.losses.length; i++) {
      expect(Math.abs(engine.losses[i]! - reference.losses[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, reference.losses[i]!));
    }
  });

  test('tf.grad through the adapter is the engine gradient; labels get zero; no tensors leak', () => {
    if (!ready) return;
    const loss = focalLoss(fl, { gamma: 2 });
    const logits = tf.tensor2d([[-3, 0.5, 8], [1e4, -1e4, 0]]);
    const labels = tf.tensor2d([[0, 1, 1], [1, 0, 1]], undefined, 'int32');
    const before = tf.memory().numTensors;
    const [gLabels, gLogits] = tf.grads((l: tf.Tensor, x: tf.Tensor) => loss(l, x))([labels, logits]);
    const { grad } = fl.sigmoidFocalLossWithGrad(logits.dataSync() as Float32Array, [0, 1, 1, 1, 0, 1]);
    expect(Array.from(gLogits!.dataSync())).toEqual(Array.from(grad));
    expect(Array.from(gLabels!.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    tf.dispose([gLabels!, gLogits!]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });

  test('the overlap losses: shape from the tensor, class indices or one-hot labels, channels-last via classAxis', () => {
    if (!ready) return;
    const r = rng(21);
    const shape = [2, 3, 4, 5]; // N x C x H x W
    const x = Float32Array.from({ length: 120 }, () => (r() - 0.5) * 6);
    const indices = Int32Array.from({ length: 40 }, () => Math.floor(r() * 3));
    const logits = tf.tensor(x, shape);
    for (const name of ['diceLoss', 'tverskyLoss', 'diceFocalLoss'] as const) {
      const loss = focalLoss(fl, { loss: name });
      const [gLogits] = tf.grads((l: tf.Tensor, z: tf.Tensor) => loss(l, z))([tf.tensor(indices, [2, 4, 5], 'int32'), logits]).slice(1);
      const { loss: value, grad } = (fl[`${name}WithGrad`] as Focal['diceLossWithGrad']).call(fl, x, Array.from(indices), { shape });
      expect(loss(tf.tensor(indices, [2, 4, 5], 'int32'), logits).dataSync()[0]).toBeCloseTo(value as number, 6);
      expect(Array.from(gLogits!.dataSync())).toEqual(Array.from(grad));
      // One-hot labels of the logits' shape give the same loss as the indices.
      const oneHot = tf.transpose(tf.oneHot(tf.tensor(indices, [2, 4, 5], 'int32'), 3), [0, 3, 1, 2]);
      expect(loss(oneHot, logits).dataSync()[0]).toBeCloseTo(value as number, 6);
    }
    // Channels last (N x H x W x C) with classAxis -1: the transposed data, the same loss.
    const nhwc = tf.transpose(logits, [0, 2, 3, 1]);
    const last = focalLoss(fl, { loss: 'diceLoss', classAxis: -1 });
    expect(last(tf.tensor(indices, [2, 4, 5], 'int32'), nhwc).dataSync()[0])
      .toBeCloseTo(fl.diceLoss(x, Array.from(indices), { shape }) as number, 6);
    expect(() => last(tf.tensor(indices, [2, 4, 5], 'int32'), logits)).toThrow('labels: shape [2,4,5]: expected [2,3,4,5]');
  });

  test('errors: reduction none, an unknown loss, sizes that differ, a label outside [0, 1]', () => {
    expect(() => focalLoss(fl, { reduction: 'none' as never })).toThrow(RangeError);
    expect(() => focalLoss(fl, { loss: 'dice' as never })).toThrow("options.loss = 'dice': expected one of");
    if (!ready) return;
    const loss = focalLoss(fl);
    expect(() => loss(tf.tensor1d([0, 1]), tf.tensor1d([0, 1, 2]))).toThrow("labels: shape [2]: expected the logits' shape [3]");
    expect(() => loss(tf.tensor1d([0, 2]), tf.tensor1d([0, 1]))).toThrow('targets[1] = 2: expected a value in [0, 1]');
  });
});
