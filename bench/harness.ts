// What every family suite shares: the run options (BENCH_QUICK), deterministic data, and runCase, which checks
// each contender against the engine (SIMD) on the same input and then times it with tinybench. Benchmarks never
// assert: a contender that fails or disagrees is reported in its row, and the run goes on.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Bench, type BenchOptions } from 'tinybench';
import { CHUNK } from '../src/core/abi.js';
// The build users get (tsc's output, as npm run bench builds it): tsx's transform of src/ adds a name-keeping call
// per closure, which weighs on calls of a few elements (2-3 us per call at N = 1 instead of 0.5).
import { createFocal, type Focal } from '../dist/index.js';
import { peerNotes } from './peers/native.js';
import {
  formatReport, machine, writeResults, type Agreement, type CopyIn, type FamilyResult, type Impl, type InPlace, type Pass, type Row,
} from './table.js';

// Steady state from the first call: V8 runs new wasm in its baseline tier (Liftoff) and swaps in optimized code
// only after a per-function budget; measured here, the engine's kernels stayed ~1.6x slower for the first ~30
// calls at 1e6 elements. Compiling every wasm module (the engine's and tfjs-wasm's alike) with the optimizing
// tier at once measures what a long-running process sees, without seconds of warm-up per case. Set before any
// module is compiled (every suite imports this file before creating an engine or a tfjs backend).
v8.setFlagsFromString('--no-liftoff');

// Every timing starts from a collected heap: tfjs-cpu leaves hundreds of MB of garbage, and V8's concurrent
// marking and sweeping of it on the other core slowed the next contender by up to 30% (the engine at 1e6 measured
// 4.1 ns/element right after the tfjs peers, 3.0-3.2 alone). A full collection, then a pause for the concurrent
// sweeper, before each timing.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

async function settleHeap(): Promise<void> {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 100));
}

/** BENCH_QUICK=1: a smoke run, every size divided by 100 and a couple of iterations each. */
export const QUICK = process.env.BENCH_QUICK === '1';

/** A size of the full run, divided by 100 in a quick run. */
export function scaled(n: number): number {
  return QUICK ? Math.max(1, Math.round(n / 100)) : n;
}

/** '16', '1e6', '16e6', '1.6e5': how a size is named in the table (below 1000, the number itself). */
export function sizeLabel(n: number): string {
  if (n < 1000) return String(n);
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  if (Number.isInteger(m)) return `${m}e${e}`;
  const e6 = n / 1e6;
  return Number.isInteger(e6) ? `${e6}e6` : n.toExponential(1).replace('+', '');
}

/**
 * Iteration budget by the cost of one call. Sequential tinybench runs a task until both the time budget and the
 * minimum iteration count are met, so a slow peer at 16e6 (seconds per call) stops after `iterations` calls
 * while the engine fills the time budget with many. Above 4e6 elements the check call is the warm-up.
 */
export function benchOptions(elements: number): BenchOptions {
  if (QUICK) return { time: 50, iterations: 2, warmup: false };
  if (elements <= 1e5) return { time: 500, iterations: 64, warmupTime: 100, warmupIterations: 16 };
  if (elements <= 4e6) return { time: 1000, iterations: 8, warmupTime: 0, warmupIterations: 2 };
  return { time: 1000, iterations: 3, warmup: false };
}

/**
 * After a check call slower than this, one timed call is the measurement (a call of seconds is its own stable
 * sample), so one slow peer cannot stretch the run by minutes; its row says samples = 1.
 */
export const SINGLE_CALL_MS = 2000;

/**
 * A contender whose call is predicted (from its ns/element at the previous, smaller size of the same case) to
 * take longer than this is skipped, and its row says so: tfjs-cpu at 16e6 would take about a minute per call.
 * BENCH_FULL=1 runs everything.
 */
export const MAX_CALL_MS = 10_000;
const FULL = process.env.BENCH_FULL === '1';
const lastNsPerElement = new Map<string, number>();

/** What a check call returns: the reduced loss and, for forward+grad, the gradient. */
export interface Output {
  loss: number;
  grad?: ArrayLike<number>;
}

/** One implementation in one case. The first contender of a case is the engine (SIMD): the reference. */
export interface Contender {
  impl: Impl;
  /** Before the check (switch the tfjs backend, make tensors). A throw is reported in the row. */
  setup?: () => Promise<void> | void;
  /** One call whose output is compared with the engine's (tfjs: the gradient is read back here; onnxruntime:
   * a Promise, as its session.run). */
  check: () => Output | Promise<Output>;
  /** The timed call; default `check`. tfjs leaves the gradient as a tensor here (see peers/tfjs.ts). */
  timed?: () => unknown;
  teardown?: () => void;
}

