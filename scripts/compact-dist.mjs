// After tsc: the published JavaScript without its whitespace (esbuild's minifyWhitespace: names and structure stay,
// so a stack trace still reads), which keeps the unpacked package under 450 kB with two embedded wasm builds. The
// declarations (.d.ts, with their JSDoc) are left as tsc wrote them.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
let before = 0;
let after = 0;
for (const file of readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.js'))) {
  const path = join(dist, file);
  const source = readFileSync(path, 'utf8');
  const { code } = await esbuild.transform(source, { minifyWhitespace: true, format: 'esm', target: 'es2022', charset: 'utf8' });
  writeFileSync(path, code);
  before += source.length;
  after += code.length;
}
console.log(`dist/: ${before} -> ${after} characters of JavaScript (whitespace removed)`);
