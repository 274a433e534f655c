#!/usr/bin/env node
/// <reference types="node" />
// The command line for evaluation jobs: `focal-wasm loss --logits preds.npy --targets labels.npy [...]` reads .npy
// files (./npy.ts), computes any loss of the registry (--loss; sigmoid focal by default) with the engine, prints it
// and can write the gradient. Arguments are read by Node's own util.parseArgs: the CLI has no dependency.
// Every expected failure (bad file, dtype, shape, option) is one line on stderr and exit code 2, never a stack trace.
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createFocalSync } from '../focal.js';
import { DEFAULTS } from '../options/defaults.js';
import { isLossName, LOSS_NAMES, LOSSES, type LossName } from '../families/registry.js';
import type { Floats, Reduction } from '../options/checks.js';
import type { WithGrad } from '../options/results.js';
import { NpyError, npyHeader, parseNpy, shapeText, toFloat32, toInt32, type NpyArray } from './npy.js';

/** A failure the user can fix: printed as `focal-wasm: <message>`, exit code 2. */
class UsageError extends Error {}

/** An option value its parser refuses; the message says what was expected. */
class InvalidValue extends Error {}

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
  reduction?: Reduction;
  normalizer?: number;
  grad?: string;
  out?: string;
}

/**
 * Reads an .npy file for option `--<flag>`: the file exists and is readable, then ./npy.ts checks the magic, the
 * header, the dtype and that the data are exactly as long as the shape says.
 */
function readNpy(path: string, flag: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code ?? 'unreadable';
    throw new UsageError(`--${flag} ${path}: cannot read the file (${why})`);
  }
  return npy(() => parseNpy(bytes), flag, path);
}

/** Runs a step of ./npy.ts, its NpyError becoming a UsageError that names the option and the file. */
function npy<T>(step: () => T, flag: string, path: string): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof NpyError) throw new UsageError(`--${flag} ${path}: ${error.message}`);
    throw error;
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function logitsOf(a: NpyArray, path: string): Float32Array | Float64Array {
  if (a.data instanceof Float32Array || a.data instanceof Float64Array) return a.data;
  throw new UsageError(`--logits ${path}: dtype ${a.dtype}: expected float32 or float64 logits`);
}

/**
 * Targets for float use (the sigmoid family, soft targets): float32 and float64 as they are (the engine reads both);
 * integer and bool labels, numpy's int64 default included, become a Float32Array in one typed pass.
 */
function floatTargets(a: NpyArray): Float32Array | Float64Array {
  return a.data instanceof Float64Array ? a.data : toFloat32(a);
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
    if (!ok(value)) throw new InvalidValue(`expected ${expected}`);
    return value;
  };
}

/** `options.ignoreIndex = 3` (the API's wording) → `--ignore-index = 3` (the CLI's). */
function flagNames(message: string): string {
  return message.replace(/\boptions\.([A-Za-z]+)/g, (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
}

/** An output file: what --grad or --out writes, once everything else has succeeded. */
interface Output {
  flag: 'grad' | 'out';
  path: string;
  values: Float32Array;
  shape: number[];
}

/** The checks that need no file, made before reading any: a mistyped option costs no read of a large array. */
function checkOptions(opts: LossCommandOptions, loss: LossName, reduction: Reduction): void {
  const softmax = loss === 'softmaxFocalLoss';
  if (opts.classes !== undefined && !softmax) throw new UsageError('--classes applies to --softmax only');
  if (opts.ignoreIndex !== undefined && !softmax) throw new UsageError('--ignore-index applies to --softmax only');
  if (opts.normalizer !== undefined && reduction !== 'mean') {
    throw new UsageError(`--normalizer applies to --reduction mean only, not ${reduction}`);
  }
  if (opts.out && reduction !== 'none') {
    throw new UsageError(`--out needs --reduction none (the ${reduction} is one number)`);
  }
  if (opts.grad && opts.out && resolve(opts.grad) === resolve(opts.out)) {
    throw new UsageError(`--grad and --out name the same file ${opts.out}`);
  }
  // A directory in the way would only fail at the final rename, after another output may be in place.
  const isDirectory = (path: string): boolean => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false; // absent, or unreachable: the write itself will say why
    }
  };
  for (const [flag, path] of [['grad', opts.grad], ['out', opts.out]] as const) {
    if (path && isDirectory(path)) {
      throw new UsageError(`--${flag} ${path}: cannot write the file (it is a directory)`);
    }
  }
}

