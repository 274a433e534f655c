// Asymmetric loss (ASL): the engine (SIMD and scalar builds) beside a plain TypeScript transcription of the anchor
// (Alibaba-MIIL AsymmetricLoss, its defaults) and the same lines in tfjs ops (cpu, wasm), at Open Images' 64 images ×
// 9605 classes, 'sum' as the anchor returns, forward and forward+gradient. `npx tsx bench/asymmetric.bench.ts` runs it
// alone.
import { engineBuilds, engineContender, measureCopyIn, normal, rng, runAlone, runCase, scaled, sizeLabel, type Contender } from './harness.js';
import { tfPeers } from './peers/index.js';
import { asymmetricPlain } from './peers/plain.js';
import { asymmetricTf, tf, wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, Pass, Row } from './table.js';

const FAMILY = 'asymmetric';
const SIZES = [[scaled(64), 9605]] as const;
const TOLERANCE = 1e-4;

/** Multi-label logits ~ 2 N(0, 1) - 2 (most classes negative), ~1% positives, as an image tagger sees them. */
function data(rows: number, classes: number): { logits: Float32Array; targets: Float32Array } {
  const random = rng(0xa51 + classes);
  const logits = Float32Array.from({ length: rows * classes }, () => 2 * normal(random) - 2);
  const targets = Float32Array.from({ length: rows * classes }, () => (random() < 0.01 ? 1 : 0));
  return { logits, targets };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    "the anchor's defaults (gammaNeg 4, gammaPos 1, clip 0.05, eps 1e-8, detached modulator), reduction 'sum'",
    'tfjs: the detached modulator is a tf.customGrad with a zero gradient (tfjs-core has no stopGradient); the sum ' +
      "per image, then over images (one tf.sum over all 64 × 9605 terms drifted 3.4e-4 on tfjs-wasm, whose Sum kernel " +
      'accumulates a row in one float32)',
    `agreement tolerance ${TOLERANCE} (loss relative, gradient normwise)`,
    await wasmFeaturesNote(),
  ];
  const rows: Row[] = [];
  const copyIn: CopyIn[] = [];
  for (const [images, classes] of SIZES) {
    const elements = images * classes;
    const size = `${sizeLabel(images)}×${classes}`;
    const { logits, targets } = data(images, classes);
    copyIn.push(await measureCopyIn(FAMILY, size, elements, [logits, targets]));
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const contenders: Contender[] = engines.map(({ impl, fl }) => {
        const options = { gradOut: withGrad ? new Float32Array(elements) : undefined };
        return engineContender(impl, withGrad, () => fl.asymmetricLoss(logits, targets), () => fl.asymmetricLossWithGrad(logits, targets, options));
      });
      const grad = withGrad ? new Float32Array(elements) : undefined;
      contenders.push({
        impl: 'plain TS',
        check: grad ? () => ({ loss: asymmetricPlain(logits, targets, grad), grad }) : () => ({ loss: asymmetricPlain(logits, targets) }),
      });
      contenders.push(...tfPeers(
        pass, () => [tf.tensor2d(logits, [images, classes]), tf.tensor2d(targets, [images, classes])],
        ([x, y]) => asymmetricTf(x as tf.Tensor2D, y as tf.Tensor2D),
      ));
      rows.push(...await runCase({ family: FAMILY, size, elements, pass, tolerance: TOLERANCE }, contenders));
    }
  }
  return { family: FAMILY, rows, copyIn, notes };
}

await runAlone(import.meta.url, run);
