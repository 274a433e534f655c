// Every public function's outputs, bit for bit, against the baseline recorded before the boundary redesign
// (test/output-hashes.json, from `npx tsx scripts/record-outputs.ts --write test/output-hashes.json`). The grid,
// the inputs (seeded) and the hashing are scripts/record-outputs.ts's; a refactor that changes any output, on
// either build, in the pool or through tfjs, fails here with the names of the cases that changed.
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { compareRecordings, readRecording, recordOutputs } from '../scripts/record-outputs.js';

const BASELINE = fileURLToPath(new URL('./output-hashes.json', import.meta.url));

test('every public output equals the recorded baseline (test/output-hashes.json)', async () => {
  const expected = readRecording(BASELINE);
  const { recording, mirrorDiffs, surprises } = await recordOutputs();
  const diffs = compareRecordings(expected, recording);
  const report = diffs.slice(0, 200).map((d) => d.message).join('\n') +
    (diffs.length > 200 ? `\n... and ${diffs.length - 200} more` : '');
  expect(diffs.length, `${diffs.length} of ${Object.keys(recording).length} cases differ:\n${report}`).toBe(0);
  // The pool gives the single engine's outputs, and each error case throws (these are in the hashes too).
  expect(mirrorDiffs, mirrorDiffs.join('\n')).toEqual([]);
  expect(surprises, surprises.join('\n')).toEqual([]);
});
