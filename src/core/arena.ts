// The arena: the engine's linear memory after the module's static data. A fixed header (the float64 reduction
// lanes, the kernel ABI's stream table and parameter block), then the views `alloc` hands out, then the staging
// slots. Inputs of any length stream through the slots chunk by chunk, so the memory never grows with N; it grows
// only when a call needs wider slots (a softmax row longer than a chunk, a long class-weight table), and then every
// view this class keeps is rebuilt. The arena also keeps the rules that make a call safe at the boundary: one call
// at a time (a getter that calls the engine while it stages is refused), and no grow while views from `alloc` are
// live (the grow would detach them: the call is refused instead, before it reads anything).
import { CHUNK, PARAM_BLOCK_BYTES, ROW_SLACK, STREAM_TABLE_BYTES } from './abi.js';
import { show } from './describe.js';
import { decodeHalves, HalfFloats } from './half.js';
import type { Float16Like, WasmMemory } from './public-types.js';

/** The stream table's room in the header: STREAM_TABLE_BYTES, padded to a cache line. */
const STREAM_TABLE_SPACE = Math.ceil(STREAM_TABLE_BYTES / 64) * 64;
/** Four float64 reduction lanes, padded to a cache line. */
const LANES_BYTES = 64;
/** The header before the `alloc` views: sum lanes, focal-term lanes, stream table, parameter block. */
export const HEADER_BYTES = 2 * LANES_BYTES + STREAM_TABLE_SPACE + PARAM_BLOCK_BYTES;
const PAGE = 65536;
/** Below this many values a copy is a loop: a subarray view costs more than it saves. */
const SMALL_COPY = 16;
/** Staging slots `alloc` keeps room for after its views: more than any call stages for rows up to a chunk wide. */
const ALLOC_SLOTS = 10;

/**
 * Where a pool worker's memory holds the arrays the pool copies in (see src/pool/pool.ts): 256 MiB up, far above
 * any staging (a memory grows to it without touching the pages in between, so they cost address space only).
 */
export const POOL_DATA_BASE = 256 * 1024 * 1024;

/** Floats per staging slot for `elements`: at least one chunk, a multiple of 16. */
function slotWidth(elements: number): number {
  return Math.max(CHUNK, Math.ceil(elements / 16) * 16);
}

/**
 * What a call may read: float32, float64 (and float16, where the runtime has Float16Array) arrays, binary16 bits
 * (HalfFloats), int32 class indices, uint8 masks, plain arrays.
 */
export type Readable = Float32Array | Float64Array | Int32Array | Uint8Array | Float16Like | HalfFloats | readonly unknown[];

export interface Staging {
  /** Byte addresses of the slots, each `elements` float32 long. Shared between calls: never written. */
  readonly slots: readonly number[];
  readonly elements: number;
}

export class Arena {
  private readonly memory: WasmMemory;
  readonly base: number;
  /** Byte address of the four float64 lanes the kernels add losses into. */
  readonly acc: number;
  /** Byte address of the lanes of the normalized focal loss's first pass (the sum of the focal terms). */
  readonly focalAcc: number;
  /** Byte address of the stream table (abi.ts STREAM_*). */
  readonly streams: number;
  /** Byte address of the parameter block (abi.ts PARAM_*). */
  readonly params: number;
  private f32View!: Float32Array; // set by refreshViews
  private f64View!: Float64Array;
  private i32View!: Int32Array;
  private memoryBuffer!: ArrayBuffer;
  /** End of the views handed out by `alloc`; the staging slots start here. */
  private allocTop: number;
  /** Byte ends of the `alloc` views: a view that ends at one has ROW_SLACK floats of padding after it. */
  private readonly allocEnds = new Set<number>();
  /** What the engine is doing now, or undefined when idle (one call at a time: see `enter`). */
  private activity: string | undefined;
  /**
   * A pool worker's memory (shared with the pool's thread, which copies a call's arrays in at DATA_BASE and up):
   * views from there are read and written in place like views from `alloc`, and staging stays below it.
   */
  private readonly pooled: boolean;
  /** The last layout `stage` made, given again while its count, width and start are the same (most calls). */
  private staged: Staging & { first: number } = { slots: [], elements: 0, first: -1 };

  constructor(memory: WasmMemory, heapBase: number, pooled = false) {
    this.memory = memory;
    this.pooled = pooled;
    this.base = Math.ceil(heapBase / LANES_BYTES) * LANES_BYTES;
    this.acc = this.base;
    this.focalAcc = this.acc + LANES_BYTES;
    this.streams = this.focalAcc + LANES_BYTES;
    this.params = this.streams + STREAM_TABLE_SPACE;
    this.allocTop = this.base + HEADER_BYTES;
    // The header must be addressable before the first call writes it.
    if (this.allocTop > memory.buffer.byteLength) this.grow(this.allocTop, 'the engine header');
    else this.refreshViews();
  }

  /**
   * Whether the views are stale: a grow (ours, or by anyone else holding the memory) detaches the buffer they
   * were made on, and a view of a detached buffer reads as empty. Checked on every access: a length read, where
   * asking the memory for its buffer would cost a call into the runtime.
   */
  private get stale(): boolean {
    return this.f32View.length === 0;
  }

