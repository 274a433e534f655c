// The object users hold: one engine (instance, memory, arena) and the public API as thin methods over the loss
// registry (src/families/registry.ts) and the drivers. createFocal / createFocalSync are the only ways to get one.
// Each loss method's overloads make its result type follow its options (src/options/results.ts).
import { loadEngine, loadEngineSync, type Engine } from './core/engine.js';
import type { EngineOptions } from './core/public-types.js';
import { runElementwise, type LossResult } from './core/elementwise.js';
import { runRowCall } from './core/rows.js';
import type { AsymmetricGradOptions, AsymmetricOptions } from './families/asymmetric.js';
import type { BinaryFocalGradOptions, BinaryFocalOptions } from './families/binary.js';
import type { DistributionFocalGradOptions, DistributionFocalOptions } from './families/dfl.js';
import type {
  DiceFocalGradOptions, DiceFocalOptions, DiceGradOptions, DiceOptions, OverlapTargets, TverskyGradOptions, TverskyOptions,
} from './families/dice.js';
import { runFocalMatchingCost, type FocalMatchingCostOptions } from './families/detr.js';
import { sigmoidPlan, softmaxRowsPlan, type SigmoidOptions, type SoftmaxOptions } from './families/primitives.js';
import { runLoss, type LossName } from './families/registry.js';
import type { SigmoidFocalGradOptions, SigmoidFocalOptions } from './families/sigmoid.js';
import type { SoftmaxFocalGradOptions, SoftmaxFocalOptions, SoftmaxTargets } from './families/softmax.js';
import type {
  PolyFocalGradOptions, PolyFocalOptions, QualityFocalGradOptions, QualityFocalOptions, SigmoidFocalStarGradOptions,
  SigmoidFocalStarOptions, VarifocalGradOptions, VarifocalOptions,
} from './families/variants.js';
import type { Floats } from './options/checks.js';
import type { PerElement, Reduced, WithGrad } from './options/results.js';

/** A focal-loss engine. Methods are synchronous and may be called from any number of async contexts. */
export class Focal {
  readonly #engine: Engine;

  /** @internal use createFocal() or createFocalSync(). */
  constructor(engine: Engine) {
    this.#engine = engine;
  }

  /** true when the SIMD build runs, false for the scalar build. */
  get simd(): boolean {
    return this.#engine.simd;
  }

