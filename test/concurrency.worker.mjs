// A worker_threads worker for test/concurrency.test.ts: its own engine from the built package (dist/index.js),
// fed jobs over SharedArrayBuffer-backed inputs that every worker reads at once; answers go back as copies.
import { parentPort, workerData } from 'node:worker_threads';
import { createFocalSync } from '../dist/index.js';

const fl = createFocalSync({ simd: workerData.simd });

parentPort.on('message', (job) => {
  if (job === 'exit') {
    parentPort.close();
    return;
  }
  const results = job.calls.map(({ api, args, options }) => {
    const value = fl[api](...args, options);
    return value;
  });
  parentPort.postMessage({ id: job.id, simd: fl.simd, results });
});
