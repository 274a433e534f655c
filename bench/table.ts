// The one table every suite feeds: rows of (family, size, pass, implementation) with median ns/element, the
// engine's ratio to each peer, each peer's agreement with the engine, and the copy-in share. Printed as a
// Markdown table (so docs/performance.md can take it as is) and written as JSON to bench/results/ (git-ignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

export const IMPLS = [
  'engine SIMD', 'engine scalar', 'plain TS', 'tfjs-cpu', 'tfjs-wasm', 'C x86-64-v2', 'C native', 'onnxruntime',
] as const;
export type Impl = (typeof IMPLS)[number];
export type Pass = 'forward' | 'forward+grad';

/** How a peer's output compared with the engine's (SIMD) output on the same input, before it was timed. */
export interface Agreement {
  /** |loss_peer - loss_engine| / |loss_engine| for the reduced loss. */
  loss: number;
  /** max_i |g_peer - g_engine| / max_i |g_engine| (normwise), for forward+grad. */
  grad?: number;
  tolerance: number;
  ok: boolean;
}

export interface Row {
  family: string;
  /** '1e6' for sigmoid, '1e5×80' for softmax. */
  size: string;
  /** Elements the ns/element figure divides by (N, or N×C logits for softmax). */
  elements: number;
  pass: Pass;
  impl: Impl;
  /** Median latency of one call divided by `elements`, in ns; undefined when the task failed or was skipped. */
  nsPerElement?: number;
  /** The fastest call, per element (JSON only: on a busy machine it is the steadier figure). */
  minNsPerElement?: number;
  samples?: number;
  /** Relative margin of error of the mean latency, in percent (tinybench's rme). */
  rme?: number;
  agreement?: Agreement;
  error?: string;
  /** Why the contender was not run at this size (too slow to time within the run's budget). */
  skipped?: string;
}

/** A Float32Array.set of the inputs into a chunk-sized staging area, the copy that zero-copy input would remove. */
export interface CopyIn {
  family: string;
  size: string;
  elements: number;
  /** Float32 arrays copied per call (logits and targets: 2 for sigmoid; logits for softmax). */
  arrays: number;
  nsPerElement: number;
}

/**
 * The engine (SIMD) called on fl.alloc views for every array it reads and writes, so nothing is copied: what
 * a caller who fills engine memory directly gets (or, where `how` says so, another way of calling that leaves out
 * a cost of the plain call). Its result was checked bit-identical to the plain call's.
 */
export interface InPlace {
  size: string;
  pass: Pass;
  nsPerElement: number;
  minNsPerElement: number;
  /** How the call was made, when not on fl.alloc views (default: 'in place (fl.alloc views, no copies)'). */
  how?: string;
}

export interface FamilyResult {
  family: string;
  rows: Row[];
  copyIn: CopyIn[];
  /** The in-place rows (sigmoid, softmax) and the DETR cost into a reused out. */
  inPlace?: InPlace[];
  notes: string[];
}

export interface Machine {
  /** lscpu's 'Model name' (os.cpus()' model where there is no lscpu). */
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  platform: string;
  /** 1-minute load average at the start and at the end of the run: other processes skew the figures. */
  loadStart: number;
  loadEnd?: number;
  date: string;
  quick: boolean;
  /** How the peers at the limit were built or why one is missing (native C flags, onnxruntime version). */
  peers?: string[];
}

