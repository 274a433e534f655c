// Result types that follow the options: reduction 'none' (or a compat preset whose default reduction is 'none')
// gives a Float32Array, 'mean' / 'sum' / nothing gives a number, and a reduction only known at run time gives either.
// The Focal and FocalPool methods take these as overloads, so `const loss: number = fl.sigmoidFocalLoss(x, t)`
// compiles in strict TypeScript.
import type { Reduction } from '../core/elementwise.js';
import type { Compat } from './compat.js';

/** Options whose loss is one value per element (or row): reduction 'none', or preset C with no reduction given. */
export type PerElement<O, C extends Compat = never> = [C] extends [never]
  ? O & { reduction: 'none' }
  : O & ({ reduction: 'none' } | { compat: C; reduction?: undefined });

/** Options whose loss is one number: reduction 'mean' or 'sum', or none given (and no preset whose default is 'none'). */
export type Reduced<O, C extends Compat = never> = [C] extends [never]
  ? O & { reduction?: 'mean' | 'sum' }
  : O & ({ reduction: 'mean' | 'sum' } | { reduction?: undefined; compat?: Exclude<Compat, C> });

/** A loss and its gradient with respect to the first argument. */
export interface WithGrad<L extends number | Float32Array = number | Float32Array> {
  loss: L;
  grad: Float32Array;
}

export type { Reduction };