  /**
   * Zero-copy input and output: Float32Arrays of the given lengths inside the engine's memory. Fill them and
   * pass them as inputs (logits, targets, weights, ...) or as `out` / `gradOut` of any loss: the kernels then read
   * and write them in place instead of copying through the staging area. A call never grows the memory while
   * such views are live (one that would need to is refused with a RangeError), but `alloc` itself may, which
   * detaches the views it gave out before: so allocate everything a loop needs in one call,
   * `const [logits, targets, grad] = fl.alloc(n, n, n)`. A detached view passed to a call is a TypeError.
   * @throws TypeError for a length that is not a number; RangeError for one that is not a whole number >= 0, or
   *   for more memory than the runtime lets a WebAssembly memory have (naming the length and the bytes); an Error
   *   when called from inside another call of this engine (a getter of an input).
   */
  alloc(n: number): Float32Array;
  alloc(...lengths: number[]): Float32Array[];
  alloc(...lengths: number[]): Float32Array | Float32Array[] {
    const names = lengths.map((_, i) => (lengths.length === 1 ? 'n' : `lengths[${i}]`));
    lengths.forEach((n, i) => {
      if (typeof n !== 'number') throw new TypeError(`${names[i]}: expected a number, got ${typeof n}`);
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${names[i]} = ${n}: expected a whole number >= 0`);
    });
    const views = this.#engine.arena.alloc(lengths, names);
    return lengths.length === 1 ? views[0]! : views;
  }

  /** Releases every view `alloc` returned; using one afterwards gives unspecified values (never a crash). */
  freeAll(): void {
    this.#engine.arena.freeAll();
  }

  /**
   * Sigmoid focal loss from logits, torchvision.ops.sigmoid_focal_loss semantics. Per element, with
   * p = sigmoid(x) and t in [0, 1] (soft targets allowed): ce = -(t log p + (1-t) log(1-p)),
   * p_t = p t + (1-p)(1-t), loss = alpha_t (1 - p_t)^gamma ce, alpha_t = alpha t + (1-alpha)(1-t).
   * Defaults: alpha 0.25, gamma 2, reduction 'mean' (divided by N, or by `normalizer`; 0 when N = 0).
   * `compat: 'torchvision' | 'kornia' | 'keras' | 'mmcv' | 'mmdet' | 'smp' | 'monai'` sets that library's defaults
   * and 'mean' divisor (mmcv: N rows of N x C, so `classes` is needed); explicit options override the preset's.
   * Masks and weights (see SigmoidMaskOptions): `mask` / `ignoreIndex` drop elements (0 loss, 0 gradient,
   * not counted by 'mean'); `classWeights` and kornia's `posWeight` (weight of the t log p term) per class of N x C
   * logits (`classes`); smp's `reducedThreshold` (focal term ((1-p_t)/th)^gamma where p_t >= th, else 1) and
   * `normalized` (each loss divided by the sum of the focal terms, clamped to >= 1e-6).
   * Generalized focusing: `gamma` may be an array of C per-class exponents (EFL-style long-tail detectors):
   * element i of N x C logits uses gamma[i mod C] (C from `classes`, else classWeights / posWeight, else
   * gamma.length); 0, 1/2, 1 and 2 by the scalar gamma's exact forms, 3 and 4 by products, others by the general
   * pow: equal entries match the scalar call to float32 rounding, not always bit for bit. `detachModulator: true` (default false) makes alpha_t (1 - p_t)^gamma a constant of the
   * gradient (RT-DETR's weight.detach()): the loss is unchanged, the gradient alpha_t (1 - p_t)^gamma (p - t).
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws TypeError for an argument of the wrong type; RangeError for lengths that disagree, a non-finite
   *   logit, a target outside [0, 1], gamma < 0 (an array gamma: not C long, or an entry not finite and >= 0;
   *   or beside reducedThreshold), alpha > 1, an unknown reduction or a normalizer <= 0. The engine
   *   stays usable after any error (contents of `out` are then unspecified).
   */
  sigmoidFocalLoss(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalOptions, 'torchvision' | 'kornia'>): Float32Array;
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalOptions, 'torchvision' | 'kornia'>): number;
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): number | Float32Array;
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): number | Float32Array {
    return this.#loss('sigmoidFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * sigmoidFocalLoss and its gradient with respect to the logits in one fused pass: grad = d(reduced loss)/dx
   * (for 'none', the elementwise derivative dloss_i/dx_i). Finite for every finite input, gamma in (0, 1)
   * included. Same options and errors as sigmoidFocalLoss, plus `gradOut` to write the gradient into.
   */
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalGradOptions, 'torchvision' | 'kornia'>): WithGrad<Float32Array>;
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalGradOptions, 'torchvision' | 'kornia'>): WithGrad<number>;
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions): WithGrad;
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions): WithGrad {
    return this.#loss('sigmoidFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * FL*, the focal loss variant of Lin et al. 2017 appendix A, fvcore sigmoid_focal_loss_star semantics (plus the
   * paper's beta). Per element, with t in [0, 1]: z = gamma x (2t - 1) + beta,
   * loss = alpha_t softplus(-z) / gamma (= -log sigmoid(z) / gamma), alpha_t = alpha t + (1-alpha)(1-t).
   * Defaults (fvcore): alpha null (no weighting), gamma 1 (> 0), beta 0; reduction 'mean'. Also takes `weights`,
   * `normalizer`, `out`, `mask`, `ignoreIndex`, `classes`, `classWeights`.
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws TypeError for an argument of the wrong type; RangeError for lengths that disagree, a non-finite logit,
   *   a target outside [0, 1] (not ignored), gamma <= 0, a non-finite beta, alpha > 1, an unknown reduction or a
   *   normalizer <= 0. The engine stays usable after any error.
   */
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalStarOptions>): Float32Array;
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalStarOptions>): number;
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: SigmoidFocalStarOptions): number | Float32Array;
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: SigmoidFocalStarOptions): number | Float32Array {
    return this.#loss('sigmoidFocalLossStar', logits, targets, options, false).loss;
  }

  /**
   * sigmoidFocalLossStar and its gradient in one fused pass: d loss / dx = -alpha_t (2t - 1) sigmoid(-z).
   * Same options and errors, plus `gradOut`.
   */
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalStarGradOptions>): WithGrad<Float32Array>;
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalStarGradOptions>): WithGrad<number>;
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalStarGradOptions): WithGrad;
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalStarGradOptions): WithGrad {
    return this.#loss('sigmoidFocalLossStar', logits, targets, options, true) as WithGrad;
  }

  /**
   * Quality Focal Loss (Li et al. 2020, Generalized Focal Loss), mmdet quality_focal_loss semantics, from logits:
   * targets are soft IoU scores in [0, 1] (0 for negatives). Per element, p = sigmoid(x):
   * loss = |t - p|^beta BCE(x, t), BCE(x, t) = -(t log p + (1-t) log(1-p)). Defaults: beta 2, reduction 'mean'
   * over elements (mmdet sums over classes and averages over anchors or an avg_factor: pass `normalizer`).
   * Also takes `weights`, `normalizer`, `out`, `mask`, `ignoreIndex`, `classes`, `classWeights`.
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws as sigmoidFocalLossStar; beta < 0 is a RangeError.
   */
  qualityFocalLoss(logits: Floats, targets: Floats, options: PerElement<QualityFocalOptions>): Float32Array;
  qualityFocalLoss(logits: Floats, targets: Floats, options?: Reduced<QualityFocalOptions>): number;
  qualityFocalLoss(logits: Floats, targets: Floats, options?: QualityFocalOptions): number | Float32Array;
  qualityFocalLoss(logits: Floats, targets: Floats, options?: QualityFocalOptions): number | Float32Array {
    return this.#loss('qualityFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * qualityFocalLoss and its gradient in one fused pass: with d = p - t,
   * d loss / dx = |d|^beta (beta p (1-p) BCE / d + d) (0 where d = 0), finite for every finite input.
   * Same options and errors, plus `gradOut`.
   */
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<QualityFocalGradOptions>): WithGrad<Float32Array>;
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<QualityFocalGradOptions>): WithGrad<number>;
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: QualityFocalGradOptions): WithGrad;
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: QualityFocalGradOptions): WithGrad {
    return this.#loss('qualityFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Varifocal Loss (Zhang et al. 2021, VarifocalNet), mmdet varifocal_loss semantics, from logits: targets are
   * IoU-aware scores q in [0, 1]. Per element, p = sigmoid(x): positives (q > 0) give w BCE(x, q) with w = q
   * (`iouWeighted`, default) or 1; negatives (q = 0) give alpha p^gamma BCE(x, 0). As in mmdet the weight
   * alpha p^gamma is part of the graph (not detached), so the gradient includes its derivative; with
   * `detachModulator: true` (RT-DETR's weight.detach()) it is a constant: the loss is unchanged, the negatives'
   * gradient is alpha p^gamma p (the positives' weight q does not depend on x: their gradient is unchanged).
   * Defaults (mmdet): alpha 0.75 (any finite number >= 0), gamma 2, iouWeighted true, detachModulator false,
   * reduction 'mean'.
   * Also takes `weights`, `normalizer`, `out`, `mask`, `ignoreIndex`, `classes`, `classWeights`.
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws as sigmoidFocalLossStar; alpha < 0, gamma < 0 or a non-boolean iouWeighted are errors.
   */
  varifocalLoss(logits: Floats, targets: Floats, options: PerElement<VarifocalOptions>): Float32Array;
  varifocalLoss(logits: Floats, targets: Floats, options?: Reduced<VarifocalOptions>): number;
  varifocalLoss(logits: Floats, targets: Floats, options?: VarifocalOptions): number | Float32Array;
  varifocalLoss(logits: Floats, targets: Floats, options?: VarifocalOptions): number | Float32Array {
    return this.#loss('varifocalLoss', logits, targets, options, false).loss;
  }

  /**
   * varifocalLoss and its gradient in one fused pass: positives w (p - q); negatives
   * alpha p^gamma (gamma (1-p) softplus(x) + p). Same options and errors, plus `gradOut`.
   */
  varifocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<VarifocalGradOptions>): WithGrad<Float32Array>;
  varifocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<VarifocalGradOptions>): WithGrad<number>;
  varifocalLossWithGrad(logits: Floats, targets: Floats, options?: VarifocalGradOptions): WithGrad;
  varifocalLossWithGrad(logits: Floats, targets: Floats, options?: VarifocalGradOptions): WithGrad {
    return this.#loss('varifocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Poly-1 focal loss (Leng et al. 2022, PolyLoss): the sigmoid focal loss (torchvision form, alpha_t on it) plus
   * epsilon (1 - p_t)^(gamma+1), the epsilon term not alpha-weighted (as the paper's Poly-1 focal code).
   * Defaults: alpha 0.25, gamma 2, epsilon 1, reduction 'mean'. Also takes `weights`, `normalizer`, `out`,
   * `mask`, `ignoreIndex`, `classes`, `classWeights`. A negative epsilon can make the loss negative.
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws as sigmoidFocalLoss; a non-finite epsilon is a RangeError.
   */
  polyFocalLoss(logits: Floats, targets: Floats, options: PerElement<PolyFocalOptions>): Float32Array;
  polyFocalLoss(logits: Floats, targets: Floats, options?: Reduced<PolyFocalOptions>): number;
  polyFocalLoss(logits: Floats, targets: Floats, options?: PolyFocalOptions): number | Float32Array;
  polyFocalLoss(logits: Floats, targets: Floats, options?: PolyFocalOptions): number | Float32Array {
    return this.#loss('polyFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * polyFocalLoss and its gradient in one fused pass (the poly term adds
   * epsilon (gamma+1) (1-p_t)^gamma (1-2t) p (1-p)). Same options and errors, plus `gradOut`.
   */
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<PolyFocalGradOptions>): WithGrad<Float32Array>;
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<PolyFocalGradOptions>): WithGrad<number>;
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: PolyFocalGradOptions): WithGrad;
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: PolyFocalGradOptions): WithGrad {
    return this.#loss('polyFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Asymmetric loss (Ridnik et al. 2021, ASL) for multi-label classification, with the semantics of Alibaba-MIIL's
   * AsymmetricLoss (src/loss_functions/losses.py). Logits are N x C (every element is one (sample, class) pair),
   * targets in [0, 1] (soft targets by the same formula). Per element, with p = sigmoid(x) and t the target:
   * xs_neg = min(1 - p + clip, 1) (the negatives' probability shift; none when clip = 0),
   * ce = -(t log max(p, eps) + (1-t) log max(xs_neg, eps)), p_t = p t + xs_neg (1-t),
   * loss = (1 - p_t)^(gammaPos t + gammaNeg (1-t)) ce. Defaults (the anchor's): gammaPos 1, gammaNeg 4, clip 0.05,
   * eps 1e-8, detachModulator true, reduction 'sum' (the anchor's -loss.sum(); 'mean' divides it by N·C, or by
   * `normalizer`). Also takes `weights`, `normalizer`, `out`, `mask`, `ignoreIndex`, `classes`, `classWeights`.
   * @returns a number for 'sum' / 'mean', a Float32Array of per-element losses for 'none'.
   * @throws TypeError for an argument of the wrong type (a non-boolean detachModulator included); RangeError for
   *   lengths that disagree, a non-finite logit, a target outside [0, 1] (not ignored), gammaPos or gammaNeg not a
   *   finite number >= 0, clip outside [0, 1), eps outside (0, 0.5), an unknown reduction or a normalizer <= 0
   *   (or given with a reduction other than 'mean'). The engine stays usable after any error.
   */
  asymmetricLoss(logits: Floats, targets: Floats, options: PerElement<AsymmetricOptions>): Float32Array;
  asymmetricLoss(logits: Floats, targets: Floats, options?: Reduced<AsymmetricOptions>): number;
  asymmetricLoss(logits: Floats, targets: Floats, options?: AsymmetricOptions): number | Float32Array;
  asymmetricLoss(logits: Floats, targets: Floats, options?: AsymmetricOptions): number | Float32Array {
    return this.#loss('asymmetricLoss', logits, targets, options, false).loss;
  }

  /**
   * asymmetricLoss and its gradient with respect to the logits in one fused pass. With detachModulator (default,
   * the anchor's disable_torch_grad_focal_loss) the modulator w = (1 - p_t)^gamma is a constant: grad = w d ce/dx.
   * With detachModulator false, d w/dx is included, evaluated as w gamma (d(1-p_t)/dx) / (1-p_t), never as
   * (1-p_t)^(gamma-1): where 1 - p_t = 0 (a negative with p <= clip, or a saturated positive) and gamma is in (0, 1)
   * the anchor's autograd gives NaN (0 * inf), ours the finite limit (0). A clamp that is active passes no gradient
   * (as torch.clamp): log max(p, eps) where p < eps, log max(xs_neg, eps) where xs_neg < eps, and xs_neg where
   * 1 - p + clip > 1. Same options and errors as asymmetricLoss, plus `gradOut`.
   */
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options: PerElement<AsymmetricGradOptions>): WithGrad<Float32Array>;
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<AsymmetricGradOptions>): WithGrad<number>;
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: AsymmetricGradOptions): WithGrad;
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: AsymmetricGradOptions): WithGrad {
    return this.#loss('asymmetricLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Softmax focal loss from logits, mmcv softmax_focal_loss / Keras CategoricalFocalCrossentropy semantics.
   * `logits` is N x C row-major (class axis last). With class indices y (an Int32Array or number[] of length N),
   * row i: p = softmax(logits_i), loss_i = -alpha_y (1 - p_y)^gamma log p_y. With soft targets (a Float32Array or
   * Float64Array of N x C values in [0, 1], e.g. mixup or distillation; rows need not sum to 1, and
   * `options.classes` is required): loss_i = -sum_c alpha_c t_c (1 - p_c)^gamma log p_c. `labelSmoothing` eps
   * turns the targets into t (1 - eps) + eps / C first, as Keras label_smoothing.
   * Defaults: classes = logits.length / targets.length, alpha null (no weighting; a number scales every row, an
   * array of C weighs by class), gamma 2, ignoreIndex -100 (such rows give 0 loss and gradient and are not
   * counted), labelSmoothing 0, reduction 'mean' over the counted rows (or / `normalizer`; 0 when none count).
   * Generalized focusing: `gamma` may be an array of C per-class exponents: row i uses gamma[y_i] (soft targets
   * and label smoothing: class c's term uses gamma[c]); 0, 1/2, 1 and 2 by the scalar gamma's exact forms (equal
   * entries give the scalar call's bits), 3 and 4 by products, others by the general pow (float32 rounding). `detachModulator: true` (default false) makes alpha_y (1 - p_y)^gamma a
   * constant of the gradient: the loss is unchanged, d loss_i / d z_j = alpha_y (1 - p_y)^gamma (p_j - 1[j=y]).
   * Layouts: `{ shape, classAxis }` takes logits of any rank with the classes on any axis (NCHW: shape [N, C, H, W],
   * classAxis 1); class indices then have the shape without the class axis, soft targets and the gradient the
   * logits' shape; no transposed copy is made, and results are bit-identical to class-last on a transposed copy.
   * `compat: 'kornia' | 'keras' | 'mmcv' | 'monai'` sets that library's alpha convention, 'mean' divisor and
   * defaults; options given explicitly beside it override the preset's defaults (docs/compat.md).
   * @returns a number for 'mean' / 'sum', a Float32Array of N row losses for 'none' (0 for ignored rows).
   * @throws TypeError for an argument of the wrong type (or soft targets without options.classes); RangeError
   *   for lengths that disagree (logits not a whole number of rows, targets not N or N x C, alpha not C long),
   *   a non-finite logit, a class index outside [0, C) that is not ignoreIndex, a soft target outside [0, 1],
   *   a negative alpha entry, gamma < 0 (an array gamma: not C long, or an entry not finite and >= 0), an
   *   unknown reduction, labelSmoothing outside [0, 1] or a normalizer
   *   <= 0; a shape whose product is not logits.length or with an entry that is not a positive integer, a
   *   classAxis outside [-rank, rank), class-index targets not one per position; an unknown compat, or one whose
   *   library has no softmax focal loss (torchvision, mmdet, smp). Logits of ignored rows are not read (nor
   *   checked). The engine stays usable after any error.
   */
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options: PerElement<SoftmaxFocalOptions, 'kornia'>): Float32Array;
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: Reduced<SoftmaxFocalOptions, 'kornia'>): number;
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalOptions): number | Float32Array;
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalOptions): number | Float32Array {
    return this.#loss('softmaxFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * softmaxFocalLoss and its gradient with respect to the logits (N x C) in one fused pass per row:
   * grad = d(reduced loss)/d logits (for 'none', d loss_i / d logits_i, row by row). For class index y,
   * d loss_i / d z_j = alpha_y (gamma u^(gamma-1) p_y log p_y - u^gamma) (1[j=y] - p_j) with u = 1 - p_y,
   * evaluated in a form that stays finite as u -> 0 for gamma in (0, 1). Same options and errors as
   * softmaxFocalLoss, plus `gradOut` (length >= N x C) to write the gradient into.
   */
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options: PerElement<SoftmaxFocalGradOptions, 'kornia'>): WithGrad<Float32Array>;
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: Reduced<SoftmaxFocalGradOptions, 'kornia'>): WithGrad<number>;
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalGradOptions): WithGrad;
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalGradOptions): WithGrad {
    return this.#loss('softmaxFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Binary focal loss from probabilities, Keras BinaryFocalCrossentropy (from_logits = false) semantics. Per
   * element, with t in [0, 1] and pc = p clipped to [epsilon, 1 - epsilon] (bounds rounded to float32):
   * ce = -(t log pc + (1-t) log(1 - pc)), p_t = p t + (1-p)(1-t) with p as given, loss = alpha_t (1 - p_t)^gamma ce,
   * alpha_t = alpha t + (1-alpha)(1-t). Defaults: alpha 0.25 (as sigmoidFocalLoss; Keras' default is no
   * balancing: pass alpha null for that), gamma 2, epsilon 1e-7, reduction 'mean' (or / `normalizer`).
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws TypeError for an argument of the wrong type; RangeError for lengths that disagree, a probability or
   *   target outside [0, 1], gamma < 0, alpha > 1, epsilon outside [2^-24, 0.5), an unknown reduction or a
   *   normalizer <= 0. The engine stays usable after any error.
   */
  binaryFocalLoss(probs: Floats, targets: Floats, options: PerElement<BinaryFocalOptions>): Float32Array;
  binaryFocalLoss(probs: Floats, targets: Floats, options?: Reduced<BinaryFocalOptions>): number;
  binaryFocalLoss(probs: Floats, targets: Floats, options?: BinaryFocalOptions): number | Float32Array;
  binaryFocalLoss(probs: Floats, targets: Floats, options?: BinaryFocalOptions): number | Float32Array {
    return this.#loss('binaryFocalLoss', probs, targets, options, false).loss;
  }

  /**
   * binaryFocalLoss and its gradient with respect to the probabilities in one fused pass. The clip passes the
   * gradient of the log terms on [epsilon, 1 - epsilon] and blocks it outside (as tf.clip_by_value). Where
   * d(1-p_t)^gamma/dp is infinite or beyond float32 (gamma < 1 and 1 - p_t below 2^-126, p = t exactly included),
   * (1-p_t)^(gamma-1) is taken at 2^-126, so the result is large but finite. Same options and errors as
   * binaryFocalLoss, plus `gradOut`.
   */
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options: PerElement<BinaryFocalGradOptions>): WithGrad<Float32Array>;
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: Reduced<BinaryFocalGradOptions>): WithGrad<number>;
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: BinaryFocalGradOptions): WithGrad;
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: BinaryFocalGradOptions): WithGrad {
    return this.#loss('binaryFocalLoss', probs, targets, options, true) as WithGrad;
  }

  /**
   * Distribution Focal Loss (Li et al. 2020, Generalized Focal Loss), mmdet distribution_focal_loss semantics
   * (mmdet/models/losses/gfocal_loss.py). `logits` is N x bins row-major (one discretized box side per row), `targets`
   * N continuous values y in [0, bins - 1]. Row i, with l = floor(y) and CE(z, k) = -log softmax(z)_k:
   * loss_i = CE(z_i, l) (l + 1 - y) + CE(z_i, l + 1) (y - l), the right term absent when its weight y - l is 0
   * (so y = bins - 1 is valid here, where mmdet indexes past the last bin). Per-row `weights` multiply the row loss;
   * 'mean' (default) divides the sum by `normalizer` (mmdet's avg_factor) or by N (weighted too). The module's
   * loss_weight (0.25 in mmdet's GFL configs) is not applied: multiply the result.
   * `compat: 'ultralytics'` is ultralytics' DFLoss (ultralytics/utils/loss.py): logits (N*4) x bins for N boxes (their
   * four sides), targets N*4 clamped to float32(bins - 1 - 0.01) as `target.clamp_(0, reg_max - 1 - 0.01)`, each
   * box's loss the mean of its four sides' (`.mean(-1, keepdim=True)`); 'none' gives N values (one per box), 'mean'
   * their mean over the boxes (or sum / normalizer), 'sum' their sum; `weights` is refused there.
   * Defaults: bins = logits.length / targets.length, reduction 'mean', compat 'mmdet'.
   * @returns a number for 'mean' / 'sum', a Float32Array of N row losses (ultralytics: one per box) for 'none'.
   * @throws TypeError for an argument of the wrong type (or `weights` with compat 'ultralytics'); RangeError for
   *   lengths that disagree (logits not a whole number of rows of bins, targets not one per row; ultralytics: rows
   *   not a multiple of 4, or bins < 2), a non-finite logit, a target outside [0, bins - 1] or NaN, a non-finite
   *   weight, an unknown reduction or compat, or a normalizer <= 0 (each naming the index). The engine stays usable
   *   after any error.
   */
  distributionFocalLoss(logits: Floats, targets: Floats, options: PerElement<DistributionFocalOptions>): Float32Array;
  distributionFocalLoss(logits: Floats, targets: Floats, options?: Reduced<DistributionFocalOptions>): number;
  distributionFocalLoss(logits: Floats, targets: Floats, options?: DistributionFocalOptions): number | Float32Array;
  distributionFocalLoss(logits: Floats, targets: Floats, options?: DistributionFocalOptions): number | Float32Array {
    return this.#loss('distributionFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * distributionFocalLoss and its gradient with respect to the logits (N x bins) in one pass per row:
   * d loss_i / d z_j = p_j - (l + 1 - y) 1[j = l] - (y - l) 1[j = l + 1], p = softmax(z_i), times the row's weight
   * and 1 / the 'mean' divisor (ultralytics: times 1/4 per side as well). Same options and errors as
   * distributionFocalLoss, plus `gradOut` (length >= N x bins) to write the gradient into.
   */
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<DistributionFocalGradOptions>): WithGrad<Float32Array>;
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<DistributionFocalGradOptions>): WithGrad<number>;
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: DistributionFocalGradOptions): WithGrad;
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: DistributionFocalGradOptions): WithGrad {
    return this.#loss('distributionFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Dice loss for segmentation, MONAI 1.5 DiceLoss semantics (monai/losses/dice.py). `logits` has `options.shape`
   * (required): [N, C, ...spatial] with the classes on `classAxis` (default 1; -1 for class-last), axis 0 the
   * batch. `targets`: the logits' shape (one-hot or soft, in [0, 1]) or class indices, one per position (MONAI's
   * to_onehot_y). p = softmax over the classes (default), sigmoid, or the input itself (`activation: 'none'`).
   * Per item b and class c (or per class with `batch`), with I = sum p t, P = sum p (squaredPred: p^2),
   * G = sum t (t^2) over the positions: loss = 1 - (2 I + smoothNr) / (P + G + smoothDr), or with `jaccard`
   * 1 - (2 I + smoothNr) / (2 (P + G - I) + smoothDr); times classWeights[c]. `includeBackground: false` leaves
   * class 0 out (it still takes part in the softmax). Defaults: activation 'softmax', includeBackground true,
   * smoothNr = smoothDr = 1e-5, squaredPred false, jaccard false, batch false, reduction 'mean' (over items and
   * classes; 'none': the N x C' values, C' the classes counted; C' with batch).
   * @returns a number for 'mean' / 'sum', a Float32Array for 'none'.
   * @throws TypeError for an argument of the wrong type or a missing shape; RangeError for a shape that does not
   *   match logits.length, targets of neither form, a non-finite logit (with 'none': one outside [0, 1]), a target
   *   outside [0, 1] or a class index outside [0, C) (each naming the index), smoothDr <= 0, a negative option,
   *   classWeights of the wrong length, softmax over one class, class indices with one class.
   */
  diceLoss(logits: Floats, targets: OverlapTargets, options: PerElement<DiceOptions>): Float32Array;
  diceLoss(logits: Floats, targets: OverlapTargets, options: Reduced<DiceOptions>): number;
  diceLoss(logits: Floats, targets: OverlapTargets, options: DiceOptions): number | Float32Array;
  diceLoss(logits: Floats, targets: OverlapTargets, options: DiceOptions): number | Float32Array {
    return this.#loss('diceLoss', logits, targets, options, false).loss;
  }

  /**
   * diceLoss and its gradient with respect to the logits, through the activation, in two passes over memory (the
   * floor: each class's loss needs its sums over every position before any gradient). With
   * dL/dp = a t + b (squaredPred: b 2p) per (item, class): sigmoid x p (1 - p), softmax p_c (g_c - sum_j p_j g_j).
   * For 'none' the gradient is that of the sum of the outputs. Same options and errors, plus `gradOut`.
   */
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<DiceGradOptions>): WithGrad<Float32Array>;
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<DiceGradOptions>): WithGrad<number>;
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceGradOptions): WithGrad;
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceGradOptions): WithGrad {
    return this.#loss('diceLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Tversky loss, MONAI 1.5 TverskyLoss semantics (monai/losses/tversky.py), and the Focal Tversky loss (Abraham &
   * Khan 2019) through `exponent`. Shapes, targets, activation, includeBackground, batch and reductions as diceLoss.
   * Per (item, class): TI = (I + smoothNr) / (I + alpha sum p (1 - t) + beta sum (1 - p) t + smoothDr),
   * loss = (1 - TI)^exponent (1 - TI clamped at 0 when exponent != 1). Defaults: alpha 0.5, beta 0.5 (the Dice loss
   * without squaring), exponent 1 (MONAI; the paper's gamma 4/3 is exponent 0.75), smoothNr = smoothDr = 1e-5.
   * @returns a number for 'mean' / 'sum', a Float32Array for 'none'.
   * @throws as diceLoss; RangeError for alpha or beta < 0, exponent <= 0.
   */
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: PerElement<TverskyOptions>): Float32Array;
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: Reduced<TverskyOptions>): number;
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: TverskyOptions): number | Float32Array;
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: TverskyOptions): number | Float32Array {
    return this.#loss('tverskyLoss', logits, targets, options, false).loss;
  }

  /**
   * tverskyLoss and its gradient with respect to the logits, in two passes (as diceLossWithGrad). With exponent < 1
   * the derivative of (1 - TI)^exponent where 1 - TI = 0 is taken as 0. Same options and errors, plus `gradOut`.
   */
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<TverskyGradOptions>): WithGrad<Float32Array>;
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<TverskyGradOptions>): WithGrad<number>;
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: TverskyGradOptions): WithGrad;
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: TverskyGradOptions): WithGrad {
    return this.#loss('tverskyLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Dice + focal, MONAI 1.5 DiceFocalLoss semantics (monai/losses/dice.py, with FocalLoss of
   * monai/losses/focal_loss.py): lambdaDice diceLoss + lambdaFocal focal, the Dice half as diceLoss (its options,
   * activation included), the focal half MONAI's sigmoid focal loss on the raw input whatever the activation
   * (DiceFocalLoss builds FocalLoss without use_softmax): per element, z = x (2t - 1),
   * focal = alpha_t sigmoid(-z)^gamma (t softplus(-x) + (1 - t) softplus(x)), alpha_t = alpha t + (1 - alpha)(1 - t)
   * when alpha is given, times classWeights[c]; over the classes counted. Reductions as MONAI: 'mean' is the Dice
   * mean plus the focal mean over every element; 'sum' the Dice sum plus the focal sums of each (item, class)'s
   * mean over the positions; 'none' one value per element of the N x C' x spatial block (the logits' layout with
   * C' classes), Dice's (item, class) value plus the focal term. Defaults: as diceLoss, lambdaDice 1,
   * lambdaFocal 1, gamma 2, alpha null (none).
   * @returns a number for 'mean' / 'sum', a Float32Array for 'none'.
   * @throws as diceLoss; RangeError for lambdaDice, lambdaFocal or gamma < 0, alpha > 1.
   */
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: PerElement<DiceFocalOptions>): Float32Array;
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: Reduced<DiceFocalOptions>): number;
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: DiceFocalOptions): number | Float32Array;
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: DiceFocalOptions): number | Float32Array {
    return this.#loss('diceFocalLoss', logits, targets, options, false).loss;
  }

  /**
   * diceFocalLoss and its gradient with respect to the logits, in two passes: the Dice half's as diceLossWithGrad,
   * the focal half's alpha_t (m (p - t) - gamma (2t - 1) m sigmoid(z) ce), m = sigmoid(-z)^gamma, p = sigmoid(x)
   * (no negative power: finite for every gamma >= 0). For 'none' the gradient of the sum of the outputs. Same options
   * and errors, plus `gradOut`.
   */
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<DiceFocalGradOptions>): WithGrad<Float32Array>;
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<DiceFocalGradOptions>): WithGrad<number>;
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceFocalGradOptions): WithGrad;
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceFocalGradOptions): WithGrad {
    return this.#loss('diceFocalLoss', logits, targets, options, true) as WithGrad;
  }

  /**
   * Softmax over each row of an N x C row-major array (class axis last), stable by max-subtraction.
   * Default classes: logits.length (one row). @returns a new Float32Array, or `options.out` filled.
   * @throws TypeError for an argument of the wrong type; RangeError for a non-finite logit, a length that is not
   *   a whole number of rows, or an `out` too short or sharing memory with logits.
   */
  softmax(logits: Floats, options?: SoftmaxOptions): Float32Array {
    return runRowCall(this.#engine, softmaxRowsPlan(logits, options, false), 'softmax').loss as Float32Array;
  }

  /**
   * Log-softmax over each row, (z_j - max) - log(sum_k exp(z_k - max)): accurate for p_j near 1 too. Same
   * options and errors as softmax.
   */
  logSoftmax(logits: Floats, options?: SoftmaxOptions): Float32Array {
    return runRowCall(this.#engine, softmaxRowsPlan(logits, options, true), 'logSoftmax').loss as Float32Array;
  }

  /**
   * Elementwise logistic sigmoid 1 / (1 + e^-x), from exp(-|x|) so it never overflows. Infinities map to 0 and 1;
   * NaN maps to NaN (no validation pass). @returns a new Float32Array, or `options.out` filled.
   */
  sigmoid(x: Floats, options?: SigmoidOptions): Float32Array {
    return runElementwise(this.#engine, sigmoidPlan(x, options), 'sigmoid').loss as Float32Array;
  }

  /**
   * The focal classification cost of DETR-style bipartite matching for one image, with the semantics of
   * Deformable-DETR's HungarianMatcher (models/matcher.py, `cost_class`; DINO and mmdet's FocalLossCost give the
   * same). For Q x C logits (row-major, classes last; `options.classes` = C is required: Q x C alone does not say
   * which is which) and M target classes, returns the Q x M Float32Array
   * cost[q, m] = pos(q, c_m) - neg(q, c_m), c_m = targetClasses[m], p = sigmoid(logits[q, c]):
   * pos = alpha (1-p)^gamma (-log p), neg = (1-alpha) p^gamma (-log(1-p)), the logs as softplus(-x) and
   * softplus(x) (exact for every finite logit). `compat: 'detr'` reproduces the anchor's + 1e-8 inside the logs:
   * -log(p + 1e-8) and -log(1 - p + 1e-8). Defaults: alpha 0.25, gamma 2. A cost, not a loss: no gradient, no
   * reduction. Each distinct target class is computed once per query (Q x K values for K distinct classes), then
   * copied to the columns of its targets, so repeated classes give identical columns. Add the box costs and run a
   * linear-sum assignment on the result (examples/detr-matching.ts).
   * @returns a new Float32Array of Q x M values (row q, column m), or `options.out` filled.
   * @throws TypeError for an argument of the wrong type or a missing `classes`; RangeError for a non-finite logit
   *   (every logit is checked, `logits[i]`), a target class that is not an integer in [0, C) (`targetClasses[m]`),
   *   a logits length that is not a multiple of C, alpha outside [0, 1], gamma < 0 or not finite, an unknown
   *   compat, an `out` too short or sharing memory with an input.
   */
  focalMatchingCost(logits: Floats, targetClasses: Int32Array | readonly number[], options: FocalMatchingCostOptions): Float32Array {
    return runFocalMatchingCost(this.#engine, logits, targetClasses, options);
  }

  /** One loss through the registry: its plan, then its driver (with withGrad, the result holds the gradient). */
  #loss(name: LossName, first: unknown, second: unknown, options: unknown, withGrad: boolean): LossResult {
    return runLoss(this.#engine, name, first, second, options, withGrad);
  }
}

/**
 * Creates an engine asynchronously; works in Node, browsers (main thread included), workers and bundlers.
 * Picks the SIMD build where the runtime supports WebAssembly SIMD; `{ simd: false }` forces the scalar build.
 */
export async function createFocal(options?: EngineOptions): Promise<Focal> {
  return new Focal(await loadEngine(options));
}

/**
 * Creates an engine synchronously (Node, workers, and browsers that allow synchronous compilation of a
 * small module). Same options as createFocal.
 */
export function createFocalSync(options?: EngineOptions): Focal {
  return new Focal(loadEngineSync(options));
}