/** The engine's two builds, as every family suite times them. */
export async function engineBuilds(): Promise<Array<{ impl: 'engine SIMD' | 'engine scalar'; fl: Focal }>> {
  return [
    { impl: 'engine SIMD', fl: await createFocal({ simd: true }) },
    { impl: 'engine scalar', fl: await createFocal({ simd: false }) },
  ];
}

/** An engine build as a contender: its forward call, or its fused call with the gradient. */
export function engineContender(
  impl: Impl, withGrad: boolean, forward: () => number | Float32Array,
  fused: () => { loss: number | Float32Array; grad: Float32Array },
): Contender {
  return {
    impl,
    check: withGrad
      ? () => {
        const { loss, grad } = fused();
        return { loss: loss as number, grad };
      }
      : () => ({ loss: forward() as number }),
  };
}

export interface Case {
  family: string;
  size: string;
  elements: number;
  pass: Pass;
  /** Agreement tolerance for the loss (relative) and the gradient (normwise). */
  tolerance: number;
}

function agreement(got: Output, want: Output, tolerance: number): Agreement {
  const loss = Math.abs(got.loss - want.loss) / Math.max(Math.abs(want.loss), Number.MIN_VALUE);
  let grad: number | undefined;
  if (want.grad) {
    let diff = 0;
    let scale = 0;
    const g = got.grad;
    if (!g || g.length !== want.grad.length) {
      grad = Number.NaN;
    } else {
      for (let i = 0; i < g.length; i++) {
        const d = Math.abs(g[i]! - want.grad[i]!);
        // NaN must not hide behind Math.max: a NaN difference makes the whole measure NaN (not ok).
        diff = d > diff || Number.isNaN(d) ? d : diff;
        scale = Math.max(scale, Math.abs(want.grad[i]!));
      }
      grad = diff / Math.max(scale, Number.MIN_VALUE);
    }
  }
  const ok = loss <= tolerance && (grad === undefined || grad <= tolerance);
  return grad === undefined ? { loss, tolerance, ok } : { loss, grad, tolerance, ok };
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160);
}

/** Times `fn` alone (`once`: a single call); the median latency per element in ns, with tinybench's statistics. */
/** Elements per timed iteration at least (see time()). */
const BATCH_ELEMENTS = 1024;

export async function time(name: string, fn: () => unknown, elements: number, once = false):
Promise<{ nsPerElement: number; minNsPerElement: number; samples: number; rme: number }> {
  await settleHeap();
  const options = once ? { time: 0, iterations: 1, warmup: false } : benchOptions(elements);
  const bench = new Bench({ ...options, throws: true });
  // Calls of a few elements go BATCH_ELEMENTS / elements to a timed iteration: tinybench's own bookkeeping per
  // iteration (clock reads, statistics) is about as long as such a call and would be counted as its cost.
  const batch = once || elements >= BATCH_ELEMENTS ? 1 : Math.ceil(BATCH_ELEMENTS / elements);
  const isAsync = batch > 1 && fn() instanceof Promise;
  const timed = batch === 1 ? fn : isAsync
    ? async () => {
      for (let i = 0; i < batch; i++) await fn();
    }
    : () => {
      for (let i = 0; i < batch; i++) fn();
    };
  bench.add(name, timed);
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (!('latency' in result)) throw new Error(`${name}: tinybench ended in state ${result.state}`);
  return {
    nsPerElement: (result.latency.p50 * 1e6) / (elements * batch),
    minNsPerElement: (result.latency.min * 1e6) / (elements * batch),
    samples: result.latency.samplesCount,
    rme: result.latency.rme,
  };
}

/**
 * Runs one case: each contender is set up, checked against the engine (SIMD) output, timed, torn down.
 * Progress goes to stderr so stdout stays the table.
 */
