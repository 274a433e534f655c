// Specification for the boundary redesign: strict options. Every public method (each loss, its ...WithGrad form,
// the primitives, the pool's methods and the tfjs adapter) refuses an option it does not know with a TypeError that
// names it (and suggests the nearest valid name), refuses an option that exists elsewhere but does not apply to the
// call, treats an option set to undefined as absent, and checks options.classes the same way everywhere.
// These tests fail on the facade as it was before the redesign (unknown options were silently ignored).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFocalPool, type Focal, type FocalPool } from '../src/index.js';
import { focalLoss } from '../src/adapters/tfjs.js';
import { builds, thrown } from './engines.js';

// ---------------------------------------------------------------------------------------------------------------
// Small valid inputs for every method.
const x = (): Float32Array => Float32Array.from([0.5, -1, 2, -3, 4, -5, 6, -7]);
const t = (): Float32Array => Float32Array.from([1, 0, 1, 0, 1, 0, 0.25, 0.75]);
const probs = (): Float32Array => Float32Array.from([0.9, 0.1, 0.6, 0.3, 0.99, 0.01, 0.5, 0.7]);
const z = (): Float32Array => Float32Array.from([1, 2, 3, 4, -1, 0, 1, 2, 0.5, 0.5, -2, 1]); // 3 rows of C = 4
const y = (): Int32Array => Int32Array.from([2, 0, 3]);

type Options = Record<string, unknown>;
type Call = (fl: Focal, options?: Options) => unknown;

interface Method {
  name: string;
  call: Call;
  /** Whether the method returns a gradient (gradOut applies). */
  withGrad: boolean;
  /** Every option the method documents (for the undefined-is-absent test). */
  own: readonly string[];
  /** Misspellings and the valid name the error must suggest. */
  nearMisses: ReadonlyArray<readonly [string, string]>;
  /** Options of other methods that do not apply here: each must be a TypeError naming it. */
  foreign: readonly string[];
}

const REDUCTION = ['reduction', 'weights', 'normalizer', 'out'];
const MASKS = ['mask', 'ignoreIndex', 'classes', 'classWeights'];
const LOSS_MISSES = [['reduce', 'reduction'], ['weight', 'weights']] as const;
const MASK_MISSES = [['ignore_index', 'ignoreIndex'], ['classe', 'classes']] as const;

/** A loss and its ...WithGrad form, as two methods. */
function loss(
  name: string, call: (fl: Focal, method: string, options?: Options) => unknown, own: readonly string[],
  nearMisses: ReadonlyArray<readonly [string, string]>, foreign: readonly string[],
): Method[] {
  return [
    { name, call: (fl, o) => call(fl, name, o), withGrad: false, own, nearMisses, foreign },
    {
      name: `${name}WithGrad`, call: (fl, o) => call(fl, `${name}WithGrad`, o), withGrad: true,
      own: [...own, 'gradOut'], nearMisses, foreign,
    },
  ];
}
const onLogits = (fl: Focal, method: string, o?: Options): unknown =>
  (fl as unknown as Record<string, (a: unknown, b: unknown, o?: unknown) => unknown>)[method]!(x(), t(), o);
const onRows = (fl: Focal, method: string, o?: Options): unknown =>
  (fl as unknown as Record<string, (a: unknown, b: unknown, o?: unknown) => unknown>)[method]!(z(), y(), o);
const bins = (): Float32Array => Float32Array.from([0.5, 3, 1.25]); // DFL targets for z(): 3 rows of 4 bins
const onBins = (fl: Focal, method: string, o?: Options): unknown =>
  (fl as unknown as Record<string, (a: unknown, b: unknown, o?: unknown) => unknown>)[method]!(z(), bins(), o);
const onProbs = (fl: Focal, method: string, o?: Options): unknown =>
  (fl as unknown as Record<string, (a: unknown, b: unknown, o?: unknown) => unknown>)[method]!(probs(), t(), o);

