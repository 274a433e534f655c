// The registry of every loss: its name, its plan (options in, a call description out), the driver that runs it and
// the names of its two arrays. Focal, the worker pool, the tfjs adapter and the CLI read this one list, so a loss
// added here is a method, a pool method, a tfjs loss and a CLI choice at once.
import { runElementwise, type ElementwisePlan, type LossResult } from '../core/elementwise.js';
import type { Engine } from '../core/engine.js';
import { runRegionCall, type RegionPlan } from '../core/regions.js';
import { runRowCall, type RowPlan } from '../core/rows.js';
import { ASYMMETRIC_OPTIONS, asymmetricPlan } from './asymmetric.js';
import { BINARY_OPTIONS, binaryPlan } from './binary.js';
import { DFL_OPTIONS, distributionFocalPlan } from './dfl.js';
import { DICE_FOCAL_OPTIONS, DICE_OPTIONS, diceFocalPlan, dicePlan, TVERSKY_OPTIONS, tverskyPlan } from './dice.js';
import { SIGMOID_FOCAL_OPTIONS, sigmoidFocalPlan } from './sigmoid.js';
import { SOFTMAX_FOCAL_OPTIONS, softmaxFocalPlan } from './softmax.js';
import {
  POLY_OPTIONS, polyPlan, QUALITY_OPTIONS, qualityPlan, STAR_OPTIONS, starPlan, VARIFOCAL_OPTIONS, varifocalPlan,
} from './variants.js';

type Planner<P> = (first: unknown, second: unknown, options: unknown, withGrad: boolean) => P;

interface Entry {
  /** The names of its two arrays, as its errors name them. */
  args: readonly [string, string];
  /** Its options (the ...WithGrad method adds gradOut). */
  options: readonly string[];
}

/**
 * A loss the elementwise driver runs (one value per element), one the row driver runs (rows of C classes), or one
 * the region driver runs (a loss per (item, class) region: two passes, see src/core/regions.ts).
 */
export type LossEntry =
  | (Entry & { driver: 'elementwise'; plan: Planner<ElementwisePlan> })
  | (Entry & { driver: 'rows'; plan: Planner<RowPlan> })
  | (Entry & { driver: 'regions'; plan: Planner<RegionPlan> });

const LOGITS = ['logits', 'targets'] as const;

export const LOSSES = {
  sigmoidFocalLoss: { driver: 'elementwise', plan: sigmoidFocalPlan, args: LOGITS, options: SIGMOID_FOCAL_OPTIONS },
  sigmoidFocalLossStar: { driver: 'elementwise', plan: starPlan, args: LOGITS, options: STAR_OPTIONS },
  qualityFocalLoss: { driver: 'elementwise', plan: qualityPlan, args: LOGITS, options: QUALITY_OPTIONS },
  varifocalLoss: { driver: 'elementwise', plan: varifocalPlan, args: LOGITS, options: VARIFOCAL_OPTIONS },
  polyFocalLoss: { driver: 'elementwise', plan: polyPlan, args: LOGITS, options: POLY_OPTIONS },
  asymmetricLoss: { driver: 'elementwise', plan: asymmetricPlan, args: LOGITS, options: ASYMMETRIC_OPTIONS },
  binaryFocalLoss: { driver: 'elementwise', plan: binaryPlan, args: ['probs', 'targets'], options: BINARY_OPTIONS },
  softmaxFocalLoss: { driver: 'rows', plan: softmaxFocalPlan, args: LOGITS, options: SOFTMAX_FOCAL_OPTIONS },
  distributionFocalLoss: { driver: 'rows', plan: distributionFocalPlan, args: LOGITS, options: DFL_OPTIONS },
  diceLoss: { driver: 'regions', plan: dicePlan, args: LOGITS, options: DICE_OPTIONS },
  tverskyLoss: { driver: 'regions', plan: tverskyPlan, args: LOGITS, options: TVERSKY_OPTIONS },
  diceFocalLoss: { driver: 'regions', plan: diceFocalPlan, args: LOGITS, options: DICE_FOCAL_OPTIONS },
} as const satisfies Record<string, LossEntry>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

/** Each loss's ...WithGrad method name, made once (a template string per call costs an allocation). */
const WITH_GRAD = Object.fromEntries(LOSS_NAMES.map((name) => [name, `${name}WithGrad`])) as Record<LossName, string>;

export function isLossName(name: unknown): name is LossName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(LOSSES, name);
}

/** The plan of a call: every argument checked, nothing run. */
export function planLoss(
  name: LossName, first: unknown, second: unknown, options: unknown, withGrad: boolean,
): ElementwisePlan | RowPlan | RegionPlan {
  return (LOSSES[name] as LossEntry).plan(first, second, options, withGrad);
}

/** Runs a loss on one engine. */
export function runLoss(
  engine: Engine, name: LossName, first: unknown, second: unknown, options: unknown, withGrad: boolean,
): LossResult {
  const entry: LossEntry = LOSSES[name];
  const method = withGrad ? WITH_GRAD[name] : name;
  if (entry.driver === 'rows') return runRowCall(engine, entry.plan(first, second, options, withGrad), method);
  if (entry.driver === 'regions') return runRegionCall(engine, entry.plan(first, second, options, withGrad), method);
  return runElementwise(engine, entry.plan(first, second, options, withGrad), method);
}