function runLoss(opts: LossCommandOptions): void {
  const loss = lossOption(opts);
  const softmax = loss === 'softmaxFocalLoss';
  const alpha = parseAlpha(opts.alpha, softmax);
  // The loss's own default reduction when none is given ('sum' for asymmetricLoss, as its anchor).
  const reduction: Reduction = opts.reduction ?? DEFAULTS[loss].reduction;
  checkOptions(opts, loss, reduction);
  const logitsFile = readNpy(opts.logits, 'logits');
  const targetsFile = readNpy(opts.targets, 'targets');
  const logits = logitsOf(logitsFile, opts.logits);
  const fl = createFocalSync();
  // Only what the user gave: every other option keeps the loss's own default (not every loss takes gamma).
  const common = {
    ...opts.set,
    reduction,
    ...(opts.gamma !== undefined ? { gamma: opts.gamma } : {}),
    ...(opts.normalizer !== undefined ? { normalizer: opts.normalizer } : {}),
  };
  const t = targetsFile;
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
    const indexShape = [rows];
    let targets: Int32Array | Float32Array | Float64Array;
    // Shapes, not only sizes: (N,) class indices or soft targets of the logits' own shape, nothing broadcast.
    // (N,) is tried first, so 1-D logits with --classes 1 read their targets as class indices.
    if (sameShape(t.shape, indexShape)) {
      // int32 labels are used as they are; any other integer, bool or whole-valued float file is converted.
      targets = npy(() => toInt32(t, 'targets', 'a class index'), 'targets', opts.targets);
    } else if (sameShape(t.shape, shape)) {
      if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
        throw new UsageError(`--targets ${opts.targets}: dtype ${t.dtype}: soft targets (the logits' shape ${shapeText(shape)}) must be float32 or float64; class indices have shape ${shapeText(indexShape)}`);
      }
      targets = t.data;
    } else {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(t.shape)} does not fit the logits' shape ${shapeText(shape)}: expected ${shapeText(indexShape)} class indices or ${shapeText(shape)} soft targets (nothing is broadcast)`);
    }
    result = fl.softmaxFocalLossWithGrad(logits, targets, {
      ...common, classes,
      // Only when given: otherwise --set ignoreIndex=N, or the loss's own default.
      ...(opts.ignoreIndex !== undefined ? { ignoreIndex: opts.ignoreIndex } : {}), ...(alpha !== undefined ? { alpha } : {}),
    });
    lossShape = indexShape;
  } else if (loss === 'distributionFocalLoss') {
    // (..., bins) logits, one continuous target per row of bins (ultralytics: --set compat='"ultralytics"').
    const shape = logitsFile.shape;
    const bins = shape.length >= 2 ? shape[shape.length - 1]! : undefined;
    if (bins === undefined || bins === 0) {
      throw new UsageError(`--logits ${opts.logits}: shape ${shapeText(shape)}: distributionFocalLoss expects (N, bins) logits`);
    }
    const rowShape = shape.slice(0, -1);
    if (!sameShape(t.shape, rowShape)) {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(t.shape)} does not fit the logits' shape ${shapeText(shape)}: expected ${shapeText(rowShape)}, one target per row of ${bins} bins (nothing is broadcast)`);
    }
    if (alpha !== undefined) throw new UsageError('--alpha does not apply to distributionFocalLoss');
    result = fl.distributionFocalLossWithGrad(logits, floatTargets(t), { ...common, bins });
    const rows = logits.length / bins;
    const perRow = typeof result.loss !== 'number' && result.loss.length === rows;
    lossShape = perRow ? rowShape : [typeof result.loss === 'number' ? 1 : result.loss.length];
  } else if (LOSSES[loss].driver === 'regions') {
    // Dice, Tversky, Dice + focal: (N, C, ...spatial) logits (the classes on --set classAxis=, default 1), targets of
    // that shape (one-hot or soft) or without the class axis (class indices, any integer dtype).
    const shape = logitsFile.shape;
    const axisOption = (opts.set as { classAxis?: unknown } | undefined)?.classAxis;
    const axis = typeof axisOption === 'number' ? (axisOption < 0 ? axisOption + shape.length : axisOption) : 1;
    const indexShape = shape.filter((_, i) => i !== axis);
    let targets: Floats | Int32Array;
    if (sameShape(t.shape, indexShape)) targets = toInt32(t, `--targets ${opts.targets}`, 'a class index');
    else if (sameShape(t.shape, shape)) targets = floatTargets(t);
    else {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(t.shape)} does not fit the logits' shape ${shapeText(shape)}: expected ${shapeText(indexShape)} class indices or ${shapeText(shape)} one-hot or soft targets (nothing is broadcast)`);
    }
    const method = fl[`${loss}WithGrad`] as (x: Floats, t: Floats | Int32Array, o: object) => WithGrad;
    result = method.call(fl, logits, targets, { ...common, shape, ...(alpha !== undefined ? { alpha } : {}) });
    lossShape = [typeof result.loss === 'number' ? 1 : result.loss.length];
  } else {
    if (!sameShape(t.shape, logitsFile.shape)) {
      throw new UsageError(`--targets ${opts.targets}: shape ${shapeText(t.shape)} differs from the logits' shape ${shapeText(logitsFile.shape)}: expected the same shape, one target per logit (nothing is broadcast)`);
    }
    const method = fl[`${loss}WithGrad`] as (x: Floats, t: Floats, o: object) => WithGrad;
    result = method.call(fl, logits, floatTargets(t), { ...common, ...(alpha !== undefined ? { alpha } : {}) });
    lossShape = logitsFile.shape;
  }
  const outputs: Output[] = [];
  if (opts.grad) outputs.push({ flag: 'grad', path: opts.grad, values: result.grad, shape: logitsFile.shape });
  if (opts.out && typeof result.loss !== 'number') outputs.push({ flag: 'out', path: opts.out, values: result.loss, shape: lossShape });
  writeOutputs(outputs);
  if (typeof result.loss === 'number') process.stdout.write(`${result.loss}\n`);
  else if (!opts.out) process.stdout.write(Array.from(result.loss, String).join('\n') + '\n');
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
  if (at <= 0) throw new InvalidValue('expected name=value, e.g. --set beta=1.5');
  let value: unknown;
  try {
    value = JSON.parse(text.slice(at + 1));
  } catch {
    throw new InvalidValue(`${text.slice(at + 1)}: expected a JSON value (a number, true, false, null, [..])`);
  }
  return { ...previous, [text.slice(0, at)]: value };
}

