// The demo's picture: an HTML page in demo-out/ with the Fig. 1 curves and the two training runs, drawn by
// Observable Plot in Node (linkedom supplies the DOM), then a screenshot of it by headless Chromium if one is there.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import { GAMMAS, type PaperResult } from './paper.js';
import type { SpeedResult } from './speed.js';
import { EASY_PT, FPR, type TrainResult } from './train.js';

export const CHROMIUM = '/usr/bin/chromium';

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function pct(x: number): string {
  return x < 0.01 ? `${(100 * x).toFixed(2)}%` : `${(100 * x).toFixed(1)}%`;
}

export function renderReport(paper: PaperResult, runs: TrainResult[], speed: SpeedResult | undefined, setup: string): string {
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  const common = {
    document, width: 540, height: 330, marginLeft: 48, marginBottom: 40, style: { fontSize: '12px', background: 'white' },
  };
  const figure1 = Plot.plot({
    ...common,
    title: 'Loss vs probability of the ground-truth class (Fig. 1)',
    x: { label: 'probability of ground-truth class, p_t', domain: [0, 1], grid: true },
    y: { label: 'loss', domain: [0, 5], grid: true },
    color: {
      legend: true, type: 'ordinal', domain: [...GAMMAS], range: GAMMAS.map(lossColor),
      tickFormat: (g: number) => (g === 0 ? 'γ = 0 (cross-entropy)' : `γ = ${g}`),
    },
    marks: [
      Plot.rectX([{ x1: 0.5, x2: 1 }], { x1: 'x1', x2: 'x2', fill: '#eef3f8' }),
      Plot.text([{ x: 0.75, y: 4.6 }], { x: 'x', y: 'y', text: () => 'well-classified examples (p_t > 0.5)', fill: '#555' }),
      Plot.line(paper.curves.filter((d) => d.loss <= 5.5), { x: 'pT', y: 'loss', stroke: 'gamma', strokeWidth: 2, clip: true }),
    ],
  });
  const curve = runs.flatMap((r) => r.curve.map((m) => ({ ...m, run: label(r) })));
  const apPlot = Plot.plot({
    ...common,
    title: 'Average precision of the rare class (held-out anchors) during training',
    x: { label: 'training step', grid: true },
    y: { label: 'average precision', domain: [0, 1], grid: true },
    color: { legend: true, domain: runs.map(label), range: runs.map((r) => lossColor(r.loss.gamma)) },
    marks: [Plot.line(curve, { x: 'step', y: 'ap', stroke: 'run', strokeWidth: 2 })],
  });
  const sharePlot = Plot.plot({
    ...common,
    title: `Share of the loss from easy negatives (p_t > ${EASY_PT}), held-out anchors`,
    x: { label: 'training step', grid: true },
    y: { label: 'share of total loss', domain: [0, 1], grid: true, tickFormat: '%' },
    color: { legend: true, domain: runs.map(label), range: runs.map((r) => lossColor(r.loss.gamma)) },
    marks: [Plot.line(curve, { x: 'step', y: 'easyShare', stroke: 'run', strokeWidth: 2 })],
  });
  const rows = runs.map((r) => `<tr><th>${escapeHtml(label(r))}</th><td><b>${r.final.ap.toFixed(3)}</b></td>`
    + `<td>${r.final.recallAtFpr.toFixed(3)}</td><td>${pct(r.curve[0]!.easyShare)} → ${pct(r.final.easyShare)}</td></tr>`).join('');
  const speedLine = speed
    ? `<p>Speed, forward + gradient at N = ${speed.n.toLocaleString('en-US')}: engine ${speed.engineMs.toFixed(1)} ms`
      + ` (${speed.simd ? 'SIMD' : 'scalar'} build), plain TypeScript ${speed.plainMs.toFixed(1)} ms:`
      + ` <b>${(speed.plainMs / speed.engineMs).toFixed(1)}× faster</b>.</p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>focal-wasm demo report</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1120px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
  .row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-bottom: 28px; }
  figure { margin: 0; } figure h2 { font-size: 13px; font-weight: 600; margin: 0 0 4px; }
  table { border-collapse: collapse; } td, th { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: right; }
  th:first-child { text-align: left; } .note { color: #555; }
</style></head>
<body>
<h1>focal-wasm demo</h1>
<p class="note">Focal loss (Lin et al. 2017) computed by the focal-wasm engine. ${escapeHtml(setup)}</p>
<div class="row">${figure1.outerHTML}${apPlot.outerHTML}</div>
<div class="row">${sharePlot.outerHTML}
<div style="max-width: 540px"><h2>Rare class, after training (same data, seed and steps)</h2>
<table><tr><th></th><th>AP</th><th>recall at<br>${FPR * 100}% FPR</th><th>easy-negative<br>loss share</th></tr>${rows}</table>
<p class="note">Loss share: at step 0 → after training. In this linear model cross-entropy reaches the same AP too,
given enough steps (1000, five times the full demo's budget): focal loss gets there first because easy negatives
stop dominating its gradient.</p>
<p>CE / FL at p_t = 0.9 with γ = 2: ${paper.ratioAt09[3]!.toFixed(1)}×; at p_t ≈ 0.968: ${paper.ratioAt0968[3]!.toFixed(0)}×.</p>
${speedLine}</div></div>
</body></html>
`;
}

/**
 * One colour per loss in every panel: a gamma's curve in Fig. 1 and the training run with that gamma share it
 * (cross-entropy, gamma 0, red; the focal run's gamma 2 blue; the other Fig. 1 curves their own).
 */
export function lossColor(gamma: number): string {
  const colors: Record<number, string> = { 0: '#d62728', 0.5: '#ff7f0e', 1: '#2ca02c', 2: '#1f77b4', 5: '#9467bd' };
  return colors[gamma] ?? '#7f7f7f';
}

export function label(r: TrainResult): string {
  return r.loss.gamma === 0 ? 'cross-entropy' : `focal (γ = ${r.loss.gamma}, α = ${r.loss.alpha})`;
}

/** demo-out/ at the top of the repository (git-ignored), wherever the demo is started from. */
export const OUT_DIR = fileURLToPath(new URL('../demo-out/', import.meta.url));

export function writeReport(html: string, dir = OUT_DIR): string {
  mkdirSync(dir, { recursive: true });
  const path = resolve(join(dir, 'report.html'));
  writeFileSync(path, html);
  return path;
}

/** Screenshots the report with headless Chromium; `skipped` says why when there is none or it will not start. */
export async function screenshot(htmlPath: string): Promise<{ png?: string; skipped?: string }> {
  if (!existsSync(CHROMIUM)) return { skipped: `no browser at ${CHROMIUM}` };
  const { chromium } = await import('playwright-core');
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  } catch (error) {
    // The screenshot is a convenience: a browser that will not start must not fail the demo.
    return { skipped: `Chromium did not start (${String((error as Error).message).split('\n')[0]})` };
  }
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    await page.goto(pathToFileURL(htmlPath).href);
    const png = htmlPath.replace(/\.html$/, '.png');
    await page.screenshot({ path: png, fullPage: true });
    return { png };
  } finally {
    await browser.close();
  }
}
