// The packed package in every runtime it claims: `npm pack` once, install the tarball into a fresh consumer folder,
// and run there small consumers that import 'focal-wasm' by name — Node as ESM, Node as CommonJS (require(esm)),
// Deno and Bun (node_modules/.bin/deno and bun, devDependencies) — each printing its losses as float64 bits and
// SHA-256 of its gradients' bytes, which must equal Node ESM's; and the pool (2 threads) in Node, Deno and Bun,
// equal to the engine bit for bit. Also the size goals of issue 16 (tarball, unpacked, installed dependencies),
// what TypeScript says to a CommonJS consumer, and how long tsc takes on a small ESM consumer.
//
// Node versions: package.json says "engines": { "node": ">=20" }, the range where `import 'focal-wasm'` works.
// `require('focal-wasm')` needs require(esm) without a flag: Node ^20.19.0 || >=22.12.0 (this machine: 20.20).
// engines holds a single range, so it states the ESM one; the require() floor is in the README and docs/usage.md.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string): string => join(root, 'node_modules/.bin', name);

/** Issue 16's size goals (kB = 1000 bytes, as npm prints them). */
const MAX_TARBALL = 150_000;
const MAX_UNPACKED = 450_000;
const MAX_DEPENDENCIES = 3;
/** Per runtime run. */
const RUN_TIMEOUT = 30_000;

let dir: string;
let consumer: string;
let packed: { filename: string; size: number; unpackedSize: number; entryCount: number };

function run(command: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd: consumer, encoding: 'utf8', timeout: RUN_TIMEOUT, env: { ...process.env, NO_COLOR: '1', ...env },
  });
}

/** The output of a run that must succeed, or a failure that quotes the runtime's own error. */
function output(what: string, result: SpawnSyncReturns<string>): string {
  const said = `${result.stderr ?? ''}${result.error ? `\n${String(result.error)}` : ''}`.trim();
  expect(result.error, `${what}: could not run (${said})`).toBeUndefined();
  expect(result.status, `${what} failed (exit ${result.status}${result.signal ? `, ${result.signal}` : ''}):\n${said}`).toBe(0);
  return result.stdout;
}

// The body shared by the ESM and the CommonJS consumer: fixed inputs from an LCG (float32 logits, some far out),
// over two chunks (16384) so the pool splits them; every result as bits.
const body = `
function lcg(seed) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}
function inputs() {
  const r = lcg(20260516);
  const n = 40000;
  const x = new Float32Array(n);
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    x[i] = i % 97 === 0 ? (u - 0.5) * 200 : (u - 0.5) * 16;
    t[i] = r() < 0.3 ? 1 : 0;
  }
  const rows = 3000;
  const classes = 10;
  const logits = new Float32Array(rows * classes);
  const labels = new Int32Array(rows);
  for (let i = 0; i < logits.length; i++) logits[i] = (r() - 0.5) * 12;
  for (let i = 0; i < rows; i++) labels[i] = Math.floor(r() * classes);
  return { x, t, logits, labels };
}
function bits(v) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
async function sha256(a) {
  // slice(): a copy in an ArrayBuffer (the pool's results live in a SharedArrayBuffer, which digest() refuses).
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
async function results(fl) {
  const { x, t, logits, labels } = inputs();
  const sig = fl.sigmoidFocalLossWithGrad(x, t);
  const soft = fl.softmaxFocalLossWithGrad(logits, labels);
  return {
    simd: fl.simd,
    sigmoidFocalLoss: bits(fl.sigmoidFocalLoss(x, t)),
    sigmoidFocalLossWithGrad: { loss: bits(sig.loss), grad: await sha256(sig.grad) },
    sigmoidNone: await sha256(fl.sigmoidFocalLoss(x, t, { reduction: 'none' })),
    softmaxFocalLoss: bits(fl.softmaxFocalLoss(logits, labels)),
    softmaxFocalLossWithGrad: { loss: bits(soft.loss), grad: await sha256(soft.grad) },
  };
}
async function main(fl) {
  return { simd: await results(await fl.createFocal()), scalar: await results(fl.createFocalSync({ simd: false })) };
}
`;

const esm = `import * as fl from 'focal-wasm';
${body}
console.log(JSON.stringify(await main(fl)));
`;

const cjs = `'use strict';
const fl = require('focal-wasm');
${body}
main(fl).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exitCode = 1; });
`;

