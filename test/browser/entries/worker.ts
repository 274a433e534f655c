// (d) A Web Worker using the engine: the same cases, both builds, createFocalSync included (workers may compile
// synchronously). Bundled by esbuild as a classic (IIFE) worker script.
import * as focal from 'focal-wasm';
import { runSuite } from '../cases.js';

runSuite(focal, true).then((result) => postMessage(result));
