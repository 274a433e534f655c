// The focal classification cost of DETR-style bipartite matching: Deformable-DETR's HungarianMatcher
// (models/matcher.py; DINO, DN-DETR and mmdet's FocalLossCost give the same). A cost, not a loss: no gradient, no
// reduction. Options in; the distinct target classes found (K, often far fewer than the M targets) and each
// target's column among them; then one kernel call (assembly/detr/cost.ts focalCostMatrix) checks the logits,
// gathers the Q x K block, forms its costs and expands them into the Q x M matrix. Every step is linear in its size.
import { COST_BLOCK, FLAG_COST_EPS, STATUS_INVALID, STREAM_INPUT, STREAM_LABELS, STREAM_LOSS, STREAM_SCRATCH } from '../core/abi.js';
import type { Engine } from '../core/engine.js';
import { finiteRule, locate } from '../core/locate.js';
import { clearStreams, gammaMode, setStream, writeParams, type KernelParams } from '../core/params.js';
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

/** A validated cost call: the kernel's parameters, the distinct classes and each target's column among them. */
export interface MatchingCostPlan {
  params: KernelParams;
  queries: number;
  classes: number;
  targets: number;
  /** The K distinct target classes, in order of first appearance. */
  picked: Int32Array;
  /** column[m]: the table column (0..K-1) of target m. */
  column: Int32Array;
  logits: Floats;
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
  // The distinct classes, in order of first appearance, and each target's column among them.
  const columnOf = new Map<number, number>();
  const column = new Int32Array(targets);
  for (let m = 0; m < targets; m++) {
    const c = targetClasses[m]!;
    let k = columnOf.get(c);
    if (k === undefined) columnOf.set(c, (k = columnOf.size));
    column[m] = k;
  }
  const picked = Int32Array.from(columnOf.keys());
  const params: KernelParams = {
    alpha, gamma, gammaMode: gammaMode(gamma), flags: detr ? FLAG_COST_EPS : 0, costEps: detr ? DETR_EPS : 0,
    classes, distinct: picked.length, targets,
  };
  return { params, queries, classes, targets, picked, column, logits, out };
}

const NO_PASS: KernelParams = {};

/**
 * Runs the cost on one engine, in one kernel call: the logits, the distinct classes and the columns staged, the
 * Q x M matrix formed in wasm (assembly/detr/cost.ts focalCostMatrix) and copied out. A logit that is not finite
 * (the kernel checks every one as it reads them) is named by the locator.
 */
export function runFocalMatchingCost(engine: Engine, logitsArg: unknown, targetClasses: unknown, options: unknown): Float32Array {
  const { params, queries, classes, targets, picked, column, logits, out } = focalMatchingCostPlan(logitsArg, targetClasses, options);
  const { arena, kernels } = engine;
  const n = queries * classes;
  const total = queries * targets;
  const distinct = picked.length;
  arena.enter('focalMatchingCost');
  try {
    // The cost slot is also the kernel's scratch (3 rows of COST_BLOCK) before it holds the matrix.
    const width = Math.max(n, total, queries * distinct, distinct + targets, 3 * COST_BLOCK);
    const { slots } = arena.stage(4, width, () => `logits (${queries} x ${classes}) against ${targets} targets`);
    const [logitsAt, indexAt, tableAt, costAt] = slots as [number, number, number, number];
    arena.copyIn(logits, 0, n, logitsAt, 'logits');
    const i32 = arena.i32;
    i32.set(picked, indexAt >>> 2);
    i32.set(column, (indexAt >>> 2) + distinct);
    writeParams(arena, params, NO_PASS);
    clearStreams(arena);
    setStream(i32, arena, STREAM_INPUT, logitsAt);
    setStream(i32, arena, STREAM_LABELS, indexAt);
    setStream(i32, arena, STREAM_SCRATCH, tableAt);
    setStream(i32, arena, STREAM_LOSS, costAt);
    if (kernels.focalCostMatrix(arena.streams, queries, arena.params) === STATUS_INVALID) {
      throw locate({ rules: [finiteRule(logits, 'logits')] }, 0, n);
    }
    const cost = out ?? new Float32Array(total);
    arena.copyOut(costAt, total, cost, 0);
    return cost;
  } finally {
    arena.leave();
  }
}
