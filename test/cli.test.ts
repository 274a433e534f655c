// The command line (`focal-wasm loss`, dist/cli/cli.js as built by `npm run build`), run as a user runs it, on small
// .npy files this test writes (src/cli/npy.ts's writer, or raw bytes for broken headers): the printed loss and the
// --grad file against the float64 reference, labels in every dtype numpy gives, and every bad input (missing file,
// not .npy, a malformed header, wrong dtype, mismatched shapes, bad option values) giving a one-line message on
// stderr, exit code 2, no stack trace and no output file left behind.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, type NpyData, type NpyDtype } from '../src/cli/npy.js';
import { rng } from './engines.js';
import {
  asymmetricRef, dflReduced, OVERLAP_REF_DEFAULTS, overlapRef, sigmoidFocalReduced, softmaxFocalReduced, ultralyticsDflRef,
} from './reference.js';

const CLI = fileURLToPath(new URL('../dist/cli/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'focal-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npy(name: string, data: NpyData, shape?: number[], dtype?: NpyDtype): string {
  const path = join(dir, name);
  writeFileSync(path, encodeNpy(data, shape, dtype));
  return path;
}

/**
 * An .npy file written byte by byte, for headers the writer would never produce: version 1, the dict as given,
 * padded to 64 bytes as numpy does, then the data.
 */
function rawNpy(name: string, dict: string, data: Uint8Array): string {
  const length = Math.ceil((10 + dict.length + 1) / 64) * 64 - 10;
  const header = Buffer.alloc(10 + length, 0x20);
  header.write('\x93NUMPY\x01\x00', 0, 'latin1');
  header.writeUInt16LE(length, 8);
  header.write(dict, 10, 'latin1');
  header[header.length - 1] = 0x0a;
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([header, data]));
  return path;
}

function readNpy(path: string): { data: Float32Array; shape: number[]; dtype: string } {
  const array = parseNpy(readFileSync(path));
  return { data: array.data as Float32Array, shape: array.shape, dtype: array.dtype };
}

/** The bytes of a typed array, for rawNpy. */
const bytesOf = (a: NpyData): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

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
    expect(grad.dtype).toBe('float32');
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

  it('computes --loss diceLoss / diceFocalLoss on (N, C, H, W) logits: the shape from the header, int64 class indices or one-hot', async () => {
    const shape = [2, 3, 4, 5];
    const r = rng(33);
    const x = Float32Array.from({ length: 120 }, () => (r() - 0.5) * 6);
    const y = Int32Array.from({ length: 40 }, () => Math.floor(r() * 3));
    const logitsPath = npy('dice-logits.npy', x, shape);
    const indices = npy('dice-classes.npy', BigInt64Array.from(y, (v) => BigInt(v)), [2, 4, 5]);
    const oneHot = Float32Array.from({ length: 120 }, (_, i) => {
      const b = Math.floor(i / 60);
      const c = Math.floor(i / 20) % 3;
      return y[b * 20 + (i % 20)] === c ? 1 : 0;
    });
    const oneHotPath = npy('dice-onehot.npy', oneHot, shape);
    for (const loss of ['diceLoss', 'diceFocalLoss'] as const) {
      const want = overlapRef(x, y, true, { ...OVERLAP_REF_DEFAULTS, loss: loss === 'diceLoss' ? 'dice' : 'diceFocal', shape });
      for (const targets of [indices, oneHotPath]) {
        const gradPath = join(dir, `grad-${loss}.npy`);
        const out = await cli('loss', '--logits', logitsPath, '--targets', targets, '--loss', loss, '--grad', gradPath);
        expect(out.stderr).toBe('');
        expect(rel(Number(out.stdout.trim()), want.loss as number)).toBeLessThan(1e-5);
        const grad = readNpy(gradPath);
        expect(grad.shape).toEqual(shape);
        const scale = Math.max(...want.grad.map(Math.abs));
        for (let i = 0; i < 120; i++) expect(Math.abs(grad.data[i]! - want.grad[i]!) / scale).toBeLessThan(1e-5);
      }
    }
    const bad = await cli('loss', '--logits', logitsPath, '--targets', npy('dice-bad.npy', y, [40]), '--loss', 'diceLoss');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/shape \(40,\) does not fit the logits' shape \(2, 3, 4, 5\): expected \(2, 4, 5\) class indices/);
  });

  it('takes 1-D softmax logits with --classes, and per-class --alpha weights', async () => {
    const flat = npy('logits-flat.npy', logits);
    const r = await cli('loss', '--logits', flat, '--targets', files.classes, '--softmax', '--classes', String(C),
      '--alpha', '0.1,0.2,0.3,0.2,0.2', '--gamma', '1');
    expect(r.code).toBe(0);
    const want = softmaxFocalReduced(logits, classes, C, { alpha: [0.1, 0.2, 0.3, 0.2, 0.2], gamma: 1, reduction: 'mean' });
    expect(rel(Number(r.stdout.trim()), want.loss as number)).toBeLessThan(1e-5);
  });

  it('reads labels in every dtype numpy gives (int64, its default, included): the loss and gradient of float32 labels', async () => {
    const wantGrad = join(dir, 'grad-labels-f4.npy');
    const want = await cli('loss', '--logits', files.logits, '--targets', files.binaryFloat, '--grad', wantGrad);
    expect(want.code).toBe(0);
    const labels: Record<string, string> = {
      int64: npy('binary-i8.npy', BigInt64Array.from(binary, (v) => BigInt(v)), [N, C]),
      uint64: npy('binary-u8.npy', BigUint64Array.from(binary, (v) => BigInt(v)), [N, C]),
      int32: files.binary,
      uint32: npy('binary-u4.npy', Uint32Array.from(binary), [N, C]),
      int16: npy('binary-i2.npy', Int16Array.from(binary), [N, C]),
      uint16: npy('binary-u2.npy', Uint16Array.from(binary), [N, C]),
      int8: npy('binary-i1.npy', Int8Array.from(binary), [N, C]),
      uint8: npy('binary-u1.npy', Uint8Array.from(binary), [N, C]),
      bool: npy('binary-b1.npy', Uint8Array.from(binary), [N, C], 'bool'),
      float64: npy('binary-f8.npy', Float64Array.from(binary), [N, C]),
    };
    await Promise.all(Object.entries(labels).map(async ([dtype, path]) => {
      const gradPath = join(dir, `grad-labels-${dtype}.npy`);
      const r = await cli('loss', '--logits', files.logits, '--targets', path, '--grad', gradPath);
      expect(r.stderr, dtype).toBe('');
      expect(r.stdout, dtype).toBe(want.stdout);
      expect(readFileSync(gradPath).equals(readFileSync(wantGrad)), dtype).toBe(true);
    }));
  });

  it('reads class indices as int64, int16, whole float64 or uint8 (with --ignore-index 255 or --set ignoreIndex=255): the loss of int32 indices', async () => {
    const want = await cli('loss', '--logits', files.logits, '--targets', files.classes, '--softmax');
    expect(want.code).toBe(0);
    const runs = [
      [npy('classes-i8.npy', BigInt64Array.from(classes, (v) => BigInt(v)))],
      [npy('classes-i2.npy', Int16Array.from(classes))],
      [npy('classes-f8.npy', Float64Array.from(classes))],
      [npy('classes-u1.npy', Uint8Array.from(classes, (v) => (v < 0 ? 255 : v))), '--ignore-index', '255'],
      // a negative value as its own argument, as users type it
      [npy('classes-minus-one.npy', Int32Array.from(classes, (v) => (v < 0 ? -1 : v))), '--ignore-index', '-1'],
      // as any option of the loss, through --set (the softmax branch once overrode it with the default)
      [npy('classes-u1-set.npy', Uint8Array.from(classes, (v) => (v < 0 ? 255 : v))), '--set', 'ignoreIndex=255'],
    ];
    await Promise.all(runs.map(async ([path, ...rest]) => {
      const r = await cli('loss', '--logits', files.logits, '--targets', path!, '--softmax', ...rest);
      expect(r.stderr, path).toBe('');
      expect(r.stdout, path).toBe(want.stdout);
    }));
  });

  it('transposes Fortran-ordered 2-D logits (np.asfortranarray) to the loss of the C-ordered ones', async () => {
    const columns = new Float32Array(N * C);
    for (let i = 0; i < N; i++) for (let c = 0; c < C; c++) columns[c * N + i] = logits[i * C + c]!;
    const fortran = rawNpy('logits-fortran.npy', `{'descr': '<f4', 'fortran_order': True, 'shape': (${N}, ${C}), }`, bytesOf(columns));
    const [a, b] = await Promise.all([
      cli('loss', '--logits', fortran, '--targets', files.classes, '--softmax'),
      cli('loss', '--logits', files.logits, '--targets', files.classes, '--softmax'),
    ]);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe(b.stdout);
  });

  it("writes numpy's header: version 1, the dict np.save writes, padded with spaces to 64 bytes, ended by a newline", async () => {
    const gradPath = join(dir, 'grad-header.npy');
    expect((await cli('loss', '--logits', files.logits, '--targets', files.binary, '--grad', gradPath)).code).toBe(0);
    const bytes = readFileSync(gradPath);
    const length = bytes.readUInt16LE(8);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('\x93NUMPY\x01\x00');
    expect((10 + length) % 64).toBe(0);
    expect(bytes.toString('latin1', 10, 10 + length)).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(64, 5\), \} *\n$/);
    expect(bytes.length).toBe(10 + length + 4 * N * C);
  });

  it('prints --version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await cli('--version');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
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
    expect(help.stdout).toContain('nothing is broadcast');
    expect((await cli('loss', '--gama', '--help')).stdout).toBe(help.stdout); // --help wins over a mistake
    expect((await cli('help', 'loss')).stdout).toBe(help.stdout);
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
  const data = bytesOf(logits);
  const header = (shape: string, descr = '<f4', extra = ''): string => `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, ${extra}}`;
  const malformed = {
    negative: rawNpy('negative-shape.npy', header('(-64, 5)'), data),
    fractional: rawNpy('fractional-shape.npy', header('(64.0, 5)'), data),
    named: rawNpy('named-shape.npy', header('(N, C)'), data),
    notTuple: rawNpy('int-shape.npy', header('(320)'), data),
    float16: rawNpy('float16.npy', header('(64, 10)', '<f2'), data),
    noOrder: rawNpy('no-byte-order.npy', header('(64, 5)', '|f4'), data),
    text: rawNpy('text.npy', header('(64,)', '<U5'), new Uint8Array(64 * 20)),
    extraKey: rawNpy('extra-key.npy', header('(64, 5)', '<f4', "'order': 'C', "), data),
    short: rawNpy('short-data.npy', header('(64, 5)'), data.subarray(4)),
    long: rawNpy('long-data.npy', header('(64, 5)'), Buffer.concat([data, Buffer.alloc(4)])),
    fortran3d: rawNpy('fortran-3d.npy', "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 16, 5), }", data),
  };
  const cutHeader = join(dir, 'cut-header.npy');
  writeFileSync(cutHeader, readFileSync(files.logits).subarray(0, 40));
  const hugeClass = npy('huge-class.npy', BigInt64Array.from(classes, (v, i) => (i === 3 ? 2n ** 40n : BigInt(v))));
  const flatTargets = npy('flat-targets.npy', binary); // (320,): the size of (64, 5), not its shape
  const transposed = npy('transposed-targets.npy', binary, [C, N]);
  const column = npy('column-logits.npy', logits.subarray(0, N), [N, 1]);
  const columnClasses = npy('column-classes.npy', classes, [N, 1]);
  const softTransposed = npy('soft-transposed.npy', Float32Array.from(binary), [C, N]);

  const cases: [string, string[], RegExp][] = [
    ['a missing file', ['--logits', missing, '--targets', files.binary], /--logits .*does-not-exist\.npy: cannot read the file \(no such file\)/],
    ['a directory', ['--logits', dir, '--targets', files.binary], /cannot read the file \(it is a directory\)/],
    ['a file that is not .npy', ['--logits', files.logits, '--targets', notNpy], /--targets .*: not an \.npy file/],
    ['a truncated file', ['--logits', truncated, '--targets', files.binary], /truncated or corrupt/],
    ['big-endian data', ['--logits', bigEndian, '--targets', files.binary], /big-endian data is not supported/],
    ['integer logits', ['--logits', intLogits, '--targets', files.binary], /dtype int32: expected float32 or float64 logits/],
    ['mismatched lengths', ['--logits', files.logits, '--targets', shortTargets], /shape \(319,\) differs from the logits' shape \(64, 5\)/],
    ['a negative shape entry', ['--logits', malformed.negative, '--targets', files.binary], /--logits .*negative-shape\.npy: corrupt \.npy header: shape entry '-64' is not a non-negative integer/],
    ['a fractional shape entry', ['--logits', malformed.fractional, '--targets', files.binary], /shape entry '64\.0' is not a non-negative integer/],
    ['a shape entry that is not a number', ['--logits', malformed.named, '--targets', files.binary], /shape entry 'N' is not a non-negative integer/],
    ['a shape that is not a tuple', ['--logits', malformed.notTuple, '--targets', files.binary], /shape \(320\) is not a tuple/],
    ['a float16 descr', ['--logits', malformed.float16, '--targets', files.binary], /dtype float16 \('<f2'\) is not supported/],
    ["a multi-byte descr without byte order ('|f4')", ['--logits', malformed.noOrder, '--targets', files.binary], /byte order '\|' is not valid for float32/],
    ['a string descr', ['--logits', files.logits, '--targets', malformed.text], /--targets .*: dtype U5 \('<U5'\) is not supported/],
    ['a header with an unknown key', ['--logits', malformed.extraKey, '--targets', files.binary], /unexpected key 'order'/],
    ['data shorter than the shape', ['--logits', malformed.short, '--targets', files.binary], /truncated or corrupt \.npy file: shape \(64, 5\) of float32 needs 1280 bytes of data, the file holds 1276/],
    ['data longer than the shape', ['--logits', malformed.long, '--targets', files.binary], /needs 1280 bytes of data, the file holds 1284/],
    ['a header cut short', ['--logits', cutHeader, '--targets', files.binary], /truncated or corrupt \.npy file: its header says/],
    ['Fortran order in 3-D', ['--logits', malformed.fortran3d, '--targets', files.binary], /Fortran-ordered arrays of more than 2 dimensions are not supported/],
    ['an int64 class index outside int32', ['--logits', files.logits, '--targets', hugeClass, '--softmax'], /targets\[3\] = 1099511627776: expected a class index, a whole number within the int32 range/],
    ['targets of the size but not the shape of the logits', ['--logits', files.logits, '--targets', flatTargets], /shape \(320,\) differs from the logits' shape \(64, 5\): expected the same shape/],
    ['transposed targets', ['--logits', files.logits, '--targets', transposed], /shape \(5, 64\) differs from the logits' shape \(64, 5\)/],
    ['(N,) targets for (N, 1) logits', ['--logits', column, '--targets', npy('column-targets.npy', binary.subarray(0, N))], /shape \(64,\) differs from the logits' shape \(64, 1\)/],
    ['(N, 1) class indices', ['--logits', files.logits, '--targets', columnClasses, '--softmax'], /shape \(64, 1\) does not fit the logits' shape \(64, 5\): expected \(64,\) class indices or \(64, 5\) soft targets/],
    ['transposed soft targets', ['--logits', files.logits, '--targets', softTransposed, '--softmax'], /shape \(5, 64\) does not fit the logits' shape \(64, 5\)/],
    ['integer soft targets', ['--logits', files.logits, '--targets', files.binary, '--softmax'], /dtype int32: soft targets .* must be float32 or float64/],
    ['targets outside [0, 1]', ['--logits', files.logits, '--targets', outOfRange], /targets\[\d+\] = 2: expected a value in \[0, 1\]/],
    ['a class index out of range', ['--logits', files.logits, '--targets', badClass, '--softmax'], /targets\[3\] = 5: expected a class index in \[0, 5\)/],
    ['softmax targets of the wrong length', ['--logits', files.logits, '--targets', npy('short-classes.npy', classes.subarray(1)), '--softmax'], /shape \(63,\) does not fit the logits' shape \(64, 5\): expected \(64,\) class indices/],
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
    ['a value for a switch', ['--logits', files.logits, '--targets', files.binary, '--softmax=yes'], /option '--softmax' takes no value/],
    ['a value missing at the end', ['--logits', files.logits, '--targets', files.binary, '--gamma'], /option '--gamma <number>' argument missing/],
    ['an argument that is no option', ['--logits', files.logits, '--targets', files.binary, 'extra.npy'], /unexpected argument 'extra\.npy'/],
    ['a --set without a name', ['--logits', files.logits, '--targets', files.binary, '--set', '=1'], /option '--set <name=value>' argument '=1' is invalid\. expected name=value/],
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

describe.concurrent('focal-wasm loss: an error exit leaves no output file, new, half-written or replaced', () => {
  const outOfRange = npy('twos-left.npy', Int32Array.from(binary, (v) => 2 * v), [N, C]);
  const cases: [string, (folder: string) => string[]][] = [
    ['--out with a reduced loss (found before reading)', (f) => ['--grad', join(f, 'grad.npy'), '--out', join(f, 'out.npy')]],
    ['targets the engine refuses (found after reading)', (f) => ['--targets', outOfRange, '--grad', join(f, 'grad.npy')]],
    ['a bad --set option (found by the engine)', (f) => ['--set', 'bogus=1', '--grad', join(f, 'grad.npy')]],
    ['--out unwritable, after --grad was written', (f) => ['--reduction', 'none', '--grad', join(f, 'grad.npy'), '--out', join(f, 'no', 'out.npy')]],
    ['--out onto a directory', (f) => {
      mkdirSync(join(f, 'sub'));
      return ['--reduction', 'none', '--grad', join(f, 'grad.npy'), '--out', join(f, 'sub')];
    }],
    ['--grad and --out the same file', (f) => ['--reduction', 'none', '--grad', join(f, 'grad.npy'), '--out', join(f, 'grad.npy')]],
  ];

  it.each(cases)('%s', async (_, args) => {
    const folder = mkdtempSync(join(dir, 'left-'));
    const given = args(folder);
    const before = readdirSync(folder);
    const r = await cli('loss', '--logits', files.logits, '--targets', files.binary, ...given);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(readdirSync(folder)).toEqual(before); // no grad.npy, no temporary file
  });

  it('an existing --grad file is left as it was', async () => {
    const folder = mkdtempSync(join(dir, 'kept-'));
    const gradPath = join(folder, 'grad.npy');
    writeFileSync(gradPath, 'the previous run');
    const r = await cli('loss', '--logits', files.logits, '--targets', outOfRange, '--grad', gradPath);
    expect(r.code).toBe(2);
    expect(readFileSync(gradPath, 'utf8')).toBe('the previous run');
    expect(readdirSync(folder)).toEqual(['grad.npy']);
  });
});

describe.concurrent('focal-wasm: the command itself', () => {
  it.each([
    ['no command', [], /^focal-wasm: missing command: expected 'loss'/],
    ['an unknown command', ['lose'], /^focal-wasm: unknown command 'lose'/],
    ['an unknown top-level option', ['--gamma', '2'], /^focal-wasm: unknown option '--gamma'/],
  ])('%s: one line, exit code 2', async (_, args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
