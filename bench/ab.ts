// `npm run bench:ab -- <baseline>`: this tree's engine against another build of focal-wasm, in one process, on the
// workloads of the bench table (every engine row, the in-place rows, the layouts, and small calls). <baseline> is
// a folder holding a built focal-wasm (its package root, with dist/index.js), e.g. a worktree of an earlier commit
// after `npm run build` there. Each workload is timed with tinybench in rounds that alternate which build goes
// first, and the medians of the rounds are compared: the ratio is after / before (above 1: slower now).
// AB_ROUNDS (default 6) sets the rounds; AB_ONLY=<text> keeps the workloads whose name contains <text>.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import { Bench } from 'tinybench';
// The build users get (tsc's output): tsx's transform of src/ adds a name-keeping call per closure, which weighs
// on calls of a few elements.
import { createFocal } from '../dist/index.js';
import { machine } from './table.js';

v8.setFlagsFromString('--no-liftoff'); // the optimized tier from the first call, as bench/harness.ts

interface Engine {
  alloc(...n: number[]): Float32Array | Float32Array[];
  freeAll(): void;
  sigmoidFocalLoss(x: Float32Array, t: Float32Array, o?: object): number | Float32Array;
  sigmoidFocalLossWithGrad(x: Float32Array, t: Float32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  softmaxFocalLoss(x: Float32Array, y: Int32Array, o?: object): number | Float32Array;
  softmaxFocalLossWithGrad(x: Float32Array, y: Int32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  binaryFocalLossWithGrad(p: Float32Array, t: Float32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  varifocalLossWithGrad(x: Float32Array, t: Float32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  diceLoss(x: Float32Array, y: Int32Array, o?: object): number | Float32Array;
  diceLossWithGrad(x: Float32Array, y: Int32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  asymmetricLoss(x: Float32Array, t: Float32Array, o?: object): number | Float32Array;
  asymmetricLossWithGrad(x: Float32Array, t: Float32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
  focalMatchingCost(x: Float32Array, targetClasses: Int32Array, o: object): Float32Array;
  distributionFocalLoss(x: Float32Array, t: Float32Array, o?: object): number | Float32Array;
  distributionFocalLossWithGrad(x: Float32Array, t: Float32Array, o?: object): { loss: number | Float32Array; grad: Float32Array };
}

const ROUNDS = Number(process.env.AB_ROUNDS ?? 6);
/** AB_ONLY=softmax: only the workloads whose name contains it (a second look at rows that moved). */
const ONLY = process.env.AB_ONLY ?? '';

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Workload {
  name: string;
  elements: number;
  /** The call on one engine; made once before timing (checks that both builds run it). */
  make(fl: Engine): () => unknown;
}

function sigmoidData(n: number): { x: Float32Array; t: Float32Array } {
  const r = random(n);
  return {
    x: Float32Array.from({ length: n }, () => (r() - 0.5) * 16),
    t: Float32Array.from({ length: n }, () => (r() < 0.1 ? 1 : 0)),
  };
}

function softmaxData(rows: number, classes: number): { z: Float32Array; y: Int32Array } {
  const r = random(rows * classes);
  return {
    z: Float32Array.from({ length: rows * classes }, () => (r() - 0.5) * 8),
    y: Int32Array.from({ length: rows }, () => Math.floor(r() * classes)),
  };
}

function workloads(): Workload[] {
  const list: Workload[] = [];
  for (const n of [1, 16, 100, 1e3, 1e4, 1e6, 16e6]) {
    const { x, t } = sigmoidData(n);
    list.push({ name: `sigmoid ${n} fwd`, elements: n, make: (fl) => () => fl.sigmoidFocalLoss(x, t) });
    list.push({
      name: `sigmoid ${n} fwd+grad`, elements: n,
      make: (fl) => {
        const gradOut = new Float32Array(n);
        return () => fl.sigmoidFocalLossWithGrad(x, t, n <= 100 ? { gradOut } : {});
      },
    });
  }
  for (const n of [1e6, 16e6]) {
    const { x, t } = sigmoidData(n);
    list.push({
      name: `sigmoid ${n} fwd+grad in place`, elements: n,
      make: (fl) => {
        fl.freeAll();
        const [a, b, g] = fl.alloc(n, n, n) as Float32Array[];
        a!.set(x);
        b!.set(t);
        return () => fl.sigmoidFocalLossWithGrad(a!, b!, { gradOut: g });
      },
    });
  }
  for (const [rows, classes] of [[1e5, 10], [1e5, 80], [1e4, 1000]] as const) {
    const { z, y } = softmaxData(rows, classes);
    list.push({ name: `softmax ${rows}x${classes} fwd`, elements: rows * classes, make: (fl) => () => fl.softmaxFocalLoss(z, y, { classes }) });
    list.push({
      name: `softmax ${rows}x${classes} fwd+grad`, elements: rows * classes,
      make: (fl) => () => fl.softmaxFocalLossWithGrad(z, y, { classes }),
    });
  }
  for (const shape of [[8, 21, 64, 64], [2, 150, 64, 64]] as const) {
    const [N, C, H, W] = shape;
    const { z, y } = softmaxData(N * H * W, C);
    list.push({
      name: `layout ${shape.join('x')} NCHW fwd+grad`, elements: z.length,
      make: (fl) => () => fl.softmaxFocalLossWithGrad(z, y, { shape, classAxis: 1 }),
    });
  }
  {
    // Dice at the bench's size (bench/dice.bench.ts): MONAI defaults, class indices, NCHW.
    const shape = [8, 4, 128, 128];
    const { z, y } = softmaxData(8 * 128 * 128, 4);
    list.push({ name: `dice ${shape.join('x')} fwd`, elements: z.length, make: (fl) => () => fl.diceLoss(z, y, { shape }) });
    list.push({
      name: `dice ${shape.join('x')} fwd+grad`, elements: z.length,
      make: (fl) => {
        const gradOut = new Float32Array(z.length);
        return () => fl.diceLossWithGrad(z, y, { shape, gradOut });
      },
    });
  }
  {
    const n = 1e6;
    const { x, t } = sigmoidData(n);
    const w = Float32Array.from(t, (v) => v + 0.5);
    list.push({ name: `sigmoid ${n} fwd+grad weights`, elements: n, make: (fl) => () => fl.sigmoidFocalLossWithGrad(x, t, { weights: w }) });
    const p = Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    list.push({ name: `binary ${n} fwd+grad`, elements: n, make: (fl) => () => fl.binaryFocalLossWithGrad(p, t) });
    const q = Float32Array.from(t, (v, i) => (v ? 0.3 + (i % 7) / 10 : 0));
    list.push({ name: `varifocal ${n} fwd+grad`, elements: n, make: (fl) => () => fl.varifocalLossWithGrad(x, q) });
  }
  {
    // bench/asymmetric.bench.ts's workload: 64 x 9605 multi-label logits, ~1% positives, the anchor's defaults, 'sum'.
    const r = random(0xa51);
    const n = 64 * 9605;
    const x = Float32Array.from({ length: n }, () => (r() + r() + r() - 1.5) * 4 - 2);
    const t = Float32Array.from({ length: n }, () => (r() < 0.01 ? 1 : 0));
    list.push({ name: 'asymmetric 64x9605 fwd', elements: n, make: (fl) => () => fl.asymmetricLoss(x, t) });
    list.push({
      name: 'asymmetric 64x9605 fwd+grad', elements: n,
      make: (fl) => {
        const gradOut = new Float32Array(n);
        return () => fl.asymmetricLossWithGrad(x, t, { gradOut });
      },
    });
  }
  {
    // bench/detr.bench.ts's workload: one image, 300 queries x 80 classes against 100 targets, compat 'detr';
    // ns per cost entry (Q x M).
    const r = random(0xde7);
    const [queries, classes, targets] = [300, 80, 100];
    const x = Float32Array.from({ length: queries * classes }, () => (r() + r() + r() - 1.5) * 4 - 3);
    const y = Int32Array.from({ length: targets }, () => Math.floor(r() * classes));
    list.push({
      name: `detr ${queries}x${classes}->${targets}`, elements: queries * targets,
      make: (fl) => () => fl.focalMatchingCost(x, y, { classes, compat: 'detr' }),
    });
  }
  {
    // bench/dfl.bench.ts's workload: 1e5 boxes x 4 sides x 17 bins, logits 2 N(0, 1)-like, targets uniform in
    // [0, 16], 'mean'.
    const r = random(0xdf1);
    const bins = 17;
    const n = 1e5 * 4 * bins;
    const x = Float32Array.from({ length: n }, () => (r() + r() + r() - 1.5) * 4);
    const t = Float32Array.from({ length: n / bins }, () => r() * (bins - 1));
    list.push({ name: 'dfl 1e5x4x17 fwd', elements: n, make: (fl) => () => fl.distributionFocalLoss(x, t, { bins }) });
    list.push({
      name: 'dfl 1e5x4x17 fwd+grad', elements: n,
      make: (fl) => {
        const gradOut = new Float32Array(n);
        return () => fl.distributionFocalLossWithGrad(x, t, { bins, gradOut });
      },
    });
  }
  return list;
}

async function main(): Promise<void> {
  const baseline = process.argv[2];
  if (!baseline || !existsSync(resolve(baseline, 'dist/index.js'))) {
    console.error('usage: npm run bench:ab -- <folder of a built focal-wasm: its package root, with dist/index.js>');
    process.exit(2);
  }
  const before = (await import(pathToFileURL(resolve(baseline, 'dist/index.js')).href)) as { createFocal(o?: object): Promise<Engine> };
  const engines = { before: await before.createFocal({ simd: true }), after: (await createFocal({ simd: true })) as unknown as Engine };
  const m = machine(false);
  console.log(`A/B on ${m.cpu} (${m.cores} cores), Node ${m.node}, ${m.date}: before = ${baseline}, after = this tree; ` +
    `SIMD build; ${ROUNDS} rounds per row, medians`);
  console.log('| workload | before ns/element | after ns/element | after / before |');
  console.log('|---|--:|--:|--:|');
  for (const w of workloads().filter((w) => w.name.includes(ONLY))) {
    const calls = { before: w.make(engines.before), after: w.make(engines.after) };
    calls.before();
    calls.after();
    const samples: Record<'before' | 'after', number[]> = { before: [], after: [] };
    const time = w.elements >= 4e6 ? 1500 : 400;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
      for (const which of order) {
        const bench = new Bench({ time, warmupTime: 50, iterations: w.elements >= 4e6 ? 3 : 16 });
        bench.add(which, calls[which]);
        await bench.run();
        const result = bench.tasks[0]!.result;
        if (!('latency' in result)) throw new Error(`${w.name} (${which}): tinybench ended in state ${result.state}`);
        samples[which].push((result.latency.p50 * 1e6) / w.elements); // ms -> ns per element
      }
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const b = median(samples.before);
    const a = median(samples.after);
    const flag = a / b > 1.03 ? ' ⚠' : '';
    console.log(`| ${w.name} | ${b.toPrecision(3)} | ${a.toPrecision(3)} | ${(a / b).toFixed(3)}${flag} |`);
    engines.before.freeAll();
    engines.after.freeAll();
  }
}

await main();
