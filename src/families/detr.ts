// The focal classification cost of DETR-style bipartite matching: Deformable-DETR's HungarianMatcher
// (models/matcher.py; DINO, DN-DETR and mmdet's FocalLossCost give the same). A cost, not a loss: no gradient, no
// reduction. Options in; the distinct target classes found and their logits gathered into a Q x K block (K distinct
// classes, often far fewer than the M targets); that block run through the elementwise driver (the arithmetic is
// assembly/detr/cost.ts's); the Q x K table copied into the Q x M matrix. Every step is linear in its size.
import { FLAG_COST_EPS, STREAM_INPUT } from '../core/abi.js';
import { runElementwise, type ElementwisePlan } from '../core/elementwise.js';
import type { Engine } from '../core/engine.js';
import { FINITE } from '../core/locate.js';
import { gammaMode } from '../core/params.js';
import {
  checkFloats, checkLive, classesOption, gammaOption, outputOption, rowCount, show, unitOption, type Floats,
} from '../options/checks.js';
import { DEFAULTS } from '../options/defaults.js';
import { knownOptions, optionsOf } from '../options/strict.js';

/** Options of `focalMatchingCost`. */
export interface FocalMatchingCostOptions {
  /** C, the number of classes: logits are Q x C row-major (classes last). Required (see focalMatchingCost). */
  classes: number;
  /** The weight of the positive term, in [0, 1]; the negative term has 1 - alpha. Default 0.25. */
  alpha?: number;
  /** The focusing exponent, finite and >= 0. Default 2. */
  gamma?: number;
  /** 'detr': the anchor's logs with + 1e-8 inside, -log(p + 1e-8) and -log(1 - p + 1e-8). Default: exact logs. */
  compat?: 'detr';
  /** A caller-owned Float32Array (length >= Q x M) to write the cost matrix into, returned. */
  out?: Float32Array;
}

export const MATCHING_COST_OPTIONS = knownOptions(['classes', 'alpha', 'gamma', 'compat', 'out']);

/** The anchor's epsilon inside the logs (Deformable-DETR models/matcher.py). */
const DETR_EPS = 1e-8;

function costCompatOption(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'string') throw new TypeError(`options.compat = ${show(value)}: expected 'detr' (focalMatchingCost)`);
  if (value !== 'detr') throw new RangeError(`options.compat = ${show(value)}: expected 'detr' (focalMatchingCost)`);
  return true;
}

/** The target classes: an Int32Array or an array of numbers, each an integer in [0, classes). */
function targetClassesOf(value: unknown, classes: number): Int32Array | readonly number[] {
  if (value instanceof Int32Array) checkLive(value, 'targetClasses');
  else if (!Array.isArray(value)) {
    throw new TypeError(`targetClasses: expected an Int32Array or an array of integers, got ${show(value)}`);
  }
  const targets = value as Int32Array | readonly unknown[];
  for (let m = 0; m < targets.length; m++) {
    const c = targets[m];
    if (typeof c !== 'number') throw new TypeError(`targetClasses[${m}] = ${show(c)}: expected a class index`);
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new RangeError(`targetClasses[${m}] = ${show(c)}: expected an integer class index in [0, ${classes})`);
    }
  }
  return targets as Int32Array | readonly number[];
}

/** Every logit finite as a float32 (a plain array's entries numbers): the first that is not, named. */
function checkLogits(logits: Floats): void {
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (typeof v !== 'number') throw new TypeError(`logits[${i}] = ${show(v)}: expected a number`);
    if (!Number.isFinite(Math.fround(v))) throw new RangeError(`logits[${i}] = ${show(v)}: expected ${FINITE}`);
  }
}

/** A validated cost call: the Q x K block's elementwise plan, and how its table fills the Q x M matrix. */
export interface MatchingCostPlan {
  plan: ElementwisePlan;
  queries: number;
  targets: number;
  /** K, the distinct target classes. */
  distinct: number;
  /** column[m]: the table column (0..K-1) of target m. */
  column: Int32Array;
  out: Float32Array | undefined;
}

export function focalMatchingCostPlan(logitsArg: unknown, targetsArg: unknown, optionsArg: unknown): MatchingCostPlan {
  const options = optionsOf(optionsArg, MATCHING_COST_OPTIONS, 'focalMatchingCost');
  const logits = checkFloats(logitsArg, 'logits');
  const classes = classesOption(options.classes, 'options.classes');
  if (classes === undefined) {
    throw new TypeError('options.classes: required: C, the number of classes (logits are Q x C, classes last)');
  }
  const queries = rowCount(logits.length, classes, 'logits');
  const targetClasses = targetClassesOf(targetsArg, classes);
  const alpha = unitOption(options.alpha, 'options.alpha', DEFAULTS.focalMatchingCost.alpha);
  const gamma = gammaOption(options.gamma, 'options.gamma', DEFAULTS.focalMatchingCost.gamma);
  const detr = costCompatOption(options.compat);
  const targets = targetClasses.length;
  const out = outputOption(options.out, 'options.out', queries * targets, [logits, targetClasses], ['logits', 'targetClasses']);
  checkLogits(logits);
  // The distinct classes, in order of first appearance, and each target's column among them.
  const columnOf = new Map<number, number>();
  const column = new Int32Array(targets);
  for (let m = 0; m < targets; m++) {
    const c = targetClasses[m]!;
    let k = columnOf.get(c);
    if (k === undefined) columnOf.set(c, (k = columnOf.size));
    column[m] = k;
  }
  const distinct = columnOf.size;
  const picked = Int32Array.from(columnOf.keys());
  // The Q x K block of the logits the cost needs: query q's logit of each distinct class.
  const block = new Float32Array(queries * distinct);
  for (let q = 0, at = 0; q < queries; q++) {
    const row = q * classes;
    for (let k = 0; k < distinct; k++, at++) block[at] = logits[row + picked[k]!]!;
  }
  const plan: ElementwisePlan = {
    call: {
      kernel: 'focalCost',
      n: block.length,
      inputs: [{ stream: STREAM_INPUT, values: block, name: 'logits' }],
      params: { alpha, gamma, gammaMode: gammaMode(gamma), flags: detr ? FLAG_COST_EPS : 0, costEps: detr ? DETR_EPS : 0 },
      reduction: 'none',
      divisor: 1,
      writeLoss: true,
      withGrad: false,
    },
    // Never needed: every logit was checked above (the kernel's own check is a second line).
    locator: () => ({ rules: [] }),
  };
  return { plan, queries, targets, distinct, column, out };
}

/** Runs the cost on one engine: the Q x K table, then the Q x M matrix gathered from it. */
export function runFocalMatchingCost(engine: Engine, logits: unknown, targetClasses: unknown, options: unknown): Float32Array {
  const { plan, queries, targets, distinct, column, out } = focalMatchingCostPlan(logits, targetClasses, options);
  const table = runElementwise(engine, plan, 'focalMatchingCost').loss as Float32Array;
  const cost = out ?? new Float32Array(queries * targets);
  for (let q = 0, at = 0; q < queries; q++) {
    const row = q * distinct;
    for (let m = 0; m < targets; m++, at++) cost[at] = table[row + column[m]!]!;
  }
  return cost;
}
