// The cases every browser context (plain ES module page, esbuild bundle, Vite build, workers) and Node run, encoded
// so that two runs compare bit for bit: float32 arrays as their bytes, numbers as their float64 bits, errors as
// class + message. This file imports nothing (the API comes in as an argument), so it runs unchanged everywhere.
// To cover a new API: add cases below; browser.test.ts fails when a public method of Focal has none.

/** The package's entry as the cases see it (dist/index.js, or whatever a bundle made of it). */
export interface FocalApi {
  createFocal(options?: unknown): Promise<FocalLike>;
  createFocalSync(options?: unknown): FocalLike;
}
// The methods are called by name, so a case can name an API that is still being written.
export type FocalLike = { readonly simd: boolean } & Record<string, any>;

export interface Case {
  name: string;
  /** The Focal method the case exercises (the coverage check reads this). */
  api: string;
  run(fl: FocalLike): unknown;
}

/** Deterministic pseudo-random numbers (mulberry32), the same sequence in every runtime. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const N = 3000; // "a few thousand elements": long enough for SIMD bodies, tails and every branch of the kernels
const ROWS = 500;
const CLASSES = 7; // not a multiple of 4: softmax rows end in a scalar tail

/** Logits over the ranges that take different paths: moderate, large (saturated sigmoid) and exact zeros. */
function logits(seed: number, n: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    out[i] = i % 97 === 0 ? 0 : i % 13 === 0 ? (u - 0.5) * 200 : (u - 0.5) * 16;
  }
  return out;
}

function hardTargets(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.3 ? 1 : 0));
}

function softTargets(seed: number, n: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? Math.round(r()) : r()));
}

function probabilities(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, (_, i) => (i % 101 === 0 ? 0 : i % 103 === 0 ? 1 : r()));
}

function classTargets(seed: number, rows: number, classes: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: rows }, (_, i) => (i % 17 === 0 ? -100 : Math.floor(r() * classes)));
}

function weights(seed: number, n: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2);
}

const x = logits(1, N);
const t = hardTargets(2, N);
const tSoft = softTargets(3, N);
const w = weights(4, N);
const p = probabilities(5, N);
const rowLogits = logits(6, ROWS * CLASSES);
const y = classTargets(7, ROWS, CLASSES);
const rowWeights = weights(8, ROWS);
/** Soft targets N×C (mixup-like rows that need not sum to 1). */
const softRows = (() => {
  const r = rng(9);
  return Float32Array.from({ length: ROWS * CLASSES }, (_, i) => (i % CLASSES === i % 3 ? r() : r() * 0.2));
})();
const alphaPerClass = Float32Array.from({ length: CLASSES }, (_, c) => 0.1 + c / 10);
const short = Array.from(x.subarray(0, 37)); // a plain array whose length is not a multiple of 4

const sigmoidCases: Case[] = [
  { name: 'sigmoid mean (defaults)', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x, t) },
  { name: 'sigmoid sum gamma 0 alpha null', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(x, t, { gamma: 0, alpha: null, reduction: 'sum' }) },
  ...[0, 0.5, 1, 2, 2.5, 5].map((gamma): Case => ({
    name: `sigmoid none gamma ${gamma} soft targets`, api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(x, tSoft, { gamma, reduction: 'none' }),
  })),
  { name: 'sigmoid mean weights normalizer', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(x, t, { weights: w, normalizer: 123.5, alpha: 0.75 }) },
  { name: 'sigmoid plain array, 37 elements', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(short, short.map((v) => (v > 0 ? 1 : 0)), { reduction: 'none' }) },
  { name: 'sigmoid empty input', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss([], []) },
  ...(['mean', 'sum', 'none'] as const).map((reduction): Case => ({
    name: `sigmoid grad ${reduction}`, api: 'sigmoidFocalLossWithGrad',
    run: (fl) => fl.sigmoidFocalLossWithGrad(x, tSoft, { reduction, gamma: 0.5, weights: w }),
  })),
  { name: 'sigmoid grad into out/gradOut', api: 'sigmoidFocalLossWithGrad',
    run: (fl) => fl.sigmoidFocalLossWithGrad(x, t, {
      reduction: 'none', out: new Float32Array(N + 3), gradOut: new Float32Array(N),
    }) },
  { name: 'sigmoid grad in place, zero-copy views from alloc', api: 'alloc',
    run: (fl) => {
      const [logitsView, targetsView, gradView] = fl.alloc(N, N, N) as Float32Array[];
      logitsView!.set(x);
      targetsView!.set(t);
      const { loss } = fl.sigmoidFocalLossWithGrad(logitsView, targetsView, { gradOut: gradView });
      const result = { loss, grad: Float32Array.from(gradView!) };
      fl.freeAll();
      return result;
    } },
  { name: 'freeAll, then a view at the same place', api: 'freeAll',
    run: (fl) => {
      fl.freeAll();
      const first = fl.alloc(16) as Float32Array;
      fl.freeAll();
      return (fl.alloc(16) as Float32Array).byteOffset === first.byteOffset ? 1 : 0;
    } },
];