  /** The memory's buffer now (a grow replaces it). */
  get buffer(): ArrayBuffer {
    if (this.stale) this.refreshViews();
    return this.memoryBuffer;
  }

  /** Bytes of linear memory now (the figure the memory tests watch). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** The float32 view of the whole memory, rebuilt if a grow detached the buffer it was made on. */
  get f32(): Float32Array {
    if (this.stale) this.refreshViews();
    return this.f32View;
  }

  get f64(): Float64Array {
    if (this.stale) this.refreshViews();
    return this.f64View;
  }

  get i32(): Int32Array {
    if (this.stale) this.refreshViews();
    return this.i32View;
  }

  /**
   * Makes the call `what` the engine's only call until `leave()` (the drivers pair them in try/finally). A call
   * that arrives while another is under way (an input's getter or Proxy calling the engine while it reads that
   * input) would overwrite the staging slots under it: it is refused with an Error, never allowed to return a
   * wrong number.
   */
  enter(what: string): void {
    if (this.activity !== undefined) {
      throw new Error(
        `${what}: this engine is busy with ${this.activity} (an input's getter or Proxy called the engine while it ` +
          'was reading that input); call it after that call returns, or use another engine',
      );
    }
    this.activity = what;
  }

  leave(): void {
    this.activity = undefined;
  }

  /**
   * Lays out `count` float32 slots of `elements` each (at least one chunk) after the `alloc` views, growing the
   * memory first when they do not fit, before the call reads anything. A grow detaches every view of the memory,
   * so while views from `alloc` are live it is refused instead: a call never pulls the caller's views from under
   * them. `what` names what sets the width (called only for the message).
   */
  stage(count: number, elements: number, what: () => string = () => 'this call'): Staging {
    const width = slotWidth(elements);
    const first = this.allocTop;
    const staged = this.staged;
    // The same layout as the last call (it fitted then, and memory never shrinks): no array made per call.
    if (staged.first === first && staged.elements === width && staged.slots.length === count) return staged;
    const end = first + count * width * 4;
    if (this.pooled && end > POOL_DATA_BASE) {
      throw new RangeError(`${what()}: needs ${end - this.base} bytes of staging, more than a pool worker keeps (${POOL_DATA_BASE - this.base})`);
    }
    if (end > this.buffer.byteLength) {
      if (this.viewsLive) {
        throw new RangeError(
          `${what()}: needs ${end - this.base} bytes of engine memory, more than is reserved (${this.buffer.byteLength - this.base}), ` +
            `and growing it would detach the ${this.allocEnds.size} views from fl.alloc() still in use; call ` +
            'fl.freeAll() first (the memory stays grown for the calls after it), or make this call before allocating',
        );
      }
      this.grow(end, what());
    }
    const slots: number[] = [];
    for (let s = 0; s < count; s++) slots.push(first + s * width * 4);
    this.staged = { slots, elements: width, first };
    return this.staged;
  }

  /**
   * Float32Arrays of the given lengths inside linear memory for the caller to fill: the kernels read them (and
   * write output views) in place, with no copy. One call grows the memory at most once, and a grow detaches
   * every earlier view (it then reads as empty), so a caller allocates all it needs in one call. Each view is
   * followed by ROW_SLACK floats of padding, so the row kernels can run on it in place too.
   */
  alloc(counts: readonly number[], names: readonly string[]): Float32Array[] {
    if (this.activity !== undefined) {
      throw new Error(`fl.alloc: this engine is busy with ${this.activity}; allocate before or after that call`);
    }
    const starts: number[] = [];
    let top = this.allocTop;
    for (const count of counts) {
      starts.push(top);
      top += Math.ceil((count * 4 + ROW_SLACK * 4) / 64) * 64;
    }
    const need = top + ALLOC_SLOTS * CHUNK * 4;
    if (need > this.memory.buffer.byteLength) {
      const largest = counts.reduce((k, c, i) => (c > counts[k]! ? i : k), 0);
      this.grow(need, `${names[largest]} = ${counts[largest]}`);
    }
    this.allocTop = top;
    return counts.map((count, k) => {
      this.allocEnds.add(starts[k]! + count * 4);
      return new Float32Array(this.memory.buffer, starts[k]!, count);
    });
  }

  /** Releases every view `alloc` gave out; they must not be used afterwards. */
  freeAll(): void {
    if (this.activity !== undefined) {
      throw new Error(`fl.freeAll: this engine is busy with ${this.activity}; free before or after that call`);
    }
    this.allocTop = this.base + HEADER_BYTES;
    this.allocEnds.clear();
  }

  /**
   * Whether `values` is a live view from `alloc` (inside the views' region, so never over the staging slots or the
   * header: a view kept after freeAll() is copied like any array, not used in place), which kernels can read and
   * write in place.
   */
  owns(values: unknown): values is Float32Array {
    // No live views (most calls): nothing to compare. A typed array's byteOffset and buffer are not free reads in
    // V8 (tens of ns each, on every call), so they come last.
    if (this.allocTop === this.base + HEADER_BYTES && !this.pooled) return false;
    if (!(values instanceof Float32Array)) return false;
    const start = values.byteOffset;
    const inViews = start >= this.base + HEADER_BYTES && start + values.byteLength <= this.allocTop;
    return (inViews || (this.pooled && start >= POOL_DATA_BASE)) && values.buffer === this.buffer;
  }

