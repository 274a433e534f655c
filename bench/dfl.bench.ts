// Distribution Focal Loss: the engine (SIMD and scalar builds) beside a plain TypeScript transcription of mmdet's
// distribution_focal_loss and the same in tfjs ops (cpu, wasm), at 1e5 boxes × 4 sides × 17 bins (GFL / YOLOv8's
// reg_max 16), 'mean', forward and forward+gradient; ns/element is per logit. `npx tsx bench/dfl.bench.ts` runs it
// alone.
import { engineBuilds, engineContender, measureCopyIn, normal, rng, runAlone, runCase, scaled, sizeLabel, type Contender } from './harness.js';
import { tfPeers } from './peers/index.js';
import { distributionFocalPlain } from './peers/plain.js';
import { distributionFocalTf, tf, wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, Pass, Row } from './table.js';

const FAMILY = 'dfl';
const BINS = 17;
const SIZES = [scaled(1e5) * 4];
const TOLERANCE = 1e-4;

/** Box-side distributions: logits ~ 2 N(0, 1) per bin, targets uniform in [0, bins - 1]. */
function data(rows: number): { logits: Float32Array; targets: Float32Array } {
  const random = rng(0xdf1 + rows);
  const logits = Float32Array.from({ length: rows * BINS }, () => 2 * normal(random));
  const targets = Float32Array.from({ length: rows }, () => random() * (BINS - 1));
  return { logits, targets };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    `${BINS} bins, logits 2·N(0,1), targets uniform in [0, ${BINS - 1}], reduction 'mean'; ns/element per logit`,
    'tfjs: log-softmax against the two weighted one-hots of floor(y) and floor(y) + 1, made from y in every call',
    `agreement tolerance ${TOLERANCE} (loss relative, gradient normwise)`,
    await wasmFeaturesNote(),
  ];
  const rows: Row[] = [];
  const copyIn: CopyIn[] = [];
  for (const sides of SIZES) {
    const elements = sides * BINS;
    const size = `${sizeLabel(sides / 4)}×4×${BINS}`;
    const { logits, targets } = data(sides);
    copyIn.push(await measureCopyIn(FAMILY, size, elements, [logits]));
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const contenders: Contender[] = engines.map(({ impl, fl }) => {
        const options = { bins: BINS, gradOut: withGrad ? new Float32Array(elements) : undefined };
        return engineContender(
          impl, withGrad, () => fl.distributionFocalLoss(logits, targets, { bins: BINS }),
          () => fl.distributionFocalLossWithGrad(logits, targets, options),
        );
      });
      const grad = withGrad ? new Float32Array(elements) : undefined;
      contenders.push({
        impl: 'plain TS',
        check: grad
          ? () => ({ loss: distributionFocalPlain(logits, targets, BINS, grad), grad })
          : () => ({ loss: distributionFocalPlain(logits, targets, BINS) }),
      });
      contenders.push(...tfPeers(
        pass, () => [tf.tensor2d(logits, [sides, BINS]), tf.tensor1d(targets)],
        ([z, y]) => distributionFocalTf(z as tf.Tensor2D, y as tf.Tensor1D),
      ));
      rows.push(...await runCase({ family: FAMILY, size, elements, pass, tolerance: TOLERANCE }, contenders));
    }
  }
  return { family: FAMILY, rows, copyIn, notes };
}

await runAlone(import.meta.url, run);
