// A recording of every public function's outputs, so that each step of a refactor of the facade can be shown to
// leave them bit-identical. A fixed grid of cases (inputs from a seeded PRNG) runs through every public function on
// both builds (SIMD and scalar), the worker pool and the tfjs loss; each output is recorded as the first 16 hex
// digits of its SHA-256 (a number: its 8 float64 bytes; a Float32Array: its bytes; { loss, grad }: both; a list:
// each in turn), each error as `error:<ClassName>:<message>`.
//
//   npx tsx scripts/record-outputs.ts                 computes every case, prints the summary
//   npx tsx scripts/record-outputs.ts --write FILE    records them (JSON, keys sorted)
//   npx tsx scripts/record-outputs.ts --check FILE    recomputes and lists every case that differs; exit 1 if any
//
// test/output-hashes.test.ts runs the same grid (recordOutputs) against test/output-hashes.json.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createFocal, createFocalPool, type Focal, type FocalPool } from '../src/index.js';
import { focalLoss, type TfjsFocalOptions } from '../src/adapters/tfjs.js';
import { rng } from '../demo/data.js';

// ---------------------------------------------------------------------------------------------------------------
// Outputs and their hashes.

type LossGrad = { loss: number | Float32Array; grad: Float32Array };
/** What a case returns: a public function's result, or several things to hash in turn (results, out buffers). */
export type Output = number | Float32Array | LossGrad | readonly Output[];

/** The first 16 hex digits of the SHA-256 of an output's bytes. */
export function hashOutput(value: Output): string {
  const hash = createHash('sha256');
  const feed = (v: Output): void => {
    if (typeof v === 'number') {
      hash.update(new Uint8Array(Float64Array.of(v).buffer));
    } else if (v instanceof Float32Array) {
      // A view on a SharedArrayBuffer (the pool's results) is copied first; other views are hashed in place.
      const own = typeof SharedArrayBuffer === 'function' && v.buffer instanceof SharedArrayBuffer ? v.slice() : v;
      hash.update(new Uint8Array(own.buffer, own.byteOffset, own.byteLength));
    } else if (Array.isArray(v)) {
      for (const part of v as readonly Output[]) feed(part);
    } else if (typeof v === 'object' && v !== null && 'grad' in v) {
      feed((v as LossGrad).loss);
      feed((v as LossGrad).grad);
    } else {
      throw new Error(`record-outputs: cannot hash ${Object.prototype.toString.call(v)}`);
    }
  };
  feed(value);
  return hash.digest('hex').slice(0, 16);
}

function errorRecord(e: unknown): string {
  if (e instanceof Error) return `error:${e.constructor.name}:${e.message}`;
  return `error:${typeof e}:${String(e)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Cases.

interface Ctx {
  fl: Focal;
  pool: FocalPool;
  simd: boolean;
}

interface Case {
  name: string;
  run(ctx: Ctx): Output | Promise<Output>;
  /** The case is meant to throw (a missing error is reported). */
  error?: boolean;
  /** A pool case: the name of the single-engine case whose output it must equal. */
  mirrors?: string;
}

type Opts = Record<string, unknown>;
type Kind = 'f32' | 'f64' | 'arr';
type Floats = Float32Array | Float64Array | number[];

const REDUCTIONS = ['none', 'mean', 'sum'] as const;
const GAMMAS = [0, 0.5, 1, 2, 3.7];
const SENTINEL = -7.25; // caller-owned outputs start filled with this, so an untouched tail shows in the hash

/** Calls a public method by name (bad argument types included). */
function call(target: Focal | FocalPool, method: string, ...args: unknown[]): Output {
  const f = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
  if (typeof f !== 'function') throw new Error(`record-outputs: no method ${method}`);
  return f.apply(target, args) as Output;
}

async function callAsync(target: FocalPool, method: string, ...args: unknown[]): Promise<Output> {
  return (await (call(target, method, ...args) as unknown as Promise<Output>));
}

function sentinel(n: number): Float32Array {
  return new Float32Array(n).fill(SENTINEL);
}

/** 1 when a result is the caller's buffer itself, else 0 (part of the hash: "returned as the loss"). */
function same(a: unknown, b: unknown): number {
  return a === b ? 1 : 0;
}

/** The result, the caller's out / gradOut after the call, and whether the result returned them. */
function withBuffers(result: Output, out: Float32Array | undefined, gradOut: Float32Array | undefined): Output {
  const parts: Output[] = [result];
  const loss = typeof result === 'object' && result !== null && 'grad' in result ? (result as LossGrad).loss : result;
  if (out) parts.push(out, same(loss, out));
  if (gradOut) parts.push(gradOut, same((result as LossGrad).grad, gradOut));
  return parts;
}

/** FNV-1a of a dataset's key: its PRNG seed, so no dataset depends on the order the grid asks for them. */
function seedOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Seeded, memoized datasets (float64 values; f32 / f64 / number[] containers of the same values). */
class Data {
  readonly #memo = new Map<string, unknown>();

  get<T>(key: string, make: (random: () => number) => T): T {
    if (!this.#memo.has(key)) this.#memo.set(key, make(rng(seedOf(key))));
    return this.#memo.get(key) as T;
  }

  as(key: string, kind: Kind, values: () => Float64Array): Floats {
    const base = this.get(key, () => values());
    if (kind === 'f64') return base;
    return this.get(`${key}#${kind}`, () => (kind === 'f32' ? Float32Array.from(base) : Array.from(base)));
  }

  f64(key: string, n: number, draw: (random: () => number, i: number) => number): Float64Array {
    return this.get(key, (random) => Float64Array.from({ length: n }, (_, i) => draw(random, i)));
  }

  /** Logits: normal * 3, every 97th far out (15..45 either sign). */
  logits(n: number, kind: Kind, tag = 'logits'): Floats {
    return this.as(`${tag}:${n}`, kind, () => this.f64(`${tag}:${n}`, n, (random, i) => {
      const u = 1 - random();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random()) * 3;
      return i % 97 === 13 ? (random() < 0.5 ? -1 : 1) * (15 + 30 * random()) : z;
    }));
  }

  /** Binary-ish targets: 60% 0, 25% 1, 15% soft in (0, 1). */
  binaryTargets(n: number, kind: Kind): Floats {
    return this.as(`bt:${n}`, kind, () => this.f64(`bt:${n}`, n, (random) => {
      const r = random();
      return r < 0.6 ? 0 : r < 0.85 ? 1 : random();
    }));
  }

  /** IoU-like soft targets: 70% 0, else uniform in [0, 1). */
  softTargets(n: number, kind: Kind): Floats {
    return this.as(`st:${n}`, kind, () => this.f64(`st:${n}`, n, (random) => (random() < 0.7 ? 0 : random())));
  }

  /** Targets with about 10% replaced by `ignore`. */
  ignoredTargets(n: number, kind: Kind, soft: boolean, ignore: number): Floats {
    const key = `it:${n}:${soft}:${ignore}`;
    return this.as(key, kind, () => {
      const base = (soft ? this.softTargets(n, 'f64') : this.binaryTargets(n, 'f64')) as Float64Array;
      return this.f64(key, n, (random, i) => (random() < 0.1 ? ignore : base[i]!));
    });
  }

  weights(n: number, kind: Kind): Floats {
    return this.as(`w:${n}`, kind, () => this.f64(`w:${n}`, n, (random) => (random() < 0.05 ? 0 : 2 * random())));
  }

  /** Probabilities: uniform, 2% exactly 0 and 2% exactly 1. */
  probs(n: number, kind: Kind): Floats {
    return this.as(`p:${n}`, kind, () => this.f64(`p:${n}`, n, (random) => {
      const r = random();
      return r < 0.02 ? 0 : r < 0.04 ? 1 : random();
    }));
  }

  maskU8(n: number): Uint8Array {
    return this.get(`mu8:${n}`, (random) => Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0)));
  }

  /** A float mask: 0, -0, 1, 0.5, 2 (non-zero keeps). */
  maskFloat(n: number, kind: Kind): Floats {
    const values = [0, -0, 1, 0.5, 2, 1, 1];
    return this.as(`mf:${n}`, kind, () => this.f64(`mf:${n}`, n, (random) => values[Math.floor(random() * values.length)]!));
  }

  perClass(tag: string, c: number, kind: Kind): Floats {
    return this.as(`pc:${tag}:${c}`, kind, () => this.f64(`pc:${tag}:${c}`, c, (random) => 0.25 + 2 * random()));
  }

  /** DFL targets in [0, bins - 1]: uniform, 10% integers (0 and bins - 1 among them). */
  binTargets(rows: number, bins: number, kind: Kind): Floats {
    const key = `bin:${rows}:${bins}`;
    return this.as(key, kind, () => this.f64(key, rows, (random) =>
      Math.fround(random() < 0.1 ? Math.floor(random() * bins) : random() * (bins - 1))));
  }

  labels(rows: number, classes: number, ignoreShare = 0, ignore = -100): Int32Array {
    return this.get(`lab:${rows}:${classes}:${ignoreShare}:${ignore}`, (random) =>
      Int32Array.from({ length: rows }, () => (random() < ignoreShare ? ignore : Math.floor(random() * classes))));
  }

  labelsArr(rows: number, classes: number, ignoreShare = 0, ignore = -100): number[] {
    return this.get(`laba:${rows}:${classes}:${ignoreShare}:${ignore}`, () =>
      Array.from(this.labels(rows, classes, ignoreShare, ignore)));
  }

  /** Soft targets N x C: rows of a distribution (normalized) or independent values in [0, 1] with zeros (raw). */
  soft(rows: number, classes: number, kind: 'f32' | 'f64', normalized: boolean): Float32Array | Float64Array {
    const key = `soft:${rows}:${classes}:${normalized}`;
    const base = this.get(key, (random) => {
      const t = new Float64Array(rows * classes);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let c = 0; c < classes; c++) {
          const v = normalized ? random() ** 3 : random() < 0.3 ? 0 : random() < 0.1 ? 1 : random();
          t[r * classes + c] = v;
          sum += v;
        }
        if (normalized && sum > 0) for (let c = 0; c < classes; c++) t[r * classes + c]! /= sum;
      }
      return t;
    });
    return kind === 'f64' ? base : this.get(`${key}#f32`, () => Float32Array.from(base));
  }
}

// Edge values.
const EDGE_LOGITS = [
  1e4, -1e4, 88.7, -88.7, 103.97, -103.97, 1e-40, -1e-40, 1.4e-45, -0, 0, 1, -1, 16, -16, 17.5, -17.5, 30, -30, 0.5,
];
const EDGE_TARGETS = [0, 1, 0.5, 1e-40, 0.25];
const EDGE_PROBS = [0, 1, 1e-40, 1.4e-45, -0, 1e-7, 1 - 1e-7, 2 ** -24, 1 - 2 ** -24, 0.5, 0.999999, 1e-30, 0.1, 0.9];
const EDGE_PROB_TARGETS = [0, 1, 0.5, 1e-40];
/** Every edge logit (or probability) with every edge target. */
function cross(a: readonly number[], b: readonly number[]): { x: Float32Array; t: Float32Array } {
  const x = new Float32Array(a.length * b.length);
  const t = new Float32Array(a.length * b.length);
  a.forEach((xv, i) => b.forEach((tv, j) => {
    x[i * b.length + j] = xv;
    t[i * b.length + j] = tv;
  }));
  return { x, t };
}
const EDGE = cross(EDGE_LOGITS, EDGE_TARGETS);
const EDGE_BINARY = cross(EDGE_PROBS, EDGE_PROB_TARGETS);
/** Softmax rows of 4 classes at the edges. */
const EDGE_ROWS = Float32Array.from([
  1e4, -1e4, 0, 0,
  88.7, -88.7, 103.97, -103.97,
  1e-40, -0, 0, 1.4e-45,
  0, 0, 0, 0,
  -1e4, -1e4, -1e4, -1e4,
  103.97, 103.97, -103.97, 0,
  -88.7, 1e4, -1e4, 30,
  -30, 17.5, -0, 1,
]);
const EDGE_ROW_LABELS = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
const EDGE_ROW_SOFT = Float32Array.from([
  1, 0, 0, 0,
  0.25, 0.25, 0.25, 0.25,
  0, 0, 1e-40, 1,
  0.5, 0.5, 0, 0,
  1, 1, 1, 1,
  0, 1, 0, 0,
  0, 0, 0, 0,
  1e-40, 0.5, 1, 0,
]);

