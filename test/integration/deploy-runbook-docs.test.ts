/**
 * The runbooks stay true to the code they describe: every warning code that
 * `wsha status` can print has a row in reading-status.md, every `wsha`
 * command the runbooks use exists in the CLI, and every config key they
 * name exists in the schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReference } from '../../shared/build/config-reference';
import { runWsha, REPO_ROOT } from '../harness/wsha-cli';

const RUNBOOKS = join(REPO_ROOT, 'deploy', 'runbooks');
const runbooks = readdirSync(RUNBOOKS).filter((f) => f.endsWith('.md')).map((f) => ({ name: f, text: readFileSync(join(RUNBOOKS, f), 'utf8') }));

test('the seven runbooks are there', () => {
  const names = runbooks.map((r) => r.name).sort();
  assert.deepEqual(names, ['add-node.md', 'first-install.md', 'jwt-key-rotation.md', 'planned-maintenance.md', 'reading-status.md', 'redis.md', 'tls-rotation.md']);
});

test('reading-status.md explains every warning code of wsha status', () => {
  const src = readFileSync(join(REPO_ROOT, 'cluster', 'status', 'status-document.ts'), 'utf8');
  const union = /code:\s*((?:'[a-z-]+'\s*\|?\s*)+);/.exec(src);
  assert.ok(union, 'StatusWarning code union not found in cluster/status/status-document.ts');
  const codes = [...union[1].matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
  assert.ok(codes.length >= 5, `found only ${codes}`);
  const doc = runbooks.find((r) => r.name === 'reading-status.md')!.text;
  const rows = new Set([...doc.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]));
  assert.deepEqual(codes.filter((c) => !rows.has(c)), [], 'warning codes without a row in reading-status.md');
  assert.deepEqual([...rows].filter((r) => !codes.includes(r)), [], 'rows for warning codes wsha status no longer has');
});

test('every wsha command used in the runbooks exists', async () => {
  const commands = new Set<string>();
  for (const r of runbooks) {
    for (const block of r.text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
      for (const m of block[1].matchAll(/(?:^|&&|;)[ \t]*wsha ([a-z]+)(?: ([a-z]+))?/gm)) commands.add(m[2] && ['cert', 'config', 'node', 'vip'].includes(m[1]) ? `${m[1]} ${m[2]}` : m[1]);
    }
  }
  assert.ok(commands.has('drain') && commands.has('status'), [...commands].join(', '));
  // Each `--help` runs at the same time.
  const list = [...commands];
  const helps = await Promise.all(list.map((c) => runWsha([...c.split(' '), '--help'])));
  const missing = list.filter((c, i) => !helps[i]!.stdout.startsWith(`Usage: wsha ${c} `));
  assert.deepEqual(missing, [], 'runbooks use wsha commands the CLI does not have');
});

test('every config key the runbooks name exists in the schema', () => {
  const keys = new Set(buildReference().map((r) => r.key.replace(/\[\]/g, '').replace(/\.<name>/g, '')));
  const named = new Set<string>();
  for (const r of runbooks) for (const m of r.text.matchAll(/`((?:cluster|node|listeners|pools|limits|vips)\.[A-Za-z.[\]]+)`/g)) named.add(m[1].replace(/\[\]/g, ''));
  assert.ok(named.size >= 5, `found only ${[...named]}`);
  assert.deepEqual([...named].filter((k) => !keys.has(k)), [], 'runbooks name config keys the schema does not have');
});
