// createFocalPool: every loss split across workers (Node worker_threads or Web Workers), each with its own engine
// (src/pool/worker.ts). The call is planned here (so every argument error is the engine's, thrown before any work),
// its arrays shared through SharedArrayBuffer, and the driver's own units split between the workers: whole chunks
// for the elementwise losses, whole sum blocks of rows for softmax. Each worker returns one float64 sum per unit,
// added here in order — the order the single-thread drivers add them — so every result is the engine's, bit for bit.
import {
  chunkCount, finish, firstPass, passError, reductionOf, runElementwise, secondPass, totalOf, type ElementwiseCall,
  type ElementwisePlan, type LossResult, type Outputs, type Pass, type PassResult, type PassTotals,
} from '../core/elementwise.js';
import { CHUNK, ROW_SLACK } from '../core/abi.js';
import { POOL_DATA_BASE } from '../core/arena.js';
import { buildBytes, loadEngine, type Engine, type RegionKernelName } from '../core/engine.js';
import type { EngineOptions, WasmMemory } from '../core/public-types.js';
import { blockCount, finishRows, rowsError, runRowCall, sumBlockRows, type RowCall, type RowOutputs, type RowPassResult, type RowPlan } from '../core/rows.js';
import type { AsymmetricGradOptions, AsymmetricOptions } from '../families/asymmetric.js';
import type { BinaryFocalGradOptions, BinaryFocalOptions } from '../families/binary.js';
import type { DistributionFocalGradOptions, DistributionFocalOptions } from '../families/dfl.js';
import type {
  DiceFocalGradOptions, DiceFocalOptions, DiceGradOptions, DiceOptions, OverlapTargets, TverskyGradOptions, TverskyOptions,
} from '../families/dice.js';
import { keepsSoftmax, runRegionCall, type RegionCall, type RegionPassResult, type RegionPlan } from '../core/regions.js';
import { locate } from '../core/locate.js';
import { LOSSES, planLoss, type LossName } from '../families/registry.js';
import type { SigmoidFocalGradOptions, SigmoidFocalOptions } from '../families/sigmoid.js';
import type { SoftmaxFocalGradOptions, SoftmaxFocalOptions, SoftmaxTargets } from '../families/softmax.js';
import type {
  PolyFocalGradOptions, PolyFocalOptions, QualityFocalGradOptions, QualityFocalOptions, SigmoidFocalStarGradOptions,
  SigmoidFocalStarOptions, VarifocalGradOptions, VarifocalOptions,
} from '../families/variants.js';
import { show, type Floats } from '../options/checks.js';
import type { PerElement, Reduced, WithGrad } from '../options/results.js';
import { poolWorkerSource } from '../wasm/pool-worker.js';
import { copyFloats, copyLabels, isShared, isSharedFloats, SharedStaging } from './staging.js';
import { SHARED_MAX_PAGES, sharedMemoryModule } from './shared-module.js';
import type { Placed, WorkerReply, WorkerRequest } from './worker.js';

/** Options of createFocalPool. */
export interface FocalPoolOptions extends EngineOptions {
  /** Number of workers, an integer in [1, 256]. Default: the number of logical cores (navigator.hardwareConcurrency,
   * or os.availableParallelism() in Node). */
  threads?: number;
}

/** How a worker is driven, whichever kind it is. */
interface Thread {
  post(request: WorkerRequest): void;
  terminate(): Promise<void>;
  /** Node only: whether a running worker keeps the process alive (only while a call is in flight). */
  hold(busy: boolean): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/**
 * A pool of focal-loss engines on worker threads, from createFocalPool. Its methods take the arguments of the
 * matching Focal methods, throw (reject with) the same errors, and resolve to the same results bit for bit.
 * Every loss is split: inputs longer than one chunk (16384 elements; softmax: one block of rows) are divided
 * between the workers, in parts of 16 chunks (or sum blocks) handed to whichever worker is free. Float32Arrays backed
 * by a SharedArrayBuffer are read in place; other inputs are copied into the pool's shared buffers (kept between
 * calls; they grow to the largest call) a few parts ahead of the workers, and ordinary `out` / `gradOut` arrays are
 * filled part by part as the parts finish. Without `out` / `gradOut`, per-element losses and gradients come back in
 * Float32Arrays backed by a SharedArrayBuffer; with ones that are, the workers write into them directly.
 * Calls may overlap; each call's work queues behind the calls before it on every worker.
 */
export class FocalPool {
  /** Number of workers. */
  readonly threads: number;
  /** true when the workers run the SIMD build. */
  readonly simd: boolean;
  readonly #threads: Thread[];
  readonly #pending = new Map<number, Pending>();
  /** Each worker's memory, shared with this thread (see #layout), where the runtime has shared WebAssembly memory. */
  readonly #memories: WasmMemory[] | undefined;
  /** The last placed call (see #serialize). */
  #placedTail: Promise<unknown> = Promise.resolve();
  /** Shared buffers for inputs and outputs in ordinary memory, kept between calls (see staging.ts). */
  readonly #staging: SharedStaging[] = [];
  /** A main-thread engine of the same build, for the one call the workers cannot take (see #alone). */
  readonly #local: Engine;
  #nextId: number;
  #closed: Error | undefined;

  /** @internal use createFocalPool(). Request ids below `firstId` were used to start the workers. */
  constructor(threads: Thread[], local: Engine, firstId: number, memories: WasmMemory[] | undefined) {
    this.#threads = threads;
    this.#local = local;
    this.#memories = memories;
    this.threads = threads.length;
    this.simd = local.simd;
    this.#nextId = firstId;
  }