/** The sigmoid-family losses: their targets and the parameter sets the grid runs. */
interface Family {
  base: string;
  soft: boolean;
  params: { label: string; opts: Opts }[];
}

function familyParams(): Family[] {
  const ALPHAS: [string, Opts][] = [['default', {}], ['null', { alpha: null }], ['0.5', { alpha: 0.5 }]];
  const sigmoid: Family = { base: 'sigmoidFocalLoss', soft: false, params: [] };
  for (const g of GAMMAS) {
    for (const [a, o] of ALPHAS) sigmoid.params.push({ label: `gamma=${g}/alpha=${a}`, opts: { gamma: g, ...o } });
  }
  sigmoid.params.push({ label: 'alpha=-1', opts: { alpha: -1 } }, { label: 'alpha=0', opts: { alpha: 0 } },
    { label: 'alpha=1', opts: { alpha: 1 } });
  const star: Family = { base: 'sigmoidFocalLossStar', soft: false, params: [] };
  for (const g of [0.5, 1, 2, 3.7]) {
    for (const beta of [0, 1, -2]) star.params.push({ label: `gamma=${g}/beta=${beta}`, opts: { gamma: g, beta } });
  }
  for (const a of [null, 0.25, 0.5]) star.params.push({ label: `alpha=${a}`, opts: { alpha: a } });
  const quality: Family = { base: 'qualityFocalLoss', soft: true, params: [] };
  for (const beta of GAMMAS) quality.params.push({ label: `beta=${beta}`, opts: { beta } });
  const varifocal: Family = { base: 'varifocalLoss', soft: true, params: [] };
  for (const g of GAMMAS) varifocal.params.push({ label: `gamma=${g}`, opts: { gamma: g } });
  for (const a of [0, 0.5, 2]) varifocal.params.push({ label: `alpha=${a}`, opts: { alpha: a } });
  varifocal.params.push({ label: 'iouWeighted=false', opts: { iouWeighted: false } },
    { label: 'iouWeighted=false/gamma=0.5', opts: { iouWeighted: false, gamma: 0.5 } },
    { label: 'iouWeighted=true', opts: { iouWeighted: true } });
  const poly: Family = { base: 'polyFocalLoss', soft: false, params: [] };
  for (const g of GAMMAS) poly.params.push({ label: `gamma=${g}`, opts: { gamma: g } });
  for (const e of [0, -1, 2.5]) poly.params.push({ label: `epsilon=${e}`, opts: { epsilon: e } });
  for (const [a, o] of ALPHAS.slice(1)) poly.params.push({ label: `alpha=${a}`, opts: o });
  // The asymmetric loss (issue 15): its default reduction is 'sum'.
  const asymmetric: Family = { base: 'asymmetricLoss', soft: false, params: [] };
  for (const [gp, gn] of [[0, 4], [1, 1], [2, 3.7], [0.5, 0.3]] as const) {
    for (const detach of [true, false]) {
      asymmetric.params.push({
        label: `gammaPos=${gp}/gammaNeg=${gn}/detachModulator=${detach}`,
        opts: { gammaPos: gp, gammaNeg: gn, detachModulator: detach },
      });
    }
  }
  for (const clip of [0, 0.3]) asymmetric.params.push({ label: `clip=${clip}`, opts: { clip } });
  asymmetric.params.push({ label: 'eps=1e-3/clip=1e-4', opts: { eps: 1e-3, clip: 1e-4 } });
  return [sigmoid, star, quality, varifocal, poly, asymmetric];
}

