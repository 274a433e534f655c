// (c, d) The module worker of the Vite page: the same cases, createFocalSync included.
import * as focal from 'focal-wasm';
import { runSuite } from '../cases.js';

runSuite(focal, true).then((result) => postMessage(result));
