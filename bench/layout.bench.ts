// Class-axis layouts: softmaxFocalLoss on NCHW logits ({ shape, classAxis: 1 }: gathered into rows inside wasm)
// beside the class-last call on the same values already laid out N×H×W×C, and beside transposing in JavaScript
// first (what a caller would do without the option). Segmentation sizes (VOC: C = 21), gamma 2, no alpha, 'mean';
// ns/element is per logit. `npx tsx bench/layout.bench.ts` runs this family alone; it exports run() as the other
// suites do, so bench/index.ts can run it in its own process.
import { QUICK, engineBuilds, engineContender, normal, rng, runAlone, runCase, time, type Contender } from './harness.js';
import type { FamilyResult, Pass, Row } from './table.js';

const FAMILY = 'layout';
/** [N, C, H, W]: the case and a wider-class one. QUICK divides N·H·W by about 100. */
const SHAPES: [number, number, number, number][] = QUICK
  ? [[1, 21, 16, 16]]
  : [[8, 21, 64, 64], [2, 150, 64, 64]];
const GAMMA = 2;
const TOLERANCE = 1e-6; // the layouts are bit-identical by design; anything above 0 is a bug (and shows here)

function nchwData(shape: readonly number[]): { logits: Float32Array; targets: Int32Array } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const random = rng(0x1a70 + C);
  const logits = new Float32Array(N * C * H * W);
  for (let k = 0; k < logits.length; k++) logits[k] = 2 * normal(random);
  const targets = Int32Array.from({ length: N * H * W }, () => Math.floor(random() * C));
  return { logits, targets };
}

/** NCHW -> NHWC, the plain JavaScript transpose the option avoids. */
function toClassLast(logits: Float32Array, C: number, inner: number, out: Float32Array): Float32Array {
  const outer = logits.length / (C * inner);
  for (let o = 0; o < outer; o++) {
    const base = o * C * inner;
    for (let c = 0; c < C; c++) {
      const src = base + c * inner;
      for (let i = 0; i < inner; i++) out[base + i * C + c] = logits[src + i]!;
    }
  }
  return out;
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    `logits 2·N(0,1), uniform class indices, gamma ${GAMMA}, no alpha, reduction 'mean'; ns/element per logit; ` +
      '"NCHW" = { shape, classAxis: 1 } on NCHW logits, "class-last" = the same values laid out NHWC',
  ];
  const rows: Row[] = [];
  for (const shape of SHAPES) {
    const [N, C, H, W] = shape;
    const elements = N * C * H * W;
    const label = `${N}×${C}×${H}×${W}`;
    process.stderr.write(`${FAMILY} ${label}\n`);
    const { logits, targets } = nchwData(shape);
    const nhwc = toClassLast(logits, C, H * W, new Float32Array(elements));
    const scratch = new Float32Array(elements);
    for (const pass of ['forward', 'forward+grad'] as Pass[]) {
      const withGrad = pass === 'forward+grad';
      const byLayout: Record<string, Record<string, number>> = {};
      for (const [layout, z, extra] of [
        ['class-last', nhwc, { classes: C }],
        ['NCHW', logits, { shape, classAxis: 1 }],
      ] as const) {
        const contenders: Contender[] = engines.map(({ impl, fl }) => {
          const options = { ...extra, gamma: GAMMA, alpha: null, gradOut: withGrad ? new Float32Array(elements) : undefined };
          return engineContender(
            impl, withGrad, () => fl.softmaxFocalLoss(z, targets, options),
            () => fl.softmaxFocalLossWithGrad(z, targets, options),
          );
        });
        const size = `${label} ${layout}`;
        const caseRows = await runCase({ family: FAMILY, size, elements, pass, tolerance: TOLERANCE }, contenders);
        rows.push(...caseRows);
        for (const r of caseRows) (byLayout[r.impl] ??= {})[layout] = r.nsPerElement ?? Number.NaN;
      }
      // The alternative to the option: transpose in JavaScript, then the class-last call (SIMD build).
      const fl = engines[0]!.fl;
      const gradOut = withGrad ? new Float32Array(elements) : undefined;
      const viaJs = await time('JS transpose + class-last', () => {
        const z = toClassLast(logits, C, H * W, scratch);
        return withGrad
          ? fl.softmaxFocalLossWithGrad(z, targets, { classes: C, gamma: GAMMA, gradOut })
          : fl.softmaxFocalLoss(z, targets, { classes: C, gamma: GAMMA });
      }, elements);
      for (const [impl, t] of Object.entries(byLayout)) {
        notes.push(`${label} ${pass} ${impl}: NCHW ${t.NCHW!.toFixed(2)} ns/logit, class-last ` +
          `${t['class-last']!.toFixed(2)} ns/logit (NCHW / class-last = ${(t.NCHW! / t['class-last']!).toFixed(2)})`);
      }
      notes.push(`${label} ${pass} engine SIMD: transposing in JavaScript, then class-last: ` +
        `${viaJs.nsPerElement.toFixed(2)} ns/logit (the gradient, if any, left class-last)`);
    }
  }
  return { family: FAMILY, rows, copyIn: [], notes };
}

await runAlone(import.meta.url, run);