export async function runCase(c: Case, contenders: Contender[]): Promise<Row[]> {
  const rows: Row[] = [];
  let reference: Output | undefined;
  for (const contender of contenders) {
    const row: Row = { family: c.family, size: c.size, elements: c.elements, pass: c.pass, impl: contender.impl };
    rows.push(row);
    const key = `${c.family} ${c.pass} ${contender.impl}`;
    const predictedMs = ((lastNsPerElement.get(key) ?? 0) * c.elements) / 1e6;
    if (predictedMs > MAX_CALL_MS && !FULL) {
      row.skipped = `about ${(predictedMs / 1000).toFixed(0)} s per call predicted (BENCH_FULL=1 runs it)`;
      process.stderr.write(`  ${c.family} ${c.size} ${c.pass} ${contender.impl}: skipped, ${row.skipped}\n`);
      continue;
    }
    try {
      await contender.setup?.();
      const started = performance.now();
      const out = await contender.check();
      const checkMs = performance.now() - started;
      if (contender === contenders[0]) {
        // The engine may write into a caller-owned gradOut it reuses: keep a copy as the reference.
        reference = { loss: out.loss, ...(out.grad ? { grad: Float32Array.from(out.grad) } : {}) };
      } else if (reference) {
        row.agreement = agreement(out, reference, c.tolerance);
      } // else the engine failed: the peer is timed unchecked, and the agreement table says so.
      const once = checkMs > SINGLE_CALL_MS;
      const t = await time(contender.impl, contender.timed ?? contender.check, c.elements, once);
      Object.assign(row, t);
      lastNsPerElement.set(key, t.nsPerElement);
      const flag = row.agreement && !row.agreement.ok ? ' (disagrees with the engine)' : '';
      process.stderr.write(`  ${c.family} ${c.size} ${c.pass} ${contender.impl}: ` +
        `${t.nsPerElement.toFixed(2)} ns/el, ${t.samples} samples${flag}\n`);
    } catch (e) {
      row.error = message(e);
      process.stderr.write(`  ${c.family} ${c.size} ${c.pass} ${contender.impl}: error: ${row.error}\n`);
    } finally {
      try {
        contender.teardown?.();
      } catch {
        // A failed teardown must not stop the run; the row already says what happened.
      }
    }
  }
  return rows;
}

/**
 * The copy that zero-copy input (fl.alloc) would remove: each input array set into a staging array of CHUNK
 * elements, chunk by chunk, as src/core/arena.ts copyIn does. Timed per element of `elements`.
 */
export async function measureCopyIn(family: string, size: string, elements: number, inputs: ArrayLike<number>[]):
Promise<CopyIn> {
  const arrays = inputs as (Float32Array | Int32Array)[];
  const stages = arrays.map((a) => (a instanceof Int32Array ? new Int32Array(CHUNK) : new Float32Array(CHUNK)));
  const copy = (): void => {
    for (let k = 0; k < arrays.length; k++) {
      const src = arrays[k]!;
      const stage = stages[k]!;
      for (let from = 0; from < src.length; from += CHUNK) {
        stage.set(src.subarray(from, Math.min(from + CHUNK, src.length)));
      }
    }
  };
  const t = await time('copy-in', copy, elements);
  return { family, size, elements, arrays: arrays.length, nsPerElement: t.nsPerElement };
}

// The same seeded generator as the demo's data (mulberry32), so every run measures the same input.
export { rng } from '../demo/data.js';

/** A standard normal sample from two uniforms (Box-Muller). */
export function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A family suite run as a script (`npx tsx bench/<family>.bench.ts`): its table and JSON, as bench/index.ts prints
 * them. Does nothing when the suite is imported (by bench/index.ts).
 */
export async function runAlone(moduleUrl: string, run: () => Promise<FamilyResult>): Promise<void> {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const m = machine(QUICK);
  m.peers = await peerNotes();
  const result = await run();
  m.loadEnd = os.loadavg()[0]!;
  console.log(formatReport(m, [result]));
  console.log(`\nJSON: ${writeResults(m, [result])}`);
}

/**
 * The SIMD engine on fl.alloc views (no copy in or out): `inPlace` must give the copying call's loss and gradient
 * bit for bit (else the bench stops), then it is timed. `views` are freed afterwards by the caller's fl.freeAll().
 */
export async function timeInPlace(
  family: string, size: string, pass: Pass, elements: number,
  inPlace: () => { loss: number; grad?: Float32Array }, copying: () => { loss: number; grad?: Float32Array },
  how?: { label: string; timed: () => unknown },
): Promise<InPlace> {
  const a = copying();
  const b = inPlace();
  const sameGrad = !a.grad || (b.grad !== undefined && a.grad.every((v, i) => Object.is(v, b.grad![i])));
  if (!Object.is(a.loss, b.loss) || !sameGrad) throw new Error(`in-place ${family} ${size} ${pass} differs from the copying call`);
  const timed = await time('engine SIMD in place', how?.timed ?? inPlace, elements);
  process.stderr.write(`  ${family} ${size} ${pass} engine SIMD ${how?.label ?? 'in place'}: ${timed.nsPerElement.toFixed(2)} ns/el\n`);
  return { size, pass, nsPerElement: timed.nsPerElement, minNsPerElement: timed.minNsPerElement, ...(how ? { how: how.label } : {}) };
}

