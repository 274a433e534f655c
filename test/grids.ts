// The logit grids the elementwise tests share: the edges where a kernel switches branch or saturates (each with its
// negation), a regular sweep of [-40, 40], and random logits of magnitude 1 to 1e4. Each test names its own edges
// (the places its kernel switches) and seed.
import { rng } from './engines.js';

/** Edges every sigmoid-based kernel is tested at: tiny, where float32 sigmoid saturates, exp's overflow, huge. */
export const SIGMOID_EDGES: readonly number[] = [0, 1e-30, 1e-7, 1e-3, 0.5, 1, 2, 5, 10, 15, 17, 23, 30, 40, 80, 87.3,
  88, 88.7, 89, 100, 103, 104, 150, 1e3, 1e4];

/** Soft-target edges: 0, 1, and the float32 neighbours of the ends where log(t) and log(1 - t) lose digits. */
const TARGET_EDGES: readonly number[] = [0, 1, 0.5, 1e-7, 1 - 1e-7, 0.999, 0.001];

/** ±edges, then -40 to 40 by 0.37, then `randomCount` random logits from `seed`; as float32. */
export function logitGrid(edges: readonly number[], seed: number, randomCount = 300): Float32Array {
  const values: number[] = [];
  for (const e of edges) values.push(e, -e);
  for (let x = -40; x <= 40; x += 0.37) values.push(x);
  const random = rng(seed);
  for (let i = 0; i < randomCount; i++) values.push((random() - 0.5) * 2 * 10 ** (random() * 4));
  return Float32Array.from(values);
}

/** Every logit of `grid` against t = 0, then against t = 1. */
export function hardCase(grid: Float32Array): { x: Float32Array; t: Float32Array } {
  const x = new Float32Array(grid.length * 2);
  x.set(grid, 0);
  x.set(grid, grid.length);
  const t = new Float32Array(grid.length * 2).fill(1, grid.length);
  return { x, t };
}

/** Every logit of `grid` against a soft target: the target edges first, then every fourth 0, the rest random. */
export function softCase(grid: Float32Array, seed: number): { x: Float32Array; t: Float32Array } {
  const random = rng(seed);
  const t = Float32Array.from({ length: grid.length },
    (_, i) => (i < TARGET_EDGES.length ? TARGET_EDGES[i]! : i % 4 === 0 ? 0 : random()));
  return { x: Float32Array.from(grid), t };
}
