// (c) Vite: the package imported by name, the cases run on the main thread and in a Vite-bundled module worker.
import * as focal from 'focal-wasm';
import { runSuite, type SuiteResult } from '../cases.js';

function inWorker(): Promise<SuiteResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (event: MessageEvent<SuiteResult>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`worker: ${event.message}`));
  });
}

(globalThis as Record<string, unknown>).__focalResult = Promise.all([runSuite(focal, true), inWorker()])
  .then(([main, worker]) => ({ main, worker }));
