// Options are strict: an option a call does not take is a TypeError, never silently ignored. A misspelt name gets
// the nearest valid one (`options.gama: unknown option; did you mean 'gamma'?`), and an option of another call
// (`gradOut` on a loss-only call, `labelSmoothing` on a sigmoid loss) says so. An option set to undefined counts
// as absent, as everywhere in the API.
import { show } from '../core/describe.js';

/** The options of a call given none (never written to). */
const NO_OPTIONS: Record<string, unknown> = Object.freeze({});

/** Every option name some call of the API takes, for the "does not apply here" message. */
const KNOWN = new Set<string>(['gradOut']);

/** Registers a call's option names (the family files do, once, at load). */
export function knownOptions(names: readonly string[]): readonly string[] {
  for (const name of names) KNOWN.add(name);
  return names;
}

/**
 * The options object of a call, checked: undefined is {}, anything but a plain object is a TypeError, and every
 * key that is set must be one of `allowed` (which names the call in `method` for the message).
 */
export function optionsOf(value: unknown, allowed: readonly string[], method: string, name = 'options'): Record<string, unknown> {
  return checkedOptions(value, allowed, method, false, false, name);
}

/**
 * The options of a loss method `loss` (or of `${loss}WithGrad`, which also takes gradOut), checked as optionsOf
 * checks them; no list or name is built per call (only for a message).
 */
export function lossOptionsOf(value: unknown, allowed: readonly string[], loss: string, withGrad: boolean): Record<string, unknown> {
  return checkedOptions(value, allowed, loss, withGrad, true, 'options');
}

/**
 * `method` is the call's name, or with `gradForm` the loss's (the method is then `${method}WithGrad` when `gradOut`
 * is allowed), whose message for gradOut points to the ...WithGrad form.
 */
function checkedOptions(
  value: unknown, allowed: readonly string[], method: string, gradOut: boolean, gradForm: boolean, name: string,
): Record<string, unknown> {
  if (value === undefined) return NO_OPTIONS;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new TypeError(`${name}: expected an object or undefined, got ${show(value)}`);
  }
  const options = value as Record<string, unknown>;
  // for-in, not Object.keys: no array per call. Inherited enumerable keys are not options; they are skipped.
  for (const key in options) {
    if (options[key] === undefined || allowed.includes(key) || (gradOut && key === 'gradOut')) continue;
    if (!Object.prototype.hasOwnProperty.call(options, key)) continue;
    const called = gradForm && gradOut ? `${method}WithGrad` : method;
    throw unknownOption(key, gradOut ? [...allowed, 'gradOut'] : allowed, gradForm, called, name);
  }
  return options;
}

function unknownOption(key: string, allowed: readonly string[], gradForm: boolean, method: string, name: string): TypeError {
  if (KNOWN.has(key)) {
    const hint = key === 'gradOut' && gradForm ? ` (it is an option of ${method}WithGrad)` : '';
    return new TypeError(`${name}.${key}: not an option of ${method}${hint}; its options are ${list(allowed)}`);
  }
  const near = nearest(key, allowed);
  if (near !== undefined) return new TypeError(`${name}.${key}: unknown option; did you mean '${near}'?`);
  return new TypeError(`${name}.${key}: unknown option; ${method} takes ${list(allowed)}`);
}

function list(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

/**
 * The valid name closest to `key`: compared without case and underscores (ignore_index is ignoreIndex), by
 * Damerau-Levenshtein distance, within half the valid name's length (reduce -> reduction, gama -> gamma).
 */
export function nearest(key: string, names: readonly string[]): string | undefined {
  const plain = (s: string): string => s.replace(/[_-]/g, '').toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(plain(key), plain(name));
    if (d < bestDistance && d <= Math.max(2, Math.floor(name.length / 2))) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}
