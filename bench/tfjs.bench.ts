// focal-wasm/tfjs: one loss + gradient step through the adapter (engine forward + fused gradient via
// tf.customGrad) beside the same loss composed from tf ops and differentiated by tfjs (tf.valueAndGrad), on the
// tfjs cpu and wasm backends, torchvision defaults (alpha 0.25, gamma 2, 'mean').
// Standalone: `npx tsx bench/tfjs.bench.ts` (BENCH_QUICK=1 for a smoke run). Never asserts; prints a table.
import os from 'node:os';
import { Bench } from 'tinybench';
import { createFocalSync } from '../dist/index.js';
import { focalLoss } from '../dist/adapters/tfjs.js';
import { QUICK, normal, rng, scaled, sizeLabel } from './harness.js';
import { sigmoidFocalTf, tf, useBackend, wasmFeatures, type TfBackend } from './peers/tfjs.js';

const CLASSES = 80; // multi-label logits N/80 x 80, as a detection head's classification output
const SIZES = [1e4, 1e6].map((n) => Math.max(1, Math.round(scaled(n) / CLASSES)) * CLASSES);

interface Line {
  backend: TfBackend;
  size: string;
  adapterNs: number;
  composedNs: number;
  agreement: number;
}

function data(n: number): { logits: Float32Array; labels: Float32Array } {
  const random = rng(0x7f + n);
  const logits = Float32Array.from({ length: n }, () => 3 * normal(random));
  const labels = Float32Array.from({ length: n }, () => (random() < 0.1 ? 1 : 0));
  return { logits, labels };
}

export async function run(): Promise<{ lines: Line[]; notes: string[] }> {
  const fl = createFocalSync();
  const adapter = focalLoss(fl);
  const lines: Line[] = [];
  const notes = [`engine ${fl.simd ? 'SIMD' : 'scalar'} build; ${await wasmFeatures()}`];
  for (const backend of ['cpu', 'wasm'] as TfBackend[]) {
    await useBackend(backend);
    for (const n of SIZES) {
      const { logits, labels } = data(n);
      const shape = [n / CLASSES, CLASSES];
      const x = tf.tensor(logits, shape);
      const t = tf.tensor(labels, shape);
      const stepAdapter = tf.valueAndGrad((z: tf.Tensor) => adapter(t, z));
      const stepComposed = tf.valueAndGrad((z: tf.Tensor) => sigmoidFocalTf(z, t, 0.25, 2));
      // One step: the loss read back, the gradient left as a computed tensor (as bench/peers/tfjs.ts times tfjs).
      const once = (step: typeof stepAdapter): { loss: number; grad: Float32Array } => {
        const { value, grad } = step(x);
        const loss = value.dataSync()[0]!;
        const g = grad.dataSync() as Float32Array;
        tf.dispose([value, grad]);
        return { loss, grad: g };
      };
      const a = once(stepAdapter);
      const b = once(stepComposed);
      let gradDiff = 0;
      let gradNorm = 0;
      for (let i = 0; i < n; i++) {
        gradDiff += (a.grad[i]! - b.grad[i]!) ** 2;
        gradNorm += b.grad[i]! ** 2;
      }
      const agreement = Math.max(Math.abs(a.loss - b.loss) / Math.abs(b.loss), Math.sqrt(gradDiff / gradNorm));
      const bench = new Bench(QUICK ? { time: 50, iterations: 2 } : { time: n > 1e5 ? 1500 : 500, iterations: 8 });
      const timed = (step: typeof stepAdapter) => () => {
        const { value, grad } = step(x);
        value.dataSync();
        tf.dispose([value, grad]);
      };
      bench.add('adapter', timed(stepAdapter)).add('composed', timed(stepComposed));
      process.stderr.write(`tfjs ${backend} N = ${sizeLabel(n)}\n`);
      await bench.run();
      const median = (name: string): number => {
        const r = bench.getTask(name)!.result as { latency?: { p50?: number } } | undefined;
        return ((r?.latency?.p50 ?? NaN) * 1e6) / n;
      };
      lines.push({ backend, size: sizeLabel(n), adapterNs: median('adapter'), composedNs: median('composed'), agreement });
      tf.dispose([x, t]);
    }
  }
  return { lines, notes };
}

export function format({ lines, notes }: { lines: Line[]; notes: string[] }): string {
  const out = [
    'focal-wasm/tfjs: one loss + gradient step (tf.valueAndGrad), ns per element, median',
    '',
    '| backend | N | adapter (engine) | composed tf ops | speed-up | agreement |',
    '|---|---|---:|---:|---:|---:|',
    ...lines.map((l) => `| tfjs-${l.backend} | ${l.size} | ${l.adapterNs.toFixed(2)} | ${l.composedNs.toFixed(2)} | ` +
      `${(l.composedNs / l.adapterNs).toFixed(1)}x | ${l.agreement.toExponential(1)} |`),
    '',
    ...notes,
    `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, Node ${process.version}${QUICK ? ', BENCH_QUICK' : ''}`,
  ];
  return out.join('\n');
}

if (import.meta.url === new URL(`file://${process.argv[1] ?? ''}`).href) {
  console.log(format(await run()));
}
