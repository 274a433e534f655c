// The layering docs/internals.md's "Where things live" describes, held by a test: no import circle in src/ (type-only
// imports included), the kernels' ABI constants defined once (assembly/abi.ts only re-exports src/core/abi.ts),
// and no exported kernel taking more than 8 parameters.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'wasm' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Each src file's imports of other src files (relative specifiers, .js mapped back to .ts). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)]
      .map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
      .filter((target) => !target.includes(`${join('src', 'wasm')}`));
    graph.set(file, targets);
  }
  return graph;
}

describe('the structure of src/ and assembly/', () => {
  test('src/ has no import circle (type-only imports included)', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(20);
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(root, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });

  test('the ABI is defined once: assembly/abi.ts re-exports src/core/abi.ts, and no kernel file redefines a name of it', () => {
    expect(readFileSync(join(root, 'assembly/abi.ts'), 'utf8')).toMatch(/export \* from '\.\.\/src\/core\/abi';/);
    const names = [...readFileSync(join(root, 'src/core/abi.ts'), 'utf8').matchAll(/export const (\w+)/g)].map((m) => m[1]!);
    expect(names).toContain('PARAM_GAMMA');
    for (const file of sources(join(root, 'assembly'))) {
      if (file.endsWith('abi.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const name of names) expect(text, `${relative(root, file)} redefines ${name}`).not.toMatch(new RegExp(`const ${name}\\b`));
    }
  });

  test('no exported kernel takes more than 8 parameters', () => {
    const wide: string[] = [];
    for (const file of sources(join(root, 'assembly'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/export function (\w+)\(([^)]*)\)/g)) {
        const count = m[2]!.split(',').filter((p) => p.trim() !== '').length;
        if (count > 8) wide.push(`${m[1]} (${count})`);
      }
    }
    expect(wide).toEqual([]);
  });
});
