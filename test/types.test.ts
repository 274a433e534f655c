// Specification for the boundary redesign: result types follow the options (test/types/consumer.ts). The consumer
// file is type-checked by tsc under strict: true with its own tsconfig (the root tsconfig excludes test/types), and
// must compile with no error: every `const a: number = fl.sigmoidFocalLoss(x, t)` there holds, and every line
// marked as an expected error is one. Before the redesign every loss returned number | Float32Array.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

test('test/types/consumer.ts type-checks: result types follow the reduction, the compat preset and the method', () => {
  const tsc = spawnSync('node_modules/.bin/tsc', ['-p', 'test/types/tsconfig.json'], { cwd: root, encoding: 'utf8' });
  const output = `${tsc.stdout ?? ''}${tsc.stderr ?? ''}`;
  if (tsc.status !== 0) console.log(`tsc -p test/types/tsconfig.json (exit ${tsc.status}):\n${output}`);
  expect(tsc.error).toBeUndefined();
  expect(tsc.status, output.split('\n').filter((l) => /error TS/.test(l)).slice(0, 20).join('\n')).toBe(0);
});
