// Everything the inspector shows, computed by the engine: totals (the engine's float64 'mean'), per-sample focal
// loss and cross-entropy ('none'), and the paper's Fig. 1 curves. The page only sorts, groups and draws.
import type { Focal } from 'focal-wasm';
import type { Dataset } from './data.js';

export interface Settings {
  gamma: number;
  /** null: no alpha weighting. Binary: alpha_t = alpha for positives, 1 - alpha for negatives. */
  alpha: number | null;
}

export interface ClassRow {
  name: string;
  count: number;
  focalMean: number;
  ceMean: number;
  /** Fraction of the summed loss over the whole set that this class carries. */
  focalShare: number;
  ceShare: number;
}

export interface Sample {
  index: number;
  label: string;
  predicted: string;
  pT: number;
  focal: number;
  ce: number;
}

export interface Analysis {
  focal: number;
  ce: number;
  perSampleFocal: Float32Array;
  perSampleCe: Float32Array;
  perClass: ClassRow[];
  hardest: Sample[];
}

// The focal-wasm facade is typed per method; softmaxFocalLoss may be missing from an older build of the package.
type MultiClass = (logits: Float32Array, labels: Int32Array, options: object) => number | Float32Array;

/** Multi-class alpha as a per-class array: alpha for the foreground classes, 1 - alpha for class 0 (background). */
function classAlpha(d: Dataset, alpha: number | null): Float32Array | null {
  return alpha === null ? null : Float32Array.from({ length: d.classes }, (_, c) => (c === 0 ? 1 - alpha : alpha));
}

function losses(fl: Focal, d: Dataset, gamma: number, alpha: number | null, reduction: 'mean' | 'none'): number | Float32Array {
  if (d.kind === 'binary') return fl.sigmoidFocalLoss(d.logits, d.labels as Float32Array, { gamma, alpha, reduction });
  const softmaxFocalLoss = (fl as unknown as { softmaxFocalLoss?: MultiClass }).softmaxFocalLoss;
  if (typeof softmaxFocalLoss !== 'function') {
    throw new Error('this build of focal-wasm has no softmaxFocalLoss yet: load binary (N logits) data instead');
  }
  return softmaxFocalLoss.call(fl, d.logits, d.labels as Int32Array, {
    classes: d.classes, gamma, alpha: classAlpha(d, alpha), reduction,
  });
}

/** Binary: 1 for positives (a soft target counts as positive from 0.5). Multi-class: the index. */
function classOf(d: Dataset, i: number): number {
  return d.kind === 'binary' ? (d.labels[i]! >= 0.5 ? 1 : 0) : d.labels[i]!;
}

function predictedClass(d: Dataset, i: number): number {
  if (d.kind === 'binary') return d.logits[i]! > 0 ? 1 : 0;
  let best = 0;
  for (let c = 1; c < d.classes; c++) if (d.logits[i * d.classes + c]! > d.logits[i * d.classes + best]!) best = c;
  return best;
}

export function analyse(fl: Focal, d: Dataset, { gamma, alpha }: Settings, hardestCount = 12): Analysis {
  const focal = losses(fl, d, gamma, alpha, 'mean') as number;
  const ce = losses(fl, d, 0, null, 'mean') as number; // gamma 0, no alpha: plain cross-entropy
  const perSampleFocal = losses(fl, d, gamma, alpha, 'none') as Float32Array;
  const perSampleCe = losses(fl, d, 0, null, 'none') as Float32Array;

  const sums = Array.from({ length: d.classes }, () => ({ count: 0, focal: 0, ce: 0 }));
  let focalSum = 0;
  let ceSum = 0;
  for (let i = 0; i < d.n; i++) {
    const c = classOf(d, i);
    const s = sums[c];
    if (!s) continue; // an ignored row (ignoreIndex) of multi-class data
    s.count++;
    s.focal += perSampleFocal[i]!;
    s.ce += perSampleCe[i]!;
    focalSum += perSampleFocal[i]!;
    ceSum += perSampleCe[i]!;
  }
  const perClass = sums.map((s, c) => ({
    name: d.classNames[c] ?? String(c), count: s.count,
    focalMean: s.count ? s.focal / s.count : 0, ceMean: s.count ? s.ce / s.count : 0,
    focalShare: focalSum > 0 ? s.focal / focalSum : 0, ceShare: ceSum > 0 ? s.ce / ceSum : 0,
  }));

  const order = Array.from({ length: d.n }, (_, i) => i).sort((a, b) => perSampleFocal[b]! - perSampleFocal[a]!);
  const hardest = order.slice(0, hardestCount).map((i) => ({
    index: i,
    label: d.kind === 'binary' && d.labels[i] !== 0 && d.labels[i] !== 1
      ? `soft ${d.labels[i]!.toFixed(2)}` : d.classNames[classOf(d, i)] ?? '?',
    predicted: d.classNames[predictedClass(d, i)] ?? '?',
    pT: Math.exp(-perSampleCe[i]!), // CE = -log p_t for hard labels
    focal: perSampleFocal[i]!,
    ce: perSampleCe[i]!,
  }));
  return { focal, ce, perSampleFocal, perSampleCe, perClass, hardest };
}

/** p_t grid of the Fig. 1 curves: (0, 1) open at both ends, where the logit is finite. */
export const curveGrid = Float64Array.from({ length: 399 }, (_, i) => (i + 1) / 400);
const gridLogits = Float32Array.from(curveGrid, (p) => Math.log(p / (1 - p)));
const ones = new Float32Array(curveGrid.length).fill(1);

/** FL(p_t) = -(1 - p_t)^gamma log p_t (the paper's Fig. 1), by the engine: target 1, logit = logit(p_t), no alpha. */
export function fig1Curve(fl: Focal, gamma: number): Float32Array {
  return fl.sigmoidFocalLoss(gridLogits, ones, { gamma, alpha: null, reduction: 'none' }) as Float32Array;
}
