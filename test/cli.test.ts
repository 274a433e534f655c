// The command line (`focal-wasm loss`, dist/cli/cli.js as built by `npm run build`), run as a user runs it, on small
// .npy files this test writes with npyjs: the printed loss and the --grad file against the float64 reference, and
// every bad input (missing file, not .npy, wrong dtype, mismatched lengths, bad option values) giving a one-line
// message on stderr, exit code 2 and no stack trace.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, parse, type TypedArray } from 'npyjs';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from './engines.js';
import { asymmetricRef, dflReduced, sigmoidFocalReduced, softmaxFocalReduced, ultralyticsDflRef } from './reference.js';

const CLI = fileURLToPath(new URL('../dist/cli/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'focal-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npy(name: string, data: TypedArray, shape?: number[]): string {
  const path = join(dir, name);
  writeFileSync(path, new Uint8Array(dump(data, shape)));
  return path;
}

function readNpy(path: string): { data: Float32Array; shape: number[]; dtype: string } {
  const bytes = readFileSync(path);
  const array = parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return { data: array.data as Float32Array, shape: array.shape, dtype: array.dtype };
}

/** Runs `node dist/cli/cli.js ...args` (asynchronously, so the cases can run side by side). */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** Relative difference, for values compared against the float64 reference (the engine reads float32). */
const rel = (got: number, want: number): number => Math.abs(got - want) / Math.max(Math.abs(want), 1e-30);

// 64 x 5 logits, sigmoid targets (about a third positive), softmax class indices with two ignored rows.
const N = 64;
const C = 5;
const random = rng(7);
const logits = Float32Array.from({ length: N * C }, () => 6 * (random() - 0.5));
const binary = Int32Array.from({ length: N * C }, () => (random() < 0.3 ? 1 : 0));
const classes = Int32Array.from({ length: N }, (_, i) => (i % 17 === 5 ? -100 : Math.floor(random() * C)));
const files = {
  logits: npy('logits.npy', logits, [N, C]),
  logits64: npy('logits64.npy', Float64Array.from(logits), [N, C]),
  binary: npy('binary.npy', binary, [N, C]),
  binaryFloat: npy('binary-f4.npy', Float32Array.from(binary), [N, C]),
  classes: npy('classes.npy', classes),
};

describe.concurrent('focal-wasm loss: results', () => {
  it('prints the mean sigmoid focal loss (alpha 0.25, gamma 2) of float32 logits and int targets', async () => {
    const r = await cli('loss', '--logits', files.logits, '--targets', files.binary);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = sigmoidFocalReduced(logits, binary, { alpha: 0.25, gamma: 2, reduction: 'mean' }).loss as number;
    expect(rel(Number(r.stdout.trim()), want)).toBeLessThan(1e-6);
  });

  it('reads float64 logits and float targets, honours --gamma, --alpha none, --reduction sum', async () => {
    const r = await cli('loss', '--logits', files.logits64, '--targets', files.binaryFloat, '--gamma', '0.5', '--alpha', 'none',
      '--reduction', 'sum');
    expect(r.code).toBe(0);
    const want = sigmoidFocalReduced(logits, binary, { alpha: null, gamma: 0.5, reduction: 'sum' }).loss as number;
    expect(rel(Number(r.stdout.trim()), want)).toBeLessThan(1e-6);
  });

  it('writes the gradient with --grad: float32, the shape of the logits, d(mean loss)/d(logits)', async () => {
    const gradPath = join(dir, 'grad.npy');
    const r = await cli('loss', '--logits', files.logits, '--targets', files.binary, '--grad', gradPath);
    expect(r.code).toBe(0);
    const grad = readNpy(gradPath);
    expect(grad.dtype).toBe('f4');
    expect(grad.shape).toEqual([N, C]);
    const want = sigmoidFocalReduced(logits, binary, { alpha: 0.25, gamma: 2, reduction: 'mean' }).grad;
    const scale = Math.max(...want.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(grad.data[i]! - want[i]!) / scale);
    expect(worst).toBeLessThan(1e-5);
  });

  it('--loss asymmetricLoss reduces by its own default, the sum; --reduction mean and --normalizer as asked', async () => {
    const o = { gammaPos: 1, gammaNeg: 4, clip: 0.05, eps: 1e-8, detachModulator: true };
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += asymmetricRef(logits[i]!, binary[i]!, o).loss;
    const r = await cli('loss', '--logits', files.logits, '--targets', files.binary, '--loss', 'asymmetricLoss');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(rel(Number(r.stdout.trim()), sum)).toBeLessThan(1e-6);
    const mean = await cli('loss', '--logits', files.logits, '--targets', files.binary, '--loss', 'asymmetricLoss',
      '--reduction', 'mean', '--normalizer', '8', '--set', 'gammaNeg=4');
    expect(mean.code).toBe(0);
    expect(rel(Number(mean.stdout.trim()), sum / 8)).toBeLessThan(1e-6);
    const refused = await cli('loss', '--logits', files.logits, '--targets', files.binary, '--loss', 'asymmetricLoss', '--normalizer', '8');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--normalizer applies to --reduction mean only, not sum');
  });

  it('prints one loss per line for --reduction none, and writes them with --out', async () => {
    const want = sigmoidFocalReduced(logits, binary, { alpha: 0.25, gamma: 2, reduction: 'none' }).loss as Float64Array;
    const r = await cli('loss', '--logits', files.logits, '--targets', files.binary, '--reduction', 'none');
    expect(r.code).toBe(0);
    const printed = r.stdout.trim().split('\n').map(Number);
    expect(printed).toHaveLength(N * C);
    printed.forEach((v, i) => expect(rel(v, want[i]!) < 1e-5 || Math.abs(v - want[i]!) < 1e-12).toBe(true));
    const outPath = join(dir, 'losses.npy');
    expect((await cli('loss', '--logits', files.logits, '--targets', files.binary, '--reduction', 'none', '--out', outPath)).code).toBe(0);
    const out = readNpy(outPath);
    expect(out.shape).toEqual([N, C]);
    expect(Array.from(out.data)).toEqual(printed.map(Math.fround));
  });

  it('computes the softmax focal loss with --softmax (ignored rows left out) and its N x C gradient', async () => {
    const gradPath = join(dir, 'grad-softmax.npy');
    const r = await cli('loss', '--logits', files.logits, '--targets', files.classes, '--softmax', '--grad', gradPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = softmaxFocalReduced(logits, classes, C, { alpha: null, gamma: 2, reduction: 'mean' });
    expect(rel(Number(r.stdout.trim()), want.loss as number)).toBeLessThan(1e-5);
    const grad = readNpy(gradPath);
    expect(grad.shape).toEqual([N, C]);
    const scale = Math.max(...want.grad.map(Math.abs));
    for (let i = 0; i < want.grad.length; i++) expect(Math.abs(grad.data[i]! - want.grad[i]!) / scale).toBeLessThan(1e-5);
  });

  it('computes --loss distributionFocalLoss on (N, bins) logits and N targets, mmdet and ultralytics', async () => {
    const y = Float32Array.from({ length: N }, (_, i) => (i % 9 === 0 ? C - 1 : ((i * 0.61) % (C - 1))));
    const targets = npy('dfl-targets.npy', y);
    const gradPath = join(dir, 'grad-dfl.npy');
    const r = await cli('loss', '--logits', files.logits, '--targets', targets, '--loss', 'distributionFocalLoss', '--grad', gradPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const want = dflReduced(logits, y, C, { reduction: 'mean' });
    expect(rel(Number(r.stdout.trim()), want.loss as number)).toBeLessThan(1e-5);
    const grad = readNpy(gradPath);
    expect(grad.shape).toEqual([N, C]);
    for (let i = 0; i < want.grad.length; i++) expect(Math.abs(grad.data[i]! - want.grad[i]!) / (1 / N)).toBeLessThan(1e-5);
    const u = await cli('loss', '--logits', files.logits, '--targets', targets, '--loss', 'distributionFocalLoss',
      '--set', 'compat="ultralytics"', '--reduction', 'none');
    expect(u.stderr).toBe('');
    const perBox = ultralyticsDflRef(logits, y, C, { reduction: 'none' }).loss as Float64Array;
    const printed = u.stdout.trim().split('\n').map(Number);
    expect(printed.length).toBe(N / 4);
    for (let b = 0; b < N / 4; b++) expect(rel(printed[b]!, perBox[b]!)).toBeLessThan(1e-5);
    const bad = await cli('loss', '--logits', files.logits, '--targets', files.classes, '--loss', 'distributionFocalLoss');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/targets\[5\] = -100: expected a value in \[0, 4\]/);
  });

  it('takes 1-D softmax logits with --classes, and per-class --alpha weights', async () => {
    const flat = npy('logits-flat.npy', logits);
    const r = await cli('loss', '--logits', flat, '--targets', files.classes, '--softmax', '--classes', String(C),
      '--alpha', '0.1,0.2,0.3,0.2,0.2', '--gamma', '1');
    expect(r.code).toBe(0);
    const want = softmaxFocalReduced(logits, classes, C, { alpha: [0.1, 0.2, 0.3, 0.2, 0.2], gamma: 1, reduction: 'mean' });
    expect(rel(Number(r.stdout.trim()), want.loss as number)).toBeLessThan(1e-5);
  });

  it('prints --help with the loss command and its options', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('loss [options]');
    const help = await cli('loss', '--help');
    expect(help.code).toBe(0);
    for (const flag of ['--logits', '--targets', '--gamma', '--alpha', '--softmax', '--classes', '--reduction', '--grad']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

describe.concurrent('focal-wasm loss: bad input is one line on stderr and exit code 2', () => {
  const notNpy = join(dir, 'notes.npy');
  writeFileSync(notNpy, 'just some text, not an array\n');
  const truncated = join(dir, 'truncated.npy');
  writeFileSync(truncated, readFileSync(files.logits).subarray(0, readFileSync(files.logits).length - 6));
  const bigEndian = join(dir, 'big-endian.npy');
  writeFileSync(bigEndian, Buffer.from(readFileSync(files.logits).toString('latin1').replace("'<f4'", "'>f4'"), 'latin1'));
  const intLogits = npy('int-logits.npy', binary, [N, C]);
  const shortTargets = npy('short.npy', binary.subarray(0, N * C - 1));
  const outOfRange = npy('twos.npy', Int32Array.from(binary, (v) => 2 * v), [N, C]);
  const badClass = npy('bad-class.npy', Int32Array.from(classes, (v, i) => (i === 3 ? C : v)));
  const missing = join(dir, 'does-not-exist.npy');

  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['--logits', missing, '--targets', files.binary], /--logits .*does-not-exist\.npy: cannot read the file \(no such file\)/],
    ['a directory', ['--logits', dir, '--targets', files.binary], /cannot read the file \(it is a directory\)/],
    ['a file that is not .npy', ['--logits', files.logits, '--targets', notNpy], /--targets .*: not an \.npy file/],
    ['a truncated file', ['--logits', truncated, '--targets', files.binary], /truncated or corrupt/],
    ['big-endian data', ['--logits', bigEndian, '--targets', files.binary], /big-endian data is not supported/],
    ['integer logits', ['--logits', intLogits, '--targets', files.binary], /dtype int32: expected float32 or float64 logits/],
    ['mismatched lengths', ['--logits', files.logits, '--targets', shortTargets], /has 319 values but the logits \(64, 5\) have 320/],
    ['targets outside [0, 1]', ['--logits', files.logits, '--targets', outOfRange], /targets\[\d+\] = 2: expected a value in \[0, 1\]/],
    ['a class index out of range', ['--logits', files.logits, '--targets', badClass, '--softmax'], /targets\[3\] = 5: expected a class index in \[0, 5\)/],
    ['softmax targets of the wrong length', ['--logits', files.logits, '--targets', npy('short-classes.npy', classes.subarray(1)), '--softmax'], /shape \(63,\): expected 64 class indices/],
    ['--classes disagreeing with the logits', ['--logits', files.logits, '--targets', files.classes, '--softmax', '--classes', '4'], /--classes 4 disagrees with the logits' shape \(64, 5\)/],
    ['per-class alpha without --softmax', ['--logits', files.logits, '--targets', files.binary, '--alpha', '0.2,0.8'], /a list of per-class weights needs --softmax/],
    ['softmax 1-D logits without --classes', ['--logits', npy('flat2.npy', logits), '--targets', files.classes, '--softmax'], /--softmax expects \(N, C\) logits, or 1-D logits with --classes C/],
    ['a negative gamma', ['--logits', files.logits, '--targets', files.binary, '--gamma', '-1'], /--gamma .*'-1' is invalid\. expected a finite number >= 0/],
    ['a gamma that is not a number', ['--logits', files.logits, '--targets', files.binary, '--gamma', 'two'], /'two' is invalid/],
    ['alpha above 1', ['--logits', files.logits, '--targets', files.binary, '--alpha', '1.5'], /--alpha = 1\.5: expected a number in \[0, 1\]/],
    ['alpha that is not a number', ['--logits', files.logits, '--targets', files.binary, '--alpha', 'lots'], /--alpha lots: expected a number in \[0, 1\], 'none'/],
    ['an unknown reduction', ['--logits', files.logits, '--targets', files.binary, '--reduction', 'avg'], /'avg' is invalid\. Allowed choices are mean, sum, none/],
    ['a missing --targets', ['--logits', files.logits], /required option '--targets <file\.npy>' not specified/],
    ['an unknown option', ['--logits', files.logits, '--targets', files.binary, '--gama', '2'], /unknown option '--gama'/],
    ['--grad into a missing folder', ['--logits', files.logits, '--targets', files.binary, '--grad', join(dir, 'no', 'g.npy')], /--grad .*: cannot write the file \(ENOENT\)/],
  ];

  it.each(cases)('%s', async (_, args, message) => {
    const r = await cli('loss', ...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^focal-wasm: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
