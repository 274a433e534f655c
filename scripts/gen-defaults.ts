// `npm run docs:defaults`: writes the README's table of defaults (between the defaults markers) from the one
// defaults table, src/options/defaults.ts. test/defaults.test.ts fails when the README and the table disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULTS } from '../src/options/defaults.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const START = '<!-- defaults:start (npm run docs:defaults writes this table from src/options/defaults.ts) -->';
export const END = '<!-- defaults:end -->';

function shown(value: unknown): string {
  if (value === null) return '`null` (none)';
  return `\`${typeof value === 'string' ? `'${value}'` : String(value)}\``;
}

/** The table as the README shows it: one row per loss, its defaults in the table's order. */
export function renderDefaults(): string {
  const rows = Object.entries(DEFAULTS).map(([loss, defaults]) => {
    const cells = Object.entries(defaults).map(([option, value]) => `${option} ${shown(value)}`);
    return `| \`${loss}\` | ${cells.join(', ')} |`;
  });
  return ['| loss | defaults |', '| --- | --- |', ...rows].join('\n');
}

/** Where the markers are: the start marker's index and the end marker's, or undefined when either is missing. */
function markers(text: string): [number, number] | undefined {
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  return a < 0 || b < a ? undefined : [a, b];
}

/** The README's current table (between the markers), or undefined when the markers are missing. */
export function readmeDefaults(text = readFileSync(README, 'utf8')): string | undefined {
  const at = markers(text);
  return at && text.slice(at[0] + START.length, at[1]).trim();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = readFileSync(README, 'utf8');
  const at = markers(text);
  if (!at) throw new Error(`README.md has no ${START} ... ${END} block`);
  const [a, b] = at;
  writeFileSync(README, `${text.slice(0, a + START.length)}\n${renderDefaults()}\n${text.slice(b)}`);
  console.log('README.md: defaults table written from src/options/defaults.ts');
}
