// The synthetic "dense detection" data set of the demo: one positive per 1000 negatives, as anchors in a one-stage
// detector, 99% of the negatives easy (background), 1% hard (object-like clutter). Features: two "object" cues,
// the only ones that tell objects from clutter, and a background cue on which the background alone is shifted
// (objects and clutter spread widely on it), so what separates the many easy negatives is not what ranks objects.

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32): the same seed gives the same data and model. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller. */
export function normal(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export const enum Kind { Easy = 0, Hard = 1, Positive = 2 }

export interface DataSet {
  /** Row-major n × features. */
  x: Float32Array;
  /** 1 for a positive, 0 for a negative. */
  y: Float32Array;
  kind: Uint8Array;
  n: number;
  features: number;
  positives: number;
}

export interface DataConfig {
  /** Negatives per positive. */
  ratio: number;
  /** Share of negatives that are hard (object-like). */
  hardShare: number;
  /** Number of background-cue (nuisance) features, on which only easy negatives are shifted. */
  nuisance: number;
  /** Mean of each object cue for positives, hard negatives and easy negatives (all with spread 1). */
  objectPos: number;
  objectHard: number;
  objectEasy: number;
  /** Mean of the background cue for easy negatives (0 for the others). */
  nuisanceEasy: number;
  /** Spread of the nuisance features of positives and hard negatives (easy negatives: 1). */
  nuisanceSpread: number;
}

// Tuned (over seeds 1-6) so that, with the demo's budget, cross-entropy's pull towards the easy negatives visibly
// costs ranking quality on the rare class: it learns the background cue first and the object cues late.
export const DATA: DataConfig = {
  ratio: 1000, hardShare: 0.01, nuisance: 1,
  objectPos: 3, objectHard: 1.5, objectEasy: 1, nuisanceEasy: 2.5, nuisanceSpread: 1.5,
};

/** `positives` positives and ratio × positives negatives, shuffled. */
export function makeData(positives: number, seed: number, config: DataConfig = DATA): DataSet {
  const random = rng(seed);
  const gauss = normal(random);
  const negatives = positives * config.ratio;
  const hard = Math.round(negatives * config.hardShare);
  const n = positives + negatives;
  const features = 2 + config.nuisance;
  const kinds = new Uint8Array(n);
  for (let i = 0; i < n; i++) kinds[i] = i < positives ? Kind.Positive : i < positives + hard ? Kind.Hard : Kind.Easy;
  for (let i = n - 1; i > 0; i--) { // Fisher-Yates
    const j = Math.floor(random() * (i + 1));
    const k = kinds[i]!; kinds[i] = kinds[j]!; kinds[j] = k;
  }
  const x = new Float32Array(n * features);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    const object = kind === Kind.Positive ? config.objectPos : kind === Kind.Hard ? config.objectHard : config.objectEasy;
    const shift = kind === Kind.Easy ? config.nuisanceEasy : 0;
    const spread = kind === Kind.Easy ? 1 : config.nuisanceSpread;
    const row = i * features;
    x[row] = object + gauss();
    x[row + 1] = object + gauss();
    for (let f = 2; f < features; f++) x[row + f] = shift + spread * gauss();
    y[i] = kind === Kind.Positive ? 1 : 0;
  }
  return { x, y, kind: kinds, n, features, positives };
}