const softmaxCases: Case[] = [
  { name: 'softmax mean (defaults)', api: 'softmaxFocalLoss', run: (fl) => fl.softmaxFocalLoss(rowLogits, y) },
  ...[0, 0.5, 2, 3.5].map((gamma): Case => ({
    name: `softmax none gamma ${gamma} alpha per class`, api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, y, { gamma, alpha: alphaPerClass, reduction: 'none' }),
  })),
  { name: 'softmax sum scalar alpha, weights, plain-array targets', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, Array.from(y), { alpha: 0.25, weights: rowWeights, reduction: 'sum' }) },
  { name: 'softmax soft targets, label smoothing', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, softRows, { classes: CLASSES, labelSmoothing: 0.1, reduction: 'none' }) },
  { name: 'softmax ignoreIndex 3, normalizer', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, Int32Array.from(y, (v) => (v < 0 ? 3 : v)), { ignoreIndex: 3, normalizer: 77, gamma: 1 }) },
  { name: 'softmax grad soft targets', api: 'softmaxFocalLossWithGrad',
    run: (fl) => fl.softmaxFocalLossWithGrad(rowLogits, softRows, { classes: CLASSES, alpha: alphaPerClass }) },
  ...(['mean', 'sum', 'none'] as const).map((reduction): Case => ({
    name: `softmax grad ${reduction}`, api: 'softmaxFocalLossWithGrad',
    run: (fl) => fl.softmaxFocalLossWithGrad(rowLogits, y, { reduction, classes: CLASSES, gamma: 0.5 }),
  })),
  { name: 'softmax grad NCHW layout (shape [5, 7, 100], classAxis 1)', api: 'softmaxFocalLossWithGrad',
    run: (fl) => fl.softmaxFocalLossWithGrad(rowLogits, y, { shape: [5, CLASSES, ROWS / 5], classAxis: 1, reduction: 'none' }) },
  { name: 'softmax compat kornia (alpha 0.25 on classes 1.., mean over rows x C)', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, y, { compat: 'kornia', alpha: 0.25, reduction: 'mean' }) },
];

// DFL: rows of CLASSES bins, targets in [0, CLASSES - 1] (integers, the last bin, continuous); ultralytics on 4 sides.
const dflTargets = Float32Array.from({ length: ROWS }, (_, i) => (i % 3 === 0 ? i % CLASSES : ((i * 0.37) % (CLASSES - 1))));
const dflCases: Case[] = [
  { name: 'dfl mean (defaults)', api: 'distributionFocalLoss', run: (fl) => fl.distributionFocalLoss(rowLogits, dflTargets) },
  { name: 'dfl none, weights', api: 'distributionFocalLoss',
    run: (fl) => fl.distributionFocalLoss(rowLogits, dflTargets, { weights: rowWeights, reduction: 'none' }) },
  ...(['mean', 'sum', 'none'] as const).map((reduction): Case => ({
    name: `dfl grad ${reduction}`, api: 'distributionFocalLossWithGrad',
    run: (fl) => fl.distributionFocalLossWithGrad(rowLogits, dflTargets, { reduction }),
  })),
  { name: 'dfl grad compat ultralytics none', api: 'distributionFocalLossWithGrad',
    run: (fl) => fl.distributionFocalLossWithGrad(rowLogits, dflTargets, { compat: 'ultralytics', reduction: 'none' }) },
];

