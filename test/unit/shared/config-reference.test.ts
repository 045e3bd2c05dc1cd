/**
 * The README configuration reference is checked against the config schema:
 * every key path of ConfigSchema has a row, every row matches what the
 * generator (shared/build/config-reference.ts) prints from the schema, and
 * every key has a TSDoc line whose `@default` agrees with the real default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildReference, checkReadme, readSection, renderSection, replaceSection, REPO_ROOT } from '../../../shared/build/config-reference';

const REGENERATE = 'regenerate with: npm run build && node dist/shared/build/config-reference.js --write';
const readme = () => readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

test('the walker reaches nested objects, lists, maps and wrapped fields', () => {
  const keys = buildReference().map((r) => r.key);
  for (const k of ['cluster.lease.ttlMs', 'cluster.redis.sentinels[].port', 'pools.<name>.healthCheck.rise', 'pools.<name>.backends[].url',
    'listeners[].tls.certs[].cert', 'vips[].garpIntervalMs', 'node.admin.token', 'limits.maxHeaderBytes', 'logging.level']) {
    assert.ok(keys.includes(k), `walker did not reach ${k}`);
  }
  assert.equal(new Set(keys).size, keys.length, 'duplicate key paths');
});

test('defaults come from the schema, not from the comments', () => {
  const byKey = new Map(buildReference().map((r) => [r.key, r]));
  assert.equal(byKey.get('cluster.lease.ttlMs')?.default, '`200`');
  assert.equal(byKey.get('cluster.name')?.default, '**required**');
  assert.equal(byKey.get('node.admin.token')?.default, '(none)');
  assert.match(byKey.get('pools.<name>.balance')?.type ?? '', /`least-conn`/);
});

test('every config key has a TSDoc line (its meaning in the reference)', () => {
  const undocumented = buildReference().filter((r) => !r.meaning).map((r) => r.key);
  assert.deepEqual(undocumented, [], `add a TSDoc line in shared/config/schema.ts for: ${undocumented.join(', ')}`);
});

test('every @default in the schema comments equals the default the schema applies', () => {
  const rows = buildReference();
  const wrong = rows.filter((r) => r.commentDefault && r.default.startsWith('`') && r.default !== `\`${r.commentDefault}\``)
    .map((r) => `${r.key}: comment says ${r.commentDefault}, schema applies ${r.default}`);
  assert.deepEqual(wrong, []);
  assert.ok(rows.filter((r) => r.commentDefault).length > 30, 'too few @default comments found: the comment reader is broken');
});

test('README.md has the reference section with every key, up to date', () => {
  const text = readme();
  assert.ok(readSection(text) !== undefined, 'README.md lacks the config-reference section markers');
  const { missing, stale, unknown } = checkReadme(text, buildReference());
  assert.deepEqual(missing, [], `keys missing from README.md; ${REGENERATE}`);
  assert.deepEqual(stale, [], `README rows out of date; ${REGENERATE}`);
  assert.deepEqual(unknown, [], `README rows for keys the schema no longer has; ${REGENERATE}`);
});

test('the check notices a deleted row, an edited default and an invented key', () => {
  const rows = buildReference();
  const good = replaceSection(readme(), renderSection(rows));
  assert.deepEqual(checkReadme(good, rows), { missing: [], stale: [], unknown: [] });
  const lines = good.split('\n');
  const dropped = lines.filter((l) => !l.startsWith('| `cluster.lease.ttlMs` |')).join('\n');
  assert.deepEqual(checkReadme(dropped, rows).missing, ['cluster.lease.ttlMs']);
  const row = rows.find((r) => r.key === 'cluster.lease.ttlMs');
  assert.ok(row, 'cluster.lease.ttlMs has a reference row');
  const original = `| \`cluster.lease.ttlMs\` | ${row.type} | ${row.default} |`;
  assert.ok(good.includes(original), 'the rendered row has the expected shape');
  const edited = good.replace(original, `| \`cluster.lease.ttlMs\` | ${row.type} | \`${Number.parseInt(row.default.slice(1), 10) + 1}\` |`);
  assert.deepEqual(checkReadme(edited, rows).stale, ['cluster.lease.ttlMs']);
  const invented = good.replace('| `logging.level` |', '| `logging.colour` | string | (none) | x |\n| `logging.level` |');
  assert.deepEqual(checkReadme(invented, rows).unknown, ['logging.colour']);
});
