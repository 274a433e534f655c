// The module's exports: one per kernel entry point. Loss kernels take the ABI of abi.ts (a stream table, counts, a
// parameter block) and return a status; the maps take raw pointers. The facade (src/) owns memory and validation.
export { sigmoidFocal } from './sigmoid/focal';
export {
  sigmoidFocalMasked, sigmoidFocalStar, qualityFocal, varifocal, polyFocal, asymmetricFocal,
} from './sigmoid/variants';
export { binaryFocal } from './binary/focal';
export { softmaxFocal } from './softmax/hard';
export { softmaxFocalSoft } from './softmax/soft';
export { softmaxRows } from './softmax/primitives';
export { distributionFocal } from './dfl/focal';
export { focalCostMatrix } from './detr/cost';
export { diceSums, diceGrad } from './dice/overlap';
export { layoutGather, layoutScatter } from './layout/gather';
export {
  mapExp, mapExpCapped, mapExpNonPositive, mapLog, mapLog1p, mapSigmoid, mapSoftplus, mapPow, sigmoidMap, firstNonFinite,
} from './math/elementwise';

/** First byte the facade may use for its arena: everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
