// focal-wasm: focal loss and its gradient, computed by WebAssembly kernels. Public exports only.
export { createFocal, createFocalSync, Focal } from './focal.js';
export { createFocalPool, FocalPool, type FocalPoolOptions } from './pool/pool.js';
export type { EngineOptions, Float16Like } from './core/public-types.js';
export type { SigmoidFocalOptions, SigmoidFocalGradOptions } from './families/sigmoid.js';
export type { SigmoidMaskOptions, ReductionOptions, GradOutOptions } from './families/common.js';
export type {
  SigmoidFocalStarOptions, SigmoidFocalStarGradOptions, QualityFocalOptions, QualityFocalGradOptions,
  VarifocalOptions, VarifocalGradOptions, PolyFocalOptions, PolyFocalGradOptions,
} from './families/variants.js';
export type { AsymmetricOptions, AsymmetricGradOptions } from './families/asymmetric.js';
export type { SoftmaxFocalOptions, SoftmaxFocalGradOptions, SoftmaxTargets } from './families/softmax.js';
export type { BinaryFocalOptions, BinaryFocalGradOptions } from './families/binary.js';
export type { DistributionFocalOptions, DistributionFocalGradOptions, DflCompat } from './families/dfl.js';
export type {
  Activation, DiceFocalGradOptions, DiceFocalOptions, DiceGradOptions, DiceOptions, OverlapOptions, OverlapTargets,
  TverskyGradOptions, TverskyOptions,
} from './families/dice.js';
export type { SoftmaxOptions, SigmoidOptions } from './families/primitives.js';
export type { FocalMatchingCostOptions } from './families/detr.js';
export type { LossName } from './families/registry.js';
export type { Floats, Reduction } from './options/checks.js';
export type { Compat } from './options/compat.js';
export type { PerElement, Reduced, WithGrad } from './options/results.js';
