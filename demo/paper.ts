// The paper's Fig. 1, recomputed by the engine: FL(p_t) = -(1 - p_t)^gamma log(p_t) for gamma in {0, 0.5, 1, 2, 5},
// and how much less a well-classified example weighs than under cross-entropy (gamma = 0). Each value is checked
// against the same formula in float64.
import type { Focal } from '../src/index.js';

export const GAMMAS = [0, 0.5, 1, 2, 5] as const;
/** The p_t at which the paper quotes "1000x lower loss" for gamma = 2: (1 - p_t)^-2 = 1000. */
export const PT_1000X = 1 - 1 / Math.sqrt(1000);
export const TABLE_PT = [0.1, 0.3, 0.5, 0.7, 0.9, PT_1000X] as const;

export interface PaperResult {
  /** loss[g][k]: engine loss for GAMMAS[g] at TABLE_PT[k]. */
  table: number[][];
  /** CE / FL for each gamma at p_t = 0.9 and at p_t ~ 0.968 (engine values). */
  ratioAt09: number[];
  ratioAt0968: number[];
  /** The same ratios from the float64 formula at the same (float32) inputs. */
  exactRatioAt09: number[];
  exactRatioAt0968: number[];
  /** Worst relative error of the engine's loss against the float64 formula, over every curve point. */
  maxRelError: number;
  points: number;
  /** The curves for the plot: one row per (gamma, p_t). */
  curves: { gamma: number; pT: number; loss: number }[];
}

/** A logit whose target-1 probability is p (the input the engine sees is its float32 rounding). */
function logitOf(p: number): number {
  return Math.log(p / (1 - p));
}

/** The float64 formula at the float32 logit the engine actually reads: -(1 - p)^gamma log p, p = sigmoid(x). */
export function focalExact(x32: number, gamma: number): number {
  const logP = -(Math.max(-x32, 0) + Math.log1p(Math.exp(-Math.abs(x32)))); // log sigmoid(x), stable
  const q = 1 / (1 + Math.exp(x32)); // 1 - p
  return -(gamma === 0 ? 1 : q ** gamma) * logP;
}

export function paperFigure1(fl: Focal, curvePoints = 199): PaperResult {
  // The curve p_t = 0.005 ... 0.995 plus the table's points, all in one engine call per gamma.
  const pts: number[] = [];
  for (let i = 1; i <= curvePoints; i++) pts.push(i / (curvePoints + 1));
  pts.push(...TABLE_PT);
  const logits = Float32Array.from(pts, logitOf);
  const targets = new Float32Array(pts.length).fill(1);
  const table: number[][] = [];
  const curves: PaperResult['curves'] = [];
  const exact: number[][] = [];
  let maxRelError = 0;
  for (const gamma of GAMMAS) {
    const loss = fl.sigmoidFocalLoss(logits, targets, { alpha: null, gamma, reduction: 'none' }) as Float32Array;
    const exactRow: number[] = [];
    for (let i = 0; i < pts.length; i++) {
      const want = focalExact(logits[i]!, gamma);
      maxRelError = Math.max(maxRelError, Math.abs(loss[i]! - want) / want);
      if (i < curvePoints) curves.push({ gamma, pT: pts[i]!, loss: loss[i]! });
      else exactRow.push(want);
    }
    table.push(Array.from(loss.subarray(curvePoints)));
    exact.push(exactRow);
  }
  const at = (rows: number[][], k: number): number[] => rows.map((row) => rows[0]![k]! / row[k]!);
  const k09 = TABLE_PT.indexOf(0.9);
  const k0968 = TABLE_PT.indexOf(PT_1000X);
  return {
    table, curves, maxRelError, points: pts.length * GAMMAS.length,
    ratioAt09: at(table, k09), ratioAt0968: at(table, k0968),
    exactRatioAt09: at(exact, k09), exactRatioAt0968: at(exact, k0968),
  };
}
