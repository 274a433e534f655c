// The fixed cost of a call, for every loss of the registry: one small call (16 elements; softmax and DFL one row of
// 16 classes or bins; Dice 1 x 2 x 8), forward+gradient with options and a caller-owned gradOut, as a training loop
// on small batches makes it. Printed in µs per call (median), on the dist build a user runs (tsx's transform of src/
// adds a name-keeping call per closure, which weighs on calls this small). Not in the family table: no peer, the cost
// of validation, planning and staging only. A regression here (a plan that builds its objects the slow way) costs
// microseconds on every small call; issue 14's goal is 0.5 µs for the plain sigmoid loss.
//   npx tsx bench/calls.bench.ts          BENCH_QUICK=1 npx tsx bench/calls.bench.ts
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Bench } from 'tinybench';
import { createFocal } from '../dist/index.js';
import { QUICK } from './harness.js';
import { machine } from './table.js';

v8.setFlagsFromString('--no-liftoff'); // the optimized tier from the first call, as bench/harness.ts

const BATCH = 200;

export async function run(): Promise<string> {
  const fl = await createFocal();
  const x = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 1.7) * 3);
  const t = Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  const q = Float32Array.from(t, (v, i) => (v ? 0.3 + (i % 3) / 10 : 0));
  const p = Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
  const gradOut = new Float32Array(16);
  const calls: Array<[string, () => unknown]> = [
    ['sigmoidFocalLoss', () => fl.sigmoidFocalLossWithGrad(x, t, { alpha: 0.25, gamma: 2, reduction: 'mean', gradOut })],
    ['sigmoidFocalLoss, classWeights', () => fl.sigmoidFocalLossWithGrad(x, t, { classWeights: [1, 2, 1, 0.5], gradOut })],
    ['sigmoidFocalLossStar', () => fl.sigmoidFocalLossStarWithGrad(x, t, { gamma: 2, gradOut })],
    ['qualityFocalLoss', () => fl.qualityFocalLossWithGrad(x, q, { beta: 2, gradOut })],
    ['varifocalLoss', () => fl.varifocalLossWithGrad(x, q, { alpha: 0.75, gradOut })],
    ['polyFocalLoss', () => fl.polyFocalLossWithGrad(x, t, { epsilon: 1, gradOut })],
    ['asymmetricLoss', () => fl.asymmetricLossWithGrad(x, t, { gradOut })],
    ['binaryFocalLoss', () => fl.binaryFocalLossWithGrad(p, t, { gradOut })],
    ['softmaxFocalLoss (1 x 16)', () => fl.softmaxFocalLossWithGrad(x, [3], { gamma: 2, gradOut })],
    ['distributionFocalLoss (1 x 16)', () => fl.distributionFocalLossWithGrad(x, [4.5], { bins: 16, gradOut })],
    ['diceLoss (1 x 2 x 8)', () => fl.diceLossWithGrad(x, [0, 1, 1, 0, 1, 0, 0, 1], { shape: [1, 2, 8], gradOut })],
  ];
  // Each timed iteration makes BATCH calls: tinybench's own timing of an iteration (clock reads, bookkeeping) is
  // about as long as one call, so a single call per iteration would double the figure.
  const bench = new Bench(QUICK ? { time: 20, iterations: 10 } : { time: 500, iterations: 100, warmupTime: 100 });
  for (const [name, call] of calls) {
    bench.add(name, () => {
      for (let i = 0; i < BATCH; i++) call();
    });
  }
  await bench.run();
  const m = machine(QUICK);
  const lines = [
    `The fixed cost of a call, forward+gradient with options and gradOut, dist build; ${m.cpu}, Node ${process.version}`,
    '',
    '| loss (16 elements) | µs per call (median) |',
    '|---|---:|',
  ];
  for (const task of bench.tasks) {
    const result = task.result;
    if (!('latency' in result)) throw new Error(`${task.name}: tinybench ended in state ${result.state}`);
    lines.push(`| ${task.name} | ${((result.latency.p50 * 1000) / BATCH).toFixed(2)} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await run());
}
