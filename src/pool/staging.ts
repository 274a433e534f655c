// The pool's shared memory for the arrays a caller holds in ordinary (unshared) buffers: the workers can read only
// shared memory, so such an input is copied in, and an output copied out, on the calling thread. The buffers are
// kept between calls and only grow (a fresh SharedArrayBuffer per call costs its zero-filled pages on every call:
// five times the engine's time at 16e6), and the copies are made part by part, each part posted to its worker as
// soon as its inputs are in, so the workers compute while the rest is still being copied.
import type { Readable } from '../core/arena.js';
import { decodeHalves, HalfFloats } from '../core/half.js';
import { isInt32 } from '../core/rows.js';

export function isShared(buffer: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
}

/** A Float32Array the workers can read and write where it is (no copy). */
export function isSharedFloats(values: unknown): values is Float32Array {
  return values instanceof Float32Array && isShared(values.buffer);
}

/** Grow-only shared buffers, one per slot (a stream of the call); one call uses a set at a time. */
export class SharedStaging {
  readonly #buffers: SharedArrayBuffer[] = [];

  /** A Float32Array of `length` floats on slot `slot`. Its contents are whatever the last call left. */
  floats(slot: number, length: number): Float32Array {
    return new Float32Array(this.#buffer(slot, length * 4), 0, length);
  }

  /** An Int32Array of `length` on slot `slot` (class indices). */
  ints(slot: number, length: number): Int32Array {
    return new Int32Array(this.#buffer(slot, length * 4), 0, length);
  }

  #buffer(slot: number, bytes: number): SharedArrayBuffer {
    let buffer = this.#buffers[slot];
    if (buffer === undefined || buffer.byteLength < bytes) {
      buffer = new SharedArrayBuffer(bytes);
      this.#buffers[slot] = buffer;
    }
    return buffer;
  }
}

/**
 * Copies values[from, to) into view[from, to) as float32, as the engine stages them (float64 rounds once here,
 * binary16 bits decode exactly, a uint8 mask converts exactly). false when a plain array holds an entry that is
 * not a number: the call then runs on the calling thread, which throws the engine's own error.
 */
export function copyFloats(values: Readable, view: Float32Array, from: number, to: number): boolean {
  if (values instanceof HalfFloats) {
    decodeHalves(values.bits, from, to - from, view, from);
    return true;
  }
  if (ArrayBuffer.isView(values)) {
    view.set((values as Float32Array).subarray(from, to), from);
    return true;
  }
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (typeof v !== 'number') return false;
    view[i] = v;
  }
  return true;
}

/** Class indices [from, to) into an int32 view; false when an entry is not a 32-bit integer (see copyFloats). */
export function copyLabels(labels: Int32Array | readonly number[], view: Int32Array, from: number, to: number): boolean {
  if (labels instanceof Int32Array) {
    view.set(labels.subarray(from, to), from);
    return true;
  }
  for (let i = from; i < to; i++) {
    const v = labels[i];
    if (typeof v !== 'number' || !isInt32(v)) return false;
    view[i] = v;
  }
  return true;
}