// Dice, Tversky, Dice + focal: rowLogits seen as [N = 5, C = 7, 10, 10], class indices per position.
const overlapShape = [5, CLASSES, 10, ROWS / 50];
const overlapLabels = Int32Array.from({ length: ROWS }, (_, i) => (i * 5) % CLASSES);
const overlapCases: Case[] = (['diceLoss', 'tverskyLoss', 'diceFocalLoss'] as const).flatMap((api): Case[] => [
  { name: `${api} mean`, api, run: (fl) => fl[api](rowLogits, overlapLabels, { shape: overlapShape }) },
  { name: `${api} grad none sigmoid`, api: `${api}WithGrad`,
    run: (fl) => fl[`${api}WithGrad`](rowLogits, overlapLabels, { shape: overlapShape, reduction: 'none', activation: 'sigmoid' }) },
]);

const binaryCases: Case[] = [
  { name: 'binary mean (defaults)', api: 'binaryFocalLoss', run: (fl) => fl.binaryFocalLoss(p, t) },
  ...[0, 0.5, 2].map((gamma): Case => ({
    name: `binary none gamma ${gamma} soft targets`, api: 'binaryFocalLoss',
    run: (fl) => fl.binaryFocalLoss(p, tSoft, { gamma, reduction: 'none', epsilon: 1e-4 }),
  })),
  ...(['mean', 'none'] as const).map((reduction): Case => ({
    name: `binary grad ${reduction}`, api: 'binaryFocalLossWithGrad',
    run: (fl) => fl.binaryFocalLossWithGrad(p, t, { reduction, weights: w, alpha: null }),
  })),
];

// The sigmoid family beyond torchvision (src/sigmoid-variants.ts), and sigmoidFocalLoss's masks and weights.
const mask = Uint8Array.from({ length: N }, (_, i) => (i % 7 === 3 ? 0 : 1));
const variantCases: Case[] = [
  ...(['sigmoidFocalLossStar', 'qualityFocalLoss', 'varifocalLoss', 'polyFocalLoss'] as const).flatMap((api): Case[] => [
    { name: `${api} mean (defaults), soft targets`, api, run: (fl) => fl[api](x, tSoft) },
    { name: `${api} none, weights and mask`, api, run: (fl) => fl[api](x, tSoft, { reduction: 'none', weights: w, mask }) },
    { name: `${api} grad mean`, api: `${api}WithGrad`, run: (fl) => fl[`${api}WithGrad`](x, tSoft, { reduction: 'sum' }) },
    { name: `${api} grad none, ignoreIndex`, api: `${api}WithGrad`,
      run: (fl) => fl[`${api}WithGrad`](x, Float64Array.from(tSoft, (v, i) => (i % 11 === 0 ? -1 : v)), { reduction: 'none', ignoreIndex: -1 }) },
  ]),
  { name: 'sigmoid masks: classWeights, posWeight, reducedThreshold', api: 'sigmoidFocalLossWithGrad',
    run: (fl) => fl.sigmoidFocalLossWithGrad(x, t, {
      classes: 6, classWeights: [1, 2, 0.5, 1, 3, 0.25], posWeight: 2, reducedThreshold: 0.5, mask,
    }) },
  { name: 'sigmoid normalized, none', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(x, tSoft, { normalized: true, reduction: 'none' }) },
  { name: 'asymmetricLoss sum (defaults)', api: 'asymmetricLoss', run: (fl) => fl.asymmetricLoss(x, t) },
  { name: 'asymmetricLoss none, soft targets, weights, mask, clip 0', api: 'asymmetricLoss',
    run: (fl) => fl.asymmetricLoss(x, tSoft, { reduction: 'none', weights: w, mask, clip: 0 }) },
  { name: 'asymmetricLoss grad none (defaults)', api: 'asymmetricLossWithGrad',
    run: (fl) => fl.asymmetricLossWithGrad(x, t, { reduction: 'none' }) },
  { name: 'asymmetricLoss grad mean, attached, gammas in (0, 1), soft targets', api: 'asymmetricLossWithGrad',
    run: (fl) => fl.asymmetricLossWithGrad(x, tSoft, { reduction: 'mean', detachModulator: false, gammaPos: 0.5, gammaNeg: 0.3 }) },
];

