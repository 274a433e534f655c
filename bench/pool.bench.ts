// createFocalPool: sigmoid focal loss at N = 16e6 (torchvision defaults, 'mean'), forward and forward+gradient,
// on the single-thread engine (main thread) beside pools of 1 and 2 worker threads (SIMD build throughout).
// Pool inputs and gradOut live in SharedArrayBuffers (the zero-copy way to call a pool); the engine gets plain
// Float32Arrays and a caller-owned gradOut, so neither side pays an allocation per call. Each result is checked
// bit for bit against the engine's before it is timed. Prints ns/element (median) and the speedups.
//   npx tsx bench/pool.bench.ts          BENCH_QUICK=1 npx tsx bench/pool.bench.ts   (N / 100, a smoke run)
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import { createFocalPool, createFocalSync, type FocalPool } from '../src/index.js';
import { QUICK, normal, rng, scaled, sizeLabel } from './harness.js';

const N = scaled(16e6);
const THREADS = [1, 2];

export interface PoolRow {
  contender: string;
  pass: 'forward' | 'forward+grad';
  nsPerElement: number;
  minNsPerElement: number;
  samples: number;
  /** The single-thread engine's median over this row's. */
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
}

function shared(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

/** Logits ~ 3·N(0, 1), hard targets with 10% positives (as bench/sigmoid.bench.ts). */
function data(n: number): { logits: Float32Array; targets: Float32Array } {
  const random = rng(0x5eed + n);
  const logits = shared(n);
  const targets = shared(n);
  for (let i = 0; i < n; i++) {
    logits[i] = 3 * normal(random);
    targets[i] = random() < 0.1 ? 1 : 0;
  }
  return { logits, targets };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (ua.length !== ub.length) return false;
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

export async function run(): Promise<PoolResult> {
  const loadStart = os.loadavg()[0]!;
  const { logits: sharedLogits, targets: sharedTargets } = data(N);
  // The engine reads ordinary arrays, as a single-thread caller has them.
  const logits = sharedLogits.slice();
  const targets = sharedTargets.slice();
  const fl = createFocalSync();
  const engineGrad = new Float32Array(N);
  const pools: FocalPool[] = [];
  for (const threads of THREADS) pools.push(await createFocalPool({ threads }));

  // Check before timing: each pool's loss and gradient against the engine's.
  const expected = fl.sigmoidFocalLossWithGrad(logits, targets, { gradOut: engineGrad });
  const expectedForward = fl.sigmoidFocalLoss(logits, targets);
  let identical = true;
  const poolGrads = pools.map(() => shared(N));
  for (const [i, pool] of pools.entries()) {
    const got = await pool.sigmoidFocalLossWithGrad(sharedLogits, sharedTargets, { gradOut: poolGrads[i] });
    const forward = await pool.sigmoidFocalLoss(sharedLogits, sharedTargets);
    identical &&= got.loss === expected.loss && forward === expectedForward && sameBits(got.grad, expected.grad);
  }

  const options = QUICK ? { time: 50, iterations: 2 } : { time: 3000, iterations: 12, warmupTime: 200, warmupIterations: 2 };
  const bench = new Bench({ ...options, throws: true });
  const names: Array<[string, PoolRow['pass']]> = [];
  const add = (contender: string, pass: PoolRow['pass'], fn: () => unknown): void => {
    names.push([contender, pass]);
    bench.add(`${contender} ${pass}`, fn);
  };
  add('engine (main thread)', 'forward', () => fl.sigmoidFocalLoss(logits, targets));
  add('engine (main thread)', 'forward+grad', () => fl.sigmoidFocalLossWithGrad(logits, targets, { gradOut: engineGrad }));
  for (const [i, pool] of pools.entries()) {
    const label = `pool, ${pool.threads} thread${pool.threads > 1 ? 's' : ''}`;
    add(label, 'forward', () => pool.sigmoidFocalLoss(sharedLogits, sharedTargets));
    add(label, 'forward+grad', () => pool.sigmoidFocalLossWithGrad(sharedLogits, sharedTargets, { gradOut: poolGrads[i] }));
  }
  await bench.run();
  await Promise.all(pools.map((p) => p.terminate()));

  const rows: PoolRow[] = bench.tasks.map((task, i) => {
    const result = task.result;
    if (!('latency' in result)) throw new Error(`${task.name}: tinybench ended in state ${result.state}`);
    const [contender, pass] = names[i]!;
    return {
      contender, pass, nsPerElement: (result.latency.p50 * 1e6) / N, minNsPerElement: (result.latency.min * 1e6) / N,
      samples: result.latency.samplesCount, speedupVsEngine: 0,
    };
  });
  for (const row of rows) {
    const engine = rows.find((r) => r.contender.startsWith('engine') && r.pass === row.pass)!;
    row.speedupVsEngine = engine.nsPerElement / row.nsPerElement;
  }
  return { n: N, cores: os.availableParallelism(), loadStart, loadEnd: os.loadavg()[0]!, rows, identical };
}

export function format(result: PoolResult): string {
  const lines = [
    `createFocalPool, sigmoid focal loss, N = ${sizeLabel(result.n)}, SIMD build, ${result.cores} cores, ` +
      `1-min load ${result.loadStart.toFixed(2)} → ${result.loadEnd.toFixed(2)}; ` +
      `pool results bit-identical to the engine: ${result.identical ? 'yes' : 'NO'}`,
    '',
    '| contender | pass | ns/element (median) | fastest | samples | speedup vs engine | vs 1-thread pool |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of result.rows) {
    const one = result.rows.find((r) => r.contender === 'pool, 1 thread' && r.pass === row.pass);
    const vsOne = one && row.contender.startsWith('pool') ? (one.nsPerElement / row.nsPerElement).toFixed(2) + 'x' : '';
    lines.push(
      `| ${row.contender} | ${row.pass} | ${row.nsPerElement.toFixed(3)} | ${row.minNsPerElement.toFixed(3)} | ` +
        `${row.samples} | ${row.speedupVsEngine.toFixed(2)}x | ${vsOne} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(format(await run()));
}
