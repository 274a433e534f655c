// The package in a real browser: Debian's Chromium, headless, driven by playwright-core against a static server on
// 127.0.0.1. Every context (plain ES module page, esbuild bundle, Vite build, classic and module workers) runs the
// cases of test/browser/cases.ts on both builds, and the results must equal Node's bit for bit.
// In CI (CI=true) a missing Chromium fails these tests; locally they skip with one line saying how to enable them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { Browser } from 'playwright-core';
import * as focal from '../dist/index.js';
import { Focal } from '../dist/index.js';
import { encodeNpy, parseNpy, toFloat32, toInt32, type NpyArray } from '../src/cli/npy.js';
import { cases, runSuite, type Encoded, type FocalApi, type SuiteResult } from './browser/cases.js';
import {
  artifacts, chromiumPath, compare, emptyTally, haveChromium, inCI, launchChromium, resultOf, root, serveRepo,
} from './browser/harness.js';

const out = resolve(artifacts, 'browser');
const api = focal as unknown as FocalApi;

describe('packaging for browsers', () => {
  it('reaches nothing Node-only from dist/index.js: an esbuild browser bundle needs no shim', async () => {
    // platform 'browser' cannot resolve fs/path/node:*; the IIFE format refuses top-level await.
    const result = await esbuild.build({
      entryPoints: [resolve(root, 'dist/index.js')], bundle: true, platform: 'browser', format: 'iife',
      globalName: 'focal', write: false, metafile: true, logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((f) => !f.startsWith('dist/'))).toEqual([]); // no runtime dependency: plain WebAssembly
    const code = result.outputFiles[0]!.text;
    for (const nodeOnly of [/\bprocess\s*\./, /\bBuffer\b/, /\brequire\s*\(/, /import\.meta\.url/, /\bnew URL\(/]) {
      expect(code, `bundle mentions ${nodeOnly}`).not.toMatch(nodeOnly);
    }
  });

  it('covers every public method of Focal with a case (add cases to test/browser/cases.ts)', () => {
    const methods = Object.getOwnPropertyNames(Focal.prototype).filter((m) => m !== 'constructor' && m !== 'simd');
    const covered = new Set(cases.map((c) => c.api));
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
  });
});

it.runIf(inCI)('CI=true: Chromium is installed, so the browser tests run and never skip', () => {
  expect(haveChromium, `no Chromium at ${chromiumPath}: .ci/run installs it with apt-get install -y chromium`).toBe(true);
});

if (!haveChromium && !inCI) {
  console.warn(`browser tests skipped: no Chromium at ${chromiumPath} — enable them with \`apt-get install -y chromium\``);
}

describe.skipIf(!haveChromium && !inCI)('in Chromium (bit-identical to Node)', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  let node: SuiteResult;

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`CI=true but no Chromium at ${chromiumPath}: .ci/run installs it with apt-get install -y chromium`);
    }
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    const { build: viteBuild } = await import('vite');
    const served = serveRepo();
    [browser] = await Promise.all([
      launchChromium(),
      // (a) the cases as a plain ES module beside dist/ (they import nothing, so no bundling)
      esbuild.build({ entryPoints: [resolve(root, 'test/browser/cases.ts')], outfile: resolve(out, 'cases.js'),
        format: 'esm', logLevel: 'warning' }),
      // (b) and (d): esbuild bundles for the browser, the worker as a classic script
      esbuild.build({ entryPoints: [resolve(root, 'test/browser/entries/bundle.ts')], bundle: true,
        platform: 'browser', format: 'esm', outfile: resolve(out, 'esbuild/bundle.js'), logLevel: 'warning' }),
      esbuild.build({ entryPoints: [resolve(root, 'test/browser/entries/worker.ts')], bundle: true,
        platform: 'browser', format: 'iife', outfile: resolve(out, 'esbuild/worker.js'), logLevel: 'warning' }),
      // (c) Vite with no configuration of its own beyond where to write
      viteBuild({ root: resolve(root, 'test/browser/vite'), configFile: false, logLevel: 'warn',
        base: '/test-artifacts/browser/vite/', worker: { format: 'es' },
        build: { outDir: resolve(out, 'vite'), emptyOutDir: true } }),
      // the loss inspector, built as `vite build examples/inspector` would
      viteBuild({ root: resolve(root, 'examples/inspector'), logLevel: 'warn', base: '/test-artifacts/browser/inspector/',
        build: { outDir: resolve(out, 'inspector'), emptyOutDir: true } }),
    ]);
    ({ origin, server } = await served);
    node = await runSuite(api, true);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((done) => (server ? server.close(done) : done(undefined)));
  });

  it('Node itself: the cases run, and only the error cases throw', () => {
    for (const [build, results] of Object.entries(node.results)) {
      for (const c of cases) {
        const r = results[c.name] as Record<string, unknown>;
        if ('missing' in r) continue;
        expect('error' in r, `${build} / ${c.name}: ${JSON.stringify(r).slice(0, 200)}`).toBe(c.name.startsWith('error:'));
      }
    }
    expect(node.simd).toEqual({ simd: true, scalar: false });
    expect(node.sync).toEqual({ simd: 'same', scalar: 'same' });
  });

  const contexts = [
    { name: '(a) plain <script type="module"> + import map', page: '/test/browser/pages/plain.html' },
    { name: '(b) esbuild bundle, (d) classic worker', page: '/test/browser/pages/esbuild.html' },
    { name: '(c) Vite build, (d) module worker', page: '/test-artifacts/browser/vite/index.html' },
  ];

  for (const context of contexts) {
    it(`${context.name}: both builds load, results and errors are Node's bit for bit`, async () => {
      const { result, page } = await resultOf(browser, origin + context.page);
      await page.close();
      const parts = result as Record<string, SuiteResult>;
      const tally = emptyTally();
      for (const [part, suite] of Object.entries(parts)) {
        expect(suite.simd, `${part}: which build runs`).toEqual({ simd: true, scalar: false });
        expect(suite.sync, `${part}: createFocalSync`).toEqual({ simd: 'same', scalar: 'same' });
        compare(node.optionErrors as Encoded, suite.optionErrors as Encoded, `${part}.optionErrors`, tally);
        compare(node.results as Encoded, suite.results as Encoded, part, tally);
      }
      console.log(
        `${context.name} [${Object.keys(parts).join(' + ')}], Chromium ${browser.version()}: ` +
        `${cases.length} cases × 2 builds; ${tally.float32Arrays} float32 arrays (${tally.float32Values} values), ` +
        `${tally.float64Values} float64 reductions, ${tally.errors} errors; ${tally.bits} bits compared, ` +
        `${tally.mismatches.length} differ`,
      );
      expect(tally.mismatches).toEqual([]);
      expect(tally.float32Values).toBeGreaterThan(0);
    });
  }

  it('the loss inspector shows the totals Node computes: live as the sliders move, from JSON picked or dropped, from .npy', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    const fl = await focal.createFocal();
    const sample = (name: string): string => resolve(root, `examples/inspector/public/${name}`);
    let renders = 0;
    const rendered = async (): Promise<{ focal: number; ce: number; status: string }> => {
      renders++;
      await page.waitForFunction((n) => Number(document.body.dataset.renders ?? 0) >= n, renders, { timeout: 20_000 });
      return page.evaluate(() => ({
        focal: Number((document.getElementById('total-focal') as HTMLElement).dataset.value),
        ce: Number((document.getElementById('total-ce') as HTMLElement).dataset.value),
        status: document.getElementById('status')?.textContent ?? '',
      }));
    };

    // The binary JSON sample at the defaults (gamma 2, alpha 0.25), then gamma 0.5 from the slider.
    const binary = JSON.parse(await readFile(sample('sample-binary.json'), 'utf8')) as { logits: number[]; labels: number[] };
    const [bx, bt] = [Float32Array.from(binary.logits), Float32Array.from(binary.labels)];
    await page.goto(`${origin}/test-artifacts/browser/inspector/index.html?sample=binary`);
    let shown = await rendered();
    expect(shown.focal, shown.status).toBe(fl.sigmoidFocalLoss(bx, bt));
    expect(shown.ce).toBe(fl.sigmoidFocalLoss(bx, bt, { gamma: 0, alpha: null }));
    await page.locator('#gamma').fill('0.5');
    shown = await rendered();
    expect(shown.focal, shown.status).toBe(fl.sigmoidFocalLoss(bx, bt, { gamma: 0.5 }));
    await page.locator('#alpha-on').uncheck();
    shown = await rendered();
    expect(shown.focal, shown.status).toBe(fl.sigmoidFocalLoss(bx, bt, { gamma: 0.5, alpha: null }));
    await page.locator('#gamma').fill('2');
    await rendered();

    // A file dropped on the page (the drop handler, with a real DataTransfer): alpha back to the binary default.
    await page.evaluate(async () => {
      const text = await (await fetch('sample-binary.json')).text();
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      document.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    });
    shown = await rendered();
    expect(shown.focal, shown.status).toBe(fl.sigmoidFocalLoss(bx, bt));
    expect(await page.locator('#dataset').textContent()).toBe('dropped.json');

    // Two .npy files picked: the multi-class sample where softmaxFocalLoss exists, else the binary one.
    const multi = typeof (fl as unknown as Record<string, unknown>).softmaxFocalLoss === 'function';
    const kind = multi ? 'multiclass' : 'binary';
    await page.locator('#file').setInputFiles([sample(`sample-${kind}-logits.npy`), sample(`sample-${kind}-labels.npy`)]);
    shown = await rendered();
    const npy = async (name: string): Promise<NpyArray> => parseNpy(new Uint8Array(await readFile(sample(name))));
    const [x, y] = [await npy(`sample-${kind}-logits.npy`), await npy(`sample-${kind}-labels.npy`)];
    const expected = multi
      ? (fl as unknown as { softmaxFocalLoss(x: Float32Array, y: Int32Array, o: object): number })
        .softmaxFocalLoss(toFloat32(x), toInt32(y), { classes: 5 })
      : fl.sigmoidFocalLoss(toFloat32(x), toFloat32(y));
    expect(shown.focal, shown.status).toBe(expected);

    // The labels as int64 (numpy's default integer): the same totals.
    const file = (name: string, bytes: Uint8Array) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    const logitsFile = file(`sample-${kind}-logits.npy`, await readFile(sample(`sample-${kind}-logits.npy`)));
    const int64 = encodeNpy(BigInt64Array.from(toInt32(y), (v) => BigInt(v)), y.shape);
    await page.locator('#file').setInputFiles([logitsFile, file('labels-int64.npy', int64)]);
    shown = await rendered();
    expect(shown.focal, shown.status).toBe(expected);
    expect(await page.locator('#dataset').textContent()).toBe(`sample-${kind}-logits.npy + labels-int64.npy`);

    // A truncated labels file: a message naming it, which outlives the redraws of the data still shown.
    await page.locator('#file').setInputFiles([logitsFile, file('broken-labels.npy', int64.subarray(0, int64.length - 8))]);
    await rendered();
    const loadError = page.locator('#load-error');
    expect(await loadError.textContent()).toMatch(/^could not load broken-labels\.npy: truncated or corrupt .npy file: .*\(still showing sample-/);
    await page.locator('#gamma').fill('1');
    await rendered();
    await page.locator('#gamma').fill('2');
    shown = await rendered();
    expect(await loadError.isVisible()).toBe(true);
    expect(await loadError.textContent()).toMatch(/broken-labels\.npy/);
    expect(shown.focal, shown.status).toBe(expected);

    // Back to the JSON sample (it names the classes) for the screenshot; same numbers as from .npy.
    await page.locator(`#sample-${kind}`).click();
    const fromJson = await rendered();
    expect(fromJson.focal).toBe(shown.focal);
    expect(await loadError.isHidden()).toBe(true);

    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: resolve(artifacts, 'inspector.png'), fullPage: true });
    console.log(`inspector: ${shown.status}; focal ${shown.focal}, CE ${shown.ce}; screenshot test-artifacts/inspector.png`);
    await page.close();
    expect(problems).toEqual([]);
  });

  it('createFocalSync where the main thread refuses synchronous compilation: a clear error, createFocal works', async () => {
    const { result, page } = await resultOf(browser, `${origin}/test/browser/pages/sync-refused.html`);
    await page.close();
    const fl = await focal.createFocal();
    expect(result).toEqual({
      refused: {
        cls: 'Error',
        message: 'createFocalSync: this runtime refuses to compile WebAssembly synchronously on this thread ' +
          '(WebAssembly.Module(): Buffer size is over 4KB, use WebAssembly.compile instead); ' +
          'use `await createFocal()` here, or createFocalSync in a Web Worker',
        cause: 'RangeError: WebAssembly.Module(): Buffer size is over 4KB, use WebAssembly.compile instead',
      },
      simd: true,
      loss: fl.sigmoidFocalLoss([0.5, -2], [1, 0]),
      afterAsync: true,
    });
  });
});
