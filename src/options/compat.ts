// Compatibility presets: `{ compat: 'torchvision' | 'kornia' | 'keras' | 'mmcv' | 'mmdet' | 'smp' | 'monai' }` sets a
// Python library's defaults and semantics (alpha convention, the 'mean' divisor, ignore handling), so a ported model
// gets the numbers that library gives. Options given explicitly beside a preset override its defaults. Each preset's
// source (file, version) is cited in test/compat.test.ts, whose float64 references check it; docs/compat.md has the table.
import { classesOption, isFloats, show, type Reduction } from './checks.js';

export const COMPATS = ['torchvision', 'kornia', 'keras', 'mmcv', 'mmdet', 'smp', 'monai'] as const;
export type Compat = (typeof COMPATS)[number];

/** What 'mean' divides by, before an explicit normalizer. */
type MeanOver =
  | 'elements' // every element (N x C for multi-label logits), ignored or masked ones excluded by the engine
  | 'all' // every element, ignored or masked ones included (kornia zeroes them, then takes torch.mean)
  | 'rows' // sigmoid: N = elements / classes (mmcv); softmax: every row, ignored rows included
  | 'counted' // softmax: the rows not ignored (the engine's default)
  | 'rowsTimesClasses'; // softmax: N x C, ignored rows included (kornia and MONAI take torch.mean of an N x C x ... tensor)

interface Preset {
  alpha: number | null;
  gamma: number;
  reduction: Reduction;
  meanOver: MeanOver;
  /** Softmax: a scalar alpha weighs every class ('every'), or class 0 by 1 - alpha and the others by alpha. */
  alphaFor?: 'every' | 'background';
}

/** The binary / multi-label presets (sigmoidFocalLoss). */
const SIGMOID: Record<Compat, Preset> = {
  torchvision: { alpha: 0.25, gamma: 2, reduction: 'none', meanOver: 'elements' }, // ops.sigmoid_focal_loss
  kornia: { alpha: 0.25, gamma: 2, reduction: 'none', meanOver: 'all' }, // binary_focal_loss_with_logits
  keras: { alpha: null, gamma: 2, reduction: 'mean', meanOver: 'elements' }, // BinaryFocalCrossentropy, no balancing
  mmcv: { alpha: 0.25, gamma: 2, reduction: 'mean', meanOver: 'rows' }, // ops.sigmoid_focal_loss: sum / N
  mmdet: { alpha: 0.25, gamma: 2, reduction: 'mean', meanOver: 'elements' }, // FocalLoss (use_sigmoid)
  smp: { alpha: null, gamma: 2, reduction: 'mean', meanOver: 'elements' }, // FocalLoss binary / multilabel
  monai: { alpha: null, gamma: 2, reduction: 'mean', meanOver: 'elements' }, // FocalLoss (use_softmax=False)
};

/** The multi-class presets (softmaxFocalLoss); torchvision, mmdet and smp have no softmax focal loss. */
const SOFTMAX: Partial<Record<Compat, Preset>> = {
  kornia: { alpha: null, gamma: 2, reduction: 'none', meanOver: 'rowsTimesClasses', alphaFor: 'background' },
  keras: { alpha: 0.25, gamma: 2, reduction: 'mean', meanOver: 'rows', alphaFor: 'every' },
  mmcv: { alpha: 0.25, gamma: 2, reduction: 'mean', meanOver: 'rows', alphaFor: 'every' },
  monai: { alpha: null, gamma: 2, reduction: 'mean', meanOver: 'rowsTimesClasses', alphaFor: 'background' },
};

const NO_SOFTMAX: Partial<Record<Compat, string>> = {
  torchvision: 'torchvision has sigmoid_focal_loss only',
  mmdet: "mmdet's FocalLoss is sigmoid only (use_sigmoid=True)",
  smp: "smp's FocalLoss is sigmoid-based in every mode (multiclass is one-vs-rest): use sigmoidFocalLoss with one-hot targets",
};

function compatOption(value: unknown): Compat | undefined {
  if (value === undefined) return undefined;
  const expected = `one of ${COMPATS.map((c) => `'${c}'`).join(', ')}`;
  if (typeof value !== 'string') throw new TypeError(`options.compat = ${show(value)}: expected ${expected}`);
  if (!(COMPATS as readonly string[]).includes(value)) throw new RangeError(`options.compat = ${show(value)}: expected ${expected}`);
  return value as Compat;
}

