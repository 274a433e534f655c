// Node-side plumbing of the browser tests: a static server on 127.0.0.1, Debian's Chromium driven by
// playwright-core, the builds the pages load (esbuild, Vite), and the bit-for-bit comparison of encoded results.
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Encoded } from './cases.js';

export const root = fileURLToPath(new URL('../../', import.meta.url));
/** Everything the tests build and the pages load lives here (git-ignored): builds, screenshots. */
export const artifacts = resolve(root, 'test-artifacts');

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

// The flags that work on these machines: without the networking ones Chromium keeps dialling out and is refused.
const flags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Launches Chromium headless; playwright gives each launch a new, empty user-data-dir. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: flags, timeout: 60_000 });
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
  '.svg': 'image/svg+xml', '.npy': 'application/octet-stream',
};

/** Serves the repository root, read-only, on 127.0.0.1 at a random port. */
export async function serveRepo(): Promise<{ origin: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = resolve(root, `.${path}`);
    const type = types[extname(file)];
    try {
      if (!file.startsWith(root.endsWith(sep) ? root : root + sep) || !type || !(await stat(file)).isFile()) {
        throw new Error('not served');
      }
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(await readFile(file));
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${path}`);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Opens a page and returns what it left in globalThis.__focalResult; page errors and console errors fail it. */
export async function resultOf(browser: Browser, url: string): Promise<{ result: unknown; page: Page }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as Record<string, unknown>).__focalResult !== undefined, null, {
    timeout: 30_000,
  }).catch(() => { throw new Error(`${url} never set __focalResult\n${problems.join('\n')}`); });
  const result = await page.evaluate(() => (globalThis as Record<string, unknown>).__focalResult);
  if (problems.length > 0) throw new Error(`${url}:\n${problems.join('\n')}`);
  return { result, page };
}

export interface Tally {
  float32Arrays: number;
  float32Values: number;
  float64Values: number;
  errors: number;
  bits: number;
  mismatches: string[];
}

export const emptyTally = (): Tally => ({
  float32Arrays: 0, float32Values: 0, float64Values: 0, errors: 0, bits: 0, mismatches: [],
});

/** Compares two encoded results exactly, counting what was compared; differences are listed by path. */
export function compare(expected: Encoded | undefined, actual: Encoded | undefined, path: string, tally: Tally): void {
  if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    const got = actual as Record<string, unknown>;
    if ('f32' in expected && typeof expected.f32 === 'string') {
      tally.float32Arrays++;
      tally.float32Values += expected.length as number;
      tally.bits += (expected.length as number) * 32;
      if (got.f32 !== expected.f32) tally.mismatches.push(`${path}: float32 bits differ${firstDiff(expected, actual)}`);
      return;
    }
    if ('f64' in expected && typeof expected.f64 === 'string') {
      tally.float64Values++;
      tally.bits += 64;
      if (got.f64 !== expected.f64) tally.mismatches.push(`${path}: float64 ${expected.f64} in Node, ${String(got.f64)} here`);
      return;
    }
    if ('error' in expected && typeof expected.error === 'string') {
      tally.errors++;
      if (got.error !== expected.error || got.message !== expected.message) {
        tally.mismatches.push(`${path}: Node threw ${expected.error} '${String(expected.message)}', here ${JSON.stringify(actual)}`);
      }
      return;
    }
    const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
    for (const key of keys) {
      compare((expected as Record<string, Encoded>)[key], (actual as Record<string, Encoded>)[key], `${path}.${key}`, tally);
    }
    return;
  }
  if (JSON.stringify(expected) !== JSON.stringify(actual)) {
    tally.mismatches.push(`${path}: ${JSON.stringify(expected)} in Node, ${JSON.stringify(actual)} here`);
  }
}

function firstDiff(expected: Encoded, actual: Encoded): string {
  const a = (expected as { f32: string }).f32;
  const b = (actual as { f32?: unknown }).f32;
  if (typeof b !== 'string') return ` (got ${JSON.stringify(actual).slice(0, 80)})`;
  for (let i = 0; i < a.length; i += 8) {
    if (a.slice(i, i + 8) !== b.slice(i, i + 8)) return ` (first at [${i / 8}]: ${a.slice(i, i + 8)} vs ${b.slice(i, i + 8)})`;
  }
  return ` (lengths ${a.length / 8} vs ${b.length / 8})`;
}
