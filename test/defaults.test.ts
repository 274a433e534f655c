// The one table of defaults (src/options/defaults.ts) is what the losses do: passing its values explicitly gives
// the same bits as passing nothing, on both builds; and the README's copy of it is the table's rendering.
import { describe, expect, test } from 'vitest';
import { DEFAULTS } from '../src/options/defaults.js';
import { LOSS_NAMES } from '../src/families/registry.js';
import type { Focal } from '../src/index.js';
import { readmeDefaults, renderDefaults } from '../scripts/gen-defaults.js';
import { bits, builds, rng } from './engines.js';

type WithGrad = (a: unknown, b: unknown, o?: object) => { loss: number | Float32Array; grad: Float32Array };

/** Each loss's inputs, and options that every call of the comparison shares (softmax: its shape). */
function inputsOf(loss: string): { first: Float32Array; second: Float32Array | Int32Array; shared: object } {
  const random = rng(loss.length);
  const n = 3000;
  if (loss === 'softmaxFocalLoss') {
    const rows = 300;
    const C = 10;
    return {
      first: Float32Array.from({ length: rows * C }, () => (random() - 0.5) * 10),
      second: Int32Array.from({ length: rows }, (_, i) => (i % 13 === 0 ? -100 : Math.floor(random() * C))),
      shared: { shape: [rows, C] },
    };
  }
  if (loss === 'diceLoss' || loss === 'tverskyLoss' || loss === 'diceFocalLoss') {
    const shape = [3, 4, 10, 10];
    return {
      first: Float32Array.from({ length: 1200 }, () => (random() - 0.5) * 10),
      second: Int32Array.from({ length: 300 }, () => Math.floor(random() * 4)),
      shared: { shape },
    };
  }
  if (loss === 'distributionFocalLoss') {
    const rows = 300;
    const bins = 8;
    return {
      first: Float32Array.from({ length: rows * bins }, () => (random() - 0.5) * 10),
      second: Float32Array.from({ length: rows }, (_, i) => (i % 5 === 0 ? i % (bins) : random() * (bins - 1))),
      shared: {},
    };
  }
  const first = loss === 'binaryFocalLoss'
    ? Float32Array.from({ length: n }, () => random())
    : Float32Array.from({ length: n }, () => (random() - 0.5) * 20);
  if (loss === 'binaryFocalLoss') first.set([0, 1, 1e-9, 1 - 1e-9]); // where the epsilon clip decides
  const soft = loss === 'qualityFocalLoss' || loss === 'varifocalLoss';
  const second = Float32Array.from({ length: n }, () => (random() < 0.3 ? (soft ? random() : 1) : 0));
  if (loss === 'asymmetricLoss') {
    // Positives with p below eps (1e-8), where the clamp inside the log decides.
    first.set([-25, -30, -40]);
    second.set([1, 1, 1]);
  }
  return { first, second, shared: {} };
}

describe.each(builds)('the defaults table is what each loss does, $name build', ({ create }) => {
  test.each(LOSS_NAMES)('%s: its defaults given explicitly give the same bits as none given', async (loss) => {
    const fl: Focal = await create();
    const method = (fl as unknown as Record<string, WithGrad>)[`${loss}WithGrad`]!.bind(fl);
    const { first, second, shared } = inputsOf(loss);
    const defaults = DEFAULTS[loss];
    const implicit = method(first, second, shared);
    const explicit = method(first, second, { ...defaults, ...shared });
    expect(Object.is(explicit.loss, implicit.loss)).toBe(true);
    expect(bits(explicit.grad).equals(bits(implicit.grad))).toBe(true);
    expect(Number.isFinite(implicit.loss as number) && (implicit.loss as number) > 0).toBe(true);
    // and each default matters: changing any numeric one changes the result (a table entry that is read)
    for (const [option, value] of Object.entries(defaults)) {
      if (typeof value !== 'number' || option === 'classAxis' || option === 'ignoreIndex') continue;
      const other = value === 0 ? 0.1 : option === 'alpha' && value > 0.5 ? 0.5 : value < 1e-3 ? value * 2 : value / 2;
      const changed = method(first, second, { ...shared, [option]: other });
      expect(Object.is(changed.loss, implicit.loss), `${loss}: ${option} ${value} -> ${other}`).toBe(false);
    }
  });
});

describe('the README', () => {
  test('its defaults table is the table in src/options/defaults.ts (npm run docs:defaults writes it)', () => {
    expect(readmeDefaults()).toBe(renderDefaults());
  });
});
