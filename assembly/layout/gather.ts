// Class-axis layouts for the softmax family: a block of logits laid out outer x classes x inner (NCHW has
// outer = N, inner = H W) becomes (outer inner) x classes rows for the row kernels of softmax/, and a block of
// gradient rows goes back. Pure copies (4 x 4 transposes in the SIMD build), so both builds give the same bits
// and a strided call gives exactly what the class-last call on a transposed copy gives.
import { transposeTileF32x4 } from '../math/vmath';

/**
 * Copies the float32 block at src, laid out outer x classes x inner, into rows at dst, laid out
 * (outer inner) x classes: dst[(o inner + i) classes + c] = src[(o classes + c) inner + i].
 */
export function layoutGather(src: usize, dst: usize, outer: usize, classes: usize, inner: usize): void {
  const plane = classes * inner;
  for (let o: usize = 0; o < outer; o++) {
    transpose(src + ((o * plane) << 2), dst + ((o * plane) << 2), classes, inner);
  }
}

/** The inverse of layoutGather: rows at src, (outer inner) x classes, into the outer x classes x inner block at dst. */
export function layoutScatter(src: usize, dst: usize, outer: usize, classes: usize, inner: usize): void {
  const plane = classes * inner;
  for (let o: usize = 0; o < outer; o++) {
    transposeByOutputRows(src + ((o * plane) << 2), dst + ((o * plane) << 2), inner, classes);
  }
}

/**
 * dst (cols x rows) = the transpose of src (rows x cols), both float32 and dense, walking src four rows at a time:
 * the long rows (the class-major side, `inner` apart) are read as four sequential streams, and dst is written a
 * short row's width apart. The SIMD build moves 4 x 4 tiles (four vector loads, eight shuffles, four vector
 * stores); the edges of the tiling go one float at a time.
 */
// @ts-ignore: decorator
@inline function transpose(src: usize, dst: usize, rows: usize, cols: usize): void {
  let r: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; r + 4 <= rows; r += 4) {
      const s0 = src + ((r * cols) << 2);
      const s1 = s0 + (cols << 2);
      const s2 = s1 + (cols << 2);
      const s3 = s2 + (cols << 2);
      let c: usize = 0;
      for (; c + 4 <= cols; c += 4) {
        transposeTileF32x4(s0 + (c << 2), cols << 2, dst + ((c * rows + r) << 2), rows << 2);
      }
      for (; c < cols; c++) {
        const t = dst + ((c * rows + r) << 2);
        store<f32>(t, load<f32>(s0 + (c << 2)));
        store<f32>(t, load<f32>(s1 + (c << 2)), 4);
        store<f32>(t, load<f32>(s2 + (c << 2)), 8);
        store<f32>(t, load<f32>(s3 + (c << 2)), 12);
      }
    }
  }
  // The scalar build, and the last rows % 4 in the SIMD build.
  for (; r < rows; r++) {
    const s = src + ((r * cols) << 2);
    for (let c: usize = 0; c < cols; c++) store<f32>(dst + ((c * rows + r) << 2), load<f32>(s + (c << 2)));
  }
}

/**
 * The same transpose walking dst four rows at a time, for the scatter: the long dst rows (class-major) are written
 * as four sequential streams. Walking src instead would write every class's row at each step, `inner` floats
 * apart: at inner = 1024 those lines share one L1 set and evict each other (measured 5x slower at C = 21).
 */
// @ts-ignore: decorator
@inline function transposeByOutputRows(src: usize, dst: usize, rows: usize, cols: usize): void {
  let c: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; c + 4 <= cols; c += 4) {
      const t0 = dst + ((c * rows) << 2);
      const t1 = t0 + (rows << 2);
      const t2 = t1 + (rows << 2);
      const t3 = t2 + (rows << 2);
      let r: usize = 0;
      for (; r + 4 <= rows; r += 4) {
        transposeTileF32x4(src + ((r * cols + c) << 2), cols << 2, t0 + (r << 2), rows << 2);
      }
      for (; r < rows; r++) {
        const s = src + ((r * cols + c) << 2);
        store<f32>(t0 + (r << 2), load<f32>(s));
        store<f32>(t1 + (r << 2), load<f32>(s, 4));
        store<f32>(t2 + (r << 2), load<f32>(s, 8));
        store<f32>(t3 + (r << 2), load<f32>(s, 12));
      }
    }
  }
  // The scalar build, and the last cols % 4 in the SIMD build.
  for (; c < cols; c++) {
    const t = dst + ((c * rows) << 2);
    for (let r: usize = 0; r < rows; r++) store<f32>(t + (r << 2), load<f32>(src + ((r * cols + c) << 2)));
  }
}
