// The demo end to end, as a function the entry point (demo/index.ts) and the test (test/demo.test.ts) both call:
// the paper's table, the two training runs, the report, the speed line. Returns every number it prints.
import cliProgress from 'cli-progress';
import type { Focal } from '../src/index.js';
import { DATA, makeData, type DataSet } from './data.js';
import { GAMMAS, PT_1000X, TABLE_PT, paperFigure1, type PaperResult } from './paper.js';
import { renderReport, screenshot, writeReport } from './report.js';
import { measureSpeed, type SpeedResult } from './speed.js';
import { CE, EASY_PT, FOCAL, FPR, train, type TrainConfig, type TrainResult } from './train.js';

export interface DemoOptions {
  /** Fewer anchors and steps, fewer speed runs, no report screenshot (for the tests). */
  fast?: boolean;
  seed?: number;
  /** Write the HTML report (default true). */
  report?: boolean;
  /** Take the screenshot of the report (default: true unless fast). */
  screenshot?: boolean;
  /** Measure the speed line (default true). */
  speed?: boolean;
  /** Where the report goes (default demo-out/). */
  outDir?: string;
  /** Draw a progress bar (default: when stdout is a terminal). */
  progress?: boolean;
  log?: (line: string) => void;
}

export interface DemoResult {
  paper: PaperResult;
  runs: { ce: TrainResult; focal: TrainResult };
  speed?: SpeedResult;
  reportPath?: string;
  screenshotPath?: string;
}

export const SETTINGS = {
  full: { positives: 500, steps: 200, evalEvery: 10 },
  fast: { positives: 300, steps: 120, evalEvery: 40 },
} as const;

const fmt = (x: number, digits = 3): string => x.toFixed(digits);
const pct = (x: number): string => (x < 0.01 ? `${(100 * x).toFixed(2)}%` : `${(100 * x).toFixed(1)}%`);
const int = (x: number): string => x.toLocaleString('en-US');
const times = (x: number): string =>
  x >= 1e6 ? `${x.toExponential(1)}x` : x >= 100 ? `${int(Math.round(x))}x` : `${x.toFixed(x >= 10 ? 0 : 1)}x`;
const loss3 = (x: number): string => (x < 1e-3 ? x.toExponential(2) : x.toPrecision(3));
const pad = (s: string, n: number): string => s.padStart(n);

function describe(set: DataSet): string {
  let hard = 0;
  for (let i = 0; i < set.n; i++) if (set.kind[i] === 1) hard++;
  return `${int(set.n)} anchors: ${int(set.positives)} objects, ${int(hard)} hard negatives (clutter), `
    + `${int(set.n - set.positives - hard)} easy negatives (background)`;
}

