// Float64 accumulation shared by the loss kernels. A sum lives in four float64 lanes at `acc` (32 bytes):
// lane j receives the elements whose index is j mod 4, in index order, in both builds and in the loop tails,
// so a reduction is the same whatever the build, the chunking (chunks are multiples of 4) or the runtime.
// The facade zeroes the lanes before a call and combines them as (lane0 + lane1) + (lane2 + lane3).

// Adds the four lanes of a float32 vector to the accumulator pair (lanes 0,1 and lanes 2,3).
// @ts-ignore: decorator
@inline export function addLanesLow(acc01: v128, v: v128): v128 {
  return f64x2.add(acc01, f64x2.promote_low_f32x4(v));
}

// @ts-ignore: decorator
@inline export function addLanesHigh(acc23: v128, v: v128): v128 {
  return f64x2.add(acc23, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)));
}

// Adds one element's value to its lane (the scalar build and the loop tails).
// @ts-ignore: decorator
@inline export function addToLane(acc: usize, index: usize, value: f32): void {
  const at = acc + ((index & 3) << 3);
  store<f64>(at, load<f64>(at) + <f64>value);
}
