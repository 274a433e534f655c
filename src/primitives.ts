// The exposed primitives (softmax, log-softmax, sigmoid) for model outputs, e.g. in-browser inference. They are
// one API surface, so one facade file; their kernels live with their families: the row passes of
// assembly/softmax.ts (max, exp-sum) and the elementwise sigmoid of assembly/elementwise.ts.
import type { Engine } from './engine.js';
import { CHUNK } from './memory.js';
import { chunkRows, classesOption, ROW_SLACK, rowCount } from './softmax.js';
import { checkFloats, checkOptions, findInvalid, finiteRule, outputOption, type Floats } from './validate.js';

/** Options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** C, the row length: the input is N x C row-major, the class axis last. Default: logits.length (one row). */
  classes?: number;
  /** A caller-owned Float32Array (length >= logits.length) to write into, returned. */
  out?: Float32Array;
}

/** Options of `sigmoid`. */
export interface SigmoidOptions {
  /** A caller-owned Float32Array (length >= x.length) to write into, returned. */
  out?: Float32Array;
}

function rowsOf(engine: Engine, logitsArg: unknown, optionsArg: unknown, logOutput: boolean): Float32Array {
  const logits = checkFloats(logitsArg, 'logits');
  const options = checkOptions(optionsArg);
  const classes = classesOption(options.classes, 'options.classes') ?? Math.max(logits.length, 1);
  const rows = rowCount(logits.length, classes, 'logits');
  const result = outputOption(options.out, 'options.out', logits.length, [[logits, 'logits']]) ??
    new Float32Array(logits.length);
  const { arena, kernels } = engine;
  const staging = arena.stage(2, classes + ROW_SLACK);
  const [srcAt, dstAt] = staging.slots as [number, number];
  const rowsPerChunk = chunkRows(staging, classes);
  for (let from = 0; from < rows; from += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, rows - from);
    arena.copyIn(logits, from * classes, count * classes, srcAt, 'logits');
    if (kernels.softmaxRows(srcAt, dstAt, count, classes, logOutput ? 1 : 0) !== 0) {
      throw findInvalid([finiteRule(logits, 'logits')], from * classes, count * classes);
    }
    arena.copyOut(dstAt, count * classes, result, from * classes);
  }
  return result;
}

export function softmax(engine: Engine, logits: unknown, options: unknown): Float32Array {
  return rowsOf(engine, logits, options, false);
}

export function logSoftmax(engine: Engine, logits: unknown, options: unknown): Float32Array {
  return rowsOf(engine, logits, options, true);
}

export function sigmoid(engine: Engine, xArg: unknown, optionsArg: unknown): Float32Array {
  const x: Floats = checkFloats(xArg, 'x');
  const options = checkOptions(optionsArg);
  const result = outputOption(options.out, 'options.out', x.length, [[x, 'x']]) ?? new Float32Array(x.length);
  const { arena, kernels } = engine;
  const [srcAt, dstAt] = arena.stage(2).slots as [number, number];
  for (let from = 0; from < x.length; from += CHUNK) {
    const count = Math.min(CHUNK, x.length - from);
    arena.copyIn(x, from, count, srcAt, 'x');
    kernels.mapSigmoid(srcAt, dstAt, count);
    arena.copyOut(dstAt, count, result, from);
  }
  return result;
}