const primitiveCases: Case[] = [
  { name: 'sigmoid primitive', api: 'sigmoid', run: (fl) => fl.sigmoid(x) },
  { name: 'softmax primitive', api: 'softmax', run: (fl) => fl.softmax(rowLogits, { classes: CLASSES }) },
  { name: 'logSoftmax primitive', api: 'logSoftmax', run: (fl) => fl.logSoftmax(rowLogits, { classes: CLASSES }) },
  { name: 'softmax primitive, one row, into out', api: 'softmax',
    run: (fl) => fl.softmax(x.subarray(0, 1001), { out: new Float32Array(1001) }) },
];

// The DETR focal matching cost: 300 queries of CLASSES logits (rowLogits has 500), 40 targets with repeats.
const matchTargets = Int32Array.from({ length: 40 }, (_, m) => (m * 5) % CLASSES);
const matchingCases: Case[] = [
  { name: 'focalMatchingCost (defaults)', api: 'focalMatchingCost',
    run: (fl) => fl.focalMatchingCost(rowLogits.subarray(0, 300 * CLASSES), matchTargets, { classes: CLASSES }) },
  { name: "focalMatchingCost compat 'detr', gamma 0.5, plain-array targets, into out", api: 'focalMatchingCost',
    run: (fl) => fl.focalMatchingCost(rowLogits.subarray(0, 300 * CLASSES), Array.from(matchTargets), {
      classes: CLASSES, compat: 'detr', gamma: 0.5, alpha: 0.4, out: new Float32Array(300 * 40),
    }) },
  { name: 'error: focalMatchingCost target class 7 of 7', api: 'focalMatchingCost',
    run: (fl) => fl.focalMatchingCost(rowLogits, [0, CLASSES], { classes: CLASSES }) },
];

const badX = Float32Array.from(x.subarray(0, 40));
badX[17] = Number.NaN;
const badT = Float32Array.from(t.subarray(0, 40));
badT[17] = 1.5;

// Errors: class and message must match Node's; the call after an error must still be right.
const errorCases: Case[] = [
  { name: 'error: logits a string', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss('x', t) },
  { name: 'error: lengths disagree', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x, t.subarray(1)) },
  { name: 'error: target 1.5', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x.subarray(0, 40), badT) },
  { name: 'error: NaN logit', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(badX, t.subarray(0, 40)) },
  { name: 'error: gamma -1', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x, t, { gamma: -1 }) },
  { name: 'error: reduction avg', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x, t, { reduction: 'avg' }) },
  { name: 'error: alpha a string', api: 'sigmoidFocalLoss', run: (fl) => fl.sigmoidFocalLoss(x, t, { alpha: '0.25' }) },
  { name: 'error: normalizer with sum', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss(x, t, { normalizer: 2, reduction: 'sum' }) },
  { name: 'error: plain array with a string', api: 'sigmoidFocalLoss',
    run: (fl) => fl.sigmoidFocalLoss([0, 1, 'two'], [0, 1, 0]) },
  { name: 'error: gradOut overlaps out', api: 'sigmoidFocalLossWithGrad',
    run: (fl) => {
      const shared = new Float32Array(2 * N);
      return fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'none', out: shared, gradOut: shared.subarray(N) });
    } },
  { name: 'after an error, the engine is intact', api: 'sigmoidFocalLossWithGrad',
    run: (fl) => {
      try { fl.sigmoidFocalLossWithGrad(badX, t.subarray(0, 40)); } catch { /* expected */ }
      return fl.sigmoidFocalLossWithGrad(x, t);
    } },
  { name: 'error: softmax class index 7 of 7', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, Int32Array.from(y, (v, i) => (i === 9 ? CLASSES : v))) },
  { name: 'error: softmax alpha array of the wrong length', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, y, { alpha: [0.5, 0.5] }) },
  { name: 'error: softmax soft targets without classes', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, softRows) },
  { name: 'error: softmax labelSmoothing 2', api: 'softmaxFocalLoss',
    run: (fl) => fl.softmaxFocalLoss(rowLogits, y, { labelSmoothing: 2 }) },
  { name: 'error: softmax primitive, 10 logits in rows of 3', api: 'softmax',
    run: (fl) => fl.softmax(x.subarray(0, 10), { classes: 3 }) },
  { name: 'error: binary epsilon 0.7', api: 'binaryFocalLoss', run: (fl) => fl.binaryFocalLoss(p, t, { epsilon: 0.7 }) },
  { name: 'error: binary probability 1.5', api: 'binaryFocalLoss',
    run: (fl) => fl.binaryFocalLoss(Float32Array.from(p.subarray(0, 40), (v, i) => (i === 17 ? 1.5 : v)), t.subarray(0, 40)) },
];

