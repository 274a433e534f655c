// focal-wasm: focal loss and its gradient, computed by WebAssembly kernels. Public exports only.
export { createFocal, createFocalSync, Focal } from './focal.js';
export { createFocalPool, FocalPool, type FocalPoolOptions } from './pool.js';
export type { EngineOptions } from './engine.js';
export type { SigmoidFocalOptions, SigmoidFocalGradOptions } from './sigmoid.js';
export type {
  SigmoidMaskOptions, SigmoidFocalExtraOptions, SigmoidFocalStarOptions, SigmoidFocalStarGradOptions,
  QualityFocalOptions, QualityFocalGradOptions, VarifocalOptions, VarifocalGradOptions, PolyFocalOptions,
  PolyFocalGradOptions,
} from './sigmoid-variants.js';
export type { SoftmaxFocalOptions, SoftmaxFocalGradOptions, SoftmaxTargets } from './softmax.js';
export type { BinaryFocalOptions, BinaryFocalGradOptions } from './binary.js';
export type { SoftmaxOptions, SigmoidOptions } from './primitives.js';
export type { Floats, Reduction } from './validate.js';
export type { Compat } from './compat.js';
