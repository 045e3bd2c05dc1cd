import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../shared/config/validate';
import { rawNodeConfig } from '../../fixtures/node-config';

const withVips = (extra: Record<string, unknown>) => {
  const raw = rawNodeConfig({ port: 8000, backendUrls: ['ws://127.0.0.1:9000'] });
  raw.vips = [{ name: 'a', driver: 'bind', address: '127.0.0.90' }, { name: 'b', driver: 'bind', address: '127.0.0.91' }];
  raw.node = { ...raw.node, ...extra.node as object };
  raw.cluster = { ...raw.cluster, ...extra.cluster as object };
  return raw;
};

test('vipPlacement and vipPriorities are read, with priority placement by default', () => {
  assert.equal(validateConfig(withVips({})).cluster.vipPlacement, 'priority');
  const c = validateConfig(withVips({ cluster: { vipPlacement: 'spread' }, node: { vipPriorities: { b: 250 } } }));
  assert.equal(c.cluster.vipPlacement, 'spread');
  assert.deepEqual(c.node.vipPriorities, { b: 250 });
});

test('a vipPriorities entry for an unknown VIP, a bad priority and a bad placement name the key', () => {
  assert.throws(() => validateConfig(withVips({ node: { vipPriorities: { nope: 10 } } })), (e: Error & { problems?: string[] }) => (e.problems ?? [e.message]).some((p) => p.startsWith('node.vipPriorities.nope: no VIP named nope')));
  assert.throws(() => validateConfig(withVips({ node: { vipPriorities: { a: 300 } } })), (e: Error & { problems?: string[] }) => (e.problems ?? [e.message]).some((p) => p.startsWith('node.vipPriorities.a:')));
  assert.throws(() => validateConfig(withVips({ cluster: { vipPlacement: 'even' } })), (e: Error & { problems?: string[] }) => (e.problems ?? [e.message]).some((p) => p.startsWith('cluster.vipPlacement: expected priority or spread')));
});
