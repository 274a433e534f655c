// After tsc: the published JavaScript without its whitespace (esbuild's minifyWhitespace: names and structure stay,
// so a stack trace still reads), which keeps the unpacked package under 450 kB with two embedded wasm builds. The
// declarations keep their JSDoc (the API's hover documentation), except the internal ones (dist/core/, the pool's
// worker side, the generated wasm modules), reprinted without comments by TypeScript's printer: no user reads them,
// and the tarball stays under 150 kB.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';

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

const INTERNAL = [/^core[\\/]/, /^wasm[\\/]/, /^pool[\\/](worker|staging|shared-module)\.d\.ts$/];
const printer = ts.createPrinter({ removeComments: true });
let declarations = 0;
for (const file of readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.d.ts'))) {
  // core/public-types.d.ts holds the public option types (their JSDoc is what users hover): kept.
  if (!INTERNAL.some((pattern) => pattern.test(file)) || /public-types/.test(file)) continue;
  const path = join(dist, file);
  const source = readFileSync(path, 'utf8');
  const printed = printer.printFile(ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS));
  writeFileSync(path, printed);
  declarations += source.length - printed.length;
}
console.log(`dist/: internal declarations ${declarations} characters shorter (comments removed)`);

