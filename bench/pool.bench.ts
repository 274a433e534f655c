// createFocalPool against the single-thread engine, forward+gradient, on the two workloads of issue 14's pool target:
// sigmoid focal loss at N = 16e6 and softmax focal loss at 2e5 x 80 (torchvision / mmcv defaults, 'mean'), with the
// ordinary Float32Arrays a caller holds (the pool copies them into its workers' memories) and with arrays already in
// SharedArrayBuffers (read in place). Beside them: the engine in place (fl.alloc), the -march=native C peer on one
// core, and two engines running at once on two worker threads, each on half the data (no pool): what two threads of
// this machine give at all, the ceiling of any pool here. Each pool result is checked bit for bit against the
// engine's before it is timed. Prints ns/element (median) and the speed-ups over the copying engine.
//   npx tsx bench/pool.bench.ts          BENCH_QUICK=1 npx tsx bench/pool.bench.ts   (sizes / 100, a smoke run)
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { createFocalPool, createFocalSync, type FocalPool } from '../dist/index.js';
import { QUICK, normal, rng, scaled, sizeLabel } from './harness.js';
import { nativeBuilds } from './peers/native.js';

const N = scaled(16e6);
const CLASSES = 80;

export interface PoolRow {
  workload: string;
  contender: string;
  nsPerElement: number;
  samples: number;
  /** The copying engine's median over this row's. */
  speedupVsEngine: number;
}

export interface PoolResult {
  n: number;
  cores: number;
  loadStart: number;
  loadEnd: number;
  rows: PoolRow[];
  /** Whether every pool result equalled the engine's bit for bit. */
  identical: boolean;
  notes: string[];
}

