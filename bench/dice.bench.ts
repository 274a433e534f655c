// Dice loss: the engine (SIMD and scalar builds) beside a plain TypeScript transcription of MONAI's DiceLoss
// (softmax, class indices, its defaults, 'mean') and the same in tfjs ops (cpu, wasm) at 8 × 4 × 128 × 128
// (N × C × H × W), forward and forward+gradient.
// Both passes over memory are the floor here: every gradient needs its (item, class) sums first.
// `npx tsx bench/dice.bench.ts` runs it alone.
import { engineBuilds, engineContender, measureCopyIn, rng, runAlone, runCase, scaled, sizeLabel, type Contender } from './harness.js';
import { tfPeers } from './peers/index.js';
import { dicePlain } from './peers/plain.js';
import { diceTf, tf, wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, Pass, Row } from './table.js';

const FAMILY = 'dice';
const SIZES = [[scaled(8), 4, 128 * 128]] as const;
const TOLERANCE = 1e-4;

/** Logits ~ U(-4, 4) and one class index per position. */
function data(items: number, classes: number, positions: number): { logits: Float32Array; labels: Int32Array } {
  const random = rng(0xd1ce + classes);
  const logits = Float32Array.from({ length: items * classes * positions }, () => (random() - 0.5) * 8);
  const labels = Int32Array.from({ length: items * positions }, () => Math.floor(random() * classes));
  return { logits, labels };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    "MONAI DiceLoss defaults (softmax, include_background, smooth 1e-5), class indices, 'mean'; two passes",
    'tfjs: NCHW transposed to NHWC for its last-axis softmax, the one-hot of the labels made in every call',
    `agreement tolerance ${TOLERANCE} (loss relative, gradient normwise)`,
    await wasmFeaturesNote(),
  ];
  const rows: Row[] = [];
  const copyIn: CopyIn[] = [];
  for (const [items, classes, positions] of SIZES) {
    const elements = items * classes * positions;
    const shape: [number, number, number, number] = [items, classes, 128, positions / 128];
    const size = `${sizeLabel(items)}×${classes}×128×${positions / 128}`;
    const { logits, labels } = data(items, classes, positions);
    copyIn.push(await measureCopyIn(FAMILY, size, elements, [logits]));
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const contenders: Contender[] = engines.map(({ impl, fl }) => {
        const options = { shape, gradOut: withGrad ? new Float32Array(elements) : undefined };
        return engineContender(impl, withGrad, () => fl.diceLoss(logits, labels, { shape }), () => fl.diceLossWithGrad(logits, labels, options));
      });
      const grad = withGrad ? new Float32Array(elements) : undefined;
      contenders.push({
        impl: 'plain TS',
        check: grad
          ? () => ({ loss: dicePlain(logits, labels, items, classes, grad), grad })
          : () => ({ loss: dicePlain(logits, labels, items, classes) }),
      });
      contenders.push(...tfPeers(
        pass, () => [tf.tensor4d(logits, shape), tf.tensor3d(labels, [items, 128, positions / 128], 'int32')],
        ([x, y]) => diceTf(x as tf.Tensor4D, y as tf.Tensor3D),
      ));
      rows.push(...await runCase({ family: FAMILY, size, elements, pass, tolerance: TOLERANCE }, contenders));
    }
  }
  return { family: FAMILY, rows, copyIn, notes };
}

await runAlone(import.meta.url, run);
