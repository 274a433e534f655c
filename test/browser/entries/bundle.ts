// (b) An esbuild bundle (platform 'browser') of the package as a user imports it, plus (d) a classic Web Worker,
// also an esbuild bundle, that runs the same cases with createFocalSync allowed.
import * as focal from 'focal-wasm';
import { runSuite, type SuiteResult } from '../cases.js';

function inWorker(): Promise<SuiteResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/test-artifacts/browser/esbuild/worker.js');
    worker.onmessage = (event: MessageEvent<SuiteResult>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
  });
}

(globalThis as Record<string, unknown>).__focalResult = Promise.all([runSuite(focal, true), inWorker()])
  .then(([main, worker]) => ({ main, worker }));