export async function runDemo(fl: Focal, options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const fast = options.fast ?? false;
  const seed = options.seed ?? 1;
  const settings = fast ? SETTINGS.fast : SETTINGS.full;

  log('focal-wasm demo: focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection"),');
  log(`computed by the WebAssembly engine (${fl.simd ? 'SIMD' : 'scalar'} build).`);
  log('');

  // 1. The paper's Fig. 1.
  const paper = paperFigure1(fl);
  log('1. What focal loss does: FL(p_t) = -(1 - p_t)^gamma log(p_t), gamma = 0 is cross-entropy (paper, Fig. 1)');
  log('');
  const head = ['p_t', ...GAMMAS.map((g) => `gamma=${g}`)];
  const w = [10, 11, 11, 11, 11, 11];
  log(`  ${head.map((h, i) => pad(h, w[i]!)).join('')}`);
  TABLE_PT.forEach((pT, k) => {
    log(`  ${pad(pT === PT_1000X ? '0.968' : pT.toFixed(2), w[0]!)}${paper.table.map((row, g) => pad(loss3(row[k]!), w[g + 1]!)).join('')}`);
  });
  log(`  ${'CE / FL'.padStart(w[0]!)}`);
  log(`  ${pad('p_t 0.9', w[0]!)}${paper.ratioAt09.map((r, g) => pad(times(r), w[g + 1]!)).join('')}`);
  log(`  ${pad('p_t 0.968', w[0]!)}${paper.ratioAt0968.map((r, g) => pad(times(r), w[g + 1]!)).join('')}`);
  log(`  With gamma = 2 an example at p_t = 0.9 weighs ${paper.ratioAt09[3]!.toFixed(1)}x less than under cross-entropy,`);
  log(`  at p_t = 0.968 ${paper.ratioAt0968[3]!.toFixed(0)}x less (paper: 100x and 1000x). The easy examples stop counting.`);
  log(`  Engine vs the float64 formula over ${int(paper.points)} points: max relative error ${paper.maxRelError.toExponential(1)}.`);
  log('');

  // 2. Two training runs, same data, seed and steps.
  const data = { train: makeData(settings.positives, seed * 101, DATA), test: makeData(settings.positives, seed * 101 + 7, DATA) };
  const config: TrainConfig = {
    steps: settings.steps, batch: 32768, learningRate: 0.05, evalEvery: settings.evalEvery, seed, prior: 0.01,
  };
  log('2. Why it exists: a rare class among many easy negatives (synthetic dense detection, 1 object per 1000 anchors)');
  log(`  train: ${describe(data.train)}`);
  log(`  test:  a fresh draw of the same size`);
  log(`  model: logistic regression on ${data.train.features} features (2 object cues, 1 background cue), Adam, lr ${config.learningRate},`);
  log(`         ${config.steps} steps of ${int(config.batch)} anchors, bias initialized to the prior 0.01 (paper, section 3.3)`);
  const showBar = options.progress ?? Boolean(process.stdout.isTTY);
  const bar = showBar
    ? new cliProgress.SingleBar({
      format: '  training {run} |{bar}| {value}/{total} steps', hideCursor: true, clearOnComplete: true,
    }, cliProgress.Presets.shades_classic)
    : undefined;
  const results: TrainResult[] = [];
  for (const loss of [CE, FOCAL]) {
    const run = loss === CE ? 'cross-entropy      ' : 'focal (gamma 2)    ';
    bar?.start(config.steps, 0, { run });
    results.push(train(fl, data, loss, config, (step) => bar?.update(step)));
    bar?.stop();
  }
  const [ce, focal] = results as [TrainResult, TrainResult];
  const cols = [34, 16, 28];
  const line = (name: string, a: string, b: string): void => log(`  ${name.padEnd(cols[0]!)}${pad(a, cols[1]!)}${pad(b, cols[2]!)}`);
  log('');
  line('', 'cross-entropy', 'focal (gamma 2, alpha 0.25)');
  line('average precision, rare class', fmt(ce.final.ap), fmt(focal.final.ap));
  line(`recall at ${FPR * 100}% false-positive rate`, fmt(ce.final.recallAtFpr), fmt(focal.final.recallAtFpr));
  line(`easy-negative loss share, step 0`, pct(ce.curve[0]!.easyShare), pct(focal.curve[0]!.easyShare));
  line(`easy-negative loss share, end`, pct(ce.final.easyShare), pct(focal.final.easyShare));
  line(`  ... of the negatives' loss, end`, pct(ce.final.easyShareOfNegatives), pct(focal.final.easyShareOfNegatives));
  log(`  (easy negative: a negative with p_t > ${EASY_PT}; shares of each run's own loss on the held-out anchors)`);
  log(`  Same data, seed and steps: focal loss reaches AP ${fmt(focal.final.ap)}, cross-entropy ${fmt(ce.final.ap)} (+${fmt(focal.final.ap - ce.final.ap)}).`);
  log('  Under cross-entropy the gradient is mostly easy background, so the model first learns the background cue and');
  log('  only slowly the object cues that tell objects from clutter; focal loss quiets the easy negatives and learns');
  log(fast
    ? '  the object cues within a few dozen steps. (Given enough steps cross-entropy gets there too: one optimum.)'
    : '  the object cues within a few dozen steps. (This linear model has one optimum: given 1000 steps, five times');
  if (!fast) log('  the budget, cross-entropy reaches the same AP.)');
  log('');

  // 3. The report.
  const result: DemoResult = { paper, runs: { ce, focal } };
  const setup = `Training: ${describe(data.train)}; logistic regression, ${config.steps} Adam steps, same seed for both runs.`;
  if (options.speed ?? true) result.speed = measureSpeed(fl, 1_000_000, fast ? 3 : 7);
  if (options.report ?? true) {
    result.reportPath = writeReport(renderReport(paper, results, result.speed, setup), options.outDir);
    log(`3. Report: ${result.reportPath}`);
    if (options.screenshot ?? !fast) {
      const shot = await screenshot(result.reportPath);
      if (shot.png) result.screenshotPath = shot.png;
      log(shot.png ? `   screenshot (headless Chromium): ${shot.png}` : `   (no screenshot: ${shot.skipped})`);
    }
    log('');
  }

  // 4. The speed line.
  if (result.speed) {
    const s = result.speed;
    log(`4. Speed, forward + gradient of the mean focal loss at N = ${int(s.n)}, measured now:`);
    log(`   engine ${s.engineMs.toFixed(2)} ms (${s.simd ? 'SIMD' : 'scalar'} build), plain TypeScript loop ${s.plainMs.toFixed(2)} ms:`
      + ` ${(s.plainMs / s.engineMs).toFixed(1)}x faster, gradients agree to ${s.gradDiff.toExponential(0)} relative.`);
    log('   (the loop is already written in the stable form, one exp and one log1p per element; against the loop');
    log('   written the obvious way, with Math.pow and two logs, see `npm run bench` and docs/performance.md)');
  }
  return result;
}
