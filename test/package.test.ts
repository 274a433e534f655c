// The package as a user gets it: `npm pack`, install the tarball into an empty folder, import `focal-wasm` by
// name from a script there, compute a loss. Catches a broken `exports`, `files` or a missing dependency.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { sigmoidFocalReduced, relativeError } from './reference.js';

const root = new URL('..', import.meta.url).pathname;
let dir: string;
let tarball: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'focal-wasm-pack-'));
  // --ignore-scripts: `npm test` has just built dist/; prepack would rebuild it for nothing.
  const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: root, encoding: 'utf8',
  });
  tarball = join(dir, (JSON.parse(packed) as Array<{ filename: string }>)[0]!.filename);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: dir, encoding: 'utf8' });
}, 180_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds dist and the README, not the sources, tests or build outputs', () => {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(listing).toContain('package/dist/index.js');
  expect(listing).toContain('package/dist/index.d.ts');
  expect(listing).toContain('package/README.md');
  expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/') || f.endsWith('.wasm'))).toBe(false);
});

test('installed by name, it computes the reference loss in ESM, both builds', () => {
  writeFileSync(
    join(dir, 'use.mjs'),
    `import { createFocal, createFocalSync } from 'focal-wasm';
const logits = [-3, -0.5, 0, 0.5, 3, 20];
const targets = [0, 1, 1, 0, 1, 1];
const simd = await createFocal();
const scalar = createFocalSync({ simd: false });
console.log(JSON.stringify({
  simd: simd.simd,
  mean: simd.sigmoidFocalLoss(logits, targets),
  scalarMean: scalar.sigmoidFocalLoss(logits, targets),
  grad: Array.from(simd.sigmoidFocalLossWithGrad(logits, targets, { reduction: 'sum' }).grad),
}));`,
  );
  const result = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' })) as {
    simd: boolean; mean: number; scalarMean: number; grad: number[];
  };
  const x = [-3, -0.5, 0, 0.5, 3, 20];
  const t = [0, 1, 1, 0, 1, 1];
  const want = sigmoidFocalReduced(x, t, { alpha: 0.25, gamma: 2, reduction: 'mean' });
  expect(result.simd).toBe(true);
  expect(relativeError(result.mean, want.loss as number)).toBeLessThan(1e-6);
  expect(result.scalarMean).toBe(result.mean);
  const sum = sigmoidFocalReduced(x, t, { alpha: 0.25, gamma: 2, reduction: 'sum' });
  result.grad.forEach((g, i) => expect(relativeError(g, sum.grad[i]!)).toBeLessThan(1e-5));
  expect(readdirSync(join(dir, 'node_modules'))).toContain('focal-wasm');
});
