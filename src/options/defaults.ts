// The one table of defaults: what every loss uses for an option the caller leaves out. The plans read their
// defaults from here, the README's defaults table is written from it (`npm run docs:defaults`), and a test checks
// both: passing these values explicitly gives the same bits as passing nothing, and the README says the same.
type Default = number | boolean | null | string;

export const DEFAULTS = {
  sigmoidFocalLoss: { alpha: 0.25, gamma: 2, reduction: 'mean', normalized: false, detachModulator: false },
  sigmoidFocalLossStar: { alpha: null, gamma: 1, beta: 0, reduction: 'mean' },
  qualityFocalLoss: { beta: 2, reduction: 'mean' },
  varifocalLoss: { alpha: 0.75, gamma: 2, iouWeighted: true, detachModulator: false, reduction: 'mean' },
  polyFocalLoss: { alpha: 0.25, gamma: 2, epsilon: 1, reduction: 'mean' },
  asymmetricLoss: { gammaPos: 1, gammaNeg: 4, clip: 0.05, eps: 1e-8, detachModulator: true, reduction: 'sum' },
  binaryFocalLoss: { alpha: 0.25, gamma: 2, epsilon: 1e-7, reduction: 'mean' },
  softmaxFocalLoss: {
    alpha: null, gamma: 2, ignoreIndex: -100, labelSmoothing: 0, classAxis: -1, detachModulator: false, reduction: 'mean',
  },
  distributionFocalLoss: { reduction: 'mean' },
  diceLoss: {
    activation: 'softmax', classAxis: 1, includeBackground: true, smoothNr: 1e-5, smoothDr: 1e-5, squaredPred: false,
    jaccard: false, batch: false, classWeights: null, reduction: 'mean',
  },
  tverskyLoss: {
    activation: 'softmax', classAxis: 1, includeBackground: true, smoothNr: 1e-5, smoothDr: 1e-5, alpha: 0.5, beta: 0.5,
    exponent: 1, batch: false, reduction: 'mean',
  },
  diceFocalLoss: {
    activation: 'softmax', classAxis: 1, includeBackground: true, smoothNr: 1e-5, smoothDr: 1e-5, squaredPred: false,
    jaccard: false, batch: false, classWeights: null, lambdaDice: 1, lambdaFocal: 1, gamma: 2, alpha: null, reduction: 'mean',
  },
  focalMatchingCost: { alpha: 0.25, gamma: 2 },
} as const satisfies Record<string, Record<string, Default>>;
