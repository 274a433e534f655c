// The arena: one staging area in the engine's linear memory, after the module's static data. Inputs of any
// length stream through fixed-size slots chunk by chunk, so the memory never grows with N; it grows only when a
// call needs wider slots (a softmax row longer than a chunk), and then every view is rebuilt.
// Reductions: the kernel adds a chunk into four float64 lanes; the facade combines them per chunk in a fixed
// order and adds the chunk sums in chunk order. CHUNK is a constant, so a sum never depends on the build or the
// runtime, and a worker pool that returns per-chunk sums and adds them in chunk order reproduces it exactly
// (adding the sums of multi-chunk pieces instead regroups the additions: equal to ~1e-15, not bit for bit).
import type { Floats } from './validate.js';

/** Elements per staging slot: 64 KiB of float32, a multiple of 4 so the reduction lanes line up across chunks. */
export const CHUNK = 16384;
const ACC_BYTES = 64; // four float64 reduction lanes, padded to a cache line
const PAGE = 65536;

export interface Staging {
  /** Byte address of the four float64 reduction lanes. */
  acc: number;
  /** Byte addresses of the slots, each `elements` float32 long. */
  slots: number[];
  elements: number;
}

export class Arena {
  private readonly memory: WebAssembly.Memory;
  readonly base: number;
  private f32View: Float32Array;
  private f64View: Float64Array;
  /** End of the views handed out by `alloc`; the staging slots start here. */
  private allocTop: number;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = Math.ceil(heapBase / ACC_BYTES) * ACC_BYTES;
    this.allocTop = this.base + ACC_BYTES;
    this.f32View = new Float32Array(memory.buffer);
    this.f64View = new Float64Array(memory.buffer);
  }

  /** Bytes of linear memory now (the figure the memory tests watch). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** The float32 view of the whole memory, rebuilt if a grow detached the buffer it was made on. */
  get f32(): Float32Array {
    if (this.f32View.buffer !== this.memory.buffer) this.refreshViews();
    return this.f32View;
  }

  get f64(): Float64Array {
    if (this.f64View.buffer !== this.memory.buffer) this.refreshViews();
    return this.f64View;
  }

  /**
   * Lays out `count` float32 slots of `elements` each (at least one chunk) after the reduction lanes and the
   * caller-owned views of `alloc`.
   */
  stage(count: number, elements = CHUNK): Staging {
    const width = Math.max(CHUNK, Math.ceil(elements / 16) * 16);
    const acc = this.base;
    const first = this.allocTop;
    const slots: number[] = [];
    for (let s = 0; s < count; s++) slots.push(first + s * width * 4);
    this.reserve(first - this.base + count * width * 4);
    return { acc, slots, elements: width };
  }

  /**
   * Float32Arrays of the given lengths inside linear memory for the caller to fill: the kernels read them (and
   * write output views) in place, with no copy. One call grows the memory at most once, and a grow detaches
   * every earlier view (it then reads as empty), so a caller allocates all it needs in one call.
   */
  alloc(counts: readonly number[]): Float32Array[] {
    const starts: number[] = [];
    let top = this.allocTop;
    for (const count of counts) {
      starts.push(top);
      top += Math.ceil((count * 4) / 64) * 64;
    }
    // Room for the views and the staging slots after them: ten one-chunk slots, more than any family stages
    // (softmax takes nine), so only rows or class-weight tables wider than a chunk can grow it later.
    const need = top - this.base + 10 * CHUNK * 4;
    if (this.base + need > this.memory.buffer.byteLength) this.reserve(need);
    this.allocTop = top;
    return counts.map((count, k) => new Float32Array(this.memory.buffer, starts[k]!, count));
  }

  /** Releases every view `alloc` gave out; they must not be used afterwards. */
  freeAll(): void {
    this.allocTop = this.base + ACC_BYTES;
  }

  /** Whether `values` is a view of this engine's memory (from `alloc`), which kernels can use in place. */
  owns(values: unknown): values is Float32Array {
    return values instanceof Float32Array && values.buffer === this.memory.buffer;
  }

  /** The address a kernel reads src[from, from + count) at: in place for an `alloc` view, else copied to `slot`. */
  input(src: Floats, from: number, count: number, slot: number, name: string): number {
    if (this.owns(src)) return src.byteOffset + from * 4;
    this.copyIn(src, from, count, slot, name);
    return slot;
  }

  /** The address a kernel writes dst[from, ...) at: in place for an `alloc` view, else `slot` (see `output`). */
  outputAt(dst: Float32Array, from: number, slot: number): number {
    return this.owns(dst) ? dst.byteOffset + from * 4 : slot;
  }

  /** Moves what a kernel wrote at `ptr` into dst at `to`, unless it wrote there in place. */
  output(ptr: number, count: number, dst: Float32Array, to: number): void {
    if (!this.owns(dst)) this.copyOut(ptr, count, dst, to);
  }

  /** Makes [base, base + bytes) addressable, growing the memory when it is too small. */
  private reserve(bytes: number): void {
    const need = this.base + bytes;
    const have = this.memory.buffer.byteLength;
    if (need <= have) return;
    this.memory.grow(Math.ceil((need - have) / PAGE));
    // memory.grow detaches the old ArrayBuffer: every view made on it now reads as empty, so rebuild them here.
    this.refreshViews();
  }

  private refreshViews(): void {
    this.f32View = new Float32Array(this.memory.buffer);
    this.f64View = new Float64Array(this.memory.buffer);
  }

  /** Zeroes the four reduction lanes. */
  clearLanes(acc: number): void {
    this.f64.fill(0, acc >>> 3, (acc >>> 3) + 4);
  }

  /** The lanes combined in their fixed order: (lane0 + lane1) + (lane2 + lane3). */
  sumLanes(acc: number): number {
    const f64 = this.f64;
    const i = acc >>> 3;
    return f64[i]! + f64[i + 1]! + (f64[i + 2]! + f64[i + 3]!);
  }

  /**
   * Copies src[from, from + count) into the slot at `ptr` as float32 (float64 input rounds once, here).
   * A plain array is checked as it is copied: an entry that is not a number is a TypeError naming `name[i]`.
   */
  copyIn(src: Floats, from: number, count: number, ptr: number, name: string): void {
    const f32 = this.f32;
    const at = ptr >>> 2;
    if (ArrayBuffer.isView(src)) {
      f32.set((src as Float32Array).subarray(from, from + count), at);
      return;
    }
    for (let i = 0; i < count; i++) {
      const v = src[from + i];
      if (typeof v !== 'number') {
        throw new TypeError(`${name}[${from + i}] = ${describeValue(v)}: expected a number`);
      }
      f32[at + i] = v;
    }
  }

  /** Copies `count` float32 from the slot at `ptr` into dst at `to`. */
  copyOut(ptr: number, count: number, dst: Float32Array, to: number): void {
    const at = ptr >>> 2;
    dst.set(this.f32.subarray(at, at + count), to);
  }
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  return typeof v;
}
