// The module's exports: one per kernel entry point. Kernels take raw pointers into linear memory and counts,
// write through pointers, and return a status or nothing; the facade (src/) owns memory and validation.
export { sigmoidFocal } from './sigmoid';
export { mapExp, mapExpCapped, mapExpNonPositive, mapLog, mapLog1p, mapSigmoid, mapSoftplus, mapPow } from './elementwise';
export { softmaxFocal, softmaxFocalSoft, softmaxRows } from './softmax';
export { layoutGather, layoutScatter } from './layout';
export { binaryFocal } from './binary';
export { sigmoidFocalMasked, sigmoidFocalStar, qualityFocal, varifocal, polyFocal } from './sigmoid-variants';

/** First byte the facade may use for its arena: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