  /** An `alloc` view with its padding after it: the row kernels may touch ROW_SLACK floats past its end. */
  ownsPadded(values: unknown): values is Float32Array {
    // The pool lays out every array it copies in with ROW_SLACK floats after it.
    return this.owns(values) && (this.allocEnds.has(values.byteOffset + values.byteLength) || values.byteOffset >= POOL_DATA_BASE);
  }

  /**
   * A pool worker's memory is grown by the pool's thread too, and a shared memory's buffer is not detached by a
   * grow (views keep their old length): the views are rebuilt when the memory has grown since they were made.
   */
  refresh(): void {
    if (this.memory.buffer.byteLength !== this.memoryBuffer.byteLength) this.refreshViews();
  }

  /** Whether `count` slots of `elements` fit in the memory as it is (a stage that needs no grow). */
  fits(count: number, elements: number): boolean {
    const width = slotWidth(elements);
    return this.allocTop + count * width * 4 <= this.buffer.byteLength;
  }

  /** Whether views from `alloc` are live (then no call may grow the memory). */
  get viewsLive(): boolean {
    return this.allocEnds.size > 0;
  }

  /** Makes [0, end) addressable; running out of memory is a RangeError naming what asked for it. */
  private grow(end: number, what: string): void {
    const have = this.memory.buffer.byteLength;
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch (e) {
      throw new RangeError(
        `${what}: needs ${end - this.base} bytes of engine memory (${Math.ceil(end / PAGE)} pages of 64 KiB), ` +
          `more than this runtime lets a WebAssembly memory grow to; it has ${have} bytes`,
        { cause: e },
      );
    }
    // memory.grow detaches the old ArrayBuffer: every view made on it now reads as empty, so rebuild them here.
    this.refreshViews();
  }

  private refreshViews(): void {
    this.memoryBuffer = this.memory.buffer;
    this.f32View = new Float32Array(this.memoryBuffer);
    this.f64View = new Float64Array(this.memoryBuffer);
    this.i32View = new Int32Array(this.memoryBuffer);
  }

  /** Zeroes four reduction lanes. */
  clearLanes(lanes: number): void {
    const f64 = this.f64;
    const i = lanes >>> 3;
    f64[i] = 0; // four stores: a fill() is a builtin call, made on every chunk
    f64[i + 1] = 0;
    f64[i + 2] = 0;
    f64[i + 3] = 0;
  }

  /** The lanes combined in their fixed order: (lane0 + lane1) + (lane2 + lane3). */
  sumLanes(lanes: number): number {
    const f64 = this.f64;
    const i = lanes >>> 3;
    return f64[i]! + f64[i + 1]! + (f64[i + 2]! + f64[i + 3]!);
  }

  /**
   * Copies src[from, from + count) into the slot at `ptr` as float32 (float64 input rounds once, here).
   * A plain array is checked as it is copied: an entry that is not a number is a TypeError naming `name[i]`.
   */
  copyIn(src: Readable, from: number, count: number, ptr: number, name: string): void {
    const f32 = this.f32;
    const at = ptr >>> 2;
    if (src instanceof HalfFloats) {
      if (src.bits.length < from + count) throw detachedError(name);
      decodeHalves(src.bits, from, count, f32, at);
      return;
    }
    if (ArrayBuffer.isView(src)) {
      const typed = src as Float32Array;
      // A buffer detached after validation (by a getter of another argument) reads as empty: never stage stale data.
      if (typed.length < from + count) throw detachedError(name);
      if (count <= SMALL_COPY) {
        for (let i = 0; i < count; i++) f32[at + i] = typed[from + i]!; // no subarray object for a few values
      } else {
        f32.set(typed.subarray(from, from + count), at);
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      const v = src[from + i];
      if (typeof v !== 'number') throw new TypeError(`${name}[${from + i}] = ${show(v)}: expected a number`);
      f32[at + i] = v;
    }
  }

  /** Copies `count` float32 from the slot at `ptr` into dst at `to`. */
  copyOut(ptr: number, count: number, dst: Float32Array, to: number): void {
    const at = ptr >>> 2;
    if (dst.length < to + count) throw detachedError('an output');
    const f32 = this.f32;
    if (count <= SMALL_COPY) {
      for (let i = 0; i < count; i++) dst[to + i] = f32[at + i]!;
    } else {
      dst.set(f32.subarray(at, at + count), to);
    }
  }
}

/** The error for an argument whose ArrayBuffer was detached (transferred to a worker, or grown out of a memory). */
export function detachedError(name: string): TypeError {
  return new TypeError(
    `${name}: its ArrayBuffer is detached (transferred, or a view of a WebAssembly memory that has grown since); ` +
      'pass an array whose buffer is live',
  );
}
