// Elementwise maps over float32 arrays: the vector math applied to whole buffers. They serve the exposed
// primitives (fl.sigmoid) and let test/vmath.test.ts check every vmath function, vector body and scalar tail.
import { STREAM_INPUT, STREAM_LOSS } from '../abi';
import {
  expF32, expF32x4, expCappedF32, expCappedF32x4, expNonPositiveF32, expNonPositiveF32x4, logF32, logF32x4, log1pF32, log1pF32x4, sigmoidF32, sigmoidF32x4,
  softplusF32, softplusF32x4, powF32, powF32x4, splitHighF32, finiteF32x4,
} from './vmath';

// One loop shape for every map: f32x4 body where the build has SIMD, the scalar twin for the tail (or all).
// @ts-ignore: decorator
@inline function mapLoop(src: usize, dst: usize, n: usize, kind: i32, y: f32): void {
  let i: usize = 0;
  const yHi = splitHighF32(y);
  const yLo = y - yHi;
  if (ASC_FEATURE_SIMD) {
    const yV = f32x4.splat(y);
    const yHiV = f32x4.splat(yHi);
    const yLoV = f32x4.splat(yLo);
    for (; i + 4 <= n; i += 4) {
      const x = v128.load(src + (i << 2));
      let r: v128;
      if (kind == 0) r = expF32x4(x);
      else if (kind == 1) r = logF32x4(x);
      else if (kind == 2) r = log1pF32x4(x);
      else if (kind == 3) r = sigmoidF32x4(x);
      else if (kind == 4) r = softplusF32x4(x);
      else if (kind == 5) r = powF32x4(x, yV, yHiV, yLoV);
      else if (kind == 6) r = expNonPositiveF32x4(x);
      else r = expCappedF32x4(x);
      v128.store(dst + (i << 2), r);
    }
  }
  for (; i < n; i++) {
    const x = load<f32>(src + (i << 2));
    let r: f32;
    if (kind == 0) r = expF32(x);
    else if (kind == 1) r = logF32(x);
    else if (kind == 2) r = log1pF32(x);
    else if (kind == 3) r = sigmoidF32(x);
    else if (kind == 4) r = softplusF32(x);
    else if (kind == 5) r = powF32(x, y, yHi, yLo);
    else if (kind == 6) r = expNonPositiveF32(x);
    else r = expCappedF32(x);
    store<f32>(dst + (i << 2), r);
  }
}

export function mapExp(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 0, 0); }
export function mapLog(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 1, 0); }
export function mapLog1p(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 2, 0); }
export function mapSigmoid(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 3, 0); }
export function mapSoftplus(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 4, 0); }
export function mapPow(src: usize, dst: usize, n: usize, y: f32): void { mapLoop(src, dst, n, 5, y); }
// exp for x <= 0 by its shorter route (the losses' exp(-|x|) and exp(x - max)); tests hold it to mapExp bit for bit.
export function mapExpNonPositive(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 6, 0); }
// exp capped at e^64 (the class-index softmax pass); tests hold it to mapExp bit for bit for x <= 64.
export function mapExpCapped(src: usize, dst: usize, n: usize): void { mapLoop(src, dst, n, 7, 0); }

// The logistic sigmoid of the input stream into the loss stream, on the loss kernels' ABI (src/core/abi.ts), so
// the exposed fl.sigmoid runs through the same elementwise driver. Never invalid: infinities map to 0 and 1.
export function sigmoidMap(streams: usize, n: usize, params: usize): i32 {
  mapLoop(load<usize>(streams, STREAM_INPUT), load<usize>(streams, STREAM_LOSS), n, 3, 0);
  return <i32>n;
}

// The index of the first value at src[0, n) that is not finite (NaN or an infinity), or -1. The drivers scan a
// chunk's gradient with it when weights or scales could have overflowed float32 (src/core/elementwise.ts).
export function firstNonFinite(src: usize, n: usize): i32 {
  let i: usize = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      if (!i32x4.all_true(finiteF32x4(v128.load(src + (i << 2))))) break;
    }
  }
  for (; i < n; i++) {
    if (!(abs<f32>(load<f32>(src + (i << 2))) < Infinity)) return <i32>i;
  }
  return -1;
}