/**
 * Writes the outputs as float32 .npy (C order, numpy's header). Each goes to a temporary file beside its path and
 * is renamed onto it only once every output is written, so an error exit leaves no output, new or half-written.
 */
function writeOutputs(outputs: readonly Output[]): void {
  const temps: string[] = [];
  const fail = (o: Output, error: unknown): never => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--${o.flag} ${o.path}: cannot write the file (${code ?? (error as Error).message})`);
  };
  try {
    for (const o of outputs) {
      const temp = join(dirname(o.path), `.${basename(o.path)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`);
      let fd: number;
      try {
        fd = openSync(temp, 'wx');
      } catch (error) {
        fail(o, error);
      }
      temps.push(temp);
      try {
        // The header, then the array's own bytes: no copy of a large gradient.
        writeFileSync(fd!, npyHeader('float32', o.shape));
        writeFileSync(fd!, new Uint8Array(o.values.buffer, o.values.byteOffset, o.values.byteLength));
      } catch (error) {
        fail(o, error);
      } finally {
        closeSync(fd!);
      }
    }
    outputs.forEach((o, i) => {
      try {
        renameSync(temps[i]!, o.path);
      } catch (error) {
        fail(o, error);
      }
    });
  } catch (error) {
    for (const temp of temps) rmSync(temp, { force: true });
    throw error;
  }
}

function version(): string {
  try {
    // dist/cli/cli.js → the package's root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** An option of `loss`: how parseArgs reads it, how --help shows it, how its value is checked. */
interface Flag {
  /** The long name, without the dashes. */
  name: string;
  /** The option's key in LossCommandOptions. */
  key: keyof LossCommandOptions;
  /** How help and messages show its value, e.g. '<number>'; a switch has none. */
  value?: string;
  help: string;
  required?: boolean;
  choices?: readonly string[];
  /** Reads one value (with the option's value so far, for --set); throws InvalidValue with what was expected. */
  parse?: (text: string, previous: unknown) => unknown;
}

const LOSS_FLAGS: readonly Flag[] = [
  { name: 'logits', key: 'logits', value: '<file.npy>', required: true,
    help: 'logits: any shape (sigmoid), or (N, C) row-major (softmax)' },
  { name: 'targets', key: 'targets', value: '<file.npy>', required: true,
    help: "sigmoid: one target in [0, 1] per logit, the logits' shape; softmax: (N,) class indices or (N, C) soft targets" },
  { name: 'loss', key: 'loss', value: '<name>', choices: LOSS_NAMES, help: 'the loss: any method of the engine' },
  { name: 'gamma', key: 'gamma', value: '<number>', help: "focusing parameter, >= 0 (default: the loss's own, 2 for focal)",
    parse: numberArg('a finite number >= 0', (v) => Number.isFinite(v) && v >= 0) },
  { name: 'alpha', key: 'alpha', value: '<number|none|list>', help: "class balance: sigmoid default 0.25, softmax default "
    + "none; 'none' for no weighting; with --softmax also C comma-separated per-class weights" },
  { name: 'softmax', key: 'softmax', help: 'multi-class softmax focal loss over the last axis (= --loss softmaxFocalLoss)' },
  { name: 'classes', key: 'classes', value: '<C>', help: "number of classes (with --softmax; default: the logits' last dimension)",
    parse: numberArg('a positive integer', (v) => Number.isInteger(v) && v >= 1) },
  { name: 'ignore-index', key: 'ignoreIndex', value: '<int>', help: 'with --softmax: rows with this target count for nothing (default -100)',
    parse: numberArg('an integer', (v) => Number.isInteger(v)) },
  { name: 'set', key: 'set', value: '<name=value>', help: 'any other option of the loss, e.g. --set beta=1.5 (repeatable)',
    parse: (text, previous) => collectOption(text, (previous ?? {}) as Record<string, unknown>) },
  { name: 'reduction', key: 'reduction', value: '<mode>', choices: ['mean', 'sum', 'none'],
    help: "how to reduce the per-element (per-row) losses (default: the loss's own, mean; sum for asymmetricLoss)" },
  { name: 'normalizer', key: 'normalizer', value: '<number>', help: 'with --reduction mean: divide the sum by this (e.g. the '
    + 'number of positives) instead of the count', parse: numberArg('a finite number > 0', (v) => Number.isFinite(v) && v > 0) },
  { name: 'grad', key: 'grad', value: '<out.npy>', help: 'write d(loss)/d(logits) as float32 .npy, same shape as the logits' },
  { name: 'out', key: 'out', value: '<out.npy>', help: 'with --reduction none: write the losses as float32 .npy instead of printing them' },
];

const term = (flag: Flag): string => `--${flag.name}${flag.value ? ` ${flag.value}` : ''}`;

const DESCRIPTION = 'Focal loss (Lin et al. 2017) and its gradient, computed by WebAssembly kernels.';
const LOSS_SUMMARY = 'print the focal loss of logits against targets read from .npy files';
const WIDTH = 80;

/**
 * Text wrapped at WIDTH columns for a block starting at column `indent` (later lines indented to it). A parenthesised shape such as (N, C)
 * is one word, so it never splits across lines.
 */
function wrap(text: string, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.match(/\((?:\w+, )+\w+\)\S*|\S+/g) ?? []) {
    if (line && indent + line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Help rows as `  term  description`, the descriptions in one column after the longest term of all the groups. */
function helpRows(groups: readonly (readonly (readonly [string, string])[])[]): string[] {
  const column = Math.max(...groups.flat().map(([t]) => t.length)) + 4;
  return groups.map((entries) => entries.map(([t, text]) => `  ${t.padEnd(column - 2)}${wrap(text, column)}`).join('\n'));
}

function topHelp(): string {
  const [options, commands] = helpRows([
    [['-V, --version', 'output the version number'], ['-h, --help', 'display help for command']],
    [['loss [options]', LOSS_SUMMARY], ['help [command]', 'display help for command']],
  ]);
  return `Usage: focal-wasm [options] [command]\n\n${DESCRIPTION}\n\nOptions:\n${options}\n\nCommands:\n${commands}\n`;
}

function lossHelp(): string {
  const entries = LOSS_FLAGS.map((f) => {
    const extra = [
      ...(f.choices ? [`choices: ${f.choices.join(', ')}`] : []),
    ];
    return [term(f), `${f.help}${extra.length ? ` (${extra.join('; ')})` : ''}`] as const;
  });
  const description = 'Print the focal loss of logits against targets read from .npy files (float32 or float64 '
    + "logits; bool, integer - numpy's int64 default included - or float targets). Sigmoid (torchvision) semantics "
    + 'by default, softmax (mmcv) with --softmax.';
  return `Usage: focal-wasm loss [options]\n\n${wrap(description, 0)}\n\n`
    + `Options:\n${helpRows([[...entries, ['-h, --help', 'display help for command']]])[0]}\n\n`
    + [
      'The reduced loss is printed alone on stdout; --reduction none prints one loss per line.',
      "Shapes must agree, not only sizes, and nothing is broadcast: sigmoid-family targets have the logits' shape "
        + '((N,) targets for (N, 1) logits are refused: reshape them in numpy); --softmax targets are (N,) class '
        + "indices or (N, C) soft targets (with 1-D logits and --classes C: (N,) or the logits' shape).",
      '--grad and --out are written beside their path and renamed at the end: an error leaves no file.',
      'Errors are one line on stderr with exit code 2.',
    ].map((text) => wrap(text, 0)).join('\n')
    + '\n\nExamples:\n'
    + '  focal-wasm loss --logits preds.npy --targets labels.npy\n'
    + '  focal-wasm loss --logits scores.npy --targets classes.npy --softmax --gamma 2 --grad grad.npy\n';
}

/**
 * The arguments of `loss`, read by util.parseArgs in its token mode: parseArgs splits `--name value`, `--name=value`
 * and short flags; the checks here keep commander's behaviour and wording (a value may start with a dash, as in
 * --ignore-index -1; each value is checked in the order given; required options last). null: --help was asked for.
 */
function parseLossArgs(args: string[]): LossCommandOptions | null {
  const byName = new Map(LOSS_FLAGS.map((f) => [f.name, f]));
  const { tokens } = parseArgs({
    args, strict: false, allowPositionals: true, tokens: true,
    options: {
      ...Object.fromEntries(LOSS_FLAGS.map((f) => [f.name, { type: f.value ? 'string' as const : 'boolean' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  // --help wins over every other problem on the line, as it did with commander.
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return null;
  const opts: Record<string, unknown> = {};
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') throw new UsageError(`unexpected argument '${token.value}': loss takes options only`);
    const flag = byName.get(token.name);
    if (!flag) throw new UsageError(`unknown option '${token.rawName}'`);
    if (!flag.value) {
      if (token.value !== undefined) throw new UsageError(`option '${term(flag)}' takes no value`);
      opts[flag.key] = true;
      continue;
    }
    const text = token.value;
    if (text === undefined) throw new UsageError(`option '${term(flag)}' argument missing`);
    if (flag.choices && !flag.choices.includes(text)) {
      throw new UsageError(`option '${term(flag)}' argument '${text}' is invalid. Allowed choices are ${flag.choices.join(', ')}.`);
    }
    try {
      opts[flag.key] = flag.parse ? flag.parse(text, opts[flag.key]) : text;
    } catch (error) {
      if (error instanceof InvalidValue) throw new UsageError(`option '${term(flag)}' argument '${text}' is invalid. ${error.message}`);
      throw error;
    }
  }
  for (const flag of LOSS_FLAGS) {
    if (opts[flag.key] === undefined && flag.required) throw new UsageError(`required option '${term(flag)}' not specified`);
  }
  opts.set ??= {};
  return opts as unknown as LossCommandOptions;
}

function run(argv: readonly string[]): void {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || (command === 'help' && rest.length === 0)) {
    process.stdout.write(topHelp());
  } else if (command === '-V' || command === '--version') {
    process.stdout.write(`${version()}\n`);
  } else if (command === 'help' && rest.length === 1 && rest[0] === 'loss') {
    process.stdout.write(lossHelp());
  } else if (command === 'loss') {
    const opts = parseLossArgs(rest);
    if (opts === null) process.stdout.write(lossHelp());
    else runLoss(opts);
  } else if (command === undefined) {
    throw new UsageError("missing command: expected 'loss' (see focal-wasm --help)");
  } else if (command.startsWith('-')) {
    throw new UsageError(`unknown option '${command}' (see focal-wasm --help)`);
  } else {
    const name = command === 'help' ? rest.join(' ') : command;
    throw new UsageError(`unknown command '${name}': expected 'loss' (see focal-wasm --help)`);
  }
}

export function main(argv: readonly string[]): number {
  try {
    run(argv);
    return 0;
  } catch (error) {
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
