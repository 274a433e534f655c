#!/usr/bin/env node
/// <reference types="node" />
// The command line for evaluation jobs: `focal-wasm loss --logits preds.npy --targets labels.npy [...]` reads .npy
// files (npyjs), computes any loss of the registry (--loss; sigmoid focal by default) with the engine, prints it and
// can write the gradient.
// Every expected failure (bad file, dtype, shape, option) is one line on stderr and exit code 2, never a stack trace.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { dump, parse, type NpyArray } from 'npyjs';
import { createFocalSync } from '../focal.js';
import { isLossName, LOSS_NAMES, type LossName } from '../families/registry.js';
import { DEFAULTS } from '../options/defaults.js';
import type { Floats, Reduction } from '../options/checks.js';
import type { WithGrad } from '../options/results.js';

/** A failure the user can fix: printed as `focal-wasm: <message>`, exit code 2. */
class UsageError extends Error {}

const EXIT_USAGE = 2;

interface LossCommandOptions {
  logits: string;
  targets: string;
  loss?: string;
  gamma?: number;
  alpha?: string;
  softmax?: boolean;
  classes?: number;
  ignoreIndex?: number;
  set: Record<string, unknown>;
  /** Default: the loss's own ('mean'; 'sum' for asymmetricLoss). */
  reduction?: Reduction;
  normalizer?: number;
  grad?: string;
  out?: string;
}

/** An .npy array as the CLI uses it: numbers, its shape and the dtype it came with. */
interface Loaded {
  data: Float32Array | Float64Array | Int32Array | number[];
  shape: number[];
  dtype: string;
  /** true for the integer and boolean dtypes. */
  integer: boolean;
}

const FLOAT_DTYPES = new Set(['f4', 'f8']);
const INT_DTYPES = new Set(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'b1']);
const DTYPE_NAMES: Record<string, string> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32',
  u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool', c8: 'complex64', c16: 'complex128',
};

function dtypeName(dtype: string): string {
  return DTYPE_NAMES[dtype] ?? dtype;
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * Reads an .npy file for option `--<flag>`. npyjs parses the header and the data; around it, the checks that give
 * a clear message instead of a garbage array: the file exists, starts with the .npy magic, is little-endian, and
 * holds exactly as many bytes as its shape says. Fortran-ordered 2-D arrays are transposed to row-major.
 */
function readNpy(path: string, flag: string): Loaded {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code ?? 'unreadable';
    throw new UsageError(`--${flag} ${path}: cannot read the file (${why})`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new UsageError(`--${flag} ${path}: not an .npy file (no \\x93NUMPY magic at the start)`);
  }
  const header = bytes.toString('latin1', 0, Math.min(bytes.length, 4096));
  if (/'descr'\s*:\s*'>/.test(header)) {
    throw new UsageError(`--${flag} ${path}: big-endian data is not supported; save it little-endian (arr.astype('<f4'))`);
  }
  let array: NpyArray;
  try {
    array = parse(buffer);
  } catch (error) {
    throw new UsageError(`--${flag} ${path}: truncated or corrupt .npy file (${(error as Error).message})`);
  }
  const { dtype, shape } = array;
  if (!FLOAT_DTYPES.has(dtype) && !INT_DTYPES.has(dtype)) {
    throw new UsageError(`--${flag} ${path}: dtype ${dtypeName(dtype)} is not supported: expected float32, float64 or an integer type`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = array.data as unknown as ArrayLike<number | bigint | boolean>;
  if (raw.length !== count) {
    throw new UsageError(`--${flag} ${path}: holds ${raw.length} values but its shape ${shapeText(shape)} needs ${count} (truncated file?)`);
  }
  let data: Loaded['data'];
  if (dtype === 'f4') data = array.data as Float32Array;
  else if (dtype === 'f8') data = array.data as Float64Array;
  else data = Array.from(raw, (v) => Number(v)); // int64 comes as BigInt, bool as boolean
  if (array.fortranOrder && shape.length === 2) data = transpose(data, shape[0]!, shape[1]!);
  else if (array.fortranOrder && shape.length > 2) {
    throw new UsageError(`--${flag} ${path}: Fortran-ordered arrays of more than 2 dimensions are not supported`);
  }
  return { data, shape, dtype, integer: INT_DTYPES.has(dtype) };
}

/** A rows × cols array stored column by column (Fortran order), returned row by row. */
function transpose(data: Loaded['data'], rows: number, cols: number): Loaded['data'] {
  const out = data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out[r * cols + c] = data[c * rows + r]!;
  return out;
}

function logitsOf(a: Loaded, path: string): Float32Array | Float64Array {
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) return a.data;
  throw new UsageError(`--logits ${path}: dtype ${dtypeName(a.dtype)}: expected float32 or float64 logits`);
}

/** The numbers of a Loaded array as Floats (integers become a Float64Array). */
function floatsOf(a: Loaded): Floats {
  return a.data instanceof Float32Array || a.data instanceof Float64Array ? a.data : Float64Array.from(a.data);
}

/** --alpha: a number, 'none', or (softmax only) C comma-separated numbers. */
function parseAlpha(text: string | undefined, softmax: boolean): number | number[] | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'none' || text === 'null') return null;
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((s) => s === '') || values.some((v) => !Number.isFinite(v))) {
    throw new UsageError(`--alpha ${text}: expected a number in [0, 1], 'none'${softmax ? ' or C comma-separated weights' : ''}`);
  }
  if (values.length === 1) return values[0]!;
  if (!softmax) throw new UsageError(`--alpha ${text}: a list of per-class weights needs --softmax`);
  return values;
}