/** lscpu's 'Model name', or undefined where lscpu is missing (macOS, Windows). */
function lscpuModel(): string | undefined {
  try {
    const out = execFileSync('lscpu', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
    return /^Model name:\s*(.+)$/m.exec(out)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

export function machine(quick: boolean): Machine {
  const cpus = os.cpus();
  return {
    cpu: lscpuModel() ?? cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadStart: os.loadavg()[0]!,
    date: new Date().toISOString(),
    quick,
  };
}

export function describeMachine(m: Machine): string {
  const load = m.loadStart.toFixed(2) + (m.loadEnd === undefined ? '' : ` → ${m.loadEnd.toFixed(2)}`);
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node} (V8 ${m.v8}); ${m.platform}; ` +
    `load average (1 min) ${load}; ${m.date}${m.quick ? '; BENCH_QUICK=1 (smoke run: figures are rough)' : ''}`;
}

function ns(v: number | undefined): string {
  if (v === undefined) return '—';
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function ratio(engine: number | undefined, peer: number | undefined): string {
  if (engine === undefined || peer === undefined || engine <= 0) return '—';
  const r = peer / engine;
  return `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}x`;
}

/** BENCH_STAT=min prints the fastest call instead of the median (steadier while other processes compete). */
const STAT: 'nsPerElement' | 'minNsPerElement' = process.env.BENCH_STAT === 'min' ? 'minNsPerElement' : 'nsPerElement';
const STAT_LABEL = STAT === 'nsPerElement' ? 'Median ns' : 'Fastest-call ns (BENCH_STAT=min)';

function find(rows: Row[], size: string, pass: Pass, impl: Impl): Row | undefined {
  return rows.find((r) => r.size === size && r.pass === pass && r.impl === impl);
}

/** A peer's cell: its ns/element, with a mark when it disagreed with the engine or failed. */
function cell(row: Row | undefined): string {
  if (!row) return '—';
  if (row.error !== undefined) return 'error';
  if (row.skipped !== undefined) return 'skipped';
  const mark = row.agreement && !row.agreement.ok ? ' ⚠' : '';
  return ns(row[STAT]) + mark;
}

function exp(v: number | undefined): string {
  return v === undefined ? '—' : v === 0 ? '0' : v.toExponential(1);
}

/**
 * The Markdown table: one line per family × size × pass; ns/element per implementation, then the engine's
 * (SIMD) speed-up over each other column (peer time / engine time), then the share of the engine's time that
 * the copy-in takes. A ⚠ marks a peer whose result disagreed with the engine beyond the tolerance.
 */
export function formatTable(results: FamilyResult[]): string {
  const head = ['family', 'size', 'pass', ...IMPLS.map((i) => `${i} ns/el`),
    ...IMPLS.slice(1).map((i) => `SIMD vs ${i}`), 'copy-in share'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const { family, rows, copyIn } of results) {
    const sizes = [...new Set(rows.map((r) => r.size))];
    for (const size of sizes) {
      for (const pass of ['forward', 'forward+grad'] as const) {
        const engine = find(rows, size, pass, 'engine SIMD')?.[STAT];
        if (!rows.some((r) => r.size === size && r.pass === pass)) continue;
        const copy = copyIn.find((c) => c.size === size);
        const share = copy && engine ? `${((copy.nsPerElement / engine) * 100).toFixed(0)}%` : '—';
        lines.push(`| ${[
          family, size, pass,
          ...IMPLS.map((i) => cell(find(rows, size, pass, i))),
          ...IMPLS.slice(1).map((i) => ratio(engine, find(rows, size, pass, i)?.[STAT])),
          share,
        ].join(' | ')} |`);
      }
    }
  }
  return lines.join('\n');
}

/** Each peer's agreement with the engine (SIMD), as checked before timing. */
export function formatAgreement(results: FamilyResult[]): string {
  const lines = ['| family | size | pass | implementation | loss rel. diff | grad normwise diff | tolerance | agrees |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | --- |'];
  for (const { rows } of results) {
    for (const r of rows) {
      if (r.impl === 'engine SIMD') continue;
      const lead = `| ${r.family} | ${r.size} | ${r.pass} | ${r.impl} |`;
      if (r.error !== undefined) {
        lines.push(`${lead} — | — | — | error: ${r.error.replace(/\|/g, '/')} |`);
        continue;
      }
      if (r.skipped !== undefined) {
        lines.push(`${lead} — | — | — | skipped: ${r.skipped} |`);
        continue;
      }
      const a = r.agreement;
      if (!a) {
        lines.push(`${lead} — | — | — | unchecked: the engine failed |`);
        continue;
      }
      lines.push(`${lead} ${exp(a.loss)} | ${exp(a.grad)} | ` +
        `${exp(a.tolerance)} | ${a.ok ? 'yes' : '⚠ no'} |`);
    }
  }
  return lines.join('\n');
}

export function formatCopyIn(results: FamilyResult[]): string {
  const lines: string[] = [];
  for (const { family, copyIn } of results) {
    for (const c of copyIn) {
      lines.push(`${family} ${c.size}: copying ${c.arrays} input array${c.arrays > 1 ? 's' : ''} into the staging ` +
        `area takes ${ns(c.nsPerElement)} ns/element`);
    }
  }
  return lines.join('\n');
}

/** One line per in-place measurement: its ns/element and its ratio to the plain loop and to the copying call. */
export function formatInPlace(results: FamilyResult[]): string {
  const lines: string[] = [];
  for (const { family, rows, inPlace } of results) {
    for (const p of inPlace ?? []) {
      const ours = p[STAT];
      const plain = find(rows, p.size, p.pass, 'plain TS')?.[STAT];
      const copying = find(rows, p.size, p.pass, 'engine SIMD')?.[STAT];
      const vs = (other: number | undefined, label: string) =>
        (other === undefined ? '' : `, ${(other / ours).toFixed(1)}x ${label}`);
      lines.push(`${family} ${p.size} ${p.pass}, ${p.how ?? 'in place (fl.alloc views, no copies)'}: ${ns(ours)} ns/element` +
        `${vs(plain, 'the plain TS loop')}${vs(copying, 'the copying call')}`);
    }
  }
  return lines.join('\n');
}

/** Rows of at most this many elements are per-call costs: also printed as µs per call. */
const PER_CALL_MAX = 1000;

/** One line per small size and pass: each implementation's time per call (ns/element × elements), in µs. */
export function formatPerCall(results: FamilyResult[]): string {
  const lines: string[] = [];
  for (const { family, rows } of results) {
    const small = rows.filter((r) => r.elements <= PER_CALL_MAX);
    for (const size of [...new Set(small.map((r) => r.size))]) {
      for (const pass of ['forward', 'forward+grad'] as const) {
        const mine = small.filter((r) => r.size === size && r.pass === pass && r[STAT] !== undefined);
        if (!mine.length) continue;
        const calls = mine.map((r) => `${r.impl} ${((r[STAT]! * r.elements) / 1000).toFixed(2)}`);
        lines.push(`${family} N = ${size} ${pass}, µs per call: ${calls.join(', ')}`);
      }
    }
  }
  return lines.join('\n');
}

/** The whole report as printed: machine, timing table, agreement table, copy-in, notes. */
export function formatReport(m: Machine, results: FamilyResult[]): string {
  const notes = results.flatMap((r) => r.notes.map((n) => `- ${r.family}: ${n}`));
  return [
    `Machine: ${describeMachine(m)}`,
    ...(m.peers ?? []).map((p) => `- ${p}`),
    '',
    `${STAT_LABEL} per element (softmax: per logit, N×C); "SIMD vs X" = X time / engine SIMD time ` +
      '(higher: engine faster).',
    '"copy-in share": time to copy the inputs into the engine (Float32Array.set, chunk by chunk) / engine SIMD time.',
    '',
    formatTable(results),
    '',
    'Agreement with the engine (SIMD), checked before timing:',
    '',
    formatAgreement(results),
    '',
    formatCopyIn(results),
    formatInPlace(results),
    formatPerCall(results),
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
}

/** One line per family and peer: the worst disagreement with the engine over every size and pass. */
export function formatAgreementSummary(results: FamilyResult[]): string {
  const lines: string[] = [];
  for (const { family, rows } of results) {
    for (const impl of IMPLS.slice(1)) {
      const mine = rows.filter((r) => r.impl === impl && r.agreement);
      if (!mine.length) continue;
      const worstLoss = Math.max(...mine.map((r) => r.agreement!.loss));
      const worstGrad = Math.max(...mine.map((r) => r.agreement!.grad ?? 0));
      const bad = mine.filter((r) => !r.agreement!.ok);
      const where = [...new Set(bad.map((r) => `${r.size} (loss ${exp(r.agreement!.loss)})`))];
      const tolerance = exp(bad[0]?.agreement!.tolerance);
      const flagged = bad.length ? `; ⚠ beyond the ${tolerance} tolerance at ${where.join(', ')}` : '';
      lines.push(worstLoss === 0 && worstGrad === 0
        ? `- ${family}, ${impl}: identical (loss and gradient bit for bit)`
        : `- ${family}, ${impl}: loss within ${exp(worstLoss)} relative, gradient within ${exp(worstGrad)} ` +
          `normwise${flagged}`);
    }
  }
  return lines.join('\n');
}

/** A speed-up the engine (SIMD) should reach over a peer at one size and pass (issue 5). */
export interface Target {
  family: string;
  size: string;
  pass: Pass;
  peer: Impl;
  atLeast: number;
}

/** Each target against the measured ratio, or a dash where either side was not measured. */
export function formatTargets(results: FamilyResult[], targets: Target[]): string {
  return targets.map(({ family, size, pass, peer, atLeast }) => {
    const rows = results.find((r) => r.family === family)?.rows ?? [];
    const engine = find(rows, size, pass, 'engine SIMD')?.[STAT];
    const other = find(rows, size, pass, peer)?.[STAT];
    const got = engine !== undefined && other !== undefined ? other / engine : undefined;
    const verdict = got === undefined ? 'not measured' : got >= atLeast ? 'met' : 'missed';
    const inPlace = results.find((r) => r.family === family)?.inPlace?.find((p) => p.size === size && p.pass === pass);
    const inPlaceNote = inPlace && other !== undefined
      ? `; ${inPlace.how ?? 'in place, no copies'}: ${(other / inPlace[STAT]).toFixed(1)}x` : '';
    return `- ${family} ${size} ${pass}, engine SIMD vs ${peer}: ${got === undefined ? '—' : `${got.toFixed(1)}x`} ` +
      `(target >= ${atLeast}x: ${verdict}${inPlaceNote})`;
  }).join('\n');
}

/** The performance block of docs/performance.md: machine, table, agreement summary, copy-in. */
export function formatReadme(m: Machine, results: FamilyResult[]): string {
  const skipped = results.flatMap((r) => r.rows.filter((row) => row.skipped !== undefined))
    .map((row) => `${row.family} ${row.size} ${row.pass} ${row.impl}: ${row.skipped}`);
  return [
    `Measured by \`npm run bench -- --readme\` on ${describeMachine(m)}.`,
    ...(m.peers?.length ? ['', ...m.peers.map((p) => `- ${p}`), ''] : []),
    `${STAT_LABEL} per element (softmax: per logit); "SIMD vs X" = X time / engine SIMD time.`,
    '',
    formatTable(results),
    '',
    ...results.flatMap((r) => r.notes.map((n) => `- ${r.family}: ${n}`)),
    ...skipped.map((s) => `- skipped: ${s}`),
    '',
    'Each peer was checked against the engine (SIMD) before it was timed:',
    '',
    formatAgreementSummary(results),
    '',
    formatCopyIn(results).split('\n').map((l) => `- ${l}`).join('\n'),
    formatInPlace(results).split('\n').filter(Boolean).map((l) => `- ${l}`).join('\n'),
    formatPerCall(results).split('\n').filter(Boolean).map((l) => `- ${l}`).join('\n'),
  ].join('\n');
}

const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

/**
 * Replaces the block between the bench markers in docs/performance.md with `block`; returns false (and leaves the
 * file alone) when the file or the markers are missing.
 */
export function updateReadme(block: string): boolean {
  const url = new URL('../docs/performance.md', import.meta.url);
  if (!existsSync(url)) return false;
  const text = readFileSync(url, 'utf8');
  const start = text.indexOf(README_START);
  const end = text.indexOf(README_END);
  if (start < 0 || end < start) return false;
  writeFileSync(url, `${text.slice(0, start + README_START.length)}\n${block}\n${text.slice(end)}`);
  return true;
}

/** Writes the results as JSON to bench/results/<date>.json and bench/results/latest.json; returns the path. */
export function writeResults(m: Machine, results: FamilyResult[]): string {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify({ machine: m, results }, null, 2);
  const stamped = new URL(`${m.date.replace(/[:.]/g, '-')}.json`, dir);
  writeFileSync(stamped, json);
  writeFileSync(new URL('latest.json', dir), json);
  return stamped.pathname;
}