const METHODS: Method[] = [
  ...loss('sigmoidFocalLoss', onLogits,
    ['alpha', 'gamma', 'compat', 'posWeight', 'reducedThreshold', 'normalized', ...REDUCTION, ...MASKS],
    [['gama', 'gamma'], ...LOSS_MISSES, ...MASK_MISSES],
    ['labelSmoothing', 'epsilon', 'iouWeighted', 'beta', 'detachModulator']),
  ...loss('sigmoidFocalLossStar', onLogits, ['alpha', 'gamma', 'beta', ...REDUCTION, ...MASKS],
    [['gama', 'gamma'], ...LOSS_MISSES, ...MASK_MISSES],
    ['epsilon', 'iouWeighted', 'labelSmoothing']),
  ...loss('qualityFocalLoss', onLogits, ['beta', ...REDUCTION, ...MASKS],
    [...LOSS_MISSES, ...MASK_MISSES],
    ['alpha', 'iouWeighted', 'labelSmoothing']),
  ...loss('varifocalLoss', onLogits, ['alpha', 'gamma', 'iouWeighted', ...REDUCTION, ...MASKS],
    [['gama', 'gamma'], ...LOSS_MISSES, ...MASK_MISSES],
    ['posWeight', 'beta', 'labelSmoothing']),
  ...loss('polyFocalLoss', onLogits, ['alpha', 'gamma', 'epsilon', ...REDUCTION, ...MASKS],
    [['gama', 'gamma'], ...LOSS_MISSES, ...MASK_MISSES],
    ['iouWeighted', 'reducedThreshold', 'labelSmoothing']),
  ...loss('distributionFocalLoss', onBins, ['bins', 'compat', ...REDUCTION],
    [['bin', 'bins'], ...LOSS_MISSES],
    ['gamma', 'alpha', 'classes', 'labelSmoothing']),
  ...loss('asymmetricLoss', onLogits, ['gammaPos', 'gammaNeg', 'clip', 'eps', 'detachModulator', ...REDUCTION, ...MASKS],
    [['gamma_neg', 'gammaNeg'], ['gamma_pos', 'gammaPos'], ['detach_modulator', 'detachModulator'], ...LOSS_MISSES, ...MASK_MISSES],
    ['gamma', 'alpha', 'epsilon', 'labelSmoothing', 'posWeight']),
  ...loss('softmaxFocalLoss', onRows,
    ['classes', 'alpha', 'gamma', 'ignoreIndex', 'labelSmoothing', 'shape', 'classAxis', 'compat', ...REDUCTION],
    [['gama', 'gamma'], ...LOSS_MISSES, ['ignore_index', 'ignoreIndex'], ['classe', 'classes']],
    ['iouWeighted', 'beta', 'posWeight']),
  ...loss('binaryFocalLoss', onProbs, ['alpha', 'gamma', 'epsilon', 'compat', ...REDUCTION],
    [['gama', 'gamma'], ...LOSS_MISSES],
    ['iouWeighted', 'beta']),
  {
    name: 'softmax', call: (fl, o) => fl.softmax(z(), o as never), withGrad: false,
    own: ['classes', 'out'], nearMisses: [['classe', 'classes']], foreign: ['gamma', 'weights', 'reduction'],
  },
  {
    name: 'logSoftmax', call: (fl, o) => fl.logSoftmax(z(), o as never), withGrad: false,
    own: ['classes', 'out'], nearMisses: [['classe', 'classes']], foreign: ['gamma', 'weights', 'reduction'],
  },
  {
    name: 'sigmoid', call: (fl, o) => fl.sigmoid(x(), o as never), withGrad: false,
    own: ['out'], nearMisses: [['outt', 'out']], foreign: ['gamma', 'classes', 'reduction'],
  },
  {
    // classes is required, so every call passes it (and `own` leaves it out: set to undefined it is missing).
    name: 'focalMatchingCost', call: (fl, o) => fl.focalMatchingCost(z(), y(), { classes: 4, ...o } as never), withGrad: false,
    own: ['alpha', 'gamma', 'compat', 'out'], nearMisses: [['gama', 'gamma'], ['classe', 'classes'], ['alfa', 'alpha']],
    foreign: ['reduction', 'weights', 'normalizer', 'labelSmoothing', 'epsilon'],
  },
];

function expectTypeError(call: () => unknown, message: string | RegExp): void {
  const error = thrown(call);
  expect(error, 'it must throw').toBeInstanceOf(TypeError);
  expect(error!.constructor).toBe(TypeError);
  if (typeof message === 'string') expect(error!.message).toContain(message);
  else expect(error!.message).toMatch(message);
}

function sameResult(a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return Object.is(a, b);
  if (a instanceof Float32Array) {
    return b instanceof Float32Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength)
      .equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  const p = a as { loss: unknown; grad: unknown };
  const q = b as { loss: unknown; grad: unknown };
  return sameResult(p.loss, q.loss) && sameResult(p.grad, q.grad);
}

