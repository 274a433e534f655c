// `npm run lint`: checks the package as it would be published. Packs it once (without re-running the build: run
// `npm run build` first, as `npm test` does), then runs publint and @arethetypeswrong/cli on that tarball.
// attw runs with the esm-only profile: the package is ESM-only by design (no CommonJS build; Node >= 20.19
// can require() it), so "CommonJS consumers need a dynamic import" is expected, not a problem.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../', import.meta.url);
if (!existsSync(new URL('dist/index.js', root))) {
  console.error('lint: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'focal-wasm-lint-'));
let failed = false;
try {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }),
  );
  const tarball = join(dir, packed[0].filename);
  const run = (bin, args) => {
    const { status } = spawnSync(join(root.pathname, 'node_modules/.bin', bin), args, { cwd: root, stdio: 'inherit' });
    if (status !== 0) failed = true;
  };
  run('publint', ['run', tarball, '--strict']);
  run('attw', [tarball, '--profile', 'esm-only', '--format', 'table-flipped']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
