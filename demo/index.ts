// `npm run demo`: what focal loss is for, shown on this engine in well under a minute. `--fast` (or
// FOCAL_DEMO_FAST=1) runs the short version the tests use. Everything lives in run.ts; this file only starts it.
import { createFocal } from '../src/index.js';
import { runDemo } from './run.js';

const fast = process.argv.includes('--fast') || process.env.FOCAL_DEMO_FAST === '1';
await runDemo(await createFocal(), { fast });
