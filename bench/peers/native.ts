// The peer at the limit: bench/native/focal.c, compiled at bench time with the machine's `cc` into a Node addon
// (node_api.h only, no node-gyp) and called in the same process as the engine. Two builds: x86-64-v2 with
// -ffast-math, whose loops call libmvec's 4-lane expf/logf (the width of wasm SIMD), and -march=native (what
// the compiler does with all of this CPU). Builds go to bench/native/build/ (git-ignored), named by a hash of the
// source, the flags and the compiler, so an unchanged build is loaded, not recompiled. No compiler or no headers:
// the peer is left out, with a note.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Impl } from '../table.js';

/** What the addon exports (bench/native/focal.c); each returns the 'mean' loss, the gradient into `grad`. */
export interface NativeFocal {
  sigmoidFocal(logits: Float32Array, targets: Float32Array, alpha: number, gamma: number, grad: Float32Array | null): number;
  /** alpha < 0: no class weighting. Rows whose target is -100 are ignored. */
  softmaxFocal(
    logits: Float32Array, targets: Int32Array, classes: number, alpha: number, gamma: number, grad: Float32Array | null,
  ): number;
}

export interface NativeBuild {
  impl: Impl;
  flags: string[];
  addon: NativeFocal;
  /** The libmvec vector functions the build calls (from objdump -d), e.g. _ZGVbN4v_expf: 4 lanes, SSE. */
  vectorCalls: string[];
}

const VARIANTS: Array<{ impl: Impl; flags: string[] }> = [
  { impl: 'C x86-64-v2', flags: ['-O3', '-march=x86-64-v2', '-ffast-math'] },
  { impl: 'C native', flags: ['-O3', '-march=native', '-ffast-math'] },
];
/** Linked after the source: libmvec supplies the vector expf/logf/powf that -ffast-math lets GCC call. */
const LIBS = ['-lmvec', '-lm'];

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, '../native/focal.c');
const BUILD_DIR = join(here, '../native/build');

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The folder holding node_api.h for this Node: beside the binary, or where distributions put it. */
function nodeHeaders(): string | undefined {
  const candidates = [
    join(dirname(dirname(process.execPath)), 'include/node'), '/usr/include/node', '/usr/local/include/node',
  ];
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h')));
}

/**
 * What -march=native turns on for this compiler on this CPU (GCC's -Q --help=target: the arch name and every ISA
 * flag), '' where the compiler does not say. Part of the build hash, so a build folder carried to another CPU is
 * rebuilt, not loaded.
 */
function nativeTarget(): string {
  try {
    return run('cc', ['-march=native', '-Q', '--help=target']);
  } catch {
    return '';
  }
}

/** The distinct libmvec symbols (_ZGV…) the shared object calls, or [] where objdump is missing. */
function vectorCalls(path: string): string[] {
  try {
    const calls = run('objdump', ['-d', path]).match(/call\s+\S+\s+<(_ZGV\w+)@plt>/g) ?? [];
    return [...new Set(calls.map((c) => c.replace(/.*<(_ZGV\w+)@plt>/, '$1')))].sort();
  } catch {
    return [];
  }
}

let cached: { builds: NativeBuild[]; notes: string[] } | undefined;

/**
 * Compiles (or finds) both builds and loads them; a note per build or per reason it is missing. Safe to call in
 * every process: the second call, or a later process with the same source and compiler, loads what is there.
 */
export function nativeBuilds(): { builds: NativeBuild[]; notes: string[] } {
  if (cached) return cached;
  const builds: NativeBuild[] = [];
  const notes: string[] = [];
  let compiler: string;
  try {
    compiler = run('cc', ['--version']).split('\n')[0]!;
  } catch {
    cached = { builds, notes: ['native C peer skipped: no `cc` on PATH'] };
    return cached;
  }
  const headers = nodeHeaders();
  if (!headers) {
    cached = { builds, notes: [`native C peer skipped: no node_api.h found for ${process.execPath}`] };
    return cached;
  }
  const source = readFileSync(SOURCE);
  mkdirSync(BUILD_DIR, { recursive: true });
  const require = createRequire(import.meta.url);
  const target = nativeTarget();
  const arch = /^\s*-march=\s+(\S+)/m.exec(target)?.[1];
  for (const { impl, flags } of VARIANTS) {
    const hash = createHash('sha256').update(source).update(flags.join(' ')).update(compiler).update(headers)
      .update(flags.includes('-march=native') ? target : '').digest('hex').slice(0, 12);
    const prefix = `focal-${flags[1]!.replace('-march=', '')}-`;
    const out = join(BUILD_DIR, `${prefix}${hash}.node`);
    const command = ['cc', '-shared', '-fPIC', ...flags, `-I${headers}`, '-o', out, SOURCE, ...LIBS];
    try {
      if (!existsSync(out)) {
        run(command[0]!, command.slice(1));
        // Earlier builds of this variant (another source or compiler) are stale: one file per variant stays.
        for (const old of readdirSync(BUILD_DIR)) {
          if (old.startsWith(prefix) && join(BUILD_DIR, old) !== out) rmSync(join(BUILD_DIR, old));
        }
      }
      const build = { impl, flags, addon: require(out) as NativeFocal, vectorCalls: vectorCalls(out) };
      builds.push(build);
      const resolved = arch && flags.includes('-march=native') ? ` (-march=native is ${arch} here)` : '';
      notes.push(`${impl}: ${compiler}, ${[...flags, ...LIBS].join(' ')}${resolved}; libmvec calls in the object: ` +
        `${build.vectorCalls.join(', ') || 'none found (or no objdump)'}`);
    } catch (e) {
      const why = e instanceof Error ? (e as Error & { stderr?: string }).stderr || e.message : String(e);
      notes.push(`${impl} skipped: \`${command.join(' ')}\` failed: ${why.split('\n')[0]}`);
    }
  }
  cached = { builds, notes };
  return cached;
}

/** How the peers at the limit run here (or why one is missing): lines for the table's header. */
export async function peerNotes(): Promise<string[]> {
  let onnx: string;
  try {
    onnx = (await import('./onnx.js')).onnxNote;
  } catch (e) {
    onnx = `onnxruntime unavailable: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
  }
  return [...nativeBuilds().notes, onnx];
}