  /** Focal.sigmoidFocalLoss on the pool. */
  sigmoidFocalLoss(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalOptions, 'torchvision' | 'kornia'>): Promise<Float32Array>;
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalOptions, 'torchvision' | 'kornia'>): Promise<number>;
  sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): Promise<number | Float32Array>;
  async sigmoidFocalLoss(logits: Floats, targets: Floats, options?: SigmoidFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('sigmoidFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.sigmoidFocalLossWithGrad on the pool. */
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalGradOptions, 'torchvision' | 'kornia'>): Promise<WithGrad<Float32Array>>;
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalGradOptions, 'torchvision' | 'kornia'>): Promise<WithGrad<number>>;
  sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions): Promise<WithGrad>;
  async sigmoidFocalLossWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('sigmoidFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.sigmoidFocalLossStar on the pool. */
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalStarOptions>): Promise<Float32Array>;
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalStarOptions>): Promise<number>;
  sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: SigmoidFocalStarOptions): Promise<number | Float32Array>;
  async sigmoidFocalLossStar(logits: Floats, targets: Floats, options?: SigmoidFocalStarOptions): Promise<number | Float32Array> {
    return (await this.#loss('sigmoidFocalLossStar', logits, targets, options, false)).loss;
  }

  /** Focal.sigmoidFocalLossStarWithGrad on the pool. */
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options: PerElement<SigmoidFocalStarGradOptions>): Promise<WithGrad<Float32Array>>;
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: Reduced<SigmoidFocalStarGradOptions>): Promise<WithGrad<number>>;
  sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalStarGradOptions): Promise<WithGrad>;
  async sigmoidFocalLossStarWithGrad(logits: Floats, targets: Floats, options?: SigmoidFocalStarGradOptions): Promise<WithGrad> {
    return (await this.#loss('sigmoidFocalLossStar', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.qualityFocalLoss on the pool. */
  qualityFocalLoss(logits: Floats, targets: Floats, options: PerElement<QualityFocalOptions>): Promise<Float32Array>;
  qualityFocalLoss(logits: Floats, targets: Floats, options?: Reduced<QualityFocalOptions>): Promise<number>;
  qualityFocalLoss(logits: Floats, targets: Floats, options?: QualityFocalOptions): Promise<number | Float32Array>;
  async qualityFocalLoss(logits: Floats, targets: Floats, options?: QualityFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('qualityFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.qualityFocalLossWithGrad on the pool. */
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<QualityFocalGradOptions>): Promise<WithGrad<Float32Array>>;
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<QualityFocalGradOptions>): Promise<WithGrad<number>>;
  qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: QualityFocalGradOptions): Promise<WithGrad>;
  async qualityFocalLossWithGrad(logits: Floats, targets: Floats, options?: QualityFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('qualityFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.varifocalLoss on the pool. */
  varifocalLoss(logits: Floats, targets: Floats, options: PerElement<VarifocalOptions>): Promise<Float32Array>;
  varifocalLoss(logits: Floats, targets: Floats, options?: Reduced<VarifocalOptions>): Promise<number>;
  varifocalLoss(logits: Floats, targets: Floats, options?: VarifocalOptions): Promise<number | Float32Array>;
  async varifocalLoss(logits: Floats, targets: Floats, options?: VarifocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('varifocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.varifocalLossWithGrad on the pool. */
  varifocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<VarifocalGradOptions>): Promise<WithGrad<Float32Array>>;
  varifocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<VarifocalGradOptions>): Promise<WithGrad<number>>;
  varifocalLossWithGrad(logits: Floats, targets: Floats, options?: VarifocalGradOptions): Promise<WithGrad>;
  async varifocalLossWithGrad(logits: Floats, targets: Floats, options?: VarifocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('varifocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.polyFocalLoss on the pool. */
  polyFocalLoss(logits: Floats, targets: Floats, options: PerElement<PolyFocalOptions>): Promise<Float32Array>;
  polyFocalLoss(logits: Floats, targets: Floats, options?: Reduced<PolyFocalOptions>): Promise<number>;
  polyFocalLoss(logits: Floats, targets: Floats, options?: PolyFocalOptions): Promise<number | Float32Array>;
  async polyFocalLoss(logits: Floats, targets: Floats, options?: PolyFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('polyFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.polyFocalLossWithGrad on the pool. */
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<PolyFocalGradOptions>): Promise<WithGrad<Float32Array>>;
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<PolyFocalGradOptions>): Promise<WithGrad<number>>;
  polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: PolyFocalGradOptions): Promise<WithGrad>;
  async polyFocalLossWithGrad(logits: Floats, targets: Floats, options?: PolyFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('polyFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.asymmetricLoss on the pool. */
  asymmetricLoss(logits: Floats, targets: Floats, options: PerElement<AsymmetricOptions>): Promise<Float32Array>;
  asymmetricLoss(logits: Floats, targets: Floats, options?: Reduced<AsymmetricOptions>): Promise<number>;
  asymmetricLoss(logits: Floats, targets: Floats, options?: AsymmetricOptions): Promise<number | Float32Array>;
  async asymmetricLoss(logits: Floats, targets: Floats, options?: AsymmetricOptions): Promise<number | Float32Array> {
    return (await this.#loss('asymmetricLoss', logits, targets, options, false)).loss;
  }

  /** Focal.asymmetricLossWithGrad on the pool. */
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options: PerElement<AsymmetricGradOptions>): Promise<WithGrad<Float32Array>>;
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<AsymmetricGradOptions>): Promise<WithGrad<number>>;
  asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: AsymmetricGradOptions): Promise<WithGrad>;
  async asymmetricLossWithGrad(logits: Floats, targets: Floats, options?: AsymmetricGradOptions): Promise<WithGrad> {
    return (await this.#loss('asymmetricLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.binaryFocalLoss on the pool. */
  binaryFocalLoss(probs: Floats, targets: Floats, options: PerElement<BinaryFocalOptions>): Promise<Float32Array>;
  binaryFocalLoss(probs: Floats, targets: Floats, options?: Reduced<BinaryFocalOptions>): Promise<number>;
  binaryFocalLoss(probs: Floats, targets: Floats, options?: BinaryFocalOptions): Promise<number | Float32Array>;
  async binaryFocalLoss(probs: Floats, targets: Floats, options?: BinaryFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('binaryFocalLoss', probs, targets, options, false)).loss;
  }

  /** Focal.binaryFocalLossWithGrad on the pool. */
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options: PerElement<BinaryFocalGradOptions>): Promise<WithGrad<Float32Array>>;
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: Reduced<BinaryFocalGradOptions>): Promise<WithGrad<number>>;
  binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: BinaryFocalGradOptions): Promise<WithGrad>;
  async binaryFocalLossWithGrad(probs: Floats, targets: Floats, options?: BinaryFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('binaryFocalLoss', probs, targets, options, true)) as WithGrad;
  }

  /** Focal.softmaxFocalLoss on the pool. */
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options: PerElement<SoftmaxFocalOptions, 'kornia'>): Promise<Float32Array>;
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: Reduced<SoftmaxFocalOptions, 'kornia'>): Promise<number>;
  softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalOptions): Promise<number | Float32Array>;
  async softmaxFocalLoss(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('softmaxFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.softmaxFocalLossWithGrad on the pool. */
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options: PerElement<SoftmaxFocalGradOptions, 'kornia'>): Promise<WithGrad<Float32Array>>;
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: Reduced<SoftmaxFocalGradOptions, 'kornia'>): Promise<WithGrad<number>>;
  softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalGradOptions): Promise<WithGrad>;
  async softmaxFocalLossWithGrad(logits: Floats, targets: SoftmaxTargets, options?: SoftmaxFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('softmaxFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.distributionFocalLoss on the pool. */
  distributionFocalLoss(logits: Floats, targets: Floats, options: PerElement<DistributionFocalOptions>): Promise<Float32Array>;
  distributionFocalLoss(logits: Floats, targets: Floats, options?: Reduced<DistributionFocalOptions>): Promise<number>;
  distributionFocalLoss(logits: Floats, targets: Floats, options?: DistributionFocalOptions): Promise<number | Float32Array>;
  async distributionFocalLoss(logits: Floats, targets: Floats, options?: DistributionFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('distributionFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.distributionFocalLossWithGrad on the pool. */
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options: PerElement<DistributionFocalGradOptions>): Promise<WithGrad<Float32Array>>;
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: Reduced<DistributionFocalGradOptions>): Promise<WithGrad<number>>;
  distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: DistributionFocalGradOptions): Promise<WithGrad>;
  async distributionFocalLossWithGrad(logits: Floats, targets: Floats, options?: DistributionFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('distributionFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.diceLoss on the pool: split by items (see #regions). */
  diceLoss(logits: Floats, targets: OverlapTargets, options: PerElement<DiceOptions>): Promise<Float32Array>;
  diceLoss(logits: Floats, targets: OverlapTargets, options: Reduced<DiceOptions>): Promise<number>;
  diceLoss(logits: Floats, targets: OverlapTargets, options: DiceOptions): Promise<number | Float32Array>;
  async diceLoss(logits: Floats, targets: OverlapTargets, options: DiceOptions): Promise<number | Float32Array> {
    return (await this.#loss('diceLoss', logits, targets, options, false)).loss;
  }

  /** Focal.diceLossWithGrad on the pool (split by items). */
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<DiceGradOptions>): Promise<WithGrad<Float32Array>>;
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<DiceGradOptions>): Promise<WithGrad<number>>;
  diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceGradOptions): Promise<WithGrad>;
  async diceLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceGradOptions): Promise<WithGrad> {
    return (await this.#loss('diceLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.tverskyLoss on the pool (split by items). */
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: PerElement<TverskyOptions>): Promise<Float32Array>;
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: Reduced<TverskyOptions>): Promise<number>;
  tverskyLoss(logits: Floats, targets: OverlapTargets, options: TverskyOptions): Promise<number | Float32Array>;
  async tverskyLoss(logits: Floats, targets: OverlapTargets, options: TverskyOptions): Promise<number | Float32Array> {
    return (await this.#loss('tverskyLoss', logits, targets, options, false)).loss;
  }

  /** Focal.tverskyLossWithGrad on the pool (split by items). */
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<TverskyGradOptions>): Promise<WithGrad<Float32Array>>;
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<TverskyGradOptions>): Promise<WithGrad<number>>;
  tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: TverskyGradOptions): Promise<WithGrad>;
  async tverskyLossWithGrad(logits: Floats, targets: OverlapTargets, options: TverskyGradOptions): Promise<WithGrad> {
    return (await this.#loss('tverskyLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Focal.diceFocalLoss on the pool (split by items). */
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: PerElement<DiceFocalOptions>): Promise<Float32Array>;
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: Reduced<DiceFocalOptions>): Promise<number>;
  diceFocalLoss(logits: Floats, targets: OverlapTargets, options: DiceFocalOptions): Promise<number | Float32Array>;
  async diceFocalLoss(logits: Floats, targets: OverlapTargets, options: DiceFocalOptions): Promise<number | Float32Array> {
    return (await this.#loss('diceFocalLoss', logits, targets, options, false)).loss;
  }

  /** Focal.diceFocalLossWithGrad on the pool (split by items). */
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: PerElement<DiceFocalGradOptions>): Promise<WithGrad<Float32Array>>;
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: Reduced<DiceFocalGradOptions>): Promise<WithGrad<number>>;
  diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceFocalGradOptions): Promise<WithGrad>;
  async diceFocalLossWithGrad(logits: Floats, targets: OverlapTargets, options: DiceFocalGradOptions): Promise<WithGrad> {
    return (await this.#loss('diceFocalLoss', logits, targets, options, true)) as WithGrad;
  }

  /** Ends every worker; calls in flight and later calls reject. Resolves when the workers have stopped. */
  async terminate(): Promise<void> {
    if (!this.#closed) this.#fail(new Error('FocalPool: terminated (create a new pool with createFocalPool)'));
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }

  /** One loss: planned here, run by the workers through its driver. */
  async #loss(name: LossName, first: unknown, second: unknown, options: unknown, withGrad: boolean): Promise<LossResult> {
    if (this.#closed) throw this.#closed;
    // Every argument check, here, before any work: the same errors as the single-thread engine.
    const plan = planLoss(name, first, second, options, withGrad);
    const { driver } = LOSSES[name];
    if (driver === 'regions') return this.#regions(plan as RegionPlan);
    return driver === 'rows' ? this.#rows(plan as RowPlan) : this.#elementwise(plan as ElementwisePlan);
  }

  /**
   * Contiguous ranges of whole units (chunks, sum blocks), as even as units allow: about UNITS_PER_PART units each
   * (at least one part per worker while there are units), so that a part's inputs are still in the shared cache
   * when its worker reads them, and its outputs when they are copied out.
   */
  #parts(units: number): [number, number][] {
    const parts = Math.max(Math.min(units, this.#threads.length), Math.ceil(units / UNITS_PER_PART));
    return Array.from({ length: parts }, (_, p) => [Math.floor((p * units) / parts), Math.floor(((p + 1) * units) / parts)]);
  }

  /**
   * Runs the parts of a pass: part p on worker p mod threads (the same worker in every pass of a call, which holds
   * its arrays when they are placed), IN_FLIGHT queued per worker at a time. A part is staged (`stage` copies its
   * inputs; false: a plain array held an entry the workers cannot take) and posted when its worker has room, and
   * its outputs copied out (`unstage`) as its reply arrives, so the copies on this thread overlap the workers' work
   * and stay a few parts ahead of it. Resolves when every posted part has settled (no worker still writes into the
   * outputs): to the replies in part order, or undefined when a part could not be staged.
   */
  async #pipeline<R>(
    parts: readonly [number, number][], stage: (first: number, last: number, worker: number) => boolean,
    request: (first: number, last: number) => DistributiveOmit<WorkerRequest, 'id'>,
    unstage: (first: number, last: number, worker: number) => void,
  ): Promise<R[] | undefined> {
    const replies: R[] = [];
    const threads = this.#threads;
    const next = threads.map((_, w) => w); // worker w's next part
    let staged = true;
    let failure: { error: unknown } | undefined;
    const lane = async (w: number): Promise<void> => {
      while (staged && failure === undefined && next[w]! < parts.length) {
        const p = next[w]!;
        next[w] = p + threads.length;
        const [first, last] = parts[p]!;
        if (!stage(first, last, w)) {
          staged = false;
          return;
        }
        try {
          replies[p] = (await this.#send(threads[w]!, request(first, last))) as R;
        } catch (error) {
          failure ??= { error };
          return;
        }
        unstage(first, last, w);
      }
    };
    await Promise.all(Array.from({ length: threads.length * IN_FLIGHT }, (_, k) => lane(k % threads.length)));
    if (failure) throw failure.error;
    return staged ? replies : undefined;
  }

  /** A set of shared buffers for one call (a call in flight keeps its own; concurrent calls get another set). */
  #borrow(): SharedStaging {
    return this.#staging.pop() ?? new SharedStaging();
  }

  /**
   * Runs `work` after every placed call before it (they use the same place in the workers' memories); calls that
   * place nothing run at once.
   */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#placedTail.then(work);
    this.#placedTail = run.catch(() => undefined);
    return run;
  }

  /**
   * Where a call's arrays go: copied into each worker's own memory at the same addresses (the workers read and write
   * them in place: no copy into or out of a worker), when the workers have such memories and the arrays fit; else
   * into the pool's shared buffers (the workers stage from them). Inputs already in a SharedArrayBuffer are read
   * where they are (by the workers' staging), and outputs are placed only when the caller gave unshared ones.
   */
  #layout(streams: readonly { copy: boolean; length: number }[], outputs: readonly { given: Float32Array | undefined; length: number }[]): Layout | undefined {
    if (!this.#memories) return undefined;
    let at = POOL_DATA_BASE;
    const place = (length: number): number => {
      const start = at;
      at += Math.ceil((length + ROW_SLACK) * 4 / 64) * 64; // ROW_SLACK after each: row kernels run in place
      return start;
    };
    const inputs = streams.map((s) => (s.copy ? { at: place(s.length), length: s.length } : null));
    const placedOutputs = outputs.map((o) => (o.given && !isSharedFloats(o.given) ? place(o.length) : undefined));
    if (inputs.every((i) => i === null) || at > SHARED_MAX_PAGES * PAGE) return undefined;
    for (const memory of this.#memories) {
      const have = memory.buffer.byteLength;
      if (have < at) memory.grow(Math.ceil((at - have) / PAGE));
    }
    return { inputs, outputs: placedOutputs };
  }

  /** A Float32Array (or Int32Array) over worker w's memory, made after any grow. */
  #view(worker: number, at: number, length: number): Float32Array {
    return new Float32Array(this.#memories![worker]!.buffer, at, length);
  }

  async #elementwise(plan: ElementwisePlan): Promise<LossResult> {
    const local = plan.call;
    const { n } = local;
    const layout = this.#layout(
      local.inputs.map((s) => ({ copy: !isSharedFloats(s.values), length: n })),
      [{ given: local.writeLoss ? local.out : undefined, length: n }, { given: local.withGrad ? local.gradOut : undefined, length: n }],
    );
    if (layout) return this.#serialize(() => this.#elementwiseParts(plan, layout));
    return this.#elementwiseParts(plan, undefined);
  }

  async #elementwiseParts(plan: ElementwisePlan, layout: Layout | undefined): Promise<LossResult> {
    const local = plan.call;
    const { n } = local;
    const staging = layout ? undefined : this.#borrow();
    try {
      // Shared Float32Arrays are read and written where they are; other inputs are copied part by part (into the
      // worker's memory, or the pool's shared buffers), other outputs copied out part by part. Without out /
      // gradOut, the workers write new shared arrays.
      const copied = local.inputs.map((s) => !isSharedFloats(s.values));
      const inputs = local.inputs.map((s, k) => (!copied[k] ? s : { ...s, values: staging ? staging.floats(k, n) : EMPTY }));
      const outputs: Outputs = {
        loss: local.writeLoss ? outputArray(local.out, staging, OUT_SLOT, n) : undefined,
        grad: local.withGrad ? outputArray(local.gradOut, staging, GRAD_SLOT, n) : undefined,
      };
      const call: ElementwiseCall = { ...local, inputs, out: undefined, gradOut: undefined };
      const placed: Placed | undefined = layout && { inputs: layout.inputs, loss: layout.outputs[0], grad: layout.outputs[1] };
      // Where part data goes on worker w: its memory when placed, else the shared staging (the same for all).
      const target = (w: number, k: number): Float32Array =>
        layout ? this.#view(w, layout.inputs[k]!.at, n) : inputs[k]!.values as Float32Array;
      const written = (w: number, which: 0 | 1): Float32Array | undefined => {
        const at = layout?.outputs[which];
        return at === undefined ? (which === 0 ? outputs.loss : outputs.grad) : this.#view(w, at, n);
      };
      const parts = this.#parts(chunkCount(n));
      const span = (first: number, last: number): [number, number] => [first * CHUNK, Math.min(n, last * CHUNK)];
      let inputsIn = false; // copied during the first pass; a second pass reads them again (same parts, same workers)
      // The passes of core/elementwise.ts, each split between the workers; the sums added here in chunk order.
      const run = async (pass: Pass): Promise<PassTotals | undefined> => {
        const results = await this.#pipeline<PassResult>(
          parts,
          (first, last, w) => {
            if (inputsIn) return true;
            const [from, to] = span(first, last);
            for (let k = 0; k < inputs.length; k++) {
              if (copied[k] && !copyFloats(local.inputs[k]!.values, target(w, k), from, to)) return false;
            }
            return true;
          },
          (first, last) => ({ kind: 'elementwise', call, outputs, pass, first, last, placed }),
          (first, last, w) => {
            if (pass.writeLoss) copyOutput(written(w, 0), local.out, ...span(first, last));
            if (pass.writeGrad) copyOutput(written(w, 1), local.gradOut, ...span(first, last));
          },
        );
        inputsIn = true;
        if (!results) return undefined;
        const flagged = results.find((r) => r.invalid !== undefined);
        if (flagged) throw passError(plan.locator(), n, flagged);
        const kept = results.reduce((k, r) => k + r.kept, 0);
        const focal = pass.sumFocal ? totalOf(concat(results.map((r) => r.focalSums!))) : 0;
        return { total: totalOf(concat(results.map((r) => r.sums!))), focal, kept };
      };
      const first = await run(firstPass(call));
      if (!first) return this.#alone(plan);
      const second = secondPass(call, first);
      if (second) await run(second);
      const results: Outputs = { loss: local.out ?? outputs.loss, grad: local.gradOut ?? outputs.grad };
      return finish(call, results, reductionOf(call, first));
    } finally {
      if (staging) this.#staging.push(staging);
    }
  }

  async #rows(plan: RowPlan): Promise<LossResult> {
    const local = plan.call;
    const { rows, classes: C } = local;
    const lossLength = local.lossPer === 'row' ? rows : rows * C;
    // A class-axis layout reads each row's classes from across the whole input: never placed (its staging gathers
    // from the shared buffers); labels travel as one more placed stream (int32 bits in a float32 slot).
    const layout = local.layout ? undefined : this.#layout(
      [...local.inputs.map((s) => ({ copy: !isSharedFloats(s.values), length: s.values.length })),
        ...(local.labels ? [{ copy: labelsCopied(local.labels), length: rows }] : [])],
      [{ given: local.writeLoss ? local.out : undefined, length: lossLength }, { given: local.withGrad ? local.gradOut : undefined, length: rows * C }],
    );
    if (layout) return this.#serialize(() => this.#rowParts(plan, layout));
    return this.#rowParts(plan, undefined);
  }

  async #rowParts(plan: RowPlan, layout: Layout | undefined): Promise<LossResult> {
    const local = plan.call;
    const { rows, classes: C } = local;
    const staging = layout ? undefined : this.#borrow();
    try {
      const copied = local.inputs.map((s) => !isSharedFloats(s.values));
      const inputs = local.inputs.map((s, k) => (!copied[k] ? s : { ...s, values: staging ? staging.floats(k, s.values.length) : EMPTY }));
      const copyLabelsIn = local.labels !== undefined && labelsCopied(local.labels);
      const labelsPlace = layout && local.labels ? layout.inputs[local.inputs.length] ?? undefined : undefined;
      const labels = !copyLabelsIn ? local.labels : staging ? staging.ints(LABELS_SLOT, rows) : EMPTY_LABELS;
      const lossLength = local.lossPer === 'row' ? rows : rows * C;
      const lossWidth = lossLength / rows || 1;
      const outputs: RowOutputs = {
        loss: local.writeLoss ? outputArray(local.out, staging, OUT_SLOT, lossLength) : undefined,
        grad: local.withGrad ? outputArray(local.gradOut, staging, GRAD_SLOT, rows * C) : undefined,
      };
      const call: RowCall = { ...local, inputs, labels, out: undefined, gradOut: undefined };
      const placed: Placed | undefined = layout && {
        inputs: layout.inputs.slice(0, local.inputs.length), labels: labelsPlace?.at, loss: layout.outputs[0], grad: layout.outputs[1],
      };
      const target = (w: number, k: number): Float32Array =>
        layout ? this.#view(w, layout.inputs[k]!.at, layout.inputs[k]!.length) : inputs[k]!.values as Float32Array;
      const labelTarget = (w: number): Int32Array => labelsPlace
        ? new Int32Array(this.#memories![w]!.buffer, labelsPlace.at, rows)
        : labels as Int32Array;
      const written = (w: number, which: 0 | 1, length: number): Float32Array | undefined => {
        const at = layout?.outputs[which];
        return at === undefined ? (which === 0 ? outputs.loss : outputs.grad) : this.#view(w, at, length);
      };
      const block = sumBlockRows(C);
      const parts = this.#parts(blockCount(rows, C)).map(([a, b]): [number, number] => [a * block, Math.min(b * block, rows)]);
      // A class-axis layout is copied in whole before the first part, and its gradient copied out whole after the last.
      let inputsIn = false;
      const stage = (first: number, last: number, w: number): boolean => {
        if (inputsIn) return true;
        if (local.layout) {
          inputsIn = true;
          first = 0;
          last = rows;
        }
        for (let k = 0; k < inputs.length; k++) {
          if (!copied[k]) continue;
          const width = local.inputs[k]!.per === 'class' ? C : 1;
          if (!copyFloats(local.inputs[k]!.values, target(w, k), first * width, last * width)) return false;
        }
        return !copyLabelsIn || copyLabels(local.labels!, labelTarget(w), first, last);
      };
      const results = await this.#pipeline<RowPassResult>(
        parts, stage, (first, last) => ({ kind: 'rows', call, outputs, first, last, placed }),
        (first, last, w) => {
          copyOutput(written(w, 0, lossLength), local.out, first * lossWidth, last * lossWidth);
          if (!local.layout) copyOutput(written(w, 1, rows * C), local.gradOut, first * C, last * C);
        },
      );
      if (!results) return this.#alone(plan);
      if (local.layout) copyOutput(outputs.grad, local.gradOut, 0, rows * C);
      const flagged = results.find((r) => r.invalid !== undefined);
      if (flagged) throw rowsError(plan.locator(), flagged);
      const given: RowOutputs = { loss: local.out ?? outputs.loss, grad: local.gradOut ?? outputs.grad };
      const result = finishRows(call, given, totalOf(concat(results.map((r) => r.sums!))));
      return plan.finish ? plan.finish(result) : result;
    } finally {
      if (staging) this.#staging.push(staging);
    }
  }

  /**
   * An overlap loss (Dice, Tversky, Dice + focal), split by items: every item's gradient needs its own sums over all
   * its positions first, so the workers make pass 1 over their items and return the sums (added in item order, as
   * the single-thread driver does), the plan turns them into the loss and pass 2's coefficients here, and the
   * workers make pass 2 over the same items. The arrays go through shared memory (the pool's shared buffers).
   */
  async #regions(plan: RegionPlan): Promise<LossResult> {
    const local = plan.call;
    const n = local.logits.length;
    const staging = this.#borrow();
    try {
      const logits = isSharedFloats(local.logits) ? local.logits : staging.floats(0, n);
      const targets = !local.targets || isSharedFloats(local.targets) ? local.targets : staging.floats(1, local.targets.length);
      const labels = local.labels && labelsCopied(local.labels) ? staging.ints(LABELS_SLOT, local.labels.length) : local.labels;
      if (logits !== local.logits && !copyFloats(local.logits, logits, 0, n)) return this.#alone(plan);
      if (targets !== local.targets && !copyFloats(local.targets!, targets as Float32Array, 0, targets!.length)) return this.#alone(plan);
      if (labels !== local.labels && !copyLabels(local.labels!, labels as Int32Array, 0, labels!.length)) return this.#alone(plan);
      // The plan gives every output an array (the caller's or a new one): the workers write shared ones.
      const gradOut = local.gradOut && outputArray(local.gradOut, staging, GRAD_SLOT, local.gradOut.length);
      const elementLoss = local.elementLoss && {
        out: outputArray(local.elementLoss.out, staging, OUT_SLOT, local.elementLoss.out.length), firstClass: local.elementLoss.firstClass,
      };
      const call: RegionCall = { ...local, logits, targets, labels, gradOut, elementLoss };
      const keepSoftmax = keepsSoftmax(call);
      const parts = this.#parts(local.items);
      const perItem = local.layout.rows / local.items;
      const pass = async (kernel: RegionKernelName, coefs: Float32Array | undefined): Promise<RegionPassResult[]> => (await this.#pipeline<RegionPassResult>(
        parts, () => true, (first, last) => ({ kind: 'regions', call, kernel, coefs, keepSoftmax, first, last }), () => {},
      ))!;
      const first = await pass('diceSums', undefined);
      const flagged = first.find((r) => r.invalidItem !== undefined);
      if (flagged) throw locate(plan.locator(), flagged.invalidItem! * perItem, perItem);
      const { loss, coefs } = plan.settle(concat(first.map((r) => r.sums)));
      if (coefs) await pass('diceGrad', coefs);
      copyOutput(gradOut, local.gradOut, 0, local.gradOut?.length ?? 0);
      if (local.elementLoss) copyOutput(elementLoss!.out, local.elementLoss.out, 0, local.elementLoss.out.length);
      return { loss: loss ?? local.elementLoss!.out, grad: local.withGrad ? local.gradOut : undefined };
    } finally {
      this.#staging.push(staging);
    }
  }

  /**
   * A call with a plain array holding an entry that is not a number (or a class index that is no 32-bit integer)
   * cannot be shared: it runs on this thread's engine, which throws the error the single-thread engine finds first.
   */
  #alone(plan: ElementwisePlan | RowPlan | RegionPlan): LossResult {
    if ('items' in plan.call) return runRegionCall(this.#local, plan as RegionPlan, 'FocalPool');
    return 'rows' in plan.call
      ? runRowCall(this.#local, plan as RowPlan, 'FocalPool')
      : runElementwise(this.#local, plan as ElementwisePlan, 'FocalPool');
  }

  #send(thread: Thread, request: DistributiveOmit<WorkerRequest, 'id'>): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    const done = new Promise<unknown>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    if (this.#pending.size === 1) for (const t of this.#threads) t.hold(true);
    try {
      thread.post({ ...request, id } as WorkerRequest);
    } catch (e) {
      this.#settle(id, undefined, e instanceof Error ? e : new Error(String(e)));
    }
    return done;
  }

  /** @internal Delivers a worker's reply to the call waiting for it. */
  settleReply(reply: WorkerReply): void {
    this.#settle(reply.id, 'value' in reply ? reply.value : undefined, 'error' in reply ? rebuild(reply.error) : undefined);
  }

  #settle(id: number, value: unknown, error: Error | undefined): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) for (const t of this.#threads) t.hold(false);
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /** @internal A worker died or the pool was terminated: every call in flight and every later call rejects. */
  fail(error: Error): void {
    if (!this.#closed) this.#fail(error);
  }

  #fail(error: Error): void {
    this.#closed = error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, undefined, error);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Units (chunks, sum blocks: ~16384 values each) per part, and parts queued per worker at once (see FocalPool
 * #parts and #pipeline): 16 units are ~1 MB per stream, so the parts in flight stay within a shared L3 cache.
 */
const UNITS_PER_PART = 16;
const IN_FLIGHT = 2;
/** SharedStaging slots of the outputs and class indices (the inputs take slots 0, 1, ...). */
const OUT_SLOT = 16;
const GRAD_SLOT = 17;
const LABELS_SLOT = 18;

/**
 * Where the workers write an output: the caller's array when it is shared; when it is not, the pool's staging (then
 * copied out part by part), or with no staging (placed: the worker writes into its own memory) an empty stand-in
 * (the caller's array never travels to a worker); a new shared array when none is given (returned as it is).
 */
function outputArray(out: Float32Array | undefined, staging: SharedStaging | undefined, slot: number, length: number): Float32Array {
  if (out === undefined) return new Float32Array(new SharedArrayBuffer(length * 4));
  if (isSharedFloats(out)) return out;
  return staging ? staging.floats(slot, length) : EMPTY;
}

/** Whether class indices must be copied for the workers (all but an Int32Array in a SharedArrayBuffer). */
function labelsCopied(labels: Int32Array | readonly number[]): boolean {
  return !(labels instanceof Int32Array && isShared(labels.buffer));
}

/** Stand-ins for arrays that are placed in the workers' memories (an ordinary array never travels to a worker). */
const EMPTY = new Float32Array(0);
const EMPTY_LABELS = new Int32Array(0);
const PAGE = 65536;

/** Where a placed call's arrays sit in every worker's memory (the same byte addresses in each). */
interface Layout {
  /** Per input stream (then class indices, for rows): its address and length, or null when it is not placed. */
  inputs: ({ at: number; length: number } | null)[];
  /** The loss and gradient outputs' addresses, when placed. */
  outputs: (number | undefined)[];
}

/** Copies [from, to) of what the workers wrote into the caller's unshared array (nothing to do otherwise). */
function copyOutput(written: Float32Array | undefined, out: Float32Array | undefined, from: number, to: number): void {
  if (written === undefined || out === undefined || written === out) return;
  out.set(written.subarray(from, to), from);
}

/** Per-part sums, in part order: the units' sums in the order the single-thread driver adds them. */
function concat(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

function rebuild({ name, message }: { name: string; message: string }): Error {
  const Class = name === 'TypeError' ? TypeError : name === 'RangeError' ? RangeError : Error;
  return new Class(message);
}

/** A Node built-in, imported by a variable specifier so that browser bundlers leave it alone. */
function importNode<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}

interface Spawner {
  spawn(onReply: (reply: WorkerReply) => void, onFailure: (error: Error) => void): Thread;
  cores: number;
  done(): void;
}

/** Web Workers from a Blob URL (browsers, Deno, Bun), or worker_threads with `eval: true` (Node). */
async function spawner(): Promise<Spawner> {
  if (typeof Worker === 'function' && typeof Blob === 'function' && typeof URL === 'function') {
    const url = URL.createObjectURL(new Blob([poolWorkerSource], { type: 'text/javascript' }));
    return {
      cores: globalThis.navigator?.hardwareConcurrency ?? 1,
      done: () => URL.revokeObjectURL(url),
      spawn(onReply, onFailure) {
        // A module worker: Deno starts no classic ones, and browsers and Bun start both.
        const worker = new Worker(url, { type: 'module' });
        worker.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          onFailure(new Error(`FocalPool: a worker failed: ${event.message || 'it could not start (a Content-Security-Policy without worker-src blob:?)'}`));
        };
        worker.onmessageerror = () => onFailure(new Error('FocalPool: a worker reply could not be deserialized'));
        return {
          post: (request) => worker.postMessage(request),
          terminate: async () => worker.terminate(),
          hold: () => {},
        };
      },
    };
  }
  type WorkerThreads = typeof import('node:worker_threads');
  let threads: WorkerThreads;
  let cores: number;
  try {
    threads = await importNode<WorkerThreads>('node:worker_threads');
    cores = (await importNode<typeof import('node:os')>('node:os')).availableParallelism();
  } catch (e) {
    throw new Error('createFocalPool: this runtime has neither Web Workers nor node:worker_threads', { cause: e });
  }
  return {
    cores,
    done: () => {},
    spawn(onReply, onFailure) {
      const worker = new threads.Worker(poolWorkerSource, { eval: true });
      let terminating = false;
      worker.on('message', onReply);
      worker.on('error', (e) => onFailure(new Error(`FocalPool: a worker failed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => {
        if (!terminating) onFailure(new Error(`FocalPool: a worker exited (code ${code})`));
      });
      worker.unref(); // idle workers never keep the process alive; see hold()
      return {
        post: (request) => worker.postMessage(request),
        terminate: async () => {
          terminating = true;
          await worker.terminate();
        },
        hold: (busy) => (busy ? worker.ref() : worker.unref()),
      };
    },
  };
}

/**
 * Starts a worker's engine with the compiled module, which the runtime shares with the worker (no second compile,
 * no second copy of the wasm in the worker's script); where a module cannot be posted, with the build's bytes.
 */
function startThread(thread: Thread, id: number, engine: Engine, pooled: Pooled | undefined, memory: WasmMemory | undefined): void {
  const module = pooled ? pooled.module : engine.module;
  try {
    thread.post({ id, kind: 'init', simd: engine.simd, module, memory });
  } catch (e) {
    if ((e as Error | undefined)?.name !== 'DataCloneError') throw e;
    const bytes = pooled ? pooled.bytes : buildBytes(engine.simd ? 'simd' : 'scalar');
    thread.post({ id, kind: 'init', simd: engine.simd, bytes, memory });
  }
}

/** The workers' build rewritten to import a shared memory (shared-module.ts), and its bytes. */
interface Pooled {
  module: WebAssembly.Module;
  bytes: Uint8Array;
}

/**
 * The pooled build, where the runtime has shared WebAssembly memory (every runtime with SharedArrayBuffer and wasm
 * threads); undefined elsewhere, and the workers then keep private memories and stage from shared buffers.
 */
async function pooledBuild(engine: Engine): Promise<Pooled | undefined> {
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return undefined;
  }
  const bytes = sharedMemoryModule(buildBytes(engine.simd ? 'simd' : 'scalar'));
  return { module: await WebAssembly.compile(bytes as BufferSource), bytes };
}

function threadsOption(value: unknown, fallback: number): number {
  if (value === undefined) return Math.max(1, Math.min(256, fallback));
  if (typeof value !== 'number') throw new TypeError(`options.threads = ${show(value)}: expected an integer in [1, 256]`);
  if (!Number.isInteger(value) || value < 1 || value > 256) {
    throw new RangeError(`options.threads = ${show(value)}: expected an integer in [1, 256]`);
  }
  return value;
}

/**
 * Creates a pool of workers, each with its own engine, that split large calls of every loss between them:
 * Node (worker_threads) and browsers (Web Workers, started from a Blob URL; no file path, no bundler config).
 * Results equal the single-thread engine's bit for bit (whole chunks per worker, chunk sums added in order).
 * Needs SharedArrayBuffer: in browsers, a cross-origin isolated page (COOP same-origin + COEP require-corp).
 * End it with `terminate()` (in Node, idle workers never keep the process alive).
 * @param options `threads` (default: the number of cores) and `simd` (as createFocal).
 * @throws (rejects with) TypeError / RangeError for a bad option (as createFocal, plus `threads`); an Error where
 *   SharedArrayBuffer or workers are unavailable, or a worker cannot start.
 */
export async function createFocalPool(options?: FocalPoolOptions): Promise<FocalPool> {
  // The build is chosen (and the simd option checked) exactly as createFocal does; the workers load the same one.
  const engine = await loadEngine(options);
  const threadsArg = options?.threads;
  if (typeof SharedArrayBuffer !== 'function' || (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    throw new Error(
      'createFocalPool: SharedArrayBuffer is unavailable here. Browsers provide it only to cross-origin isolated ' +
        'pages (serve them with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: ' +
        'require-corp); elsewhere use createFocal()',
    );
  }
  const spawn = await spawner();
  const count = threadsOption(threadsArg, spawn.cores);
  const pooled = await pooledBuild(engine);
  // One memory per worker (the kernels' static scratch is per instance, so workers cannot share one), shared with
  // this thread, which copies a call's arrays into it; it grows to the largest call and never shrinks.
  const memories = pooled && Array.from({ length: count }, () => new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true }));
  // Replies and failures go to the pool once it exists; until then to the start-up below (init has ids 1..count).
  let pool: FocalPool | undefined;
  const starting: Pending[] = [];
  let failStart: (error: Error) => void = () => {};
  const onReply = (reply: WorkerReply): void => {
    if (pool) return pool.settleReply(reply);
    const waiter = starting[reply.id - 1];
    if ('error' in reply) waiter?.reject(rebuild(reply.error));
    else waiter?.resolve(reply.value);
  };
  const onFailure = (error: Error): void => (pool ? pool.fail(error) : failStart(error));
  const threads = Array.from({ length: count }, () => spawn.spawn(onReply, onFailure));
  try {
    await new Promise<void>((resolve, reject) => {
      failStart = reject;
      const ready = threads.map((thread, i) => new Promise((ok, fail) => {
        starting[i] = { resolve: ok, reject: fail };
        thread.hold(true); // an unref'd worker would let Node exit before it answers
        startThread(thread, i + 1, engine, pooled, memories?.[i]);
      }));
      Promise.all(ready).then(() => resolve(), reject);
    });
  } catch (e) {
    await Promise.all(threads.map((t) => t.terminate().catch(() => {})));
    throw e;
  } finally {
    spawn.done();
  }
  for (const t of threads) t.hold(false);
  pool = new FocalPool(threads, engine, count + 1, memories);
  return pool;
}
