// softmax and log-softmax rows behind the exposed primitives (fl.softmax, fl.logSoftmax), on the shared row passes.
import { FLAG_LOG_OUTPUT, PARAM_FLAGS, STATUS_INVALID, STREAM_INPUT, STREAM_LOSS } from '../abi';
import { log1pF32 } from '../math/vmath';
import { rowExpSum, rowFinite, rowMax, scaleRow } from './rows';

// ---- primitives ---------------------------------------------------------------------------------------------
/**
 * softmax, or log-softmax with FLAG_LOG_OUTPUT in params' flags, of `rows` rows of `classes` float32 at the input
 * stream into the loss stream (the result; separate buffers). Returns `rows`, or STATUS_INVALID when a value is not
 * finite. rowBase is unused (the ABI's row signature).
 */
export function softmaxRows(streams: usize, rows: usize, classes: usize, rowBase: usize, params: usize): i32 {
  const src = load<usize>(streams, STREAM_INPUT);
  const dst = load<usize>(streams, STREAM_LOSS);
  const logOutput = (load<i32>(params, PARAM_FLAGS) & FLAG_LOG_OUTPUT) != 0;
  let bad: i32 = 0;
  for (let i: usize = 0; i < rows; i++) {
    const z = src + ((i * classes) << 2);
    const out = dst + ((i * classes) << 2);
    const m = rowMax(z, classes);
    bad |= <i32>!rowFinite;
    const rf = <f32>rowExpSum(z, m, classes, out);
    if (logOutput) {
      // log p_j = (z_j - m) - log1p(r): two non-positive terms, no cancellation.
      const logS = log1pF32(rf);
      let j: usize = 0;
      if (ASC_FEATURE_SIMD) {
        const mV = f32x4.splat(m);
        const logSV = f32x4.splat(logS);
        for (; j + 4 <= classes; j += 4) {
          v128.store(out + (j << 2), f32x4.sub(f32x4.sub(v128.load(z + (j << 2)), mV), logSV));
        }
      }
      for (; j < classes; j++) store<f32>(out + (j << 2), (load<f32>(z + (j << 2)) - m) - logS);
    } else {
      const invS: f32 = 1.0 / (1.0 + rf);
      scaleRow(out, classes, invS);
    }
  }
  return bad ? STATUS_INVALID : <i32>rows;
}
