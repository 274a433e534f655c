// The DETR focal matching cost: the engine (SIMD and scalar builds, compat 'detr') beside a plain TypeScript
// transcription of Deformable-DETR's HungarianMatcher cost_class and the same in tfjs ops (cpu, wasm; the matrix read
// back, as the solver needs it in JS), at one image of Deformable-DETR's shape: 300 queries × 80 classes against 100
// targets. ns/element is per cost entry (Q × M). `npx tsx bench/detr.bench.ts` runs it alone.
import {
  engineBuilds, measureCopyIn, normal, rng, runAlone, runCase, timeInPlace, type Contender, type Output,
} from './harness.js';
import { tfMatrixPeers } from './peers/index.js';
import { focalMatchingCostPlain } from './peers/plain.js';
import { focalMatchingCostTf, tf, wasmFeaturesNote } from './peers/tfjs.js';
import type { CopyIn, FamilyResult, InPlace, Row } from './table.js';

const FAMILY = 'detr';
const QUERIES = 300;
const CLASSES = 80;
const TARGETS = 100;
const TOLERANCE = 1e-4;

/** The cost matrix as the harness compares outputs: its sum as the "loss", the matrix entries as the "grad". */
function asOutput(cost: Float32Array): Output & { loss: number; grad: Float32Array } {
  let sum = 0;
  for (const c of cost) sum += c;
  return { loss: sum, grad: cost };
}

export async function run(): Promise<FamilyResult> {
  const engines = await engineBuilds();
  const notes = [
    "matching cost: the anchor's alpha 0.25, gamma 2 and + 1e-8 (compat 'detr'); one image, forward only (a cost has no gradient)",
    "the cost's sum is compared as the loss and its entries as the grad column (max |diff| / max |cost|)",
    'tfjs: every call reads the Q×M matrix back (dataSync), as the engine returns a Float32Array',
    await wasmFeaturesNote(),
  ];
  const random = rng(0xde7);
  const logits = Float32Array.from({ length: QUERIES * CLASSES }, () => 2 * normal(random) - 3);
  const targetClasses = Int32Array.from({ length: TARGETS }, () => Math.floor(random() * CLASSES));
  const elements = QUERIES * TARGETS;
  const size = `${QUERIES}×${CLASSES}→${TARGETS}`;
  const copyIn: CopyIn[] = [await measureCopyIn(FAMILY, size, elements, [logits])];
  // The timed call is the cost alone: asOutput's sum over the Q x M entries (for the check) cost as much as the
  // engine's call and was timed with it before, for every contender.
  const options = { classes: CLASSES, compat: 'detr' as const };
  const contenders: Contender[] = engines.map(({ impl, fl }) => ({
    impl,
    check: () => asOutput(fl.focalMatchingCost(logits, targetClasses, options)),
    timed: () => fl.focalMatchingCost(logits, targetClasses, options),
  }));
  contenders.push({
    impl: 'plain TS',
    check: () => asOutput(focalMatchingCostPlain(logits, CLASSES, targetClasses)),
    timed: () => focalMatchingCostPlain(logits, CLASSES, targetClasses),
  });
  contenders.push(...tfMatrixPeers(
    () => [tf.tensor2d(logits, [QUERIES, CLASSES]), tf.tensor1d(targetClasses, 'int32')],
    ([z, t]) => focalMatchingCostTf(z as tf.Tensor2D, t as tf.Tensor1D), asOutput,
  ));
  const rows: Row[] = await runCase({ family: FAMILY, size, elements, pass: 'forward', tolerance: TOLERANCE }, contenders);
  // The same call writing into a caller-owned matrix (options.out, reused as a training loop would): what the new
  // 120 kB result of every plain call costs (the allocator zeroes it; after the C heap trims, the first write to
  // each of its pages faults), which the engine's own work does not.
  const fl = engines[0]!.fl;
  const out = new Float32Array(elements);
  const reused = { ...options, out };
  const inPlace: InPlace[] = [await timeInPlace(
    FAMILY, size, 'forward', elements,
    () => asOutput(fl.focalMatchingCost(logits, targetClasses, reused).slice()),
    () => asOutput(fl.focalMatchingCost(logits, targetClasses, options)),
    { label: 'into a reused options.out', timed: () => fl.focalMatchingCost(logits, targetClasses, reused) },
  )];
  return { family: FAMILY, rows, copyIn, inPlace, notes };
}

await runAlone(import.meta.url, run);