function numberArg(expected: string, ok: (v: number) => boolean) {
  return (text: string): number => {
    const value = text.trim() === '' ? NaN : Number(text);
    if (!ok(value)) throw new InvalidArgumentError(`expected ${expected}`);
    return value;
  };
}

/** `options.ignoreIndex = 3` (the API's wording) → `--ignore-index = 3` (the CLI's). */
function flagNames(message: string): string {
  return message.replace(/\boptions\.([A-Za-z]+)/g, (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}

function shortest(x: number): string {
  return String(x);
}

function runLoss(opts: LossCommandOptions): void {
  const logitsFile = readNpy(opts.logits, 'logits');
  const targetsFile = readNpy(opts.targets, 'targets');
  const logits = logitsOf(logitsFile, opts.logits);
  const loss = lossOption(opts);
  const softmax = loss === 'softmaxFocalLoss';
  const alpha = parseAlpha(opts.alpha, softmax);
  if (opts.classes !== undefined && !softmax) throw new UsageError('--classes applies to --softmax only');
  if (opts.ignoreIndex !== undefined && !softmax) throw new UsageError('--ignore-index applies to --softmax only');
  const reduction: Reduction = opts.reduction ?? DEFAULTS[loss].reduction;
  if (opts.normalizer !== undefined && reduction !== 'mean') {
    throw new UsageError(`--normalizer applies to --reduction mean only, not ${reduction}`);
  }
  const fl = createFocalSync();
  // Only what the user gave: every other option keeps the loss's own default (not every loss takes gamma).
  const common = {
    ...opts.set,
    reduction,
    ...(opts.gamma !== undefined ? { gamma: opts.gamma } : {}),
    ...(opts.normalizer !== undefined ? { normalizer: opts.normalizer } : {}),
  };
  let result: WithGrad;
  let lossShape: number[];
  if (softmax) {
    const shape = logitsFile.shape;
    let classes = opts.classes;
    if (shape.length === 2) {
      if (classes !== undefined && classes !== shape[1]) {
        throw new UsageError(`--classes ${classes} disagrees with the logits' shape ${shapeText(shape)}: expected ${shape[1]}`);
      }
      classes = shape[1]!;
    } else if (shape.length !== 1 || classes === undefined) {
      throw new UsageError(`--logits ${opts.logits}: shape ${shapeText(shape)}: --softmax expects (N, C) logits, or 1-D logits with --classes C`);
    }
    if (logits.length % classes !== 0) {
      throw new UsageError(`--logits ${opts.logits}: ${logits.length} values are not a whole number of rows of ${classes} classes`);
    }
    const rows = logits.length / classes;
    const t = targetsFile;
    let targets: Int32Array | Float32Array | Float64Array;
    if (t.data.length === rows) {
      // One class index per row. Float files are accepted when every value is a whole number.
      const indices = new Int32Array(rows);
      for (let i = 0; i < rows; i++) {
        const v = t.data[i]!;
        if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31 - 1) {
          throw new UsageError(`--targets ${opts.targets}: targets[${i}] = ${v}: expected a class index in [0, ${classes}) or the ignore index ${opts.ignoreIndex ?? -100}`);
        }
        indices[i] = v;
      }
      targets = indices;
    } else if (t.data.length === rows * classes && !t.integer && rows * classes !== rows) {
      targets = floatsOf(t) as Float32Array | Float64Array; // soft targets, one distribution per row
    } else {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(t.shape)}: expected ${rows} class indices (one per row of the logits ${shapeText([rows, classes])}) or ${rows} x ${classes} soft targets`);
    }
    result = fl.softmaxFocalLossWithGrad(logits, targets, {
      ...common, classes, ignoreIndex: opts.ignoreIndex ?? -100, ...(alpha !== undefined ? { alpha } : {}),
    });
    lossShape = [rows];
  } else if (loss === 'distributionFocalLoss') {
    // (..., bins) logits, one continuous target per row of bins (ultralytics: --set compat='"ultralytics"').
    const shape = logitsFile.shape;
    const bins = shape.length >= 2 ? shape[shape.length - 1]! : undefined;
    if (bins === undefined || bins === 0) {
      throw new UsageError(`--logits ${opts.logits}: shape ${shapeText(shape)}: distributionFocalLoss expects (N, bins) logits`);
    }
    const rows = logits.length / bins;
    if (targetsFile.data.length !== rows) {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(targetsFile.shape)} has ${targetsFile.data.length} values but the logits ${shapeText(shape)} have ${rows} rows of ${bins} bins: expected one target per row`);
    }
    if (alpha !== undefined) throw new UsageError('--alpha does not apply to distributionFocalLoss');
    result = fl.distributionFocalLossWithGrad(logits, floatsOf(targetsFile), { ...common, bins });
    const perRow = typeof result.loss !== 'number' && result.loss.length === rows;
    lossShape = perRow ? shape.slice(0, -1) : [typeof result.loss === 'number' ? 1 : result.loss.length];
  } else {
    if (targetsFile.data.length !== logits.length) {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(targetsFile.shape)} has ${targetsFile.data.length} values but the logits ${shapeText(logitsFile.shape)} have ${logits.length}: expected one target per logit`);
    }
    const method = fl[`${loss}WithGrad`] as (x: Floats, t: Floats, o: object) => WithGrad;
    result = method.call(fl, logits, floatsOf(targetsFile), { ...common, ...(alpha !== undefined ? { alpha } : {}) });
    lossShape = logitsFile.shape;
  }
  if (opts.grad) writeNpy(opts.grad, 'grad', result.grad, logitsFile.shape);
  if (typeof result.loss === 'number') {
    if (opts.out) throw new UsageError(`--out needs --reduction none (the ${reduction} is one number)`);
    process.stdout.write(`${shortest(result.loss)}\n`);
  } else if (opts.out) {
    writeNpy(opts.out, 'out', result.loss, lossShape);
  } else {
    process.stdout.write(Array.from(result.loss, shortest).join('\n') + '\n');
  }
}

/** The loss to compute: --loss NAME, --softmax (softmaxFocalLoss), or the sigmoid focal loss. */
function lossOption(opts: LossCommandOptions): LossName {
  if (opts.loss === undefined) return opts.softmax ? 'softmaxFocalLoss' : 'sigmoidFocalLoss';
  if (!isLossName(opts.loss)) throw new UsageError(`--loss ${opts.loss}: expected one of ${LOSS_NAMES.join(', ')}`);
  if (opts.softmax && opts.loss !== 'softmaxFocalLoss') throw new UsageError(`--softmax contradicts --loss ${opts.loss}`);
  return opts.loss;
}

/** --set name=value (repeatable): any option of the loss, the value read as JSON (a number, true, null, ...). */
function collectOption(text: string, previous: Record<string, unknown>): Record<string, unknown> {
  const at = text.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected name=value, e.g. --set beta=1.5');
  let value: unknown;
  try {
    value = JSON.parse(text.slice(at + 1));
  } catch {
    throw new InvalidArgumentError(`${text.slice(at + 1)}: expected a JSON value (a number, true, false, null, [..])`);
  }
  return { ...previous, [text.slice(0, at)]: value };
}

/** Writes a float32 array as .npy with npyjs' `dump` (little-endian '<f4', C order, header padded as numpy does). */
function writeNpy(path: string, flag: string, values: Float32Array, shape: number[]): void {
  try {
    writeFileSync(path, new Uint8Array(dump(values, shape, { dtype: 'f4' })));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--${flag} ${path}: cannot write the file (${code ?? (error as Error).message})`);
  }
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function main(argv: readonly string[]): number {
  const program = new Command('focal-wasm')
    .description('Focal loss (Lin et al. 2017) and its gradient, computed by WebAssembly kernels.')
    .version(version())
    .exitOverride()
    .showSuggestionAfterError(false) // keep every error to one line
    .configureOutput({ outputError: (text, write) => write(`focal-wasm: ${text.replace(/^error: /, '')}`) });
  program.command('loss')
    .summary('print the focal loss of logits against targets read from .npy files')
    .description('Print the focal loss of logits against targets read from .npy files (float32/float64 logits, '
      + 'integer or float targets). Sigmoid (torchvision) semantics by default, softmax (mmcv) with --softmax.')
    .requiredOption('--logits <file.npy>', 'logits: any shape (sigmoid), or (N, C) row-major (softmax)')
    .requiredOption('--targets <file.npy>', 'sigmoid: one target in [0, 1] per logit; softmax: N class indices (or N x C soft targets)')
    .addOption(new Option('--loss <name>', 'the loss: any method of the engine').choices(LOSS_NAMES))
    .addOption(new Option('--gamma <number>', "focusing parameter, >= 0 (default: the loss's own, 2 for focal)")
      .argParser(numberArg('a finite number >= 0', (v) => Number.isFinite(v) && v >= 0)))
    .option('--alpha <number|none|list>', "class balance: sigmoid default 0.25, softmax default none; 'none' for no "
      + 'weighting; with --softmax also C comma-separated per-class weights')
    .option('--softmax', 'multi-class softmax focal loss over the last axis (= --loss softmaxFocalLoss)')
    .addOption(new Option('--classes <C>', 'number of classes (with --softmax; default: the logits\' last dimension)')
      .argParser(numberArg('a positive integer', (v) => Number.isInteger(v) && v >= 1)))
    .addOption(new Option('--ignore-index <int>', 'with --softmax: rows with this target count for nothing (default -100)')
      .argParser(numberArg('an integer', (v) => Number.isInteger(v))))
    .option('--set <name=value>', 'any other option of the loss, e.g. --set beta=1.5 (repeatable)', collectOption, {})
    .addOption(new Option('--reduction <mode>', 'how to reduce the per-element (per-row) losses (default: the loss\'s '
      + 'own, mean; sum for asymmetricLoss)').choices(['mean', 'sum', 'none']))
    .addOption(new Option('--normalizer <number>', 'with --reduction mean: divide the sum by this (e.g. the number of '
      + 'positives) instead of the count').argParser(numberArg('a finite number > 0', (v) => Number.isFinite(v) && v > 0)))
    .option('--grad <out.npy>', 'write d(loss)/d(logits) as float32 .npy, same shape as the logits')
    .option('--out <out.npy>', 'with --reduction none: write the losses as float32 .npy instead of printing them')
    .addHelpText('after', '\nThe reduced loss is printed alone on stdout; --reduction none prints one loss per line.\n'
      + 'Errors are one line on stderr with exit code 2.\n\nExamples:\n'
      + '  focal-wasm loss --logits preds.npy --targets labels.npy\n'
      + '  focal-wasm loss --logits scores.npy --targets classes.npy --softmax --gamma 2 --grad grad.npy')
    .action((opts: LossCommandOptions) => runLoss(opts));
  try {
    program.parse(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander has already printed its message.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof RangeError || error instanceof TypeError) {
      // The engine's RangeError / TypeError name the argument and the offending element (`targets[3] = 1.5: ...`);
      // its option names become the flags the user typed.
      process.stderr.write(`focal-wasm: ${flagNames(error.message)}\n`);
      return EXIT_USAGE;
    }
    // A bug, not a usage error: still one line, but exit code 1 so it is not mistaken for bad input.
    process.stderr.write(`focal-wasm: internal error: ${(error as Error)?.message ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