/** The whole grid, in the order it runs. */
export function buildCases(): Case[] {
  const cases: Case[] = [];
  const names = new Set<string>();
  const add = (name: string, run: Case['run'], extra: Partial<Case> = {}): void => {
    if (names.has(name)) throw new Error(`record-outputs: duplicate case ${name}`);
    names.add(name);
    cases.push({ name, run, ...extra });
  };
  const d = new Data();
  const KINDS: Kind[] = ['f32', 'f64', 'arr'];
  /**
   * In place: fl.alloc views as the input, targets, weights, out and gradOut, every reduction (the runner calls
   * fl.freeAll() after).
   */
  const addInPlace = (m: string, grad: boolean, input: (n: number, k: Kind) => Floats, targets: (n: number, k: Kind) => Floats): void => {
    for (const n of [1000, 40000]) {
      for (const r of REDUCTIONS) {
        add(`${m}/n=${n}/reduction=${r}/alloc`, ({ fl }) => {
          const [x, t, w, out, gradOut] = fl.alloc(n, n, n, n, n) as [Float32Array, Float32Array, Float32Array,
            Float32Array, Float32Array];
          x.set(input(n, 'f32') as Float32Array);
          t.set(targets(n, 'f32') as Float32Array);
          w.set(d.weights(n, 'f32') as Float32Array);
          out.fill(SENTINEL);
          gradOut.fill(SENTINEL);
          const g = grad ? gradOut : undefined;
          return withBuffers(call(fl, m, x, t, { reduction: r, weights: w, out, gradOut: g }), out, g);
        });
      }
    }
  };

  // ---- the sigmoid family: sigmoidFocalLoss, FL*, QFL, VFL, Poly-1, each loss and loss + gradient ------------------
  for (const fam of familyParams()) {
    for (const grad of [false, true]) {
      const m = grad ? `${fam.base}WithGrad` : fam.base;
      const X = (n: number, k: Kind): Floats => d.logits(n, k);
      const T = (n: number, k: Kind): Floats => (fam.soft ? d.softTargets(n, k) : d.binaryTargets(n, k));
      const plain = (n: number, k: Kind, opts: Opts) => ({ fl }: Ctx) => call(fl, m, X(n, k), T(n, k), opts);

      // Sizes, every reduction, the family's defaults.
      for (const n of [0, 1, 3, 5, 1000, 40000]) {
        for (const r of REDUCTIONS) add(`${m}/n=${n}/reduction=${r}/f32`, plain(n, 'f32', { reduction: r }));
      }
      add(`${m}/n=1000/no-options/f32`, ({ fl }) => call(fl, m, X(1000, 'f32'), T(1000, 'f32')));
      add(`${m}/n=1000/empty-options/f32`, plain(1000, 'f32', {}));
      // The family's parameters, every reduction, on random and on edge inputs.
      for (const p of fam.params) {
        for (const r of REDUCTIONS) {
          add(`${m}/n=1000/${p.label}/reduction=${r}/f32`, plain(1000, 'f32', { ...p.opts, reduction: r }));
          add(`${m}/edge/${p.label}/reduction=${r}`, ({ fl }) => call(fl, m, EDGE.x, EDGE.t, { ...p.opts, reduction: r }));
        }
      }
      // Input containers and weights, multi-chunk included.
      for (const n of [5, 1000, 40000]) {
        for (const k of KINDS) {
          for (const r of REDUCTIONS) {
            add(`${m}/n=${n}/reduction=${r}/weights/${k}`, plain(n, k, { reduction: r, weights: d.weights(n, k) }));
            if (k !== 'f32') add(`${m}/n=${n}/reduction=${r}/${k}`, plain(n, k, { reduction: r }));
          }
        }
      }
      if (fam.base === 'sigmoidFocalLoss') {
        for (const g of GAMMAS) {
          for (const r of REDUCTIONS) {
            add(`${m}/n=40000/gamma=${g}/reduction=${r}/weights/f64`,
              plain(40000, 'f64', { gamma: g, reduction: r, weights: d.weights(40000, 'f64') }));
            add(`${m}/n=40000/gamma=${g}/reduction=${r}/f32`, plain(40000, 'f32', { gamma: g, reduction: r }));
          }
        }
      }
      // normalizer (mean only).
      for (const n of [1000, 40000]) {
        for (const norm of [7.5, 0.001]) {
          add(`${m}/n=${n}/reduction=mean/normalizer=${norm}/f32`, plain(n, 'f32', { reduction: 'mean', normalizer: norm }));
        }
      }
      add(`${m}/n=0/reduction=mean/normalizer=3/f32`, plain(0, 'f32', { reduction: 'mean', normalizer: 3 }));
      // Caller-owned out / gradOut (longer than needed: the tail must stay as it was).
      for (const n of [0, 5, 1000, 40000]) {
        for (const r of REDUCTIONS) {
          add(`${m}/n=${n}/reduction=${r}/out${grad ? '+gradOut' : ''}/f32`, ({ fl }) => {
            const out = sentinel(n + 3);
            const gradOut = grad ? sentinel(n + 3) : undefined;
            return withBuffers(call(fl, m, X(n, 'f32'), T(n, 'f32'), { reduction: r, out, gradOut }), out, gradOut);
          });
          if (grad) {
            add(`${m}/n=${n}/reduction=${r}/gradOut/f64`, ({ fl }) => {
              const gradOut = sentinel(n + 3);
              return withBuffers(call(fl, m, X(n, 'f64'), T(n, 'f64'), { reduction: r, gradOut }), undefined, gradOut);
            });
          }
        }
      }
      // Masks (Uint8Array, Float32Array, Float64Array, number[]).
      for (const r of REDUCTIONS) {
        add(`${m}/n=1000/reduction=${r}/mask=u8`, plain(1000, 'f32', { reduction: r, mask: d.maskU8(1000) }));
        for (const k of KINDS) {
          add(`${m}/n=1000/reduction=${r}/mask=${k}`, plain(1000, 'f32', { reduction: r, mask: d.maskFloat(1000, k) }));
        }
        add(`${m}/n=40000/reduction=${r}/mask=u8/weights/f64`,
          plain(40000, 'f64', { reduction: r, mask: d.maskU8(40000), weights: d.weights(40000, 'f64') }));
        add(`${m}/n=40000/reduction=${r}/mask=f32`, plain(40000, 'f32', { reduction: r, mask: d.maskFloat(40000, 'f32') }));
      }
      add(`${m}/n=1000/reduction=mean/mask=u8/normalizer=50`,
        plain(1000, 'f32', { reduction: 'mean', mask: d.maskU8(1000), normalizer: 50 }));
      add(`${m}/n=5/reduction=mean/mask=all-zero`, plain(5, 'f32', { reduction: 'mean', mask: new Uint8Array(5) }));
      add(`${m}/n=0/reduction=mean/mask=u8`, plain(0, 'f32', { reduction: 'mean', mask: new Uint8Array(0) }));
      // ignoreIndex (targets equal to it are dropped and not validated).
      for (const ignore of [-1, 255]) {
        for (const n of [1000, 40000]) {
          for (const r of REDUCTIONS) {
            add(`${m}/n=${n}/reduction=${r}/ignoreIndex=${ignore}/f32`, ({ fl }) =>
              call(fl, m, X(n, 'f32'), d.ignoredTargets(n, 'f32', fam.soft, ignore), { reduction: r, ignoreIndex: ignore }));
          }
        }
      }
      for (const r of REDUCTIONS) {
        add(`${m}/n=1000/reduction=${r}/ignoreIndex=-1/mask=u8/weights/f64`, ({ fl }) =>
          call(fl, m, X(1000, 'f64'), d.ignoredTargets(1000, 'f64', fam.soft, -1),
            { reduction: r, ignoreIndex: -1, mask: d.maskU8(1000), weights: d.weights(1000, 'f64') }));
      }
      add(`${m}/n=1000/reduction=mean/ignoreIndex=-1/unused`, plain(1000, 'f32', { reduction: 'mean', ignoreIndex: -1 }));
      // classes + classWeights (N x C, class axis last).
      for (const n of [1000, 40000]) {
        for (const r of REDUCTIONS) {
          add(`${m}/n=${n}/reduction=${r}/classes=10/classWeights=f32`,
            plain(n, 'f32', { reduction: r, classes: 10, classWeights: d.perClass('cw', 10, 'f32') }));
        }
      }
      for (const k of ['f64', 'arr'] as const) {
        add(`${m}/n=1000/reduction=mean/classes=10/classWeights=${k}`,
          plain(1000, 'f32', { reduction: 'mean', classes: 10, classWeights: d.perClass('cw', 10, k) }));
      }
      add(`${m}/n=1000/reduction=sum/classWeights=f32(8)`,
        plain(1000, 'f32', { reduction: 'sum', classWeights: d.perClass('cw', 8, 'f32') }));
      add(`${m}/n=1000/reduction=mean/classes=10`, plain(1000, 'f32', { reduction: 'mean', classes: 10 }));
      add(`${m}/n=40000/reduction=none/classes=10/classWeights/mask=u8/ignoreIndex=-1/weights/f32`, ({ fl }) =>
        call(fl, m, X(40000, 'f32'), d.ignoredTargets(40000, 'f32', fam.soft, -1), {
          reduction: 'none', classes: 10, classWeights: d.perClass('cw', 10, 'f32'), mask: d.maskU8(40000),
          ignoreIndex: -1, weights: d.weights(40000, 'f32'),
        }));
      addInPlace(m, grad, X, T);
      add(`${m}/n=1000/reduction=none/alloc=logits-only`, ({ fl }) => {
        const x = fl.alloc(1000);
        x.set(X(1000, 'f32') as Float32Array);
        return call(fl, m, x, T(1000, 'f64'), { reduction: 'none' });
      });
      add(`${m}/n=1000/reduction=none/alloc=outputs-only/mask=u8`, ({ fl }) => {
        const [out, gradOut] = fl.alloc(1000, 1000) as [Float32Array, Float32Array];
        out.fill(SENTINEL);
        gradOut.fill(SENTINEL);
        const g = grad ? gradOut : undefined;
        const result = call(fl, m, X(1000, 'arr'), T(1000, 'arr'), { reduction: 'none', out, gradOut: g, mask: d.maskU8(1000) });
        return withBuffers(result, out, g);
      });
      add(`${m}/n=40000/reduction=mean/alloc/mask=u8/classWeights`, ({ fl }) => {
        const [x, t] = fl.alloc(40000, 40000) as [Float32Array, Float32Array];
        x.set(X(40000, 'f32') as Float32Array);
        t.set(T(40000, 'f32') as Float32Array);
        return call(fl, m, x, t, { mask: d.maskU8(40000), classWeights: d.perClass('cw', 10, 'f32') });
      });
    }
  }

  // ---- sigmoidFocalLoss only: posWeight, reducedThreshold, normalized, compatibility presets -------------------------
  for (const m of ['sigmoidFocalLoss', 'sigmoidFocalLossWithGrad']) {
    const X = (n: number, k: Kind): Floats => d.logits(n, k);
    const T = (n: number, k: Kind): Floats => d.binaryTargets(n, k);
    const plain = (n: number, k: Kind, opts: Opts) => ({ fl }: Ctx) => call(fl, m, X(n, k), T(n, k), opts);
    for (const r of REDUCTIONS) {
      for (const pw of [2.5, 0, 1]) add(`${m}/n=1000/reduction=${r}/posWeight=${pw}`, plain(1000, 'f32', { reduction: r, posWeight: pw }));
      add(`${m}/n=1000/reduction=${r}/posWeight=f32(10)`, plain(1000, 'f32', { reduction: r, posWeight: d.perClass('pw', 10, 'f32') }));
      add(`${m}/n=1000/reduction=${r}/classes=10/posWeight=arr(10)`,
        plain(1000, 'f32', { reduction: r, classes: 10, posWeight: d.perClass('pw', 10, 'arr') }));
      add(`${m}/n=40000/reduction=${r}/posWeight=f64(10)/classWeights/mask=u8/ignoreIndex=-1`, ({ fl }) =>
        call(fl, m, X(40000, 'f32'), d.ignoredTargets(40000, 'f32', false, -1), {
          reduction: r, posWeight: d.perClass('pw', 10, 'f64'), classWeights: d.perClass('cw', 10, 'f32'),
          mask: d.maskU8(40000), ignoreIndex: -1,
        }));
      add(`${m}/edge/reduction=${r}/posWeight=2.5`, ({ fl }) => call(fl, m, EDGE.x, EDGE.t, { reduction: r, posWeight: 2.5 }));
      for (const th of [0.5, 1, 0.25]) {
        for (const g of [0, 0.5, 2, 3.7]) {
          add(`${m}/n=1000/reduction=${r}/reducedThreshold=${th}/gamma=${g}`,
            plain(1000, 'f32', { reduction: r, reducedThreshold: th, gamma: g }));
        }
      }
      add(`${m}/edge/reduction=${r}/reducedThreshold=0.5`, ({ fl }) =>
        call(fl, m, EDGE.x, EDGE.t, { reduction: r, reducedThreshold: 0.5 }));
      add(`${m}/n=40000/reduction=${r}/reducedThreshold=0.5/weights`,
        plain(40000, 'f32', { reduction: r, reducedThreshold: 0.5, weights: d.weights(40000, 'f32') }));
      // smp's normalized focal loss, with every reduction.
      add(`${m}/n=1000/reduction=${r}/normalized`, plain(1000, 'f32', { reduction: r, normalized: true }));
      add(`${m}/n=1000/reduction=${r}/normalized=false`, plain(1000, 'f32', { reduction: r, normalized: false }));
      add(`${m}/n=1000/reduction=${r}/normalized/mask=u8`, plain(1000, 'f32', { reduction: r, normalized: true, mask: d.maskU8(1000) }));
      add(`${m}/n=1000/reduction=${r}/normalized/weights/f64`,
        plain(1000, 'f64', { reduction: r, normalized: true, weights: d.weights(1000, 'f64') }));
      for (const g of [0, 0.5, 3.7]) {
        add(`${m}/n=1000/reduction=${r}/normalized/gamma=${g}`, plain(1000, 'f32', { reduction: r, normalized: true, gamma: g }));
      }
      add(`${m}/n=1000/reduction=${r}/normalized/reducedThreshold=0.5`,
        plain(1000, 'f32', { reduction: r, normalized: true, reducedThreshold: 0.5 }));
      add(`${m}/n=40000/reduction=${r}/normalized`, plain(40000, 'f32', { reduction: r, normalized: true }));
      add(`${m}/n=0/reduction=${r}/normalized`, plain(0, 'f32', { reduction: r, normalized: true }));
      add(`${m}/edge/reduction=${r}/normalized`, ({ fl }) => call(fl, m, EDGE.x, EDGE.t, { reduction: r, normalized: true }));
      // Focal terms summing below 1e-6: the clamp (no gradient through S).
      add(`${m}/n=4/reduction=${r}/normalized/clamped`, ({ fl }) =>
        call(fl, m, Float32Array.of(20, -20, 25, -30), Float32Array.of(1, 0, 1, 0), { reduction: r, normalized: true }));
    }
    add(`${m}/n=1000/reduction=mean/normalized/normalizer=10`, plain(1000, 'f32', { reduction: 'mean', normalized: true, normalizer: 10 }));
    add(`${m}/n=1000/reduction=none/normalized/out+gradOut`, ({ fl }) => {
      const out = sentinel(1003);
      const gradOut = sentinel(1003);
      // gradOut only where the method takes it (an option a call does not take is a TypeError).
      const outputs = m.endsWith('WithGrad') ? { out, gradOut } : { out };
      return withBuffers(call(fl, m, X(1000, 'f32'), T(1000, 'f32'), { reduction: 'none', normalized: true, ...outputs }), out, gradOut);
    });
    // Compatibility presets: the preset's default reduction and each explicit one.
    const presets: [string, Opts][] = [
      ['torchvision', { compat: 'torchvision' }], ['kornia', { compat: 'kornia' }], ['keras', { compat: 'keras' }],
      ['mmcv/classes=10', { compat: 'mmcv', classes: 10 }], ['mmdet', { compat: 'mmdet' }], ['smp', { compat: 'smp' }],
      ['monai', { compat: 'monai' }],
    ];
    for (const [label, opts] of presets) {
      add(`${m}/n=1000/compat=${label}/reduction=default`, plain(1000, 'f32', opts));
      for (const r of REDUCTIONS) add(`${m}/n=1000/compat=${label}/reduction=${r}`, plain(1000, 'f32', { ...opts, reduction: r }));
      add(`${m}/n=1000/compat=${label}/alpha=0.5/gamma=0.5`, plain(1000, 'f32', { ...opts, alpha: 0.5, gamma: 0.5 }));
      add(`${m}/n=40000/compat=${label}/reduction=mean/weights`,
        plain(40000, 'f32', { ...opts, reduction: 'mean', weights: d.weights(40000, 'f32') }));
    }
    add(`${m}/n=1000/compat=mmcv/reduction=none`, plain(1000, 'f32', { compat: 'mmcv', reduction: 'none' }));
    add(`${m}/n=1000/compat=mmcv/classes=10/normalizer=3`, plain(1000, 'f32', { compat: 'mmcv', classes: 10, normalizer: 3 }));
    add(`${m}/n=0/compat=mmcv/classes=10`, plain(0, 'f32', { compat: 'mmcv', classes: 10 }));
    add(`${m}/n=0/compat=kornia/reduction=mean`, plain(0, 'f32', { compat: 'kornia', reduction: 'mean' }));
    add(`${m}/n=1000/compat=kornia/reduction=mean/mask=u8`,
      plain(1000, 'f32', { compat: 'kornia', reduction: 'mean', mask: d.maskU8(1000) }));
    add(`${m}/n=1000/compat=kornia/reduction=mean/posWeight=2`, plain(1000, 'f32', { compat: 'kornia', reduction: 'mean', posWeight: 2 }));
    add(`${m}/n=1000/compat=smp/reducedThreshold=0.5`, plain(1000, 'f32', { compat: 'smp', reducedThreshold: 0.5 }));
    add(`${m}/n=1000/compat=smp/normalized`, plain(1000, 'f32', { compat: 'smp', normalized: true }));
    add(`${m}/n=1000/compat=monai/ignoreIndex=-1`, ({ fl }) =>
      call(fl, m, X(1000, 'f32'), d.ignoredTargets(1000, 'f32', false, -1), { compat: 'monai', ignoreIndex: -1 }));
    add(`${m}/n=1000/compat=undefined`, plain(1000, 'f32', { compat: undefined, reduction: 'sum' }));
  }

  // ---- binaryFocalLoss (probabilities) --------------------------------------------------------------------------
  for (const m of ['binaryFocalLoss', 'binaryFocalLossWithGrad']) {
    const grad = m.endsWith('WithGrad');
    const P = (n: number, k: Kind): Floats => d.probs(n, k);
    const T = (n: number, k: Kind): Floats => d.binaryTargets(n, k);
    const plain = (n: number, k: Kind, opts: Opts) => ({ fl }: Ctx) => call(fl, m, P(n, k), T(n, k), opts);
    for (const n of [0, 1, 3, 5, 1000, 40000]) {
      for (const r of REDUCTIONS) add(`${m}/n=${n}/reduction=${r}/f32`, plain(n, 'f32', { reduction: r }));
    }
    add(`${m}/n=1000/no-options/f32`, ({ fl }) => call(fl, m, P(1000, 'f32'), T(1000, 'f32')));
    const params: [string, Opts][] = [];
    for (const g of GAMMAS) {
      for (const [a, o] of [['default', {}], ['null', { alpha: null }], ['0.5', { alpha: 0.5 }]] as [string, Opts][]) {
        params.push([`gamma=${g}/alpha=${a}`, { gamma: g, ...o }]);
      }
    }
    for (const eps of [1e-3, 2 ** -24, 0.49, 1e-7]) params.push([`epsilon=${eps}`, { epsilon: eps }]);
    params.push(['epsilon=1e-3/gamma=0.5', { epsilon: 1e-3, gamma: 0.5 }]);
    for (const [label, opts] of params) {
      for (const r of REDUCTIONS) {
        add(`${m}/n=1000/${label}/reduction=${r}/f32`, plain(1000, 'f32', { ...opts, reduction: r }));
        add(`${m}/edge/${label}/reduction=${r}`, ({ fl }) => call(fl, m, EDGE_BINARY.x, EDGE_BINARY.t, { ...opts, reduction: r }));
      }
    }
    for (const n of [5, 1000, 40000]) {
      for (const k of KINDS) {
        for (const r of REDUCTIONS) {
          add(`${m}/n=${n}/reduction=${r}/weights/${k}`, plain(n, k, { reduction: r, weights: d.weights(n, k) }));
          if (k !== 'f32') add(`${m}/n=${n}/reduction=${r}/${k}`, plain(n, k, { reduction: r }));
        }
      }
    }
    for (const n of [1000, 40000]) {
      add(`${m}/n=${n}/reduction=mean/normalizer=7.5/f32`, plain(n, 'f32', { reduction: 'mean', normalizer: 7.5 }));
    }
    for (const n of [0, 5, 1000, 40000]) {
      for (const r of REDUCTIONS) {
        add(`${m}/n=${n}/reduction=${r}/out${grad ? '+gradOut' : ''}/f32`, ({ fl }) => {
          const out = sentinel(n + 3);
          const gradOut = grad ? sentinel(n + 3) : undefined;
          return withBuffers(call(fl, m, P(n, 'f32'), T(n, 'f32'), { reduction: r, out, gradOut }), out, gradOut);
        });
      }
    }
    addInPlace(m, grad, P, T);
    add(`${m}/n=1000/compat=keras/reduction=default`, plain(1000, 'f32', { compat: 'keras' }));
    for (const r of REDUCTIONS) add(`${m}/n=1000/compat=keras/reduction=${r}`, plain(1000, 'f32', { compat: 'keras', reduction: r }));
    add(`${m}/n=1000/compat=keras/alpha=0.5/gamma=3.7`, plain(1000, 'f32', { compat: 'keras', alpha: 0.5, gamma: 3.7 }));
    add(`${m}/edge/compat=keras/reduction=none`, ({ fl }) =>
      call(fl, m, EDGE_BINARY.x, EDGE_BINARY.t, { compat: 'keras', reduction: 'none' }));
  }

  // ---- diceLoss, tverskyLoss, diceFocalLoss (the region driver) --------------------------------------------------
  const OVERLAP_SHAPES: [number[], number][] = [[[2, 3, 5, 7], 1], [[2, 5, 7, 3], -1], [[3, 4, 40, 50], 1]];
  const overlapOptions: [string, Opts][] = [
    ['default', {}], ['sigmoid/no-background', { activation: 'sigmoid', includeBackground: false }],
    ['batch/none', { batch: true, reduction: 'none' }], ['sum', { reduction: 'sum' }],
  ];
  for (const m of ['diceLoss', 'diceLossWithGrad', 'tverskyLoss', 'tverskyLossWithGrad', 'diceFocalLoss', 'diceFocalLossWithGrad']) {
    for (const [shape, classAxis] of OVERLAP_SHAPES) {
      const n = shape.reduce((a, b) => a * b, 1);
      const C = shape.at(classAxis)!;
      for (const [name, o] of overlapOptions) {
        add(`${m}/shape=${shape.join('x')}/${name}/labels=i32`, ({ fl }) =>
          call(fl, m, d.logits(n, 'f32', 'overlap'), d.labels(n / C, C), { shape, classAxis, ...o }));
        add(`${m}/shape=${shape.join('x')}/${name}/soft=f32`, ({ fl }) =>
          call(fl, m, d.logits(n, 'f32', 'overlap'), d.softTargets(n, 'f32'), { shape, classAxis, ...o }));
      }
    }
  }
  add('diceLoss/squaredPred/jaccard/classWeights', ({ fl }) =>
    call(fl, 'diceLossWithGrad', d.logits(210, 'f32', 'overlap'), d.labels(70, 3), { shape: [2, 3, 5, 7], squaredPred: true, jaccard: true, classWeights: [1, 2, 0.5] }));
  add('tverskyLoss/alpha=0.3/beta=0.7/exponent=0.75', ({ fl }) =>
    call(fl, 'tverskyLossWithGrad', d.logits(210, 'f32', 'overlap'), d.labels(70, 3), { shape: [2, 3, 5, 7], alpha: 0.3, beta: 0.7, exponent: 0.75 }));
  add('diceFocalLoss/gamma=0.5/alpha=0.25/lambdas', ({ fl }) =>
    call(fl, 'diceFocalLossWithGrad', d.logits(210, 'f32', 'overlap'), d.labels(70, 3), { shape: [2, 3, 5, 7], gamma: 0.5, alpha: 0.25, lambdaDice: 0.5, lambdaFocal: 2 }));
  add('diceLoss/error/label=3', ({ fl }) =>
    call(fl, 'diceLoss', d.logits(210, 'f32', 'overlap'), Int32Array.from(d.labels(70, 3) as Int32Array, (v, i) => (i === 9 ? 3 : v)), { shape: [2, 3, 5, 7] }), { error: true });

  // ---- per-class gamma (powPerElementF32x4: exact forms, products, pow in one vector) and detachModulator ----------
  const PER_CLASS_GAMMA = [0, 0.5, 1, 2, 3, 4, 2.5, 0.3];
  for (const m of ['sigmoidFocalLossWithGrad', 'softmaxFocalLossWithGrad']) {
    const sigmoid = m.startsWith('sigmoid');
    const C = PER_CLASS_GAMMA.length;
    for (const detachModulator of [false, true]) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=1000/C=8/gamma=per-class/detachModulator=${detachModulator}/reduction=${r}`, ({ fl }) => (sigmoid
          ? call(fl, m, d.logits(8000, 'f32'), d.binaryTargets(8000, 'f32'), { gamma: PER_CLASS_GAMMA, detachModulator, reduction: r })
          : call(fl, m, d.logits(8000, 'f32', 'smx8'), d.labels(1000, C), { gamma: PER_CLASS_GAMMA, detachModulator, reduction: r })));
      }
    }
  }
  add('softmaxFocalLoss/rows=1000/C=8/gamma=per-class/soft', ({ fl }) =>
    call(fl, 'softmaxFocalLoss', d.logits(8000, 'f32', 'smx8'), d.soft(1000, 8, 'f32', true), { gamma: PER_CLASS_GAMMA, classes: 8, reduction: 'none' }));

  // ---- distributionFocalLoss (the row driver) and focalMatchingCost (one kernel call) -----------------------------
  for (const m of ['distributionFocalLoss', 'distributionFocalLossWithGrad']) {
    for (const [rows, bins] of [[0, 17], [1, 17], [7, 17], [1000, 17], [1001, 5], [300, 120]] as const) {
      const logits = (): Floats => d.logits(rows * bins, 'f32', `dfl${bins}`);
      for (const r of REDUCTIONS) {
        add(`${m}/rows=${rows}/bins=${bins}/reduction=${r}`, ({ fl }) =>
          call(fl, m, logits(), d.binTargets(rows, bins, 'f32'), { bins, reduction: r }));
      }
    }
    add(`${m}/rows=1000/bins=17/weights/normalizer`, ({ fl }) =>
      call(fl, m, d.logits(17000, 'f32', 'dfl17'), d.binTargets(1000, 17, 'f64'), { bins: 17, weights: d.weights(1000, 'f32'), normalizer: 3 }));
    add(`${m}/boxes=250/bins=16/compat=ultralytics`, ({ fl }) =>
      call(fl, m, d.logits(16000, 'f32', 'dfl16'), d.binTargets(1000, 16, 'f32'), { bins: 16, compat: 'ultralytics', reduction: 'none' }));
  }
  for (const [queries, classes, targets] of [[1, 1, 1], [7, 5, 3], [300, 80, 100], [33, 91, 500]] as const) {
    const logits = (): Floats => d.logits(queries * classes, 'f32', 'cost');
    const targetClasses = (): Int32Array => d.labels(targets, classes);
    for (const [label, o] of [
      ['default', {}], ['compat=detr', { compat: 'detr' }], ['alpha=0.6/gamma=0.5', { alpha: 0.6, gamma: 0.5 }],
      ['gamma=3.3', { gamma: 3.3 }], ['gamma=1/compat=detr', { gamma: 1, compat: 'detr' }],
    ] as [string, Opts][]) {
      add(`focalMatchingCost/${queries}x${classes}->${targets}/${label}`, ({ fl }) =>
        call(fl, 'focalMatchingCost', logits(), targetClasses(), { classes, ...o }));
    }
  }

  // ---- softmaxFocalLoss ----------------------------------------------------------------------------------------
  const SMX_SIZES: [number, number][] = [[0, 3], [1, 3], [3, 1], [5, 4], [1000, 10], [3000, 80]];
  const smxLogits = (rows: number, c: number, k: Kind): Floats => d.logits(rows * c, k, `smx${c}`);
  for (const m of ['softmaxFocalLoss', 'softmaxFocalLossWithGrad']) {
    const grad = m.endsWith('WithGrad');
    const L = (rows: number, c: number) => smxLogits(rows, c, 'f32');
    for (const [rows, c] of SMX_SIZES) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/labels=i32`, ({ fl }) => call(fl, m, L(rows, c), d.labels(rows, c), { reduction: r }));
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/labels=arr`, ({ fl }) =>
          call(fl, m, L(rows, c), d.labelsArr(rows, c), { reduction: r }));
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/classes/labels=i32`, ({ fl }) =>
          call(fl, m, L(rows, c), d.labels(rows, c), { reduction: r, classes: c }));
      }
    }
    add(`${m}/rows=1000/C=10/no-options`, ({ fl }) => call(fl, m, L(1000, 10), d.labels(1000, 10)));
    const alphas: [string, (c: number) => Opts][] = [
      ['default', () => ({})], ['null', () => ({ alpha: null })], ['0.25', () => ({ alpha: 0.25 })],
      ['f32(C)', (c) => ({ alpha: d.perClass('alpha', c, 'f32') })],
    ];
    for (const g of GAMMAS) {
      for (const [a, alpha] of alphas) {
        for (const r of REDUCTIONS) {
          add(`${m}/rows=1000/C=10/gamma=${g}/alpha=${a}/reduction=${r}`, ({ fl }) =>
            call(fl, m, L(1000, 10), d.labels(1000, 10), { gamma: g, ...alpha(10), reduction: r }));
        }
      }
      for (const r of REDUCTIONS) {
        add(`${m}/rows=3000/C=80/gamma=${g}/reduction=${r}`, ({ fl }) =>
          call(fl, m, L(3000, 80), d.labels(3000, 80), { gamma: g, reduction: r }));
        add(`${m}/edge/gamma=${g}/reduction=${r}`, ({ fl }) => call(fl, m, EDGE_ROWS, EDGE_ROW_LABELS, { gamma: g, reduction: r }));
        add(`${m}/edge/soft/gamma=${g}/reduction=${r}`, ({ fl }) =>
          call(fl, m, EDGE_ROWS, EDGE_ROW_SOFT, { gamma: g, reduction: r, classes: 4 }));
      }
    }
    for (const a of [['arr(C)', d.perClass('alpha', 80, 'arr')], ['f64(C)', d.perClass('alpha', 80, 'f64')], ['0.75', 0.75]] as const) {
      add(`${m}/rows=3000/C=80/alpha=${a[0]}/reduction=mean`, ({ fl }) =>
        call(fl, m, L(3000, 80), d.labels(3000, 80), { alpha: a[1], reduction: 'mean' }));
    }
    // Logits containers.
    for (const [rows, c] of [[5, 4], [1000, 10], [3000, 80]] as [number, number][]) {
      for (const k of ['f64', 'arr'] as const) {
        for (const r of REDUCTIONS) {
          add(`${m}/rows=${rows}/C=${c}/reduction=${r}/logits=${k}`, ({ fl }) =>
            call(fl, m, smxLogits(rows, c, k), d.labels(rows, c), { reduction: r }));
        }
      }
    }
    // Ignored rows (default -100, and 255), all rows ignored.
    for (const [rows, c] of [[1000, 10], [3000, 80]] as [number, number][]) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/ignore=-100/labels=i32`, ({ fl }) =>
          call(fl, m, L(rows, c), d.labels(rows, c, 0.1), { reduction: r }));
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/ignore=-100/labels=arr`, ({ fl }) =>
          call(fl, m, L(rows, c), d.labelsArr(rows, c, 0.1), { reduction: r }));
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/ignoreIndex=255`, ({ fl }) =>
          call(fl, m, L(rows, c), d.labels(rows, c, 0.1, 255), { reduction: r, ignoreIndex: 255 }));
      }
    }
    for (const r of REDUCTIONS) {
      add(`${m}/rows=5/C=4/reduction=${r}/all-ignored`, ({ fl }) =>
        call(fl, m, L(5, 4), Int32Array.of(-100, -100, -100, -100, -100), { reduction: r }));
      add(`${m}/rows=5/C=4/reduction=${r}/ignored-rows-nan-logits`, ({ fl }) => {
        const x = Float32Array.from(L(5, 4) as Float32Array);
        x.fill(NaN, 4, 8);
        return call(fl, m, x, Int32Array.of(0, -100, 2, 3, 1), { reduction: r });
      });
    }
    // Label smoothing, soft targets.
    for (const ls of [0.1, 1]) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=1000/C=10/reduction=${r}/labelSmoothing=${ls}`, ({ fl }) =>
          call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { reduction: r, labelSmoothing: ls }));
      }
    }
    add(`${m}/rows=1000/C=10/reduction=mean/labelSmoothing=0.1/alpha=f32(C)/gamma=0.5`, ({ fl }) =>
      call(fl, m, L(1000, 10), d.labels(1000, 10), { labelSmoothing: 0.1, alpha: d.perClass('alpha', 10, 'f32'), gamma: 0.5 }));
    add(`${m}/rows=3000/C=80/reduction=mean/labelSmoothing=0.2`, ({ fl }) =>
      call(fl, m, L(3000, 80), d.labels(3000, 80), { labelSmoothing: 0.2 }));
    for (const [rows, c] of [[0, 3], [5, 4], [1000, 10], [3000, 80]] as [number, number][]) {
      for (const k of ['f32', 'f64'] as const) {
        for (const normalized of [true, false]) {
          for (const r of REDUCTIONS) {
            add(`${m}/rows=${rows}/C=${c}/reduction=${r}/soft=${k}/${normalized ? 'distribution' : 'raw'}`, ({ fl }) =>
              call(fl, m, L(rows, c), d.soft(rows, c, k, normalized), { reduction: r, classes: c }));
          }
        }
      }
    }
    for (const g of [0, 0.5, 3.7]) {
      add(`${m}/rows=1000/C=10/reduction=mean/soft=f32/gamma=${g}`, ({ fl }) =>
        call(fl, m, L(1000, 10), d.soft(1000, 10, 'f32', false), { classes: 10, gamma: g }));
    }
    add(`${m}/rows=1000/C=10/reduction=sum/soft=f32/alpha=f32(C)`, ({ fl }) =>
      call(fl, m, L(1000, 10), d.soft(1000, 10, 'f32', true), { classes: 10, alpha: d.perClass('alpha', 10, 'f32'), reduction: 'sum' }));
    add(`${m}/rows=1000/C=10/reduction=none/soft=f64/labelSmoothing=0.1`, ({ fl }) =>
      call(fl, m, L(1000, 10), d.soft(1000, 10, 'f64', true), { classes: 10, labelSmoothing: 0.1, reduction: 'none' }));
    add(`${m}/rows=1000/C=10/reduction=mean/soft=f32/alpha=0.25`, ({ fl }) =>
      call(fl, m, L(1000, 10), d.soft(1000, 10, 'f32', true), { classes: 10, alpha: 0.25 }));
    // Weights, normalizer, out / gradOut.
    for (const k of KINDS) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=1000/C=10/reduction=${r}/weights=${k}`, ({ fl }) =>
          call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { reduction: r, weights: d.weights(1000, k) }));
      }
    }
    add(`${m}/rows=3000/C=80/reduction=mean/weights/soft`, ({ fl }) =>
      call(fl, m, L(3000, 80), d.soft(3000, 80, 'f32', true), { classes: 80, weights: d.weights(3000, 'f32') }));
    for (const norm of [7.5, 0.001]) {
      add(`${m}/rows=1000/C=10/reduction=mean/normalizer=${norm}`, ({ fl }) =>
        call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { normalizer: norm }));
    }
    for (const [rows, c] of [[0, 3], [5, 4], [1000, 10], [3000, 80]] as [number, number][]) {
      for (const r of REDUCTIONS) {
        add(`${m}/rows=${rows}/C=${c}/reduction=${r}/out${grad ? '+gradOut' : ''}`, ({ fl }) => {
          const out = sentinel(rows + 3);
          const gradOut = grad ? sentinel(rows * c + 3) : undefined;
          return withBuffers(call(fl, m, L(rows, c), d.labels(rows, c, 0.1), { reduction: r, classes: c, out, gradOut }), out, gradOut);
        });
      }
    }
    // Compatibility presets.
    for (const preset of ['kornia', 'keras', 'mmcv', 'monai']) {
      add(`${m}/rows=1000/C=10/compat=${preset}/reduction=default`, ({ fl }) =>
        call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { compat: preset }));
      for (const r of REDUCTIONS) {
        add(`${m}/rows=1000/C=10/compat=${preset}/reduction=${r}`, ({ fl }) =>
          call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { compat: preset, reduction: r }));
      }
      for (const a of [0.25, 0.75, null]) {
        add(`${m}/rows=1000/C=10/compat=${preset}/alpha=${a}/gamma=0.5`, ({ fl }) =>
          call(fl, m, L(1000, 10), d.labels(1000, 10, 0.1), { compat: preset, alpha: a, gamma: 0.5, reduction: 'mean' }));
      }
      add(`${m}/rows=1000/C=10/compat=${preset}/alpha=f32(C)`, ({ fl }) =>
        call(fl, m, L(1000, 10), d.labels(1000, 10), { compat: preset, alpha: d.perClass('alpha', 10, 'f32') }));
      add(`${m}/rows=1000/C=10/compat=${preset}/soft`, ({ fl }) =>
        call(fl, m, L(1000, 10), d.soft(1000, 10, 'f32', true), { compat: preset, classes: 10, reduction: 'mean' }));
      add(`${m}/rows=3000/C=80/compat=${preset}/reduction=mean`, ({ fl }) =>
        call(fl, m, L(3000, 80), d.labels(3000, 80, 0.05), { compat: preset, reduction: 'mean' }));
    }
    // Layouts: shape + classAxis (NCHW and others), inner > 1024 (whole slices and split slices).
    const layouts: [string, number[], number][] = [
      ['[2,5,7,9]/classAxis=1', [2, 5, 7, 9], 1], ['[2,5,7,9]/classAxis=-3', [2, 5, 7, 9], -3],
      ['[5,2,7,9]/classAxis=0', [5, 2, 7, 9], 0], ['[2,7,9,5]/classAxis=3', [2, 7, 9, 5], 3],
      ['[2,7,9,5]/classAxis=-1', [2, 7, 9, 5], -1], ['[2,7,5,9]/classAxis=2', [2, 7, 5, 9], 2],
      ['[7,5]/classAxis=1', [7, 5], 1], ['[5,7]/classAxis=0', [5, 7], 0], ['[5]/classAxis=0', [5], 0],
      ['[2,3,1500]/classAxis=1', [2, 3, 1500], 1], ['[2,20,1500]/classAxis=1(split)', [2, 20, 1500], 1],
      ['[1,8,5000]/classAxis=1(split)', [1, 8, 5000], 1], ['[3,80,40]/classAxis=1', [3, 80, 40], 1],
    ];
    for (const [label, shape, axis] of layouts) {
      const size = shape.reduce((a, b) => a * b, 1);
      const rank = shape.length;
      const c = shape[axis < 0 ? axis + rank : axis]!;
      const rows = size / c;
      const X = (k: Kind) => d.logits(size, k, `layout${shape.join('x')}`);
      for (const r of REDUCTIONS) {
        add(`${m}/layout=${label}/reduction=${r}/labels=i32`, ({ fl }) =>
          call(fl, m, X('f32'), d.labels(rows, c, 0.1), { shape, classAxis: axis, reduction: r }));
        add(`${m}/layout=${label}/reduction=${r}/soft=f32`, ({ fl }) =>
          call(fl, m, X('f32'), d.soft(rows * c, 1, 'f32', false), { shape, classAxis: axis, reduction: r }));
      }
      add(`${m}/layout=${label}/reduction=mean/labels=arr/logits=f64/alpha=f32(C)/weights`, ({ fl }) =>
        call(fl, m, X('f64'), d.labelsArr(rows, c, 0.1), {
          shape, classAxis: axis, alpha: d.perClass('alpha', c, 'f32'), weights: d.weights(rows, 'f32'),
        }));
      add(`${m}/layout=${label}/reduction=none/out${grad ? '+gradOut' : ''}/labelSmoothing=0.1`, ({ fl }) => {
        const out = sentinel(rows + 3);
        const gradOut = grad ? sentinel(size + 3) : undefined;
        return withBuffers(call(fl, m, X('arr'), d.labels(rows, c), {
          shape, classAxis: axis, reduction: 'none', labelSmoothing: 0.1, out, gradOut,
        }), out, gradOut);
      });
    }
    add(`${m}/layout=[2,5,7,9]/no-classAxis/reduction=mean`, ({ fl }) =>
      call(fl, m, d.logits(630, 'f32', 'layout2x5x7x9'), d.labels(70, 9), { shape: [2, 5, 7, 9] }));
    add(`${m}/layout=[2,5,7,9]/classAxis=1/classes=5/compat=kornia`, ({ fl }) =>
      call(fl, m, d.logits(630, 'f32', 'layout2x5x7x9'), d.labels(126, 5),
        { shape: [2, 5, 7, 9], classAxis: 1, classes: 5, compat: 'kornia' }));
    add(`${m}/layout=Int32Array[2,5,7,9]/classAxis=1`, ({ fl }) =>
      call(fl, m, d.logits(630, 'f32', 'layout2x5x7x9'), d.labels(126, 5), { shape: Int32Array.of(2, 5, 7, 9), classAxis: 1 }));
    // Wide rows: 20000 classes, each row wider than a 16384-element chunk.
    for (const r of REDUCTIONS) {
      add(`${m}/rows=3/C=20000/reduction=${r}/labels=i32`, ({ fl }) =>
        call(fl, m, smxLogits(3, 20000, 'f32'), Int32Array.of(0, 19999, 7777), { reduction: r }));
      add(`${m}/rows=3/C=20000/reduction=${r}/soft=f32`, ({ fl }) =>
        call(fl, m, smxLogits(3, 20000, 'f32'), d.soft(3, 20000, 'f32', false), { reduction: r, classes: 20000 }));
    }
    add(`${m}/rows=3/C=20000/reduction=mean/ignore/alpha=f32(C)/labelSmoothing=0.1/logits=f64`, ({ fl }) =>
      call(fl, m, smxLogits(3, 20000, 'f64'), [5, -100, 12345], { alpha: d.perClass('alpha', 20000, 'f32'), labelSmoothing: 0.1 }));
    add(`${m}/layout=[2,20000,1]/classAxis=1`, ({ fl }) =>
      call(fl, m, smxLogits(2, 20000, 'f32'), Int32Array.of(3, 19000), { shape: [2, 20000, 1], classAxis: 1, reduction: 'none' }));
  }

  // ---- softmax, logSoftmax, sigmoid -----------------------------------------------------------------------------
  for (const m of ['softmax', 'logSoftmax']) {
    const sizes: [number, number | undefined][] = [[0, undefined], [1, undefined], [3, undefined], [20, 4], [10000, 10],
      [240000, 80], [60000, 20000], [1000, undefined], [17000, undefined]];
    for (const [len, c] of sizes) {
      const label = `len=${len}/classes=${c ?? 'default'}`;
      const X = (k: Kind) => d.logits(len, k, 'prim');
      add(`${m}/${label}/f32`, ({ fl }) => call(fl, m, X('f32'), c === undefined ? undefined : { classes: c }));
      if (len <= 10000) {
        for (const k of ['f64', 'arr'] as const) {
          add(`${m}/${label}/${k}`, ({ fl }) => call(fl, m, X(k), c === undefined ? {} : { classes: c }));
        }
        add(`${m}/${label}/out`, ({ fl }) => {
          const out = sentinel(len + 3);
          return withBuffers(call(fl, m, X('f32'), { classes: c, out }), out, undefined);
        });
      }
    }
    add(`${m}/edge/classes=4`, ({ fl }) => call(fl, m, EDGE_ROWS, { classes: 4 }));
    add(`${m}/edge/one-row`, ({ fl }) => call(fl, m, EDGE_ROWS));
    add(`${m}/len=1000/classes=10/alloc`, ({ fl }) => {
      const [x, out] = fl.alloc(1000, 1000) as [Float32Array, Float32Array];
      x.set(d.logits(1000, 'f32', 'prim') as Float32Array);
      out.fill(SENTINEL);
      return withBuffers(call(fl, m, x, { classes: 10, out }), out, undefined);
    });
  }
  const SIGMOID_EDGE = Float32Array.from([...EDGE_LOGITS, Infinity, -Infinity, NaN, 3.4e38, -3.4e38]);
  for (const len of [0, 1, 3, 5, 1000, 40000]) {
    const X = (k: Kind) => d.logits(len, k, 'sig');
    add(`sigmoid/len=${len}/f32`, ({ fl }) => call(fl, 'sigmoid', X('f32')));
    for (const k of ['f64', 'arr'] as const) add(`sigmoid/len=${len}/${k}`, ({ fl }) => call(fl, 'sigmoid', X(k), {}));
    add(`sigmoid/len=${len}/out`, ({ fl }) => {
      const out = sentinel(len + 3);
      return withBuffers(call(fl, 'sigmoid', X('f32'), { out }), out, undefined);
    });
  }
  add('sigmoid/edge', ({ fl }) => call(fl, 'sigmoid', SIGMOID_EDGE));
  add('sigmoid/edge/f64', ({ fl }) => call(fl, 'sigmoid', Float64Array.from(SIGMOID_EDGE)));
  add('sigmoid/len=40000/alloc', ({ fl }) => {
    const [x, out] = fl.alloc(40000, 40000) as [Float32Array, Float32Array];
    x.set(d.logits(40000, 'f32', 'sig') as Float32Array);
    out.fill(SENTINEL);
    return withBuffers(call(fl, 'sigmoid', x, { out }), out, undefined);
  });
  add('alloc/lengths', ({ fl }) => {
    const views = fl.alloc(0, 1, 17, 16384);
    const one = fl.alloc(5);
    return [...views.map((v) => v.length), one.length, ...views.map((v) => v.byteOffset % 64)];
  });

  // ---- tfjs: focalLoss on the cpu backend (loss value, and its gradient with respect to the logits) -------------
  const TF_B = 64;
  const TF_C = 5;
  const tfCases: [string, TfjsFocalOptions, boolean][] = [
    ['sigmoidFocalLoss/default', {}, false],
    ['sigmoidFocalLoss/reduction=sum/gamma=0.5', { reduction: 'sum', gamma: 0.5 }, false],
    ['sigmoidFocalLoss/classWeights/mask', { classWeights: d.perClass('cw', TF_C, 'f32'), mask: d.maskU8(TF_B * TF_C) }, false],
    ['sigmoidFocalLoss/compat=kornia/reduction=mean', { compat: 'kornia', reduction: 'mean' }, false],
    ['sigmoidFocalLossStar/beta=1', { loss: 'sigmoidFocalLossStar', beta: 1 }, false],
    ['qualityFocalLoss/reduction=sum', { loss: 'qualityFocalLoss', reduction: 'sum' }, true],
    ['varifocalLoss/default', { loss: 'varifocalLoss' }, true],
    ['polyFocalLoss/epsilon=2', { loss: 'polyFocalLoss', epsilon: 2 }, false],
    ['asymmetricLoss/default', { loss: 'asymmetricLoss' }, false],
    ['asymmetricLoss/detachModulator=false/reduction=mean', { loss: 'asymmetricLoss', detachModulator: false, reduction: 'mean' }, true],
  ];
  for (const [label, options, soft] of tfCases) {
    for (const dtype of ['float32', 'int32'] as const) {
      if (dtype === 'int32' && soft) continue;
      add(`tfjs/focalLoss/${label}/labels=${dtype}`, ({ fl }) => {
        const n = TF_B * TF_C;
        const x = d.logits(n, 'f32', 'tf') as Float32Array;
        const t = (soft ? d.softTargets(n, 'f32') : d.binaryTargets(n, 'f32')) as Float32Array;
        const labelValues = dtype === 'int32' ? Int32Array.from(t, (v) => (v >= 0.5 ? 1 : 0)) : t;
        let value = new Float32Array(0);
        let gradient = new Float32Array(0);
        tf.tidy(() => {
          const labels = tf.tensor2d(labelValues, [TF_B, TF_C], dtype);
          const logits = tf.tensor2d(x, [TF_B, TF_C]);
          const loss = focalLoss(fl, options);
          value = Float32Array.from(loss(labels, logits).dataSync());
          gradient = Float32Array.from(tf.grad((z: tf.Tensor) => loss(labels, z))(logits).dataSync());
        });
        return [value, gradient];
      });
    }
  }
  add('tfjs/focalLoss/error/reduction=none', ({ fl }) => {
    focalLoss(fl, { reduction: 'none' as 'mean' });
    return 0;
  }, { error: true });
  add('tfjs/focalLoss/error/loss=dice', ({ fl }) => {
    focalLoss(fl, { loss: 'dice' } as unknown as TfjsFocalOptions);
    return 0;
  }, { error: true });
  add('tfjs/focalLoss/error/label=2', ({ fl }) => {
    tf.tidy(() => {
      focalLoss(fl)(tf.tensor1d([0, 2, 1]), tf.tensor1d([0.5, 1, -1]));
    });
    return 0;
  }, { error: true });

  // ---- the worker pool: sigmoidFocalLoss split across 2 workers, softmaxFocalLoss whole on one --------------------
  for (const m of ['sigmoidFocalLoss', 'sigmoidFocalLossWithGrad']) {
    const grad = m.endsWith('WithGrad');
    for (const n of [40000, 1000]) {
      for (const r of REDUCTIONS) {
        const mirror = `${m}/n=${n}/reduction=${r}/f32`;
        add(`pool/${mirror}`, ({ pool }) =>
          callAsync(pool, m, d.logits(n, 'f32'), d.binaryTargets(n, 'f32'), { reduction: r }), { mirrors: mirror });
      }
    }
    for (const r of REDUCTIONS) {
      for (const k of ['f64', 'arr'] as const) {
        const mirror = `${m}/n=40000/reduction=${r}/weights/${k}`;
        add(`pool/${mirror}`, ({ pool }) =>
          callAsync(pool, m, d.logits(40000, k), d.binaryTargets(40000, k), { reduction: r, weights: d.weights(40000, k) }),
        { mirrors: mirror });
      }
      const g = 'gamma=0.5';
      const mirrorG = `${m}/n=40000/${g}/reduction=${r}/weights/f64`;
      add(`pool/${mirrorG}`, ({ pool }) =>
        callAsync(pool, m, d.logits(40000, 'f64'), d.binaryTargets(40000, 'f64'),
          { gamma: 0.5, reduction: r, weights: d.weights(40000, 'f64') }), { mirrors: mirrorG });
      const mirrorOut = `${m}/n=40000/reduction=${r}/out${grad ? '+gradOut' : ''}/f32`;
      add(`pool/${mirrorOut}`, async ({ pool }) => {
        const out = sentinel(40003);
        const gradOut = grad ? sentinel(40003) : undefined;
        const result = await callAsync(pool, m, d.logits(40000, 'f32'), d.binaryTargets(40000, 'f32'), { reduction: r, out, gradOut });
        return withBuffers(result, out, gradOut);
      }, { mirrors: mirrorOut });
      add(`pool/${m}/n=40000/reduction=${r}/shared-inputs+outputs`, async ({ pool }) => {
        const shared = (src: Floats, length: number): Float32Array => {
          const view = new Float32Array(new SharedArrayBuffer(length * 4));
          view.fill(SENTINEL);
          view.set(src as Float32Array);
          return view;
        };
        const out = shared([], 40003);
        const gradOut = grad ? shared([], 40003) : undefined;
        return withBuffers(await callAsync(pool, m, shared(d.logits(40000, 'f32'), 40000),
          shared(d.binaryTargets(40000, 'f32'), 40000), { reduction: r, out, gradOut }), out, gradOut);
      }, { mirrors: mirrorOut });
      const mirrorMask = `${m}/n=40000/reduction=${r}/mask=u8/weights/f64`;
      add(`pool/${mirrorMask}`, ({ pool }) =>
        callAsync(pool, m, d.logits(40000, 'f64'), d.binaryTargets(40000, 'f64'),
          { reduction: r, mask: d.maskU8(40000), weights: d.weights(40000, 'f64') }), { mirrors: mirrorMask });
    }
    const mirrorCompat = `${m}/n=40000/compat=torchvision/reduction=mean/weights`;
    add(`pool/${mirrorCompat}`, ({ pool }) =>
      callAsync(pool, m, d.logits(40000, 'f32'), d.binaryTargets(40000, 'f32'),
        { compat: 'torchvision', reduction: 'mean', weights: d.weights(40000, 'f32') }), { mirrors: mirrorCompat });
    add(`pool/${m}/n=100000/reduction=mean`, ({ pool }) =>
      callAsync(pool, m, d.logits(100000, 'f32'), d.binaryTargets(100000, 'f32'), {}));
    add(`pool/${m}/error/nan-logit-at-30000`, ({ pool }) => {
      const x = Float32Array.from(d.logits(40000, 'f32') as Float32Array);
      x[30000] = NaN;
      return callAsync(pool, m, x, d.binaryTargets(40000, 'f32'), { reduction: 'sum' });
    }, { error: true });
    add(`pool/${m}/error/reduction=avg`, ({ pool }) =>
      callAsync(pool, m, d.logits(1000, 'f32'), d.binaryTargets(1000, 'f32'), { reduction: 'avg' }), { error: true });
  }
  for (const m of ['asymmetricLoss', 'asymmetricLossWithGrad']) {
    for (const r of REDUCTIONS) {
      const mirror = `${m}/n=40000/reduction=${r}/mask=u8/weights/f64`;
      add(`pool/${mirror}`, ({ pool }) =>
        callAsync(pool, m, d.logits(40000, 'f64'), d.binaryTargets(40000, 'f64'),
          { reduction: r, mask: d.maskU8(40000), weights: d.weights(40000, 'f64') }), { mirrors: mirror });
    }
  }
  for (const m of ['softmaxFocalLoss', 'softmaxFocalLossWithGrad']) {
    const grad = m.endsWith('WithGrad');
    for (const r of REDUCTIONS) {
      const mirror = `${m}/rows=3000/C=80/reduction=${r}/labels=i32`;
      add(`pool/${mirror}`, ({ pool }) =>
        callAsync(pool, m, smxLogits(3000, 80, 'f32'), d.labels(3000, 80), { reduction: r }), { mirrors: mirror });
      const mirrorSoft = `${m}/rows=3000/C=80/reduction=${r}/soft=f64/raw`;
      add(`pool/${mirrorSoft}`, ({ pool }) =>
        callAsync(pool, m, smxLogits(3000, 80, 'f32'), d.soft(3000, 80, 'f64', false), { reduction: r, classes: 80 }),
      { mirrors: mirrorSoft });
      const mirrorOut = `${m}/rows=3000/C=80/reduction=${r}/out${grad ? '+gradOut' : ''}`;
      add(`pool/${mirrorOut}`, async ({ pool }) => {
        const out = sentinel(3003);
        const gradOut = grad ? sentinel(3000 * 80 + 3) : undefined;
        return withBuffers(await callAsync(pool, m, smxLogits(3000, 80, 'f32'), d.labels(3000, 80, 0.1),
          { reduction: r, classes: 80, out, gradOut }), out, gradOut);
      }, { mirrors: mirrorOut });
    }
    const mirrorLayout = `${m}/layout=[2,20,1500]/classAxis=1(split)/reduction=mean/labels=i32`;
    add(`pool/${mirrorLayout}`, ({ pool }) =>
      callAsync(pool, m, d.logits(60000, 'f32', 'layout2x20x1500'), d.labels(3000, 20, 0.1),
        { shape: [2, 20, 1500], classAxis: 1, reduction: 'mean' }),
    { mirrors: mirrorLayout });
    add(`pool/${m}/error/class-index=80`, ({ pool }) => {
      const y = Int32Array.from(d.labels(3000, 80));
      y[2500] = 80;
      return callAsync(pool, m, smxLogits(3000, 80, 'f32'), y, {});
    }, { error: true });
  }
  add('pool/createFocalPool/error/threads=0', async ({ simd }) => {
    await createFocalPool({ threads: 0, simd });
    return 0;
  }, { error: true });
  add('pool/createFocalPool/error/threads=1.5', async ({ simd }) => {
    await createFocalPool({ threads: 1.5, simd });
    return 0;
  }, { error: true });
  add('createFocal/error/simd=yes', async () => {
    await createFocal({ simd: 'yes' as unknown as boolean });
    return 0;
  }, { error: true });

  // ---- errors ---------------------------------------------------------------------------------------------------
  const x8 = Float32Array.of(0.5, -1, 2, -3, 4, -5, 6, -7);
  const t8 = Float32Array.of(1, 0, 1, 0, 1, 0, 0.25, 0.75);
  const p8 = Float32Array.of(0.5, 0.1, 0.9, 0, 1, 0.3, 0.6, 0.7);
  const withAt = (a: Float32Array, at: number, v: number): Float32Array => {
    const c = Float32Array.from(a);
    c[at] = v;
    return c;
  };
  const err = (name: string, run: Case['run']): void => add(`error/${name}`, run, { error: true });
  const sig = 'sigmoidFocalLoss';
  const sigG = 'sigmoidFocalLossWithGrad';
  err(`${sig}/nan-logit-at-3`, ({ fl }) => call(fl, sig, withAt(x8, 3, NaN), t8));
  err(`${sigG}/nan-logit-at-30000`, ({ fl }) => {
    const x = Float32Array.from(d.logits(40000, 'f32') as Float32Array);
    x[30000] = NaN;
    return call(fl, sigG, x, d.binaryTargets(40000, 'f32'), { reduction: 'none' });
  });
  err(`${sig}/infinite-logit`, ({ fl }) => call(fl, sig, withAt(x8, 5, -Infinity), t8));
  err(`${sig}/logit-1e39-f64`, ({ fl }) => call(fl, sig, Float64Array.from([...x8.slice(0, 7), 1e39]), t8));
  err(`${sig}/target-1.5`, ({ fl }) => call(fl, sig, x8, withAt(t8, 2, 1.5)));
  err(`${sig}/target--0.1`, ({ fl }) => call(fl, sig, x8, withAt(t8, 6, -0.1)));
  err(`${sig}/target-nan/mask`, ({ fl }) => call(fl, sig, x8, withAt(t8, 6, NaN), { mask: new Uint8Array(8).fill(1) }));
  err(`${sig}/target-2/ignoreIndex=-1`, ({ fl }) => call(fl, sig, x8, withAt(t8, 4, 2), { ignoreIndex: -1 }));
  err(`${sig}/wrong-length`, ({ fl }) => call(fl, sig, x8, t8.subarray(0, 7)));
  err(`${sig}/logits-string`, ({ fl }) => call(fl, sig, 'abc', t8));
  err(`${sig}/logits-int32array`, ({ fl }) => call(fl, sig, new Int32Array(8), t8));
  err(`${sig}/logits-array-with-string`, ({ fl }) => call(fl, sig, [0.5, 1, '2', 0, 0, 0, 0, 0], t8));
  err(`${sig}/options-number`, ({ fl }) => call(fl, sig, x8, t8, 5));
  err(`${sig}/gamma=-1`, ({ fl }) => call(fl, sig, x8, t8, { gamma: -1 }));
  err(`${sig}/gamma=NaN`, ({ fl }) => call(fl, sig, x8, t8, { gamma: NaN }));
  err(`${sig}/gamma-string`, ({ fl }) => call(fl, sig, x8, t8, { gamma: '2' }));
  err(`${sig}/gamma=1e39`, ({ fl }) => call(fl, sig, x8, t8, { gamma: 1e39 }));
  err(`${sig}/alpha=1.5`, ({ fl }) => call(fl, sig, x8, t8, { alpha: 1.5 }));
  err(`${sig}/alpha=NaN`, ({ fl }) => call(fl, sig, x8, t8, { alpha: NaN }));
  err(`${sig}/reduction=avg`, ({ fl }) => call(fl, sig, x8, t8, { reduction: 'avg' }));
  err(`${sig}/reduction=3`, ({ fl }) => call(fl, sig, x8, t8, { reduction: 3 }));
  err(`${sig}/normalizer=0`, ({ fl }) => call(fl, sig, x8, t8, { normalizer: 0 }));
  err(`${sig}/normalizer/reduction=sum`, ({ fl }) => call(fl, sig, x8, t8, { normalizer: 2, reduction: 'sum' }));
  err(`${sig}/normalizer=1e-40`, ({ fl }) => call(fl, sig, x8, t8, { normalizer: 1e-40 }));
  err(`${sig}/weights-wrong-length`, ({ fl }) => call(fl, sig, x8, t8, { weights: [1, 2] }));
  err(`${sig}/weights-nan-at-6`, ({ fl }) => call(fl, sig, x8, t8, { weights: withAt(new Float32Array(8).fill(1), 6, NaN) }));
  err(`${sigG}/out-too-short`, ({ fl }) => call(fl, sigG, x8, t8, { reduction: 'none', out: new Float32Array(7) }));
  err(`${sig}/out-shares-logits`, ({ fl }) => call(fl, sig, x8, t8, { reduction: 'none', out: x8 }));
  err(`${sig}/out-float64array`, ({ fl }) => call(fl, sig, x8, t8, { reduction: 'mean', out: new Float64Array(8) }));
  err(`${sigG}/gradOut-overlaps-out`, ({ fl }) => {
    const buffer = new Float32Array(12);
    return call(fl, sigG, x8, t8, { reduction: 'none', out: buffer.subarray(0, 8), gradOut: buffer.subarray(4, 12) });
  });
  err(`${sig}/compat=pytorch`, ({ fl }) => call(fl, sig, x8, t8, { compat: 'pytorch' }));
  err(`${sig}/compat=5`, ({ fl }) => call(fl, sig, x8, t8, { compat: 5 }));
  err(`${sig}/compat=mmcv/no-classes`, ({ fl }) => call(fl, sig, x8, t8, { compat: 'mmcv' }));
  err(`${sig}/mask-wrong-length`, ({ fl }) => call(fl, sig, x8, t8, { mask: new Uint8Array(4) }));
  err(`${sig}/mask-string`, ({ fl }) => call(fl, sig, x8, t8, { mask: 'all' }));
  err(`${sig}/classes=3`, ({ fl }) => call(fl, sig, x8, t8, { classes: 3 }));
  err(`${sig}/classes=0`, ({ fl }) => call(fl, sig, x8, t8, { classes: 0 }));
  err(`${sig}/classWeights-negative`, ({ fl }) => call(fl, sig, x8, t8, { classWeights: [1, -1] }));
  err(`${sig}/posWeight=NaN`, ({ fl }) => call(fl, sig, x8, t8, { posWeight: NaN }));
  err(`${sig}/posWeight-wrong-length`, ({ fl }) => call(fl, sig, x8, t8, { classes: 4, posWeight: [1, 2, 3] }));
  err(`${sig}/reducedThreshold=0`, ({ fl }) => call(fl, sig, x8, t8, { reducedThreshold: 0 }));
  err(`${sig}/reducedThreshold=1.5`, ({ fl }) => call(fl, sig, x8, t8, { reducedThreshold: 1.5 }));
  err(`${sig}/normalized=yes`, ({ fl }) => call(fl, sig, x8, t8, { normalized: 'yes' }));
  err('sigmoidFocalLossStar/gamma=0', ({ fl }) => call(fl, 'sigmoidFocalLossStar', x8, t8, { gamma: 0 }));
  err('sigmoidFocalLossStar/beta=Infinity', ({ fl }) => call(fl, 'sigmoidFocalLossStar', x8, t8, { beta: Infinity }));
  err('sigmoidFocalLossStarWithGrad/nan-logit-at-1/mask', ({ fl }) =>
    call(fl, 'sigmoidFocalLossStarWithGrad', withAt(x8, 1, NaN), t8, { mask: new Float32Array(8).fill(1) }));
  err('qualityFocalLoss/beta=-1', ({ fl }) => call(fl, 'qualityFocalLoss', x8, t8, { beta: -1 }));
  err('qualityFocalLossWithGrad/target-1.5', ({ fl }) => call(fl, 'qualityFocalLossWithGrad', x8, withAt(t8, 7, 1.5)));
  err('varifocalLoss/alpha=-1', ({ fl }) => call(fl, 'varifocalLoss', x8, t8, { alpha: -1 }));
  err('varifocalLoss/iouWeighted=1', ({ fl }) => call(fl, 'varifocalLoss', x8, t8, { iouWeighted: 1 }));
  err('polyFocalLoss/epsilon=NaN', ({ fl }) => call(fl, 'polyFocalLoss', x8, t8, { epsilon: NaN }));
  err('polyFocalLossWithGrad/weights-infinite-at-2', ({ fl }) =>
    call(fl, 'polyFocalLossWithGrad', x8, t8, { weights: withAt(new Float32Array(8).fill(1), 2, Infinity) }));
  err('asymmetricLoss/gammaNeg=-1', ({ fl }) => call(fl, 'asymmetricLoss', x8, t8, { gammaNeg: -1 }));
  err('asymmetricLoss/clip=1', ({ fl }) => call(fl, 'asymmetricLoss', x8, t8, { clip: 1 }));
  err('asymmetricLoss/eps=0', ({ fl }) => call(fl, 'asymmetricLoss', x8, t8, { eps: 0 }));
  err('asymmetricLoss/normalizer-with-sum', ({ fl }) => call(fl, 'asymmetricLoss', x8, t8, { normalizer: 2 }));
  err('asymmetricLossWithGrad/detachModulator=1', ({ fl }) => call(fl, 'asymmetricLossWithGrad', x8, t8, { detachModulator: 1 }));
  const smx = 'softmaxFocalLoss';
  const smxG = 'softmaxFocalLossWithGrad';
  const x12 = Float32Array.of(0.5, -1, 2, -3, 4, -5, 6, -7, 1, 0, 0.25, 3);
  err(`${smx}/class-index=3`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 3, 1, 2)));
  err(`${smx}/class-index=1.5`, ({ fl }) => call(fl, smx, x12, [0, 1.5, 1, 2]));
  err(`${smx}/class-index-string`, ({ fl }) => call(fl, smx, x12, [0, '1', 1, 2]));
  err(`${smx}/soft-without-classes`, ({ fl }) => call(fl, smx, x12, new Float32Array(12)));
  err(`${smx}/soft-target-1.5`, ({ fl }) => call(fl, smx, x12, withAt(new Float32Array(12), 5, 1.5), { classes: 3 }));
  err(`${smx}/targets-uint8array`, ({ fl }) => call(fl, smx, x12, new Uint8Array(4)));
  err(`${smx}/logits-not-rows`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0, 1)));
  err(`${smx}/classes=5`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1), { classes: 5 }));
  err(`${smx}/nan-logit-at-7`, ({ fl }) => call(fl, smx, withAt(x12, 7, NaN), Int32Array.of(0, 1, 2, 0)));
  err(`${smxG}/nan-logit-in-row-2000`, ({ fl }) => {
    const x = Float32Array.from(smxLogits(3000, 80, 'f32') as Float32Array);
    x[2000 * 80 + 5] = NaN;
    return call(fl, smxG, x, d.labels(3000, 80), {});
  });
  err(`${smx}/alpha-wrong-length`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { alpha: [1, 2] }));
  err(`${smx}/alpha-negative-entry`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { alpha: [1, -2, 1] }));
  err(`${smx}/alpha-string`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { alpha: 'x' }));
  err(`${smx}/labelSmoothing=2`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { labelSmoothing: 2 }));
  err(`${smx}/ignoreIndex=1.5`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { ignoreIndex: 1.5 }));
  for (const preset of ['torchvision', 'mmdet', 'smp']) {
    err(`${smx}/compat=${preset}`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { compat: preset }));
  }
  err(`${smx}/compat=kornia/alpha=1.5`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { compat: 'kornia', alpha: 1.5 }));
  err(`${smx}/shape-product`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: [2, 5], classAxis: 1 }));
  err(`${smx}/shape-zero`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: [0, 12] }));
  err(`${smx}/shape-string`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: '3,4' }));
  err(`${smx}/classAxis=2`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: [3, 4], classAxis: 2 }));
  err(`${smx}/classAxis-without-shape`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { classAxis: 1 }));
  err(`${smx}/layout-labels-count`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: [3, 4], classAxis: 0 }));
  err(`${smx}/layout-classes-disagree`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2), { shape: [3, 4], classes: 3 }));
  err(`${smxG}/gradOut-too-short`, ({ fl }) => call(fl, smxG, x12, Int32Array.of(0, 1, 2, 0), { gradOut: new Float32Array(11) }));
  err(`${smx}/weights-nan-at-row-2`, ({ fl }) => call(fl, smx, x12, Int32Array.of(0, 1, 2, 0), { weights: [1, 1, NaN, 1] }));
  const bin = 'binaryFocalLoss';
  err(`${bin}/prob-1.5`, ({ fl }) => call(fl, bin, withAt(p8, 4, 1.5), t8));
  err(`${bin}/prob-nan`, ({ fl }) => call(fl, bin, withAt(p8, 0, NaN), t8));
  err(`${bin}/target-nan`, ({ fl }) => call(fl, bin, p8, withAt(t8, 3, NaN)));
  err(`${bin}/epsilon=0.5`, ({ fl }) => call(fl, bin, p8, t8, { epsilon: 0.5 }));
  err(`${bin}/epsilon=1e-9`, ({ fl }) => call(fl, bin, p8, t8, { epsilon: 1e-9 }));
  err(`${bin}/epsilon-string`, ({ fl }) => call(fl, bin, p8, t8, { epsilon: '1e-7' }));
  err(`${bin}/compat=kornia`, ({ fl }) => call(fl, bin, p8, t8, { compat: 'kornia' }));
  err('binaryFocalLossWithGrad/prob-at-20000=-1', ({ fl }) => {
    const p = Float32Array.from(d.probs(40000, 'f32') as Float32Array);
    p[20000] = -1;
    return call(fl, 'binaryFocalLossWithGrad', p, d.binaryTargets(40000, 'f32'));
  });
  err('softmax/nan-logit', ({ fl }) => call(fl, 'softmax', withAt(x12, 9, NaN), { classes: 4 }));
  err('softmax/classes=5', ({ fl }) => call(fl, 'softmax', x12, { classes: 5 }));
  err('softmax/classes=0', ({ fl }) => call(fl, 'softmax', x12, { classes: 0 }));
  err('logSoftmax/out-too-short', ({ fl }) => call(fl, 'logSoftmax', x12, { out: new Float32Array(11) }));
  err('logSoftmax/out-is-logits', ({ fl }) => call(fl, 'logSoftmax', x12, { out: x12 }));
  err('sigmoid/out-too-short', ({ fl }) => call(fl, 'sigmoid', x8, { out: new Float32Array(7) }));
  err('sigmoid/x-string', ({ fl }) => call(fl, 'sigmoid', 'x'));
  err('sigmoid/options-array', ({ fl }) => call(fl, 'sigmoid', x8, []));
  err('alloc/-1', ({ fl }) => fl.alloc(-1));
  err('alloc/1.5', ({ fl }) => fl.alloc(4, 1.5));
  err('alloc/string', ({ fl }) => fl.alloc('3' as unknown as number));
  // After all of them the engine still gives what it gave before (the same case, recomputed).
  add('after-errors/sigmoidFocalLossWithGrad/n=40000/reduction=none/f32', ({ fl }) =>
    call(fl, 'sigmoidFocalLossWithGrad', d.logits(40000, 'f32'), d.binaryTargets(40000, 'f32'), { reduction: 'none' }),
  { mirrors: 'sigmoidFocalLossWithGrad/n=40000/reduction=none/f32' });
  add('after-errors/softmaxFocalLossWithGrad/rows=3000/C=80/reduction=mean/labels=i32', ({ fl }) =>
    call(fl, 'softmaxFocalLossWithGrad', smxLogits(3000, 80, 'f32'), d.labels(3000, 80), { reduction: 'mean' }),
  { mirrors: 'softmaxFocalLossWithGrad/rows=3000/C=80/reduction=mean/labels=i32' });

  return cases;
}

// ---------------------------------------------------------------------------------------------------------------
// Running the grid.

export interface CaseHashes {
  simd: string;
  scalar: string;
}
export type Recording = Record<string, CaseHashes>;

export interface RunReport {
  /** Every case, keys sorted. */
  recording: Recording;
  /** Cases where the SIMD and the scalar builds gave different outputs. */
  simdScalarDiffs: string[];
  /** Pool (and after-error) cases whose output is not that of the single-engine case they mirror. */
  mirrorDiffs: string[];
  /** Cases that threw although they should not, or did not although they should. */
  surprises: string[];
  ms: number;
}

/** Runs every case on both builds (engine, pool, tfjs) and returns the hashes. */
export async function recordOutputs(): Promise<RunReport> {
  const start = performance.now();
  const cases = buildCases();
  await tf.setBackend('cpu');
  await tf.ready();
  const results: Record<'simd' | 'scalar', Map<string, string>> = { simd: new Map(), scalar: new Map() };
  const surprises: string[] = [];
  for (const simd of [true, false]) {
    const build = simd ? 'simd' : 'scalar';
    const fl = await createFocal({ simd });
    if (fl.simd !== simd) throw new Error(`record-outputs: createFocal({ simd: ${simd} }) gave simd = ${fl.simd}`);
    const pool = await createFocalPool({ threads: 2, simd });
    try {
      const ctx: Ctx = { fl, pool, simd };
      for (const c of cases) {
        let record: string;
        let threw = false;
        try {
          record = hashOutput(await c.run(ctx));
        } catch (e) {
          record = errorRecord(e);
          threw = true;
        } finally {
          fl.freeAll();
        }
        if (threw !== !!c.error) surprises.push(`${build}: ${c.name}: ${threw ? record : 'no error'}`);
        results[build].set(c.name, record);
      }
    } finally {
      await pool.terminate();
    }
  }
  const recording: Recording = {};
  const simdScalarDiffs: string[] = [];
  const mirrorDiffs: string[] = [];
  for (const name of cases.map((c) => c.name).sort()) {
    const entry = { simd: results.simd.get(name)!, scalar: results.scalar.get(name)! };
    recording[name] = entry;
    if (entry.simd !== entry.scalar) simdScalarDiffs.push(`${name}: simd ${entry.simd}, scalar ${entry.scalar}`);
  }
  for (const c of cases) {
    if (!c.mirrors) continue;
    for (const build of ['simd', 'scalar'] as const) {
      const mine = results[build].get(c.name);
      const theirs = results[build].get(c.mirrors);
      if (theirs === undefined) mirrorDiffs.push(`${c.name}: no case ${c.mirrors}`);
      else if (mine !== theirs) mirrorDiffs.push(`${build}: ${c.name} ${mine} != ${c.mirrors} ${theirs}`);
    }
  }
  return { recording, simdScalarDiffs, mirrorDiffs, surprises, ms: performance.now() - start };
}

/** A case whose hashes differ between a recorded baseline and a new run, or that only one of them has. */
export interface Difference {
  name: string;
  message: string;
}

export function compareRecordings(expected: Recording, actual: Recording): Difference[] {
  const diffs: Difference[] = [];
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  for (const name of names) {
    const e = expected[name];
    const a = actual[name];
    if (!a) diffs.push({ name, message: `missing (recorded, not computed): ${name}` });
    else if (!e) diffs.push({ name, message: `new (computed, not recorded): ${name}` });
    else if (e.simd !== a.simd || e.scalar !== a.scalar) {
      const parts = (['simd', 'scalar'] as const).filter((b) => e[b] !== a[b]).map((b) => `${b} recorded ${e[b]}, now ${a[b]}`);
      diffs.push({ name, message: `differs: ${name}: ${parts.join('; ')}` });
    }
  }
  return diffs;
}

/** The recording as JSON, keys sorted, one case a line (so a diff of the file names the cases). */
export function formatRecording(recording: Recording): string {
  const lines = Object.keys(recording).sort().map((name) => {
    const { simd, scalar } = recording[name]!;
    return `  ${JSON.stringify(name)}: { "simd": ${JSON.stringify(simd)}, "scalar": ${JSON.stringify(scalar)} }`;
  });
  return `{\n${lines.join(',\n')}\n}\n`;
}

export function readRecording(file: string): Recording {
  return JSON.parse(readFileSync(file, 'utf8')) as Recording;
}

// ---------------------------------------------------------------------------------------------------------------
// Command line.

async function main(argv: readonly string[]): Promise<number> {
  const usage = 'usage: npx tsx scripts/record-outputs.ts [--write FILE | --check FILE]';
  const [flag, file, ...rest] = argv;
  if (rest.length > 0 || (flag !== undefined && (file === undefined || (flag !== '--write' && flag !== '--check')))) {
    console.error(usage);
    return 2;
  }
  const report = await recordOutputs();
  const total = Object.keys(report.recording).length;
  for (const line of report.surprises) console.log(`unexpected: ${line}`);
  for (const line of report.mirrorDiffs) console.log(`pool/mirror mismatch: ${line}`);
  console.log(`simd vs scalar: ${report.simdScalarDiffs.length} of ${total} cases differ`);
  for (const line of report.simdScalarDiffs) console.log(`  ${line}`);
  let code = 0;
  if (flag === '--write') {
    writeFileSync(file!, formatRecording(report.recording));
    console.log(`wrote ${total} cases to ${file}`);
  } else if (flag === '--check') {
    const diffs = compareRecordings(readRecording(file!), report.recording);
    for (const diff of diffs) console.log(diff.message);
    console.log(`${total} cases, ${diffs.length} differ`);
    code = diffs.length > 0 ? 1 : 0;
  } else {
    console.log(`${total} cases`);
  }
  console.log(`(${(report.ms / 1000).toFixed(1)} s)`);
  return code;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 2;
  });
}
