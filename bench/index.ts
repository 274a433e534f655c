// `npm run bench`: every family suite in its own Node process (one JIT, one heap, one tfjs per family), then one
// table. A suite is a bench/<family>.bench.ts that exports `run(): Promise<FamilyResult>`; this file runs as the
// parent (no arguments, or family names to run only those) or as a child (`--child <family>`), which runs the
// suite and sends its result back over IPC.
//   npx tsx bench/index.ts            all families        BENCH_QUICK=1 npx tsx bench/index.ts   smoke run
//   npx tsx bench/index.ts sigmoid    one family
//   npx tsx bench/index.ts --readme   also rewrite the table between the bench markers in docs/performance.md
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { QUICK } from './harness.js';
import { peerNotes } from './peers/native.js';
import {
  formatReadme, formatReport, formatTargets, machine, updateReadme, writeResults, type FamilyResult, type Target,
} from './table.js';

const FAMILIES = ['sigmoid', 'softmax', 'layout', 'asymmetric', 'dfl', 'detr', 'dice'] as const;
/** Suites whose rows do not fit the family table (thread counts, tfjs steps): run after it, printing their own. */
const STANDALONE = ['calls', 'pool', 'tfjs'] as const;

/**
 * The targets the table is read against (SIMD build): issue 5's against plain TS and tfjs-wasm ("≥ 10x tfjs-wasm
 * forward-only" read as forward against forward), issue 14's against same-width native C (x86-64-v2 + libmvec:
 * ahead means ≥ 1x) and the plain loop at small N, issue 15's new losses against their plain transcriptions.
 */
const TARGETS: Target[] = [
  { family: 'sigmoid', size: '1e6', pass: 'forward+grad', peer: 'plain TS', atLeast: 20 },
  { family: 'sigmoid', size: '1e6', pass: 'forward', peer: 'tfjs-wasm', atLeast: 10 },
  { family: 'softmax', size: '1e5×80', pass: 'forward+grad', peer: 'plain TS', atLeast: 10 },
  ...(['forward', 'forward+grad'] as const).flatMap((pass) => [
    { family: 'sigmoid', size: '1e6', pass, peer: 'C x86-64-v2', atLeast: 1 },
    { family: 'sigmoid', size: '16e6', pass, peer: 'C x86-64-v2', atLeast: 1 },
    { family: 'softmax', size: '1e5×10', pass, peer: 'C x86-64-v2', atLeast: 1 },
    { family: 'softmax', size: '1e5×80', pass, peer: 'C x86-64-v2', atLeast: 1 },
    { family: 'softmax', size: '1e4×1000', pass, peer: 'C x86-64-v2', atLeast: 1 },
  ] satisfies Target[]),
  { family: 'sigmoid', size: '16', pass: 'forward+grad', peer: 'plain TS', atLeast: 1 },
  { family: 'sigmoid', size: '1e3', pass: 'forward+grad', peer: 'plain TS', atLeast: 5 },
  ...(['forward', 'forward+grad'] as const).flatMap((pass) => [
    { family: 'asymmetric', size: '64×9605', pass, peer: 'plain TS', atLeast: 10 },
    { family: 'dfl', size: '1e5×4×17', pass, peer: 'plain TS', atLeast: 10 },
    { family: 'dice', size: '8×4×128×128', pass, peer: 'plain TS', atLeast: 10 },
  ] satisfies Target[]),
  { family: 'detr', size: '300×80→100', pass: 'forward', peer: 'plain TS', atLeast: 10 },
];

function suiteUrl(family: string): URL {
  return new URL(`./${family}.bench.ts`, import.meta.url);
}

async function child(family: string): Promise<void> {
  const suite = (await import(suiteUrl(family).href)) as { run?: () => Promise<FamilyResult> };
  if (typeof suite.run !== 'function') throw new Error(`bench/${family}.bench.ts does not export run()`);
  const result = await suite.run();
  await new Promise<void>((resolve, reject) => process.send!(result, (e: Error | null) => (e ? reject(e) : resolve())));
}

/** Runs one family in a fresh process (same Node flags, so tsx stays loaded); its result, or an error note. */
function runFamily(family: string): Promise<FamilyResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', family], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: process.env,
    });
    let result: FamilyResult | undefined;
    proc.on('message', (m) => {
      result = m as FamilyResult;
    });
    proc.on('exit', (code, signal) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      process.stderr.write(`${family}: ${seconds} s\n`);
      if (result) {
        result.notes.push(`measured in ${seconds} s, in its own process`);
        resolve(result);
      } else {
        const note = `the suite failed (exit ${code ?? signal}): see the log above`;
        resolve({ family, rows: [], copyIn: [], notes: [note] });
      }
    });
  });
}

async function parent(args: string[]): Promise<void> {
  const requested = args.filter((a) => !a.startsWith('--'));
  const families = requested.length ? requested : FAMILIES.filter((f) => existsSync(suiteUrl(f)));
  const m = machine(QUICK);
  m.peers = await peerNotes(); // compiles the native peer once, before the suites load it
  process.stderr.write(`bench: ${families.join(', ')}${QUICK ? ' (BENCH_QUICK=1)' : ''}; ` +
    `load average ${m.loadStart.toFixed(2)}\n`);
  const results: FamilyResult[] = [];
  for (const family of families) results.push(await runFamily(family));
  m.loadEnd = os.loadavg()[0]!;
  console.log(formatReport(m, results));
  if (!QUICK) console.log(`\nTargets (issues 5, 14, 15):\n${formatTargets(results, TARGETS)}`);
  console.log(`\nJSON: ${writeResults(m, results)}`);
  if (args.includes('--readme')) {
    console.log(updateReadme(formatReadme(m, results))
      ? 'docs/performance.md: performance table updated' : 'docs/performance.md: no bench markers found, left alone');
  }
  if (requested.length === 0) for (const suite of STANDALONE) await runStandalone(suite);
}

/** Runs bench/<suite>.bench.ts as a script in its own process; it prints its own table. */
function runStandalone(suite: string): Promise<void> {
  return new Promise((resolve) => {
    console.log(`\n== bench/${suite}.bench.ts`);
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(suiteUrl(suite))], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: process.env,
    });
    proc.on('exit', () => resolve());
  });
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1]!);
else await parent(args);
