// Writes the sample files of the loss inspector (examples/inspector/public/): a synthetic multi-class detector
// head (N×C logits, integer labels, a dominant background class) and a dense binary one (N logits, 4% positives),
// each as JSON and as a pair of .npy files. Deterministic: rerunning writes the same bytes. The .npy writer is the
// CLI's (src/cli/npy.ts, numpy's header), read from dist/: run `npm run build` first.
import { writeFile } from 'node:fs/promises';
import { encodeNpy } from '../dist/cli/npy.js';

const out = new URL('../examples/inspector/public/', import.meta.url);

/** mulberry32, and a normal variate from it (Box-Muller). */
function rng(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean, sd) => mean + sd * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

// Four decimals in both formats, so the JSON and .npy samples hold the same float32 values.
const round4 = (v) => Math.round(v * 1e4) / 1e4;

function pick(weights, u) {
  let acc = 0;
  for (let c = 0; c < weights.length; c++) if (u < (acc += weights[c])) return c;
  return weights.length - 1;
}

async function save(name, logits, shape, labels, classNames) {
  // round4 again: the float32 value's shortest decimal is longer than the four decimals it came from
  const row = (from, to) => Array.from(logits.subarray(from, to), round4);
  const nested = shape.length === 2
    ? Array.from({ length: shape[0] }, (_, i) => row(i * shape[1], (i + 1) * shape[1]))
    : row(0, logits.length);
  const json = { description: `focal-wasm inspector sample: ${name}`, classNames, logits: nested, labels: Array.from(labels) };
  await writeFile(new URL(`sample-${name}.json`, out), JSON.stringify(json));
  await writeFile(new URL(`sample-${name}-logits.npy`, out), encodeNpy(logits, shape));
  await writeFile(new URL(`sample-${name}-labels.npy`, out), encodeNpy(labels, [labels.length]));
  console.log(`wrote sample-${name}.json and sample-${name}-{logits,labels}.npy (${shape.join('×')})`);
}

{
  // Multi-class: mostly easy background, a few classes, 6% hard or mislabeled rows.
  const { uniform, normal } = rng(2017);
  const classNames = ['background', 'person', 'car', 'bicycle', 'dog'];
  const freq = [0.7, 0.12, 0.1, 0.05, 0.03];
  const n = 800, classes = classNames.length;
  const logits = new Float32Array(n * classes);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = pick(freq, uniform());
    labels[i] = y;
    const hard = uniform() < 0.06;
    const confusedWith = (y + 1 + Math.floor(uniform() * (classes - 1))) % classes;
    for (let c = 0; c < classes; c++) {
      let v = normal(-1, 1);
      if (c === y) v = y === 0 ? normal(3.5, 1.2) : normal(2, 1.5);
      if (hard && c === confusedWith) v = normal(3.5, 1);
      logits[i * classes + c] = round4(v);
    }
  }
  await save('multiclass', logits, [n, classes], labels, classNames);
}

{
  // Binary: a dense detector's anchors, overwhelmingly easy negatives, as in the paper's motivation.
  const { uniform, normal } = rng(1708);
  const n = 2000;
  const logits = new Float32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const positive = uniform() < 0.04;
    labels[i] = positive ? 1 : 0;
    logits[i] = round4(positive ? normal(1, 2) : uniform() < 0.05 ? normal(0.5, 1.5) : normal(-4.5, 1.5));
  }
  await save('binary', logits, [n], labels, ['negative', 'positive']);
}