const pool = `import { createFocal, createFocalPool } from 'focal-wasm';
${body}
const { x, t } = inputs();
const engine = await createFocal();
const pool = await createFocalPool({ threads: 2 });
try {
  const withGrad = await pool.sigmoidFocalLossWithGrad(x, t);
  console.log(JSON.stringify({
    threads: pool.threads,
    simd: pool.simd,
    sigmoidFocalLoss: bits(await pool.sigmoidFocalLoss(x, t)),
    sigmoidFocalLossWithGrad: { loss: bits(withGrad.loss), grad: await sha256(withGrad.grad) },
    engine: bits(engine.sigmoidFocalLoss(x, t)),
  }));
} finally {
  await pool.terminate();
}
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'focal-wasm-runtimes-'));
  consumer = join(dir, 'consumer');
  mkdirSync(consumer);
  // --ignore-scripts: `npm test` has just built dist/; prepack would rebuild it for nothing.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  expect(pack.status, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed.filename)], {
    cwd: consumer, encoding: 'utf8', timeout: 120_000,
  });
  expect(install.status, `npm install of the tarball failed:\n${install.stderr}`).toBe(0);
  writeFileSync(join(consumer, 'esm.mjs'), esm);
  writeFileSync(join(consumer, 'cjs.cjs'), cjs);
  writeFileSync(join(consumer, 'pool.mjs'), pool);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('issue 16 size goals, measured on the packed tarball', () => {
  test(`the tarball is at most ${MAX_TARBALL / 1000} kB`, () => {
    console.log(`tarball ${packed.filename}: ${packed.size} bytes, unpacked ${packed.unpackedSize} bytes, ${packed.entryCount} files`);
    expect(packed.size).toBeLessThanOrEqual(MAX_TARBALL);
  });

  test(`unpacked, it is at most ${MAX_UNPACKED / 1000} kB`, () => {
    expect(packed.unpackedSize).toBeLessThanOrEqual(MAX_UNPACKED);
  });

  test(`installing it adds at most ${MAX_DEPENDENCIES} packages`, () => {
    // Every package npm placed in the consumer, hoisted or nested, from its lockfile; not focal-wasm itself.
    const lock = JSON.parse(readFileSync(join(consumer, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string }>;
    };
    const added = Object.entries(lock.packages)
      .filter(([path]) => path !== '' && path !== 'node_modules/focal-wasm')
      .map(([path, { version }]) => `${path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)}@${version}`)
      .sort();
    console.log(`installing focal-wasm adds ${added.length} packages: ${added.join(', ') || '(none)'}`);
    expect(added.length, added.join(', ')).toBeLessThanOrEqual(MAX_DEPENDENCIES);
  });
});

type Command = [string, string[], Record<string, string>];
const runtimes: Record<'node' | 'deno' | 'bun', (file: string) => Command> = {
  node: (file) => ['node', [file], {}],
  // Deno reads the consumer's node_modules (package.json present, --node-modules-dir=manual), from its own empty
  // cache (--cached-only: no download), with no permission at all (--no-prompt: a needed one would be an error).
  deno: (file) => [
    bin('deno'), ['run', '--cached-only', '--node-modules-dir=manual', '--no-prompt', file], { DENO_DIR: join(dir, 'deno-cache') },
  ],
  // --no-install: Bun resolves from node_modules and never auto-installs.
  bun: (file) => [bin('bun'), ['--no-install', file], {}],
};

/** Node ESM's results, which every other run must equal. */
let node: { simd: { simd: boolean; sigmoidFocalLoss: string } } | undefined;

describe('installed by name, every runtime computes the losses of Node ESM bit for bit', () => {
  test('Node, ESM: import from focal-wasm', () => {
    node = JSON.parse(output('node esm.mjs', run(...runtimes.node('esm.mjs')))) as typeof node;
    console.log(`node ${process.version} ESM: ${JSON.stringify(node)}`);
    expect(node!.simd.simd).toBe(true);
  });

  const others: Array<[string, keyof typeof runtimes, string]> = [
    ['Node, CommonJS: require(focal-wasm) (Node >= 20.19)', 'node', 'cjs.cjs'],
    ['Deno, ESM', 'deno', 'esm.mjs'],
    ['Deno, CommonJS', 'deno', 'cjs.cjs'],
    ['Bun, ESM', 'bun', 'esm.mjs'],
    ['Bun, CommonJS', 'bun', 'cjs.cjs'],
  ];
  for (const [name, runtime, file] of others) {
    test(name, () => {
      expect(node, 'Node ESM gave no result to compare with').toBeDefined();
      const started = performance.now();
      const result = JSON.parse(output(name, run(...runtimes[runtime](file)))) as unknown;
      const same = JSON.stringify(result) === JSON.stringify(node);
      console.log(`${name}: ${same ? 'equal to Node ESM' : JSON.stringify(result)} (${Math.round(performance.now() - started)} ms)`);
      expect(result).toEqual(node);
    });
  }
});

describe('the pool (2 threads) in each runtime equals the engine and Node bit for bit', () => {
  let nodePool: { sigmoidFocalLossWithGrad: unknown } | undefined;
  const pools: Array<[string, keyof typeof runtimes]> = [
    ['Node (worker_threads)', 'node'],
    ['Deno (module Web Workers from a Blob URL)', 'deno'],
    ['Bun (module Web Workers from a Blob URL)', 'bun'],
  ];
  for (const [name, runtime] of pools) {
    test(name, () => {
      // A runtime that cannot run the pool fails here with its own error (createFocalPool's rejection, on stderr).
      const result = JSON.parse(output(`${name}: createFocalPool({ threads: 2 })`, run(...runtimes[runtime]('pool.mjs')))) as {
        threads: number; simd: boolean; sigmoidFocalLoss: string; sigmoidFocalLossWithGrad: unknown; engine: string;
      };
      console.log(`${name} pool: ${JSON.stringify(result)}`);
      expect(result.threads).toBe(2);
      expect(result.simd).toBe(true);
      expect(result.sigmoidFocalLoss, 'pool vs the engine, same runtime').toBe(result.engine);
      expect(node, 'Node ESM gave no result to compare with').toBeDefined();
      expect(result.sigmoidFocalLoss, 'pool vs Node ESM\'s engine').toBe(node!.simd.sigmoidFocalLoss);
      nodePool ??= result;
      expect(result.sigmoidFocalLossWithGrad, 'gradient vs Node\'s pool').toEqual(nodePool.sigmoidFocalLossWithGrad);
    });
  }
});
