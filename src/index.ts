// focal-wasm: focal loss and its gradient, computed by WebAssembly kernels. Public exports only.
export { createFocal, createFocalSync, Focal } from './focal.js';
export type { EngineOptions } from './engine.js';
export type { SigmoidFocalOptions, SigmoidFocalGradOptions } from './sigmoid.js';
export type { Floats, Reduction } from './validate.js';
