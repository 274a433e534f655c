// The loss inspector page: load a dataset (a shipped sample, a picked or a dropped file), compute with the engine,
// draw with Observable Plot, and recompute live as the gamma / alpha sliders move.
import * as Plot from '@observablehq/plot';
import { createFocal, type Focal } from 'focal-wasm';
import { analyse, curveGrid, fig1Curve, type Analysis, type Settings } from './analysis.js';
import { fromJson, readFiles, type Dataset } from './data.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const PAPER_GAMMAS = [0, 0.5, 1, 2, 5];
const EASY_FLOOR = 1e-10; // per-sample losses below this share the histogram's first bin (a log axis has no 0)

let fl: Focal;
let data: Dataset | undefined;
let renders = 0;

function status(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/**
 * A file that could not be loaded: said in its own line, which stays until a dataset loads. The status line is
 * rewritten by every redraw (a slider, a resize) of the data still shown, so it would lose the message at once.
 */
function loadError(text: string | null): void {
  const el = $('load-error');
  el.textContent = text ?? '';
  el.hidden = text === null;
}

function settings(): Settings {
  const gamma = Number($<HTMLInputElement>('gamma').value);
  const alpha = $<HTMLInputElement>('alpha-on').checked ? Number($<HTMLInputElement>('alpha').value) : null;
  $('gamma-value').textContent = String(gamma);
  $('alpha-value').textContent = alpha === null ? 'off' : String(alpha);
  return { gamma, alpha };
}

function show(id: string, node: Node): void {
  $(id).replaceChildren(node);
}

const fixed = (v: number): string => (v >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

function card(id: string, value: number): void {
  const el = $(id);
  el.textContent = fixed(value);
  el.dataset.value = String(value); // the exact float64, for tests and copy-paste
}

let paperCurves: { pT: number; loss: number; gamma: string }[] | undefined;

function drawFig1(a: Analysis, gamma: number): void {
  paperCurves ??= PAPER_GAMMAS.flatMap((g) => {
    const loss = fig1Curve(fl, g);
    return Array.from(curveGrid, (pT, i) => ({ pT, loss: loss[i]!, gamma: `γ = ${g}` }));
  });
  const current = fig1Curve(fl, gamma);
  const currentRows = Array.from(curveGrid, (pT, i) => ({ pT, loss: current[i]! }));
  const samplePT = Array.from(a.perSampleCe, (ce) => Math.exp(-ce));
  const width = $('fig1').clientWidth;
  show('fig1', Plot.plot({
    width, height: 300, marginLeft: 44,
    x: { domain: [0, 1], label: 'probability of ground truth class (p_t)' },
    y: { domain: [0, 5], label: 'loss', grid: true },
    color: { legend: true, scheme: 'viridis', domain: PAPER_GAMMAS.map((g) => `γ = ${g}`) },
    marks: [
      Plot.rectX([0], { x1: 0.6, x2: 1, y1: 0, y2: 5, fill: '#3b6fd8', fillOpacity: 0.05 }),
      Plot.text(['well-classified examples'], { x: 0.8, y: 4.6, fill: '#3b6fd8' }),
      Plot.ruleX(samplePT, { x: (d: number) => d, y1: 0, y2: 0.25, stroke: '#b42318', strokeOpacity: 0.12 }),
      Plot.line(paperCurves, { x: 'pT', y: 'loss', stroke: 'gamma', strokeWidth: 1.5, clip: true }),
      Plot.line(currentRows, { x: 'pT', y: 'loss', stroke: '#111', strokeWidth: 2.5, strokeDasharray: '6 3', clip: true }),
      Plot.text([currentRows[120]!], {
        x: 'pT', y: 'loss', text: () => `slider γ = ${gamma}`, dx: 6, dy: -10, textAnchor: 'start', fontWeight: 'bold',
        fill: '#111', stroke: 'white', strokeWidth: 4,
      }),
    ],
  }));
}

function drawPerClass(a: Analysis): void {
  const rows = a.perClass.flatMap((c) => [
    { name: c.name, loss: 'focal', share: c.focalShare, mean: c.focalMean, count: c.count },
    { name: c.name, loss: 'cross-entropy', share: c.ceShare, mean: c.ceMean, count: c.count },
  ]);
  show('per-class', Plot.plot({
    width: $('per-class').clientWidth, height: 300, marginLeft: 44, marginTop: 36,
    fx: { label: null, domain: a.perClass.map((c) => c.name) },
    x: { axis: null, domain: ['focal', 'cross-entropy'] },
    y: { label: 'share of total loss', tickFormat: '%', grid: true, domain: [0, 1] },
    color: { legend: true, domain: ['focal', 'cross-entropy'], range: ['#3b6fd8', '#c9cfdb'] },
    marks: [
      Plot.barY(rows, { fx: 'name', x: 'loss', y: 'share', fill: 'loss', title: (d) =>
        `${d.name} (${d.count} samples): ${d.loss} mean ${fixed(d.mean)}, ${(100 * d.share).toFixed(1)}% of total` }),
      Plot.text(rows, { fx: 'name', x: 'loss', y: 'share', text: (d) => `${Math.round(100 * d.share)}%`, dy: -7 }),
      Plot.axisFx({ label: null, text: (name: string) => `${name} (${a.perClass.find((c) => c.name === name)?.count})` }),
      Plot.ruleY([0]),
    ],
  }));
}

function drawHistogram(a: Analysis): void {
  const clamp = (v: number): number => Math.max(v, EASY_FLOOR);
  const top = Math.max(clamp(a.perSampleCe.reduce((m, v) => Math.max(m, v), 0)), 1);
  const bins = 36;
  const thresholds = Array.from({ length: bins + 1 }, (_, k) => EASY_FLOOR * (top / EASY_FLOOR) ** (k / bins));
  show('histogram', Plot.plot({
    width: $('histogram').clientWidth, height: 330, marginLeft: 44,
    x: { type: 'log', label: `per-sample loss (values below ${EASY_FLOOR} in the first bin)` },
    y: { label: 'samples', grid: true, nice: true },
    marks: [
      Plot.rectY(a.perSampleFocal, { ...Plot.binX({ y: 'count' }, { x: clamp, thresholds }), fill: '#3b6fd8', fillOpacity: 0.8 }),
      Plot.lineY(a.perSampleCe, { ...Plot.binX({ y: 'count' }, { x: clamp, thresholds }), curve: 'step', stroke: '#6b7384' }),
      Plot.ruleY([0]),
    ],
  }));
}

function drawHardest(a: Analysis): void {
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>#</th><th>label</th><th>predicted</th><th>p<sub>t</sub></th>' +
    '<th>focal</th><th>CE</th></tr></thead>';
  const body = table.createTBody();
  for (const s of a.hardest) {
    const row = body.insertRow();
    for (const [text, cls] of [
      [String(s.index), ''], [s.label, ''], [s.predicted, s.predicted === s.label ? '' : 'wrong'],
      [s.pT.toFixed(4), ''], [fixed(s.focal), ''], [fixed(s.ce), ''],
    ] as const) {
      const cell = row.insertCell();
      cell.textContent = text;
      if (cls) cell.className = cls;
    }
  }
  show('hardest', table);
}

function render(): void {
  if (!data) return;
  const s = settings();
  try {
    const started = performance.now();
    const a = analyse(fl, data, s);
    const ms = performance.now() - started;
    $('dataset').textContent = `${data.name}`;
    card('total-focal', a.focal);
    card('total-ce', a.ce);
    $('ratio').textContent = a.ce > 0 ? (a.focal / a.ce).toFixed(3) : '—';
    drawFig1(a, s.gamma);
    drawPerClass(a);
    drawHistogram(a);
    drawHardest(a);
    status(`${data.n} samples${data.kind === 'multiclass' ? ` × ${data.classes} classes (softmax focal loss)`
      : ' (sigmoid focal loss)'} · losses computed in ${ms.toFixed(1)} ms`);
  } catch (e) {
    // Redrawn, and so shown again, at every redraw of this dataset; it names the data it is about.
    status(`${data.name}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, true);
  }
  document.body.dataset.renders = String(++renders);
}

function use(dataset: Dataset): void {
  data = dataset;
  loadError(null);
  // Defaults as the APIs have them: alpha 0.25 for sigmoid focal loss, none for softmax.
  $<HTMLInputElement>('alpha-on').checked = dataset.kind === 'binary';
  render();
}

async function loadSample(name: 'binary' | 'multiclass'): Promise<void> {
  $<HTMLInputElement>('file').value = ''; // the picker no longer shows what is loaded
  const response = await fetch(`${import.meta.env.BASE_URL}sample-${name}.json`);
  use(fromJson(`sample-${name}.json`, await response.text()));
}

async function loadFiles(files: File[]): Promise<void> {
  if (files.length === 0) return;
  try {
    use(await readFiles(files));
  } catch (e) {
    // The messages name the file; the page goes on showing the dataset it had, and says so.
    loadError(`could not load ${e instanceof Error ? e.message : String(e)}${data ? ` (still showing ${data.name})` : ''}`);
    document.body.dataset.renders = String(++renders);
  }
}

async function main(): Promise<void> {
  fl = await createFocal();
  $('engine').textContent = fl.simd ? 'WebAssembly SIMD build' : 'WebAssembly scalar build';
  let frame = 0;
  const schedule = (): void => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(render);
  };
  for (const id of ['gamma', 'alpha', 'alpha-on']) $(id).addEventListener('input', schedule);
  $<HTMLInputElement>('file').addEventListener('change', (e) => {
    void loadFiles(Array.from((e.target as HTMLInputElement).files ?? []));
  });
  $('sample-binary').addEventListener('click', () => void loadSample('binary'));
  $('sample-multiclass').addEventListener('click', () => void loadSample('multiclass'));
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    void loadFiles(Array.from(e.dataTransfer?.files ?? []));
  });
  addEventListener('resize', schedule);

  const hasSoftmax = typeof (fl as unknown as Record<string, unknown>).softmaxFocalLoss === 'function';
  const asked = new URLSearchParams(location.search).get('sample');
  await loadSample(asked === 'binary' || asked === 'multiclass' ? asked : hasSoftmax ? 'multiclass' : 'binary');
}

main().catch((e: unknown) => status(`could not start: ${e instanceof Error ? e.message : String(e)}`, true));
