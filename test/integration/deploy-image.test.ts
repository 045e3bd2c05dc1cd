/**
 * What the production image (deploy/Dockerfile) contains is enough to run:
 * the build stage copies only package files, tsconfig.json, shared/, node/
 * and cluster/, and the runtime stage installs only `dependencies`
 * (`npm ci --omit=dev`). Walking the require graph of the compiled entry
 * points proves that no runtime file needs anything else: no file outside
 * those folders, no devDependency, no package missing from package.json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../harness/wsha-cli';

const DIST = join(REPO_ROOT, 'dist');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
const BUILTINS = new Set(builtinModules);
/** The entry points the image runs: the CLI (node start and every command) and the compose backends. */
const ENTRIES = ['cluster/cli/main.js', 'cluster/demo/echo-backend.js'];

function resolveLocal(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const p of [base, `${base}.js`, `${base}.json`, join(base, 'index.js')]) if (existsSync(p) && statSync(p).isFile()) return p;
  return null;
}

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Every file reachable by static require() from the entries, and every package they name. */
function requireGraph(): { files: Set<string>; packages: Set<string>; unresolved: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const unresolved: string[] = [];
  const queue = ENTRIES.map((e) => join(DIST, e));
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    const file = queue[i];
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith('.js')) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/\brequire\((["'])([^"']+)\1\)/g)) {
      const spec = m[2];
      if (spec.startsWith('.')) {
        const target = resolveLocal(file, spec);
        if (target) queue.push(target);
        else unresolved.push(`${relative(REPO_ROOT, file)}: ${spec}`);
      } else if (!spec.startsWith('node:') && !BUILTINS.has(spec.split('/')[0])) {
        packages.add(packageOf(spec));
      }
    }
  }
  return { files, packages, unresolved };
}

test('the compiled entry points exist', () => {
  for (const e of ENTRIES) assert.ok(existsSync(join(DIST, e)), `dist/${e} missing: run npm run build`);
});

test('runtime code reaches only files the image has: dist/{shared,node,cluster} and package.json', () => {
  const { files, unresolved } = requireGraph();
  assert.deepEqual(unresolved, []);
  assert.ok(files.size > 30, `only ${files.size} files reached: the walker is broken`);
  const outside = [...files].map((f) => relative(REPO_ROOT, f)).filter((f) => !/^dist\/(shared|node|cluster)\//.test(f) && f !== 'package.json');
  assert.deepEqual(outside, [], 'runtime code needs files the Dockerfile does not copy');
});

test('runtime code needs only production dependencies (npm ci --omit=dev)', () => {
  const { packages } = requireGraph();
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  assert.ok(packages.has('ws') && packages.has('commander'), `expected ws and commander among ${[...packages]}`);
  const missing = [...packages].filter((p) => !deps.has(p));
  assert.deepEqual(missing, [], `required at run time but not in dependencies: ${missing.join(', ')}`);
  // pino loads its pretty transport by name, not by require().
  assert.ok(deps.has('pino-pretty'));
});

test('the Dockerfile copies those folders into the build stage and dist/ plus package files into the runtime', () => {
  const df = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const copied = [...df.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
  for (const need of ['package.json', 'package-lock.json', 'tsconfig.json', 'shared', 'node', 'cluster']) assert.ok(copied.includes(need), `Dockerfile does not COPY ${need}`);
  assert.match(df, /^COPY --from=build \/src\/dist \.\/dist$/m);
});