function shared<T extends Float32Array | Int32Array>(values: T): T {
  const view = new (values.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(values.byteLength));
  view.set(values as never);
  return view;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

interface Workload {
  name: string;
  /** Runs on the engine or a pool with the given arrays; resolves to the loss and fills gradOut. */
  call(api: 'engine' | FocalPool, arrays: Arrays): Promise<number> | number;
  arrays: Arrays;
  /** The one-core native C call on the same data, when the C peer builds here. */
  native?: () => number;
  /** Worker source computing this workload on half the data, for the two-engines-at-once row. */
  half: string;
}

interface Arrays {
  logits: Float32Array;
  targets: Float32Array | Int32Array;
  gradOut: Float32Array;
}

function workloads(): Workload[] {
  const random = rng(0x5eed);
  const logits = Float32Array.from({ length: N }, () => 3 * normal(random));
  const targets = Float32Array.from({ length: N }, () => (random() < 0.1 ? 1 : 0));
  const labels = Int32Array.from({ length: N / CLASSES }, () => Math.floor(random() * CLASSES));
  const fl = createFocalSync();
  const native = nativeBuilds().builds.find((b) => b.impl === 'C native')?.addon;
  const grad = new Float32Array(N);
  const engineCall = (name: 'sigmoid' | 'softmax') => (api: 'engine' | FocalPool, a: Arrays): Promise<number> | number => {
    const target = api === 'engine' ? fl : api;
    if (name === 'sigmoid') {
      const r = target.sigmoidFocalLossWithGrad(a.logits, a.targets as Float32Array, { gradOut: a.gradOut });
      return r instanceof Promise ? r.then((v) => v.loss) : r.loss;
    }
    const r = target.softmaxFocalLossWithGrad(a.logits, a.targets as Int32Array, { gradOut: a.gradOut });
    return r instanceof Promise ? r.then((v) => v.loss) : r.loss;
  };
  return [
    {
      name: `sigmoid ${sizeLabel(N)}`, call: engineCall('sigmoid'), arrays: { logits, targets, gradOut: new Float32Array(N) },
      native: native && (() => native.sigmoidFocal(logits, targets, 0.25, 2, grad)),
      half: `fl.sigmoidFocalLossWithGrad(x, t, { gradOut: g })`,
    },
    {
      name: `softmax ${sizeLabel(N / CLASSES)}×${CLASSES}`, call: engineCall('softmax'),
      arrays: { logits, targets: labels, gradOut: new Float32Array(N) },
      native: native && (() => native.softmaxFocal(logits, labels, CLASSES, -1, 2, grad)),
      half: `fl.softmaxFocalLossWithGrad(x, y, { gradOut: g })`,
    },
  ];
}

/**
 * Two worker threads, each with its own engine and its own half of the data in place, started together: the
 * elapsed time of both (per element of the whole), median of `rounds`. No copies, no messages during the work.
 */
async function twoEngines(half: string, n: number, rounds: number): Promise<number> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(async ({ createFocal }) => {
      const fl = await createFocal();
      const n = workerData.n;
      const [x, t, g] = fl.alloc(n, n, n);
      for (let i = 0; i < n; i++) { x[i] = Math.sin(i) * 3; t[i] = i % 10 === 0 ? 1 : 0; }
      const y = Int32Array.from({ length: n / ${CLASSES} }, (_, i) => i % ${CLASSES});
      ${half};
      parentPort.on('message', () => { ${half}; parentPort.postMessage('done'); });
      parentPort.postMessage('ready');
    });`;
  const url = new URL('../dist/index.js', import.meta.url).href;
  const workers = [0, 1].map(() => new Worker(source, { eval: true, workerData: { url, n: n / 2 } }));
  const next = (w: Worker): Promise<unknown> => new Promise((resolve) => w.once('message', resolve));
  await Promise.all(workers.map(next));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    await Promise.all(workers.map((w) => {
      const done = next(w);
      w.postMessage('go');
      return done;
    }));
    times.push(performance.now() - started);
  }
  await Promise.all(workers.map((w) => w.terminate()));
  times.sort((a, b) => a - b);
  return (times[times.length >> 1]! * 1e6) / n;
}

export async function run(): Promise<PoolResult> {
  const loadStart = os.loadavg()[0]!;
  const fl = createFocalSync();
  const pool = await createFocalPool({ threads: 2 });
  const pool1 = await createFocalPool({ threads: 1 });
  const rows: PoolRow[] = [];
  const notes: string[] = [];
  let identical = true;
  const options = QUICK ? { time: 50, iterations: 2 } : { time: 3000, iterations: 10, warmupTime: 200, warmupIterations: 2 };
  for (const work of workloads()) {
    const { arrays } = work;
    const sharedArrays: Arrays = { logits: shared(arrays.logits), targets: shared(arrays.targets), gradOut: shared(arrays.gradOut) };
    // One alloc call for all of a workload's views (a later one may grow the memory and detach the earlier).
    const sigmoid = work.name.startsWith('sigmoid');
    const views = sigmoid ? fl.alloc(N, N, N) : fl.alloc(N, N);
    views[0]!.set(arrays.logits);
    if (sigmoid) views[2]!.set(arrays.targets as Float32Array);
    const inPlace: Arrays = { logits: views[0]!, gradOut: views[1]!, targets: sigmoid ? views[2]! : arrays.targets };
    // Check before timing: each pool's loss and gradient against the engine's, ordinary and shared arrays.
    const expected = await work.call('engine', arrays);
    const expectedGrad = arrays.gradOut.slice();
    for (const [api, a] of [[pool, arrays], [pool, sharedArrays], [pool1, arrays]] as const) {
      identical &&= (await work.call(api, a)) === expected && sameBits(a.gradOut, expectedGrad);
    }
    const bench = new Bench({ ...options, throws: true });
    const names: string[] = [];
    const add = (contender: string, fn: () => unknown): void => {
      names.push(contender);
      bench.add(contender, fn);
    };
    add('engine, ordinary arrays (copying)', () => work.call('engine', arrays));
    add('engine, in place (fl.alloc)', () => work.call('engine', inPlace));
    add('pool 1 thread, ordinary arrays', () => work.call(pool1, arrays));
    add('pool 2 threads, ordinary arrays', () => work.call(pool, arrays));
    add('pool 2 threads, SharedArrayBuffer arrays', () => work.call(pool, sharedArrays));
    if (work.native) add('C -march=native, 1 thread', work.native);
    await bench.run();
    fl.freeAll();
    for (const [i, task] of bench.tasks.entries()) {
      const result = task.result;
      if (!('latency' in result)) throw new Error(`${task.name}: tinybench ended in state ${result.state}`);
      rows.push({ workload: work.name, contender: names[i]!, nsPerElement: (result.latency.p50 * 1e6) / N, samples: result.latency.samplesCount, speedupVsEngine: 0 });
    }
    rows.push({
      workload: work.name, contender: 'two engines at once, in place, half each (no pool: the machine\'s 2 threads)',
      nsPerElement: await twoEngines(work.half, N, QUICK ? 3 : 9), samples: QUICK ? 3 : 9, speedupVsEngine: 0,
    });
  }
  await Promise.all([pool.terminate(), pool1.terminate()]);
  if (!nativeBuilds().builds.length) notes.push(...nativeBuilds().notes);
  for (const row of rows) {
    const engine = rows.find((r) => r.workload === row.workload && r.contender.startsWith('engine, ordinary'))!;
    row.speedupVsEngine = engine.nsPerElement / row.nsPerElement;
  }
  return { n: N, cores: os.availableParallelism(), loadStart, loadEnd: os.loadavg()[0]!, rows, identical, notes };
}

export function format(result: PoolResult): string {
  const lines = [
    `createFocalPool, forward+gradient, SIMD build, ${result.cores} cores, 1-min load ${result.loadStart.toFixed(2)} → ` +
      `${result.loadEnd.toFixed(2)}; pool results bit-identical to the engine: ${result.identical ? 'yes' : 'NO'}`,
    ...result.notes,
    '',
    '| workload | contender | ns/element (median) | samples | vs copying engine |',
    '|---|---|---:|---:|---:|',
  ];
  for (const row of result.rows) {
    lines.push(`| ${row.workload} | ${row.contender} | ${row.nsPerElement.toFixed(3)} | ${row.samples} | ${row.speedupVsEngine.toFixed(2)}x |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(format(await run()));
}
