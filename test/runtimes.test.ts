// The packed package in every runtime it claims: `npm pack` once, install the tarball into a fresh consumer folder,
// and run there small consumers that import 'focal-wasm' by name — Node as ESM, Node as CommonJS (require(esm)),
// Deno and Bun (node_modules/.bin/deno and bun, devDependencies) — each printing its losses as float64 bits and
// SHA-256 of its gradients' bytes, which must equal Node ESM's; and the pool (2 threads) in Node, Deno and Bun,
// equal to the engine bit for bit. Also the size goals of issue 16 (tarball, unpacked, installed dependencies),
// what TypeScript says to a CommonJS consumer, and how long tsc takes on a small ESM consumer.
//
// Node versions: package.json says "engines": { "node": ">=20" }, the range where `import 'focal-wasm'` works.
// `require('focal-wasm')` needs require(esm) without a flag: Node ^20.19.0 || >=22.12.0 (this machine: 20.20;
// 21.x and 22.0-22.11 need --experimental-require-module). engines holds one range for the whole package, and
// narrowing it to the require() range would turn away ESM users on 20.0-20.18, for whom everything works; so it
// states the ESM range, and the require() range is in the README and docs/usage.md.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

// TypeScript consumers of the installed package, checked by the repository's tsc (node_modules/.bin/tsc).
const tsOptions = { strict: true, noEmit: true, target: 'ES2022', types: [], skipLibCheck: false };
const cjsFiles = ['import-equals.cts', 'import-from.cts', 'dynamic-import.cts'];
const typescript: Record<string, string> = {
  // A 30-line ESM consumer (the consumer folder is "type": "module"), for the time tsc takes on the package's types.
  'esm.ts': `import { createFocal, createFocalPool, createFocalSync, Focal, type SigmoidFocalOptions, type WithGrad } from 'focal-wasm';

const logits = new Float32Array([-3, -0.5, 0, 0.5, 3, 20]);
const targets = new Float32Array([0, 1, 1, 0, 1, 1]);
const options = { alpha: 0.25, gamma: 2 } satisfies SigmoidFocalOptions;

export async function losses(): Promise<number[]> {
  const fl: Focal = await createFocal();
  const mean: number = fl.sigmoidFocalLoss(logits, targets, options);
  const each: Float32Array = fl.sigmoidFocalLoss(logits, targets, { reduction: 'none' });
  const sum: WithGrad<number> = fl.sigmoidFocalLossWithGrad(logits, targets, { reduction: 'sum' });
  const rows: WithGrad<Float32Array> = fl.softmaxFocalLossWithGrad(logits, [1, 0], { reduction: 'none' });
  const soft: number = fl.softmaxFocalLoss(logits, new Int32Array([2, 0]), { classes: 3, gamma: 1 });
  const kornia: Float32Array = fl.sigmoidFocalLoss(logits, targets, { compat: 'kornia' });
  const scalar = createFocalSync({ simd: false });
  const star: number = scalar.sigmoidFocalLossStar(logits, targets);
  const poly: number = scalar.polyFocalLoss(logits, targets, { epsilon: 1 });
  return [mean, each[0]!, sum.loss, sum.grad[0]!, rows.loss[0]!, soft, kornia[0]!, star, poly];
}

export async function pooled(): Promise<number> {
  const pool = await createFocalPool({ threads: 2 });
  try {
    const loss: number = await pool.sigmoidFocalLoss(logits, targets);
    const grad: WithGrad<number> = await pool.sigmoidFocalLossWithGrad(logits, targets);
    return loss + grad.loss;
  } finally {
    await pool.terminate();
  }
}
`,
  // The same file importing nothing: what tsc costs without the package, under the same options.
  'baseline.ts': 'export const one: number = 1;\n',
  // skipLibCheck true is `tsc --init`'s default; false also checks the package's .d.ts files (and lib.dom's).
  'tsconfig.esm.json': JSON.stringify({ compilerOptions: { ...tsOptions, skipLibCheck: true, module: 'nodenext' }, files: ['esm.ts'] }),
  'tsconfig.esm-libcheck.json': JSON.stringify({ compilerOptions: { ...tsOptions, module: 'nodenext' }, files: ['esm.ts'] }),
  'tsconfig.baseline-libcheck.json': JSON.stringify({ compilerOptions: { ...tsOptions, module: 'nodenext' }, files: ['baseline.ts'] }),
  // A Node-only project: ES lib without DOM, @types/node (from the repository: the consumer has none).
  'tsconfig.node-lib.json': JSON.stringify({
    compilerOptions: { ...tsOptions, module: 'nodenext', lib: ['ES2022'], types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
    files: ['esm.ts'],
  }),
  // CommonJS consumers (.cts): the two require forms TypeScript types, and the dynamic import every Node 20 runs.
  // (`const { createFocalSync } = require('focal-wasm')` in a .cts file always compiles: it is untyped, `any`.)
  'import-equals.cts': `import fl = require('focal-wasm');
export const loss: number = fl.createFocalSync().sigmoidFocalLoss([1, -1], [1, 0]);
`,
  'import-from.cts': `import { createFocalSync } from 'focal-wasm';
export const loss: number = createFocalSync().sigmoidFocalLoss([1, -1], [1, 0]);
`,
  'dynamic-import.cts': `export async function loss(): Promise<number> {
  const { createFocal } = await import('focal-wasm');
  return (await createFocal()).sigmoidFocalLoss([1, -1], [1, 0]);
}
`,
  'tsconfig.node16.json': JSON.stringify({ compilerOptions: { ...tsOptions, module: 'node16' }, files: cjsFiles }),
  'tsconfig.nodenext.json': JSON.stringify({ compilerOptions: { ...tsOptions, module: 'nodenext' }, files: cjsFiles }),
};

/** tsc -p on a consumer tsconfig: its wall time and its errors as "file TScode" (sorted). */
function tsc(project: string, extra: string[] = []): { ms: number; errors: string[]; output: string } {
  const started = performance.now();
  const result = spawnSync(bin('tsc'), ['-p', project, ...extra], { cwd: join(consumer, 'ts'), encoding: 'utf8', timeout: RUN_TIMEOUT });
  const ms = performance.now() - started;
  expect(result.error).toBeUndefined();
  const output = `${result.stdout}${result.stderr}`;
  const errors = [...output.matchAll(/^(\S+?)\(\d+,\d+\): error (TS\d+)/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  expect(result.status === 0, output).toBe(errors.length === 0);
  return { ms, errors, output };
}

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
  mkdirSync(join(consumer, 'ts'));
  for (const [file, text] of Object.entries(typescript)) writeFileSync(join(consumer, 'ts', file), text);
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('package.json engines: node >=20 (ESM); require() needs 20.19+, which engines cannot say beside it', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  expect(manifest.engines).toEqual({ node: '>=20' });
  // The CommonJS run below relies on require(esm), unflagged on this Node.
  expect((process.features as { require_module?: boolean }).require_module, `Node ${process.version}`).toBe(true);
});

describe('size goals, measured on the packed tarball', () => {
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

describe('TypeScript consumers of the installed package', () => {
  /** A time from tsc's --extendedDiagnostics ("Check time", "Total time"), in seconds. */
  const diagnostic = (output: string, name: string): number => Number(new RegExp(`^${name}:\\s+([\\d.]+)s`, 'm').exec(output)?.[1]);
  const times = (ms: number, output: string): string =>
    `${Math.round(ms)} ms wall, tsc's own total ${diagnostic(output, 'Total time')} s, check ${diagnostic(output, 'Check time')} s`;

  test('a 30-line ESM consumer type-checks (skipLibCheck); the .d.ts files carry no wasm payload', () => {
    const { ms, errors, output } = tsc('tsconfig.esm.json', ['--extendedDiagnostics']);
    // The time is printed, not asserted (a shared machine's load moves it; speed belongs to bench/): what made it
    // slow was the base64 wasm typed as a string literal in the .d.ts, which this checks directly.
    console.log(`tsc --noEmit, 30-line ESM consumer, skipLibCheck: ${times(ms, output)}`);
    expect(errors).toEqual([]);
    const declarations = readdirSync(join(consumer, 'node_modules/focal-wasm/dist'), { recursive: true })
      .map(String).filter((f) => f.endsWith('.d.ts'))
      .map((f) => readFileSync(join(consumer, 'node_modules/focal-wasm/dist', f), 'utf8'));
    const bytes = declarations.reduce((n, text) => n + text.length, 0);
    const longest = Math.max(...declarations.flatMap((text) => text.split('\n').map((line) => line.length)));
    console.log(`the package's .d.ts files: ${declarations.length}, ${bytes} bytes, longest line ${longest} characters`);
    expect(longest).toBeLessThan(1000);
    expect(bytes).toBeLessThan(200_000);
  });

  test('with skipLibCheck false too (the package\'s .d.ts are checked); printed beside a consumer of nothing', () => {
    const consumer = tsc('tsconfig.esm-libcheck.json', ['--extendedDiagnostics']);
    const baseline = tsc('tsconfig.baseline-libcheck.json', ['--extendedDiagnostics']);
    console.log(
      `tsc --noEmit, skipLibCheck false: 30-line ESM consumer ${times(consumer.ms, consumer.output)}; a file importing ` +
        `nothing ${times(baseline.ms, baseline.output)} (lib.dom.d.ts is the bulk of both)`,
    );
    expect(consumer.errors).toEqual([]);
  });

  test('a Node-only project (lib ES2022 without DOM, @types/node, skipLibCheck false) type-checks', () => {
    // The WebAssembly namespace is declared by lib.dom (and lib.webworker) only, not by @types/node.
    const { errors, output } = tsc('tsconfig.node-lib.json');
    if (errors.length) console.log(`tsc, Node-only lib:\n${output.trim()}`);
    expect(errors).toEqual([]);
  });

  // The package is ESM-only, with no CommonJS build and no require types condition (either would type an import
  // that Node < 20.19 cannot run). So, for a CommonJS (.cts) consumer:
  // - module node16 / node18 (Node before require(esm)): a static import of it is an error (TS1479 for
  //   `import { } from`, TS1471 for `import = require`); `await import('focal-wasm')` type-checks and runs on
  //   every Node >= 20. That is the documented form (README, docs/usage.md).
  // - module nodenext / node20 (TypeScript >= 5.8, Node >= 20.19): both static forms type-check, as they run.
  test('CommonJS, module node16: await import() type-checks; a static import is TS1479 / TS1471', () => {
    const { errors, output } = tsc('tsconfig.node16.json');
    console.log(`tsc, .cts consumers, module node16:\n${output.trim() || '(no error)'}`);
    expect(errors).toEqual(['import-equals.cts TS1471', 'import-from.cts TS1479']);
  });

  test('CommonJS, module nodenext: import = require, import from and await import() all type-check', () => {
    const { errors, output } = tsc('tsconfig.nodenext.json');
    console.log(`tsc, .cts consumers, module nodenext: ${output.trim() || '(no error)'}`);
    expect(errors).toEqual([]);
  });
});
