// DETR-style bipartite matching for one image with fl.focalMatchingCost (the class cost of Deformable-DETR's
// HungarianMatcher, models/matcher.py): class cost + L1 box cost, then a linear-sum assignment.
// Run from the package: npx tsx examples/detr-matching.ts
//
// The assignment here is exhaustive (every permutation): fine for this 3 x 3 example, hopeless beyond ~10. For
// real sizes (300 queries x tens of targets) use a Hungarian / Jonker-Volgenant solver, e.g. from an npm package
// that solves the linear-sum assignment on a Float32Array cost matrix; it takes the Q x M matrix built below as is.
import { createFocal } from 'focal-wasm';

const fl = await createFocal();

// Q = 3 queries, C = 4 classes: logits (row-major, classes last) and predicted boxes (cx, cy, w, h).
const classes = 4;
const logits = new Float32Array([
  -3.0, 2.5, -2.0, -4.0, // query 0: confident in class 1
  -2.0, -3.0, -1.0, 3.0, // query 1: confident in class 3
  1.5, -2.5, -3.0, -3.5, // query 2: leans to class 0
]);
const predBoxes = [
  [0.30, 0.40, 0.20, 0.20],
  [0.70, 0.60, 0.30, 0.20],
  [0.50, 0.50, 0.40, 0.40],
];

// M = 3 ground-truth objects: their classes and boxes.
const targetClasses = new Int32Array([3, 0, 1]);
const targetBoxes = [
  [0.72, 0.58, 0.28, 0.22],
  [0.52, 0.48, 0.38, 0.42],
  [0.31, 0.41, 0.19, 0.21],
];

// The matcher's weights (Deformable-DETR defaults: set_cost_class 2, set_cost_bbox 5; GIoU left out here).
const COST_CLASS = 2;
const COST_BBOX = 5;

const Q = logits.length / classes;
const M = targetClasses.length;
const cost = fl.focalMatchingCost(logits, targetClasses, { classes }); // Q x M, alpha 0.25, gamma 2
for (let q = 0; q < Q; q++) {
  for (let m = 0; m < M; m++) {
    let l1 = 0;
    for (let k = 0; k < 4; k++) l1 += Math.abs(predBoxes[q]![k]! - targetBoxes[m]![k]!);
    cost[q * M + m] = COST_CLASS * cost[q * M + m]! + COST_BBOX * l1;
  }
}

/** The assignment of the M targets to distinct queries with the least total cost, by trying every one (Q >= M). */
function exhaustiveAssignment(matrix: Float32Array, queries: number, targets: number): { queryOf: number[]; total: number } {
  let best = { queryOf: [] as number[], total: Infinity };
  const used = new Array<boolean>(queries).fill(false);
  const queryOf: number[] = [];
  const visit = (m: number, total: number): void => {
    if (total >= best.total) return;
    if (m === targets) {
      best = { queryOf: [...queryOf], total };
      return;
    }
    for (let q = 0; q < queries; q++) {
      if (used[q]) continue;
      used[q] = true;
      queryOf.push(q);
      visit(m + 1, total + matrix[q * targets + m]!);
      queryOf.pop();
      used[q] = false;
    }
  };
  visit(0, 0);
  return best;
}

const { queryOf, total } = exhaustiveAssignment(cost, Q, M);
for (let m = 0; m < M; m++) console.log(`target ${m} (class ${targetClasses[m]}) <- query ${queryOf[m]}`);
console.log(`total cost ${total.toFixed(4)}`);
// target 0 (class 3) <- query 1, target 1 (class 0) <- query 2, target 2 (class 1) <- query 0