export const cases: readonly Case[] = [
  ...sigmoidCases, ...softmaxCases, ...dflCases, ...overlapCases, ...binaryCases, ...variantCases, ...primitiveCases, ...matchingCases,
  ...errorCases,
];

/** The builds every context runs: detected (SIMD wherever supported) and the forced scalar build. */
export const builds = [
  { name: 'simd', options: undefined },
  { name: 'scalar', options: { simd: false } },
] as const;

// ---- encoding ----

export type Encoded =
  | { f32: string; length: number } // the bytes, hex, little-endian as in memory
  | { f64: string } //                 a number's float64 bits, hex
  | { error: string; message: string }
  | { missing: string } //             the API is not in this build of the package
  | { [key: string]: Encoded }
  | string | boolean | null;

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += bytes[i]!.toString(16).padStart(2, '0');
  return s;
}

export function encode(value: unknown): Encoded {
  if (typeof value === 'number') {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, true);
    return { f64: hex(new Uint8Array(view.buffer)) };
  }
  if (value instanceof Float32Array) {
    return { f32: hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)), length: value.length };
  }
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Encoded } = {};
    for (const key of Object.keys(value).sort()) out[key] = encode((value as Record<string, unknown>)[key]);
    return out;
  }
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  return `unexpected ${typeof value}`;
}

function encodeError(e: unknown): Encoded {
  if (e instanceof Error) {
    // The constructor's own name, and instanceof the realm's class: a bundle that swapped classes would show here.
    const cls = e instanceof RangeError ? 'RangeError' : e instanceof TypeError ? 'TypeError' : 'Error';
    return { error: `${cls}/${e.constructor.name}`, message: e.message };
  }
  return { error: 'non-Error thrown', message: String(e) };
}

export function runCase(fl: FocalLike, c: Case): Encoded {
  if (typeof fl[c.api] !== 'function') return { missing: c.api };
  try {
    return encode(c.run(fl));
  } catch (e) {
    return encodeError(e);
  }
}

export interface SuiteResult {
  /** build name → case name → encoded result */
  results: Record<string, Record<string, Encoded>>;
  /** build name → fl.simd as the engine reported it */
  simd: Record<string, boolean>;
  /** build name → how createFocalSync fared: 'same' (every case identical to createFocal's), or what differed */
  sync: Record<string, string>;
  /** errors of the engine options themselves */
  optionErrors: Record<string, Encoded>;
}

/** Runs every case on both builds (and, with `sync`, checks createFocalSync gives the same bits). */
export async function runSuite(api: FocalApi, sync: boolean): Promise<SuiteResult> {
  const suite: SuiteResult = { results: {}, simd: {}, sync: {}, optionErrors: {} };
  for (const build of builds) {
    const fl = await api.createFocal(build.options);
    suite.simd[build.name] = fl.simd;
    const results: Record<string, Encoded> = {};
    for (const c of cases) results[c.name] = runCase(fl, c);
    suite.results[build.name] = results;
    if (!sync) continue;
    try {
      const flSync = api.createFocalSync(build.options);
      const differ = cases.filter((c) => JSON.stringify(runCase(flSync, c)) !== JSON.stringify(results[c.name]));
      suite.sync[build.name] = differ.length === 0 ? 'same' : `differs in: ${differ.map((c) => c.name).join(', ')}`;
    } catch (e) {
      suite.sync[build.name] = `createFocalSync threw ${JSON.stringify(encodeError(e))}`;
    }
  }
  for (const [name, options] of [['simd: "yes"', { simd: 'yes' }], ['options 42', 42]] as const) {
    try {
      await api.createFocal(options);
      suite.optionErrors[name] = 'no error';
    } catch (e) {
      suite.optionErrors[name] = encodeError(e);
    }
  }
  return suite;
}
