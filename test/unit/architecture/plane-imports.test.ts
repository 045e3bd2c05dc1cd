/**
 * The planes meet only at ports in shared/ (issue 11): node/ (data plane)
 * and cluster/ (control plane and operator surface) import shared/ and
 * their own tree, never each other; shared/ imports neither. The one
 * composition root that may assemble both is listed below. Imports are read
 * from the TypeScript sources (static `import`/`export ... from`, `import()`
 * and `require()`), resolved against the importing file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from '../../../shared/build/config-reference';

/** Folders that may import both planes (the composition root of a node process). */
const COMPOSITION_ROOTS = ['cluster/node-process/'];
const PLANES = ['node', 'cluster', 'shared'] as const;
type Plane = (typeof PLANES)[number];
/** What each plane may import, besides itself. */
const ALLOWED: Record<Plane, readonly Plane[]> = { node: ['shared'], cluster: ['shared'], shared: [] };

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** Relative module specifiers of one source text (comments stripped first, so a doc example is not an import). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(SPECIFIER)) if (m[1]!.startsWith('.')) out.push(m[1]!);
  return out;
}

function planeOf(repoPath: string): Plane | null {
  const top = repoPath.split('/')[0];
  return (PLANES as readonly string[]).includes(top!) ? (top as Plane) : null;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Every import that crosses planes where it may not, as `file -> target`. */
export function crossPlaneImports(root: string): string[] {
  const bad: string[] = [];
  for (const plane of PLANES) {
    for (const file of tsFiles(join(root, plane))) {
      const from = relative(root, file).split(sep).join('/');
      if (COMPOSITION_ROOTS.some((r) => from.startsWith(r))) continue;
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const target = relative(root, resolve(dirname(file), spec)).split(sep).join('/');
        // package.json is read from dist/ at run time, one folder further up than from the source.
        if (target.endsWith('package.json')) continue;
        const to = planeOf(target);
        if (to === null) { bad.push(`${from} -> ${target} (outside the planes)`); continue; }
        if (to !== plane && !ALLOWED[plane].includes(to)) bad.push(`${from} -> ${target}`);
      }
    }
  }
  return bad;
}

test('node/ and cluster/ import only shared/ and themselves; shared/ imports neither', () => {
  assert.deepEqual(crossPlaneImports(REPO_ROOT), []);
});

test('the import reader sees static, re-export, dynamic and require imports, and not ones in comments', () => {
  const src = [
    "import { a } from '../cluster/a';",
    "export { b } from './b';",
    "import type { C } from \"../../shared/c\";",
    "const d = await import('../node/d');",
    "const e = require('../../package.json');",
    "import '../side-effect';",
    '/** import { x } from "../cluster/doc-example"; */',
    "// import { y } from '../cluster/commented-out';",
    "import { z } from 'node:fs';",
  ].join('\n');
  assert.deepEqual(importsOf(src), ['../cluster/a', './b', '../../shared/c', '../node/d', '../../package.json', '../side-effect']);
});

test('a cross-plane import is reported (the check can fail)', (t) => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = require('node:fs') as typeof import('node:fs');
  const root = mkdtempSync(join(require('node:os').tmpdir(), 'wsha-planes-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const d of ['node/x', 'cluster/y', 'shared', 'cluster/node-process']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'node/x/a.ts'), "import { b } from '../../cluster/y/b';\nimport { s } from '../../shared/s';\n");
  writeFileSync(join(root, 'cluster/y/b.ts'), "export const b = 1;\n");
  writeFileSync(join(root, 'shared/s.ts'), "import { a } from '../node/x/a';\nexport const s = 1;\n");
  writeFileSync(join(root, 'cluster/node-process/root.ts'), "import { a } from '../../node/x/a';\n");
  assert.deepEqual(crossPlaneImports(root).sort(), ['node/x/a.ts -> cluster/y/b', 'shared/s.ts -> node/x/a']);
});
