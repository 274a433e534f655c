// Types the public declarations need from the core, kept where no WebAssembly type is in reach: a Node-only
// TypeScript project (no DOM library) has no WebAssembly namespace, so a public .d.ts that imported arena.d.ts or
// instance.d.ts would fail to type-check there (TS2503; test/runtimes.test.ts).

/** A Float16Array (ES2025, in current browsers): typed here by what the staging uses of it. */
export type Float16Like = ArrayBufferView & ArrayLike<number> & { subarray(from: number, to: number): ArrayBufferView };

export interface EngineOptions {
  /** true forces the SIMD build (an error where the runtime lacks SIMD), false the scalar build; default: detect. */
  simd?: boolean;
}

/** A WebAssembly.Memory, as the arena uses it (structural, so the declarations name no WebAssembly type). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(delta: number): number;
}

/** A compiled WebAssembly.Module, opaque to the declarations (the pool posts it to its workers). */
export type WasmModule = object;