describe.each(builds)('strict options, $name build', ({ create }) => {
  let fl: Focal;
  beforeAll(async () => {
    fl = await create();
  });

  for (const m of METHODS) {
    describe(m.name, () => {
      for (const [wrong, right] of m.nearMisses) {
        test(`options.${wrong} is a TypeError suggesting '${right}'`, () => {
          expectTypeError(() => m.call(fl, { [wrong]: 5 }), `options.${wrong}: unknown option; did you mean '${right}'?`);
        });
      }

      test('an unknown option with no near name is a TypeError naming it', () => {
        const error = thrown(() => m.call(fl, { zzzzzzzz: 1 }));
        expect(error).toBeInstanceOf(TypeError);
        expect(error!.message.startsWith('options.zzzzzzzz: unknown option')).toBe(true);
        expect(error!.message).not.toMatch(/did you mean/);
      });

      test('an unknown option beside valid ones is still refused', () => {
        const valid: Options = m.name === 'sigmoid' ? { out: new Float32Array(8) }
          : m.name === 'softmax' || m.name === 'logSoftmax' ? { classes: 12 }
          : m.name === 'focalMatchingCost' ? { alpha: 0.5 } : { reduction: 'sum' };
        expect(() => m.call(fl, valid)).not.toThrow();
        expectTypeError(() => m.call(fl, { ...valid, zzzzzzzz: 1 }), /^options\.zzzzzzzz: unknown option/);
      });

      if (!m.withGrad) {
        test('gradOut on a call that returns no gradient is a TypeError naming it', () => {
          expectTypeError(() => m.call(fl, { gradOut: new Float32Array(64) }), /options\.gradOut/);
        });
      }

      for (const name of m.foreign) {
        test(`options.${name} (an option of another method) is a TypeError naming it`, () => {
          // a value that would be valid where the option exists
          const value = name === 'iouWeighted' ? true : name === 'reduction' ? 'sum' : name === 'weights' ? new Float32Array(12)
            : name === 'classes' ? 4 : 0.1;
          expectTypeError(() => m.call(fl, { [name]: value }), new RegExp(`options\\.${name}\\b`));
        });
      }

      test('every option set to undefined is treated as absent', () => {
        const options: Options = Object.fromEntries(m.own.map((k) => [k, undefined]));
        if (!m.withGrad && m.name !== 'sigmoid' && m.name !== 'softmax' && m.name !== 'logSoftmax') options.gradOut = undefined;
        const want = m.call(fl);
        const got = m.call(fl, options);
        expect(sameResult(got, want)).toBe(true);
      });
    });
  }

  // options.classes: one check, one message, wherever it is read.
  const CLASSES_CALLS: ReadonlyArray<readonly [string, (fl: Focal, classes: unknown) => unknown]> = [
    ['sigmoidFocalLoss with classWeights', (fl, c) => fl.sigmoidFocalLoss(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['sigmoidFocalLoss alone', (fl, c) => fl.sigmoidFocalLoss(x(), t(), { classes: c } as never)],
    ["sigmoidFocalLoss with compat 'mmcv'", (fl, c) => fl.sigmoidFocalLoss(x(), t(), { compat: 'mmcv', classes: c } as never)],
    ["sigmoidFocalLossWithGrad with compat 'mmcv'", (fl, c) => fl.sigmoidFocalLossWithGrad(x(), t(), { compat: 'mmcv', classes: c } as never)],
    ['sigmoidFocalLossStar with classWeights', (fl, c) => fl.sigmoidFocalLossStar(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['qualityFocalLoss with classWeights', (fl, c) => fl.qualityFocalLoss(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['varifocalLoss with classWeights', (fl, c) => fl.varifocalLoss(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['polyFocalLoss with classWeights', (fl, c) => fl.polyFocalLoss(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['asymmetricLoss with classWeights', (fl, c) => fl.asymmetricLoss(x(), t(), { classes: c, classWeights: [1, 2] } as never)],
    ['softmaxFocalLoss', (fl, c) => fl.softmaxFocalLoss(z(), y(), { classes: c } as never)],
    ['softmaxFocalLossWithGrad', (fl, c) => fl.softmaxFocalLossWithGrad(z(), y(), { classes: c } as never)],
    ['softmax()', (fl, c) => fl.softmax(z(), { classes: c } as never)],
    ['logSoftmax()', (fl, c) => fl.logSoftmax(z(), { classes: c } as never)],
    ['focalMatchingCost()', (fl, c) => fl.focalMatchingCost(z(), y(), { classes: c } as never)],
  ];
  describe('options.classes is checked the same way everywhere', () => {
    test.each(CLASSES_CALLS)("%s: classes '4' is a TypeError", (_, call) => {
      expectTypeError(() => call(fl, '4'), /^options\.classes = '4': expected a positive integer/);
    });
    test.each(CLASSES_CALLS)('%s: classes 2.5 is a RangeError', (_, call) => {
      const error = thrown(() => call(fl, 2.5));
      expect(error, 'it must throw').toBeInstanceOf(RangeError);
      expect(error!.message).toMatch(/^options\.classes = 2\.5: expected a positive integer/);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The pool: the same TypeError, as a rejection. Today's pool has sigmoidFocalLoss and softmaxFocalLoss (and their
// ...WithGrad forms); the redesign gives it every loss.
const POOL_CALLS: ReadonlyArray<readonly [string, string, readonly [string, string], () => [unknown, unknown]]> = [
  ['sigmoidFocalLoss', 'today', ['gama', 'gamma'], () => [x(), t()]],
  ['sigmoidFocalLossWithGrad', 'today', ['gama', 'gamma'], () => [x(), t()]],
  ['softmaxFocalLoss', 'today', ['gama', 'gamma'], () => [z(), y()]],
  ['softmaxFocalLossWithGrad', 'today', ['gama', 'gamma'], () => [z(), y()]],
  ['sigmoidFocalLossStar', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['sigmoidFocalLossStarWithGrad', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['qualityFocalLoss', 'new', ['weight', 'weights'], () => [x(), t()]],
  ['qualityFocalLossWithGrad', 'new', ['weight', 'weights'], () => [x(), t()]],
  ['varifocalLoss', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['varifocalLossWithGrad', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['polyFocalLoss', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['polyFocalLossWithGrad', 'new', ['gama', 'gamma'], () => [x(), t()]],
  ['asymmetricLoss', 'new', ['gamma_neg', 'gammaNeg'], () => [x(), t()]],
  ['asymmetricLossWithGrad', 'new', ['gamma_neg', 'gammaNeg'], () => [x(), t()]],
  ['binaryFocalLoss', 'new', ['gama', 'gamma'], () => [probs(), t()]],
  ['binaryFocalLossWithGrad', 'new', ['gama', 'gamma'], () => [probs(), t()]],
  ['distributionFocalLoss', 'new', ['bin', 'bins'], () => [z(), bins()]],
  ['distributionFocalLossWithGrad', 'new', ['bin', 'bins'], () => [z(), bins()]],
];

describe('strict options on the pool', () => {
  let pool: FocalPool;
  beforeAll(async () => {
    pool = await createFocalPool({ threads: 2 });
  });
  afterAll(() => pool?.terminate());

  test.each(POOL_CALLS)('pool.%s (%s) rejects an unknown option with the TypeError', async (method, _, [wrong, right], args) => {
    const fn = (pool as unknown as Record<string, unknown>)[method];
    expect(typeof fn, `pool.${method} must exist`).toBe('function');
    const [a, b] = args();
    let error: unknown;
    try {
      await (fn as (a: unknown, b: unknown, o: unknown) => Promise<unknown>).call(pool, a, b, { [wrong]: 5 });
    } catch (e) {
      error = e;
    }
    expect(error, 'it must reject').toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain(`options.${wrong}: unknown option; did you mean '${right}'?`);
  });

  test('pool.sigmoidFocalLoss rejects gradOut (no gradient) and a foreign option', async () => {
    await expect(pool.sigmoidFocalLoss(x(), t(), { gradOut: new Float32Array(8) } as never)).rejects.toThrow(TypeError);
    await expect(pool.sigmoidFocalLoss(x(), t(), { gradOut: new Float32Array(8) } as never)).rejects.toThrow(/options\.gradOut/);
    await expect(pool.softmaxFocalLoss(z(), y(), { iouWeighted: true } as never)).rejects.toThrow(/options\.iouWeighted/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The tfjs adapter: the same TypeError, thrown when the loss is created (not at the first call).
describe.each(builds)('strict options in focal-wasm/tfjs, $name build', ({ create }) => {
  const LOSSES: ReadonlyArray<readonly [string, string, string]> = [
    ['sigmoidFocalLoss', 'gama', 'gamma'],
    ['sigmoidFocalLossStar', 'gama', 'gamma'],
    ['qualityFocalLoss', 'weight', 'weights'],
    ['varifocalLoss', 'gama', 'gamma'],
    ['polyFocalLoss', 'gama', 'gamma'],
    ['distributionFocalLoss', 'reduce', 'reduction'],
    ['asymmetricLoss', 'gamma_neg', 'gammaNeg'],
  ];
  test.each(LOSSES)('focalLoss(fl, { loss: %s, %s }) throws the TypeError at creation', async (name, wrong, right) => {
    const fl = await create();
    expectTypeError(
      () => focalLoss(fl, { loss: name, [wrong]: 5 } as never),
      `options.${wrong}: unknown option; did you mean '${right}'?`,
    );
  });
  test("focalLoss: gradOut and out do not apply to a tfjs loss (TypeError at creation)", async () => {
    const fl = await create();
    expectTypeError(() => focalLoss(fl, { loss: 'sigmoidFocalLoss', gradOut: new Float32Array(4) } as never), /options\.gradOut/);
    expectTypeError(() => focalLoss(fl, { loss: 'varifocalLoss', labelSmoothing: 0.1 } as never), /options\.labelSmoothing/);
  });
});
