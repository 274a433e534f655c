// Sigmoid focal loss: the engine (SIMD and scalar builds) beside the plain TypeScript loop, tfjs (cpu, wasm), the
// native C builds and onnxruntime (forward), at N = 1e4, 1e6, 16e6, forward ('mean') and forward+gradient,
// torchvision defaults (alpha 0.25, gamma 2); and the cost of one small call, N = 1, 16, 100, 1e3 (no tfjs).
// `npx tsx bench/sigmoid.bench.ts` runs this family alone; bench/index.ts runs it in its own process.
import type { Focal } from '../dist/index.js';
import {
  engineBuilds, engineContender, measureCopyIn, normal, rng, runAlone, runCase, scaled, sizeLabel, timeInPlace, type Contender,
} from './harness.js';
import { sigmoidPeers } from './peers/index.js';
import { wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, InPlace, Pass, Row } from './table.js';

const FAMILY = 'sigmoid';
/** Per-call sizes, the same in a quick run: what one call costs where its fixed overhead dominates. */
const PER_CALL = [1, 16, 100, 1e3];
const SIZES = [...new Set([...PER_CALL, ...[1e4, 1e6, 16e6].map(scaled)])];
const ALPHA = 0.25;
const GAMMA = 2;
/**
 * Agreement tolerance (loss relative, gradient normwise): 1e-4, a hundred times the engine's own promise
 * against float64 (1e-6 for reductions). The plain loop runs in float64 and lands far inside it; a float32
 * peer summing millions of terms naively may not.
 */
const TOLERANCE = 1e-4;

/** Logits ~ 3·N(0, 1) (|x| < 20 even at 16e6, inside the plain loop's range), hard targets, 10% positives. */
function data(n: number): { logits: Float32Array; targets: Float32Array } {
  const random = rng(0x5eed + n);
  const logits = new Float32Array(n);
  const targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    logits[i] = 3 * normal(random);
    targets[i] = random() < 0.1 ? 1 : 0;
  }
  return { logits, targets };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    `logits 3·N(0,1), hard targets with 10% positives, alpha ${ALPHA}, gamma ${GAMMA}, reduction 'mean'; ` +
      'engine and plain TS write the gradient into a caller-owned Float32Array',
    `agreement tolerance ${TOLERANCE} (loss relative, gradient normwise)`,
    await wasmFeaturesNote(),
  ];
  const rows: Row[] = [];
  const copyIn: CopyIn[] = [];
  const inPlace: InPlace[] = [];
  for (const n of SIZES) {
    const size = sizeLabel(n);
    process.stderr.write(`${FAMILY} N = ${size}\n`);
    const { logits, targets } = data(n);
    copyIn.push(await measureCopyIn(FAMILY, size, n, [logits, targets]));
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const contenders: Contender[] = engines.map(({ impl, fl }) => {
        const gradOut = withGrad ? new Float32Array(n) : undefined;
        const options = { alpha: ALPHA, gamma: GAMMA, gradOut };
        return engineContender(
          impl, withGrad, () => fl.sigmoidFocalLoss(logits, targets, options),
          () => fl.sigmoidFocalLossWithGrad(logits, targets, options),
        );
      });
      const peers = sigmoidPeers(logits, targets, { alpha: ALPHA, gamma: GAMMA }, pass);
      // tfjs at a handful of elements times its op dispatch, not a loss: the per-call rows leave it out.
      contenders.push(...(PER_CALL.includes(n) ? peers.filter((p) => !p.impl.startsWith('tfjs')) : peers));
      rows.push(...await runCase({ family: FAMILY, size, elements: n, pass, tolerance: TOLERANCE }, contenders));
      inPlace.push(await measureInPlace(engines[0]!.fl, logits, targets, size, pass));
    }
  }
  return { family: FAMILY, rows, copyIn, inPlace, notes };
}

/** The SIMD engine on fl.alloc views for the logits, the targets and the gradient: no copy in or out. */
async function measureInPlace(fl: Focal, logits: Float32Array, targets: Float32Array, size: string, pass: Pass):
Promise<InPlace> {
  const n = logits.length;
  const [x, t, g] = fl.alloc(n, n, n) as [Float32Array, Float32Array, Float32Array];
  try {
    x.set(logits);
    t.set(targets);
    const options = { alpha: ALPHA, gamma: GAMMA };
    // Made once: an options object spread per call ({ ...options, gradOut }) costs V8 ~3 µs (see performance.md).
    const gradOptions = { alpha: ALPHA, gamma: GAMMA, gradOut: g };
    return await timeInPlace(
      FAMILY, size, pass, n,
      pass === 'forward'
        ? () => ({ loss: fl.sigmoidFocalLoss(x, t, options) as number })
        : () => ({ loss: fl.sigmoidFocalLossWithGrad(x, t, gradOptions).loss as number, grad: g }),
      pass === 'forward'
        ? () => ({ loss: fl.sigmoidFocalLoss(logits, targets, options) as number })
        : () => fl.sigmoidFocalLossWithGrad(logits, targets, options) as { loss: number; grad: Float32Array },
    );
  } finally {
    fl.freeAll();
  }
}

await runAlone(import.meta.url, run);
