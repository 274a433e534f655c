// The exposed primitives (softmax, log-softmax, sigmoid) for model outputs, e.g. in-browser inference: options in,
// a call for the row driver (assembly/softmax/primitives.ts) or the elementwise driver (the sigmoid map) out.
import { FLAG_LOG_OUTPUT, STREAM_INPUT } from '../core/abi.js';
import type { ElementwisePlan } from '../core/elementwise.js';
import { finiteRule } from '../core/locate.js';
import type { RowPlan } from '../core/rows.js';
import { classesOption, float16Option, inputFloats, outputOption, readable, rowCount } from '../options/checks.js';
import { knownOptions, optionsOf } from '../options/strict.js';

/** Options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** C, the row length: the input is N x C row-major, the class axis last. Default: logits.length (one row). */
  classes?: number;
  /** A caller-owned Float32Array (length >= logits.length) to write into, returned. */
  out?: Float32Array;
  /** true: a Uint16Array input holds binary16 bits (see ReductionOptions.float16). Default false. */
  float16?: boolean;
}

/** Options of `sigmoid`. */
export interface SigmoidOptions {
  /** A caller-owned Float32Array (length >= x.length) to write into, returned. */
  out?: Float32Array;
  /** true: a Uint16Array input holds binary16 bits (see ReductionOptions.float16). Default false. */
  float16?: boolean;
}

export const SOFTMAX_OPTIONS = knownOptions(['classes', 'out', 'float16']);
export const SIGMOID_OPTIONS = knownOptions(['out', 'float16']);

export function softmaxRowsPlan(logitsArg: unknown, optionsArg: unknown, logOutput: boolean): RowPlan {
  const options = optionsOf(optionsArg, SOFTMAX_OPTIONS, logOutput ? 'logSoftmax' : 'softmax');
  const logits = inputFloats(logitsArg, 'logits', float16Option(options));
  const classes = classesOption(options.classes, 'options.classes') ?? Math.max(logits.length, 1);
  const rows = rowCount(logits.length, classes, 'logits');
  const out = outputOption(options.out, 'options.out', logits.length, [logits], ['logits']);
  return {
    call: {
      kernel: 'softmaxRows',
      rows,
      classes,
      inputs: [{ stream: STREAM_INPUT, values: logits, name: 'logits', per: 'class' }],
      params: { flags: logOutput ? FLAG_LOG_OUTPUT : 0 },
      reduction: 'none',
      divisor: 1,
      writeLoss: true,
      lossPer: 'class',
      out,
      withGrad: false,
    },
    // A flagged row: its first non-finite logit, counted in elements as the caller's flat array.
    locator: () => ({ rules: [{ ...finiteRule(readable(logits), 'logits'), span: 'row' }], classes }),
  };
}

export function sigmoidPlan(xArg: unknown, optionsArg: unknown): ElementwisePlan {
  const options = optionsOf(optionsArg, SIGMOID_OPTIONS, 'sigmoid');
  const x = inputFloats(xArg, 'x', float16Option(options));
  const out = outputOption(options.out, 'options.out', x.length, [x], ['x']);
  return {
    call: {
      kernel: 'sigmoidMap',
      n: x.length,
      inputs: [{ stream: STREAM_INPUT, values: x, name: 'x' }],
      params: {},
      reduction: 'none',
      divisor: 1,
      writeLoss: true,
      out,
      withGrad: false,
    },
    locator: () => ({ rules: [] }),
  };
}
