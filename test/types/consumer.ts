// Specification for the boundary redesign: the result types follow the options. Type-checked (not run) by
// test/types.test.ts with `tsc -p test/types/tsconfig.json` under strict: true; the root tsconfig excludes this
// folder. Every loss of Focal and of FocalPool: a number for 'mean' / 'sum' (and the default), a Float32Array for
// 'none', the same for ...WithGrad's loss, a compat preset's default reduction, and number | Float32Array when the
// reduction is only known at run time. Before the redesign every loss returned number | Float32Array, so the
// assignments below fail to type-check (the @ts-expect-error lines hold either way).
import type { Focal, FocalPool, Reduction } from '../../src/index.js';

declare const fl: Focal;
declare const pool: FocalPool;
declare const x: Float32Array; // logits
declare const t: Float32Array; // targets in [0, 1]
declare const p: Float32Array; // probabilities (binaryFocalLoss)
declare const z: Float32Array; // N x C logits (softmaxFocalLoss)
declare const y: Int32Array; // class indices
declare const r: Reduction;

// ---- sigmoidFocalLoss ----
export function sigmoidFocalLossResults(): void {
  const a: number = fl.sigmoidFocalLoss(x, t);
  const b: number = fl.sigmoidFocalLoss(x, t, { reduction: 'sum' });
  const bm: number = fl.sigmoidFocalLoss(x, t, { reduction: 'mean' });
  const c: Float32Array = fl.sigmoidFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.sigmoidFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.sigmoidFocalLoss(x, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.sigmoidFocalLoss(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.sigmoidFocalLoss(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.sigmoidFocalLoss(x, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.sigmoidFocalLoss(x, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.sigmoidFocalLoss(x, t, { gradOut: new Float32Array(8) });
  fl.sigmoidFocalLossWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.sigmoidFocalLoss(x, t);
  const pb: Promise<number> = pool.sigmoidFocalLoss(x, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.sigmoidFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.sigmoidFocalLoss(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.sigmoidFocalLossWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.sigmoidFocalLossWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.sigmoidFocalLoss(x, t, { reduction: r });

  // compat presets: torchvision and kornia default to 'none'; mmdet, keras, mmcv (with classes), smp, monai to 'mean'
  const g: Float32Array = fl.sigmoidFocalLoss(x, t, { compat: 'torchvision' });
  const gk: Float32Array = fl.sigmoidFocalLoss(x, t, { compat: 'kornia' });
  // @ts-expect-error torchvision's default reduction is 'none'
  const g2: number = fl.sigmoidFocalLoss(x, t, { compat: 'torchvision' });
  const gm: number = fl.sigmoidFocalLoss(x, t, { compat: 'mmdet' });
  const gs: number = fl.sigmoidFocalLoss(x, t, { compat: 'keras' });
  const gc: number = fl.sigmoidFocalLoss(x, t, { compat: 'mmcv', classes: 4 });
  const gsm: number = fl.sigmoidFocalLoss(x, t, { compat: 'smp' });
  const gmo: number = fl.sigmoidFocalLoss(x, t, { compat: 'monai' });
  const gtm: number = fl.sigmoidFocalLoss(x, t, { compat: 'torchvision', reduction: 'mean' });
  const gts: number = fl.sigmoidFocalLoss(x, t, { compat: 'kornia', reduction: 'sum' });
  const gmn: Float32Array = fl.sigmoidFocalLoss(x, t, { compat: 'mmdet', reduction: 'none' });
  const gg: { loss: Float32Array; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { compat: 'torchvision' });
  const ggm: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossWithGrad(x, t, { compat: 'mmdet' });
  const pg: Promise<Float32Array> = pool.sigmoidFocalLoss(x, t, { compat: 'torchvision' });
  const pgm: Promise<number> = pool.sigmoidFocalLoss(x, t, { compat: 'keras' });
}

// ---- sigmoidFocalLossStar ----
export function sigmoidFocalLossStarResults(): void {
  const a: number = fl.sigmoidFocalLossStar(x, t);
  const b: number = fl.sigmoidFocalLossStar(x, t, { reduction: 'sum' });
  const bm: number = fl.sigmoidFocalLossStar(x, t, { reduction: 'mean' });
  const c: Float32Array = fl.sigmoidFocalLossStar(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.sigmoidFocalLossStar(x, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.sigmoidFocalLossStar(x, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossStarWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossStarWithGrad(x, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.sigmoidFocalLossStarWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.sigmoidFocalLossStarWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.sigmoidFocalLossStar(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.sigmoidFocalLossStar(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.sigmoidFocalLossStarWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.sigmoidFocalLossStar(x, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.sigmoidFocalLossStar(x, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.sigmoidFocalLossStar(x, t, { gradOut: new Float32Array(8) });
  fl.sigmoidFocalLossStarWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.sigmoidFocalLossStar(x, t);
  const pb: Promise<number> = pool.sigmoidFocalLossStar(x, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.sigmoidFocalLossStar(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.sigmoidFocalLossStar(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.sigmoidFocalLossStarWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.sigmoidFocalLossStarWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.sigmoidFocalLossStar(x, t, { reduction: r });
}

// ---- qualityFocalLoss ----
export function qualityFocalLossResults(): void {
  const a: number = fl.qualityFocalLoss(x, t);
  const b: number = fl.qualityFocalLoss(x, t, { reduction: 'sum' });
  const bm: number = fl.qualityFocalLoss(x, t, { reduction: 'mean' });
  const c: Float32Array = fl.qualityFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.qualityFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.qualityFocalLoss(x, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.qualityFocalLossWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.qualityFocalLossWithGrad(x, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.qualityFocalLossWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.qualityFocalLossWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.qualityFocalLoss(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.qualityFocalLoss(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.qualityFocalLossWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.qualityFocalLoss(x, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.qualityFocalLoss(x, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.qualityFocalLoss(x, t, { gradOut: new Float32Array(8) });
  fl.qualityFocalLossWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.qualityFocalLoss(x, t);
  const pb: Promise<number> = pool.qualityFocalLoss(x, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.qualityFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.qualityFocalLoss(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.qualityFocalLossWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.qualityFocalLossWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.qualityFocalLoss(x, t, { reduction: r });
}

// ---- varifocalLoss ----
export function varifocalLossResults(): void {
  const a: number = fl.varifocalLoss(x, t);
  const b: number = fl.varifocalLoss(x, t, { reduction: 'sum' });
  const bm: number = fl.varifocalLoss(x, t, { reduction: 'mean' });
  const c: Float32Array = fl.varifocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.varifocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.varifocalLoss(x, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.varifocalLossWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.varifocalLossWithGrad(x, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.varifocalLossWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.varifocalLossWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.varifocalLoss(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.varifocalLoss(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.varifocalLossWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.varifocalLoss(x, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.varifocalLoss(x, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.varifocalLoss(x, t, { gradOut: new Float32Array(8) });
  fl.varifocalLossWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.varifocalLoss(x, t);
  const pb: Promise<number> = pool.varifocalLoss(x, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.varifocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.varifocalLoss(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.varifocalLossWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.varifocalLossWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.varifocalLoss(x, t, { reduction: r });
}

// ---- polyFocalLoss ----
export function polyFocalLossResults(): void {
  const a: number = fl.polyFocalLoss(x, t);
  const b: number = fl.polyFocalLoss(x, t, { reduction: 'sum' });
  const bm: number = fl.polyFocalLoss(x, t, { reduction: 'mean' });
  const c: Float32Array = fl.polyFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.polyFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.polyFocalLoss(x, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.polyFocalLossWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.polyFocalLossWithGrad(x, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.polyFocalLossWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.polyFocalLossWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.polyFocalLoss(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.polyFocalLoss(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.polyFocalLossWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.polyFocalLoss(x, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.polyFocalLoss(x, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.polyFocalLoss(x, t, { gradOut: new Float32Array(8) });
  fl.polyFocalLossWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.polyFocalLoss(x, t);
  const pb: Promise<number> = pool.polyFocalLoss(x, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.polyFocalLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.polyFocalLoss(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.polyFocalLossWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.polyFocalLossWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.polyFocalLoss(x, t, { reduction: r });
}

// ---- asymmetricLoss (its default reduction is 'sum': still a number) ----
export function asymmetricLossResults(): void {
  const a: number = fl.asymmetricLoss(x, t);
  const b: number = fl.asymmetricLoss(x, t, { reduction: 'sum' });
  const bm: number = fl.asymmetricLoss(x, t, { reduction: 'mean', normalizer: 4 });
  const c: Float32Array = fl.asymmetricLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.asymmetricLoss(x, t, { reduction: 'none' });
  // @ts-expect-error the default ('sum') gives a number
  const d2: Float32Array = fl.asymmetricLoss(x, t);
  const e: { loss: number; grad: Float32Array } = fl.asymmetricLossWithGrad(x, t);
  const e2: { loss: number; grad: Float32Array } = fl.asymmetricLossWithGrad(x, t, { gammaNeg: 2, detachModulator: false });
  const f: { loss: Float32Array; grad: Float32Array } = fl.asymmetricLossWithGrad(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.asymmetricLossWithGrad(x, t, { reduction: 'none' });
  const h: number | Float32Array = fl.asymmetricLoss(x, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.asymmetricLoss(x, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.asymmetricLossWithGrad(x, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.asymmetricLoss(x, t, { reduction: 'none', out, clip: 0, eps: 1e-6, gammaPos: 0 });
  // @ts-expect-error an unknown option (ASL has gammaPos and gammaNeg, no gamma)
  fl.asymmetricLoss(x, t, { gamma: 2 });
  // @ts-expect-error detachModulator is a boolean
  fl.asymmetricLoss(x, t, { detachModulator: 1 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.asymmetricLoss(x, t, { gradOut: new Float32Array(8) });
  fl.asymmetricLossWithGrad(x, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.asymmetricLoss(x, t);
  const pb: Promise<number> = pool.asymmetricLoss(x, t, { reduction: 'mean' });
  const pc: Promise<Float32Array> = pool.asymmetricLoss(x, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.asymmetricLoss(x, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.asymmetricLossWithGrad(x, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.asymmetricLossWithGrad(x, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.asymmetricLoss(x, t, { reduction: r });
}

// ---- softmaxFocalLoss ----
export function softmaxFocalLossResults(): void {
  const a: number = fl.softmaxFocalLoss(z, y);
  const b: number = fl.softmaxFocalLoss(z, y, { reduction: 'sum' });
  const bm: number = fl.softmaxFocalLoss(z, y, { reduction: 'mean' });
  const c: Float32Array = fl.softmaxFocalLoss(z, y, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.softmaxFocalLoss(z, y, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.softmaxFocalLoss(z, y, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y);
  const e2: { loss: number; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { reduction: 'none' });
  const h: number | Float32Array = fl.softmaxFocalLoss(z, y, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.softmaxFocalLoss(z, y, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.softmaxFocalLoss(z, y, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.softmaxFocalLoss(z, y, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.softmaxFocalLoss(z, y, { gradOut: new Float32Array(8) });
  fl.softmaxFocalLossWithGrad(z, y, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.softmaxFocalLoss(z, y);
  const pb: Promise<number> = pool.softmaxFocalLoss(z, y, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.softmaxFocalLoss(z, y, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.softmaxFocalLoss(z, y, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.softmaxFocalLossWithGrad(z, y);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.softmaxFocalLossWithGrad(z, y, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.softmaxFocalLoss(z, y, { reduction: r });

  // compat presets: kornia defaults to 'none'; keras, mmcv, monai to 'mean'
  const g: Float32Array = fl.softmaxFocalLoss(z, y, { compat: 'kornia' });
  // @ts-expect-error kornia's default reduction is 'none'
  const g2: number = fl.softmaxFocalLoss(z, y, { compat: 'kornia' });
  const gk: number = fl.softmaxFocalLoss(z, y, { compat: 'keras' });
  const gm: number = fl.softmaxFocalLoss(z, y, { compat: 'mmcv' });
  const gmo: number = fl.softmaxFocalLoss(z, y, { compat: 'monai' });
  const gkm: number = fl.softmaxFocalLoss(z, y, { compat: 'kornia', reduction: 'mean' });
  const gg: { loss: Float32Array; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { compat: 'kornia' });
  const ggk: { loss: number; grad: Float32Array } = fl.softmaxFocalLossWithGrad(z, y, { compat: 'keras' });
  const pg: Promise<Float32Array> = pool.softmaxFocalLoss(z, y, { compat: 'kornia' });
  const sf: number = fl.softmaxFocalLoss(z, new Float32Array(12), { classes: 4 }); // soft targets
  const sn: Float32Array = fl.softmaxFocalLoss(z, new Float32Array(12), { classes: 4, reduction: 'none' });
}

// ---- distributionFocalLoss ----
export function distributionFocalLossResults(): void {
  const a: number = fl.distributionFocalLoss(z, t);
  const b: number = fl.distributionFocalLoss(z, t, { reduction: 'sum', bins: 4 });
  const c: Float32Array = fl.distributionFocalLoss(z, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.distributionFocalLoss(z, t, { reduction: 'none' });
  const e: { loss: number; grad: Float32Array } = fl.distributionFocalLossWithGrad(z, t, { compat: 'ultralytics' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.distributionFocalLossWithGrad(z, t, { compat: 'ultralytics', reduction: 'none' });
  const h: number | Float32Array = fl.distributionFocalLoss(z, t, { reduction: r });
  // @ts-expect-error not a DFL compat
  fl.distributionFocalLoss(z, t, { compat: 'kornia' });
  // @ts-expect-error DFL has no gamma
  fl.distributionFocalLoss(z, t, { gamma: 2 });
  const pa: Promise<number> = pool.distributionFocalLoss(z, t);
  const pc: Promise<Float32Array> = pool.distributionFocalLoss(z, t, { reduction: 'none' });
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.distributionFocalLossWithGrad(z, t, { reduction: 'none' });
}

// ---- binaryFocalLoss ----
export function binaryFocalLossResults(): void {
  const a: number = fl.binaryFocalLoss(p, t);
  const b: number = fl.binaryFocalLoss(p, t, { reduction: 'sum' });
  const bm: number = fl.binaryFocalLoss(p, t, { reduction: 'mean' });
  const c: Float32Array = fl.binaryFocalLoss(p, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const d: number = fl.binaryFocalLoss(p, t, { reduction: 'none' });
  // @ts-expect-error 'sum' gives a number
  const d2: Float32Array = fl.binaryFocalLoss(p, t, { reduction: 'sum' });
  const e: { loss: number; grad: Float32Array } = fl.binaryFocalLossWithGrad(p, t);
  const e2: { loss: number; grad: Float32Array } = fl.binaryFocalLossWithGrad(p, t, { reduction: 'sum' });
  const f: { loss: Float32Array; grad: Float32Array } = fl.binaryFocalLossWithGrad(p, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array loss
  const f2: { loss: number; grad: Float32Array } = fl.binaryFocalLossWithGrad(p, t, { reduction: 'none' });
  const h: number | Float32Array = fl.binaryFocalLoss(p, t, { reduction: r });
  // @ts-expect-error a reduction known only at run time may be 'none'
  const h2: number = fl.binaryFocalLoss(p, t, { reduction: r });
  const i: { loss: number | Float32Array; grad: Float32Array } = fl.binaryFocalLossWithGrad(p, t, { reduction: r });
  const out = new Float32Array(8);
  const j: Float32Array = fl.binaryFocalLoss(p, t, { reduction: 'none', out });
  // @ts-expect-error an unknown option
  fl.binaryFocalLoss(p, t, { gama: 5 });
  // @ts-expect-error gradOut does not apply to a loss-only call
  fl.binaryFocalLoss(p, t, { gradOut: new Float32Array(8) });
  fl.binaryFocalLossWithGrad(p, t, { gradOut: new Float32Array(8) });

  const pa: Promise<number> = pool.binaryFocalLoss(p, t);
  const pb: Promise<number> = pool.binaryFocalLoss(p, t, { reduction: 'sum' });
  const pc: Promise<Float32Array> = pool.binaryFocalLoss(p, t, { reduction: 'none' });
  // @ts-expect-error 'none' gives a Float32Array
  const pd: Promise<number> = pool.binaryFocalLoss(p, t, { reduction: 'none' });
  const pe: Promise<{ loss: number; grad: Float32Array }> = pool.binaryFocalLossWithGrad(p, t);
  const pf: Promise<{ loss: Float32Array; grad: Float32Array }> = pool.binaryFocalLossWithGrad(p, t, { reduction: 'none' });
  const ph: Promise<number | Float32Array> = pool.binaryFocalLoss(p, t, { reduction: r });

  const gk: number = fl.binaryFocalLoss(p, t, { compat: 'keras' });
  const gkn: Float32Array = fl.binaryFocalLoss(p, t, { compat: 'keras', reduction: 'none' });
}

// ---- primitives (unchanged: always a Float32Array) ----
export function primitives(): void {
  const s: Float32Array = fl.softmax(z, { classes: 4 });
  const l: Float32Array = fl.logSoftmax(z, { classes: 4 });
  const g: Float32Array = fl.sigmoid(x);
  // @ts-expect-error softmax() takes no gamma
  fl.softmax(z, { classes: 4, gamma: 2 });
}
