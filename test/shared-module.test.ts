// The pool's rewrite of a build to import a shared memory (src/pool/shared-module.ts): the rewritten module imports
// exactly one memory, shared, and computes the engine's bits on it; anything but one of the package's builds is
// refused rather than rewritten wrongly.
import { describe, expect, test } from 'vitest';
import { buildBytes } from '../src/core/engine.js';
import { instantiateEngine, instantiatePooledEngine } from '../src/core/instance.js';
import { runLoss } from '../src/families/registry.js';
import { SHARED_MAX_PAGES, sharedMemoryModule } from '../src/pool/shared-module.js';
import { rng } from './engines.js';

describe.each(['simd', 'scalar'] as const)('%s build', (build) => {
  const bytes = buildBytes(build);
  const rewritten = sharedMemoryModule(bytes);

  test('imports one shared memory as env.memory and defines none', () => {
    const module = new WebAssembly.Module(rewritten as BufferSource);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(() => new WebAssembly.Instance(module, {})).toThrow();
    const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
    expect(exports.memory).toBe(memory);
    // An unshared memory is refused: the import says shared.
    expect(() => new WebAssembly.Instance(module, { env: { memory: new WebAssembly.Memory({ initial: 1 }) } })).toThrow();
  });

  test('the same losses and gradients, bit for bit, as the unshared build', () => {
    const simd = build === 'simd';
    const plain = instantiateEngine(new WebAssembly.Module(bytes as BufferSource), simd);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
    const pooled = instantiatePooledEngine(new WebAssembly.Module(rewritten as BufferSource), simd, memory);
    const r = rng(3);
    const x = Float32Array.from({ length: 40_000 }, () => (r() - 0.5) * 30);
    const t = Float32Array.from({ length: 40_000 }, () => (r() < 0.2 ? 1 : 0));
    const y = Int32Array.from({ length: 4000 }, () => Math.floor(r() * 10));
    for (const [name, second] of [['sigmoidFocalLoss', t], ['softmaxFocalLoss', y]] as const) {
      const a = runLoss(plain, name, x, second, { reduction: 'none' }, true);
      const b = runLoss(pooled, name, x, second, { reduction: 'none' }, true);
      expect(Buffer.from((b.loss as Float32Array).buffer).equals(Buffer.from((a.loss as Float32Array).buffer)), name).toBe(true);
      expect(Buffer.from(b.grad!.buffer).equals(Buffer.from(a.grad!.buffer)), name).toBe(true);
    }
  });
});

test('a module that is not one of the builds is refused', () => {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  expect(() => sharedMemoryModule(Uint8Array.from(header))).toThrow(/defines its memory/);
  // A memory section (one memory, min 1) and a data section (id 11, empty): refused, data would be re-applied.
  expect(() => sharedMemoryModule(Uint8Array.from([...header, 5, 3, 1, 0, 1, 11, 1, 0]))).toThrow(/no data segments/);
  // Already shared (flags 3: max and shared).
  expect(() => sharedMemoryModule(Uint8Array.from([...header, 5, 4, 1, 3, 1, 1]))).toThrow(/already has a shared memory/);
});