/** The preset's defaults under the options the caller gave (an option set to undefined counts as not given). */
function merge(options: Record<string, unknown>, preset: Preset): Record<string, unknown> {
  const merged: Record<string, unknown> = { alpha: preset.alpha, gamma: preset.gamma, reduction: preset.reduction };
  for (const [key, value] of Object.entries(options)) if (value !== undefined && key !== 'compat') merged[key] = value;
  return merged;
}

/**
 * sigmoidFocalLoss options with a preset applied: its defaults, and for mmcv ('mean' over the N rows of N x C
 * logits) a normalizer of logits.length / options.classes unless one is given. Options without `compat` come back
 * as they are.
 */
export function sigmoidCompat(options: Record<string, unknown>, logits: unknown): Record<string, unknown> {
  const compat = compatOption(options.compat);
  if (compat === undefined) return options;
  // Not floats (nor binary16 bits): the plan's TypeError follows.
  const logitsLength = isFloats(logits) || logits instanceof Uint16Array ? logits.length : 0;
  const preset = SIGMOID[compat];
  const merged = merge(options, preset);
  if (preset.meanOver === 'all' && merged.reduction === 'mean' && merged.normalizer === undefined) {
    merged.normalizer = logitsLength || 1; // N = 0: any divisor; the sum is 0
  }
  if (preset.meanOver === 'rows' && merged.reduction === 'mean' && merged.normalizer === undefined) {
    // The same check as everywhere for a classes that is given; here it is also required.
    const classes = classesOption(merged.classes, 'options.classes');
    if (classes === undefined) {
      throw new TypeError(
        `options.classes = undefined: expected C, the row length of the N x C logits (options.compat = ` +
          `'${compat}' divides 'mean' by N)`,
      );
    }
    if (logitsLength % classes !== 0) {
      throw new RangeError(`logits.length = ${logitsLength}: expected a multiple of options.classes = ${classes} (rows of C classes)`);
    }
    merged.normalizer = logitsLength / classes || 1; // N = 0: any divisor; the sum is 0
  }
  return merged;
}

/** A validated softmax preset, or undefined without options.compat. */
export interface SoftmaxCompat {
  compat: Compat;
  preset: Preset;
}

/**
 * softmaxFocalLoss options with a preset's defaults applied, and the preset for the rules applied later
 * (softmaxCompatAlpha, softmaxCompatDivisor). A preset whose library has no softmax focal loss is a RangeError.
 */
export function softmaxCompat(options: Record<string, unknown>): { options: Record<string, unknown>; compat?: SoftmaxCompat } {
  const compat = compatOption(options.compat);
  if (compat === undefined) return { options };
  const preset = SOFTMAX[compat];
  if (!preset) {
    throw new RangeError(`options.compat = '${compat}': not available for softmaxFocalLoss (${NO_SOFTMAX[compat]})`);
  }
  return { options: merge(options, preset), compat: { compat, preset } };
}

/** The alpha option under the preset's convention: kornia and MONAI turn a scalar a into [1 - a, a, a, ...]. */
export function softmaxCompatAlpha(compat: SoftmaxCompat | undefined, alpha: unknown, classes: number): unknown {
  if (compat?.preset.alphaFor !== 'background' || typeof alpha !== 'number' || !(alpha >= 0)) return alpha;
  if (alpha > 1) throw new RangeError(`options.alpha = ${show(alpha)}: expected a number in [0, 1] (options.compat = '${compat.compat}')`);
  return Float64Array.from({ length: classes }, (_, c) => (c === 0 ? 1 - alpha : alpha));
}

/** The 'mean' divisor the preset implies (undefined: the engine's, the rows not ignored). */
export function softmaxCompatDivisor(compat: SoftmaxCompat | undefined, rows: number, classes: number): number | undefined {
  switch (compat?.preset.meanOver) {
    case 'rows':
      return rows;
    case 'rowsTimesClasses':
      return rows * classes;
    default:
      return undefined;
  }
}

/**
 * binaryFocalLoss options with a preset applied: only 'keras' (BinaryFocalCrossentropy(from_logits=False), no class
 * balancing by default) takes probabilities; the other libraries' focal losses take logits (sigmoidFocalLoss).
 */
export function binaryCompat(options: Record<string, unknown>): Record<string, unknown> {
  const compat = compatOption(options.compat);
  if (compat === undefined) return options;
  if (compat !== 'keras') {
    throw new RangeError(
      `options.compat = '${compat}': not available for binaryFocalLoss (probabilities, Keras' ` +
        `BinaryFocalCrossentropy(from_logits=False) only): use sigmoidFocalLoss on logits`,
    );
  }
  return merge(options, SIGMOID.keras);
}
