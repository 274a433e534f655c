// The one bad-value locator. Kernels only say that a chunk held an invalid value (STATUS_INVALID): checking as they
// read costs no extra pass. The drivers then ask this file which value it was, in the caller's own arrays (so the
// message shows the value as given, before float32 rounding), with the rules the family's plan wrote down.
import { show } from './describe.js';

/** One array a kernel read, with the rule its values must satisfy. */
export interface ValueRule {
  values: ArrayLike<unknown>;
  name: string;
  /** The test, on the value rounded to float32 (the kernels' view of it), or as given with `exact`. */
  ok(value: number): boolean;
  /** What a valid value is, for the message: `expected ${expected}`. */
  expected: string;
  exact?: boolean;
  /** 'row': the rule covers the `classes` entries of a row (at `index(row, c)`), not one entry per item. */
  span?: 'row';
  /** Checked on skipped items too (a kernel that reads it whatever the item's mask). */
  always?: boolean;
  /** Said after the expectation for item i (e.g. which row of the soft targets an entry belongs to). */
  where?(item: number): string;
}

/** Where and how to look: the rules in argument order, and the items a kernel skips (masked, ignored). */
export interface Locator {
  rules: readonly ValueRule[];
  /** Items a kernel neither reads nor checks (mask 0, ignoreIndex): only `always` rules apply to them. */
  skip?(item: number): boolean;
  /** With row rules: the number of classes and the index of class c of row `row` in the caller's layout. */
  classes?: number;
  index?(row: number, c: number): number;
  /** 'rows' for row kernels: how an item is named. */
  unit?: 'index' | 'rows';
  /** The call's scalars that scale every loss, named for an overflow (e.g. ', options.alpha = 3e38'). */
  scales?: string;
}

export const FINITE = 'a finite number (within float32 range)';
export const UNIT = 'a value in [0, 1]';
export const isFinite32 = (v: number): boolean => Number.isFinite(v);
export const isUnit = (v: number): boolean => v >= 0 && v <= 1;

/** A rule: `values[i]` must be a finite float32. */
export const finiteRule = (values: ArrayLike<unknown>, name: string): ValueRule => ({ values, name, ok: isFinite32, expected: FINITE });

/** A rule: `values[i]` must lie in [0, 1] once rounded to float32. */
export const unitRule = (values: ArrayLike<unknown>, name: string, expected = UNIT): ValueRule => ({ values, name, ok: isUnit, expected });

/** After a kernel flagged items [from, from + count): the RangeError for the first offending value, if any. */
function findBad(locator: Locator, from: number, count: number): RangeError | undefined {
  const { rules, classes = 1 } = locator;
  const index = locator.index ?? ((row: number, c: number) => row * classes + c);
  for (let item = from; item < from + count; item++) {
    const skipped = locator.skip?.(item) ?? false;
    for (const rule of rules) {
      if (skipped && !rule.always) continue;
      const width = rule.span === 'row' ? classes : 1;
      for (let c = 0; c < width; c++) {
        const j = rule.span === 'row' ? index(item, c) : item;
        const v = rule.values[j] as number;
        if (!rule.ok(rule.exact ? v : Math.fround(v))) {
          return new RangeError(`${rule.name}[${j}] = ${show(v)}: expected ${rule.expected}${rule.where?.(item) ?? ''}`);
        }
      }
    }
  }
  return undefined;
}

/**
 * The error for items [from, from + count) a kernel flagged: the first offending value; else the item whose result
 * overflowed float32 when one did (valid values, a sum made NaN by infinities of both signs); else the range.
 */
export function locate(
  locator: Locator, from: number, count: number, overflow?: { index: number; what: 'loss' | 'gradient' },
): RangeError {
  const bad = findBad(locator, from, count);
  if (bad) return bad;
  if (overflow) return overflowError(locator, overflow.index, overflow.what);
  const unit = locator.unit === 'rows' ? 'rows' : 'index';
  return new RangeError(`invalid values between ${unit} ${from} and ${from + count - 1}`);
}

/**
 * A finite input whose loss or gradient overflows float32 (a weight or an alpha near the float32 maximum, say) is
 * refused: the RangeError names the item and the values the call read for it.
 */
function overflowError(locator: Locator, item: number, what: 'loss' | 'gradient'): RangeError {
  const values = locator.rules.filter((r) => r.span !== 'row').map((r) => `${r.name}[${item}] = ${show(r.values[item])}`);
  const at = locator.unit === 'rows' ? `row ${item}` : `index ${item}`;
  return new RangeError(
    `the ${what} at ${at} overflows float32 (${values.join(', ')}${locator.scales ?? ''}): a weight or alpha that ` +
      'large makes it infinite; scale them down',
  );
}
