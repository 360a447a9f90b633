// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * No two modules of src/ import each other, directly or around a loop (type
 * imports included): what both need lives in a module of its own.
 */

import * as fs from 'fs';
import * as path from 'path';

const SRC = path.resolve(__dirname, '..', '..');

/**
 * Every module of src/ (tests left out), by path without extension.
 */
function modules(dir = SRC): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === '__tests__' ? [] : modules(full);
    }
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')
      ? [full.replace(/\.tsx?$/, '')]
      : [];
  });
}

/**
 * The modules of src/ that `file` imports or re-exports from.
 */
function imports(file: string, known: Set<string>): string[] {
  const source = fs.readFileSync(
    fs.existsSync(`${file}.ts`) ? `${file}.ts` : `${file}.tsx`,
    'utf8'
  );
  const targets = [...source.matchAll(/\bfrom\s+'(\.[^']+)'/g)].map(match =>
    path.resolve(path.dirname(file), match[1])
  );
  return targets.filter(target => known.has(target));
}

describe('the module graph', () => {
  it('has no cycle', () => {
    const all = modules();
    const known = new Set(all);
    expect(known).toContain(path.join(SRC, 'server', 'describe'));
    const graph = new Map(all.map(m => [m, imports(m, known)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, trail: string[]): void => {
      if (state.get(node) === 'done') {
        return;
      }
      if (state.get(node) === 'open') {
        const loop = trail.slice(trail.indexOf(node)).concat(node);
        cycles.push(loop.map(m => path.relative(SRC, m)).join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) {
        visit(next, [...trail, node]);
      }
      state.set(node, 'done');
    };
    all.forEach(m => visit(m, []));
    expect(cycles).toEqual([]);
  });
});
