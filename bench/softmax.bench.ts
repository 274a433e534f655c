// Softmax focal loss: the engine (SIMD and scalar builds) beside the plain TypeScript loop and tfjs (cpu, wasm),
// at N x C = 1e5 x 10, 1e5 x 80, 1e4 x 1000 (issue 5), forward ('mean') and forward+gradient, mmcv defaults
// (gamma 2, no alpha). ns/element is per logit (N x C). `npx tsx bench/softmax.bench.ts` runs this family alone;
// bench/index.ts runs it in its own process.
import {
  engineBuilds, engineContender, measureCopyIn, normal, rng, runAlone, runCase, scaled, sizeLabel, timeInPlace, type Contender,
} from './harness.js';
import { softmaxPeers } from './peers/index.js';
import { wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, InPlace, Pass, Row } from './table.js';

const FAMILY = 'softmax';
/** [rows, classes]: the sizes (1e4 rows at C = 1000 keeps the logits at 1e7, 40 MB). */
const SIZES = [[1e5, 10], [1e5, 80], [1e4, 1000]].map(([rows, classes]) => [scaled(rows!), classes!] as const);
const GAMMA = 2;
/** Agreement tolerance (loss relative, gradient normwise), as the sigmoid suite: 100x the engine's promise. */
const TOLERANCE = 1e-4;

/** Logits ~ 2·N(0, 1) per class, row-major; class indices uniform over C. */
function data(rows: number, classes: number): { logits: Float32Array; targets: Int32Array } {
  const random = rng(0x50f7 + classes);
  const logits = new Float32Array(rows * classes);
  for (let k = 0; k < logits.length; k++) logits[k] = 2 * normal(random);
  const targets = Int32Array.from({ length: rows }, () => Math.floor(random() * classes));
  return { logits, targets };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    `logits 2·N(0,1), uniform class indices, gamma ${GAMMA}, no alpha, reduction 'mean'; ` +
      'ns/element per logit (N×C); engine and plain TS write the N×C gradient into a caller-owned Float32Array',
    `agreement tolerance ${TOLERANCE} (loss relative, gradient normwise)`,
    await wasmFeaturesNote(),
  ];
  const rows: Row[] = [];
  const copyIn: CopyIn[] = [];
  const inPlace: InPlace[] = [];
  for (const [rowCount, classes] of SIZES) {
    const elements = rowCount * classes;
    const size = `${sizeLabel(rowCount)}×${classes}`;
    process.stderr.write(`${FAMILY} ${size}\n`);
    const { logits, targets } = data(rowCount, classes);
    copyIn.push(await measureCopyIn(FAMILY, size, elements, [logits]));
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const contenders: Contender[] = engines.map(({ impl, fl }) => {
        const gradOut = withGrad ? new Float32Array(elements) : undefined;
        const options = { classes, gamma: GAMMA, alpha: null, gradOut };
        return engineContender(
          impl, withGrad, () => fl.softmaxFocalLoss(logits, targets, options),
          () => fl.softmaxFocalLossWithGrad(logits, targets, options),
        );
      });
      contenders.push(...softmaxPeers(logits, targets, { classes, gamma: GAMMA }, pass));
      rows.push(...await runCase({ family: FAMILY, size, elements, pass, tolerance: TOLERANCE }, contenders));
      // The same call on fl.alloc views of the logits and the gradient (the class indices are copied either way).
      const fl = engines[0]!.fl;
      const [z, g] = fl.alloc(elements, elements) as [Float32Array, Float32Array];
      try {
        z.set(logits);
        const options = { classes, gamma: GAMMA, alpha: null };
        const gradOptions = { classes, gamma: GAMMA, alpha: null, gradOut: g }; // made once (see sigmoid.bench.ts)
        inPlace.push(await timeInPlace(
          FAMILY, size, pass, elements,
          withGrad
            ? () => ({ loss: fl.softmaxFocalLossWithGrad(z, targets, gradOptions).loss as number, grad: g })
            : () => ({ loss: fl.softmaxFocalLoss(z, targets, options) as number }),
          withGrad
            ? () => fl.softmaxFocalLossWithGrad(logits, targets, options) as { loss: number; grad: Float32Array }
            : () => ({ loss: fl.softmaxFocalLoss(logits, targets, options) as number }),
        ));
      } finally {
        fl.freeAll();
      }
    }
  }
  return { family: FAMILY, rows, copyIn, inPlace, notes };
}

await runAlone(import.meta.url, run);
