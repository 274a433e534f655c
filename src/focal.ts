// The object users hold: one engine (instance, memory, arena) and the public API as thin methods over the
// family files. createFocal / createFocalSync are the only ways to get one.
import { loadEngine, loadEngineSync, type Engine, type EngineOptions } from './engine.js';
import {
  sigmoidFocalLoss, sigmoidFocalLossWithGrad, type SigmoidFocalGradOptions, type SigmoidFocalOptions,
} from './sigmoid.js';
import type { Floats } from './validate.js';

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
   * Sigmoid focal loss from logits, torchvision.ops.sigmoid_focal_loss semantics. Per element, with
   * p = sigmoid(x) and t in [0, 1] (soft targets allowed): ce = -(t log p + (1-t) log(1-p)),
   * p_t = p t + (1-p)(1-t), loss = alpha_t (1 - p_t)^gamma ce, alpha_t = alpha t + (1-alpha)(1-t).
   * Defaults: alpha 0.25, gamma 2, reduction 'mean' (divided by N, or by `normalizer`; 0 when N = 0).
   * @returns a number for 'mean' / 'sum', a Float32Array of per-element losses for 'none'.
   * @throws TypeError for an argument of the wrong type; RangeError for lengths that disagree, a non-finite
   *   logit, a target outside [0, 1], gamma < 0, alpha > 1, an unknown reduction or a normalizer <= 0. The engine
   *   stays usable after any error (contents of `out` are then unspecified).
   */
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): number | Float32Array {
    return sigmoidFocalLoss(this.#engine, logits, targets, options);
  }

  /**
   * sigmoidFocalLoss and its gradient with respect to the logits in one fused pass: grad = d(reduced loss)/dx
   * (for 'none', the elementwise derivative dloss_i/dx_i). Finite for every finite input, gamma in (0, 1)
   * included. Same options and errors as sigmoidFocalLoss, plus `gradOut` to write the gradient into.
   */
  sigmoidFocalLossWithGrad(
    logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions,
  ): { loss: number | Float32Array; grad: Float32Array } {
    return sigmoidFocalLossWithGrad(this.#engine, logits, targets, options);
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
