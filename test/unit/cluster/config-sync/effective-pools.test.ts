/** Effective pools: a node's record marks live URLs and disabled backends; nodes are agreed pool by pool, disagreements named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreePools, effectiveRecord, type EffectivePoolsRecord } from '../../../../cluster/config-sync/effective-pools';
import { PoolSchema } from '../../../../shared/config/schema';

const pool = (backends: Array<{ id: string; url: string; weight?: number }>) => PoolSchema.parse({ backends });

test('a record shows where each URL came from and what is disabled', () => {
  const r = effectiveRecord('node-a', 5, 3, { app: pool([{ id: 'a1', url: 'ws://10.0.0.1:80' }, { id: 'a2', url: 'ws://10.0.0.9:80', weight: 0 }]) },
    { app: { version: 3, backends: { a2: { url: 'ws://10.0.0.9:80', disabled: true } }, history: [] } });
  assert.deepEqual(r.pools.app!.backends.map((b) => [b.id, b.source, b.disabled]), [['a1', 'file', false], ['a2', 'live', true]]);
  assert.equal(r.version, 3);
});

const rec = (node: string, urls: string[]): EffectivePoolsRecord => ({
  node, at: 0, version: 1, pools: { app: { balance: 'round-robin', backends: urls.map((u, i) => ({ id: `b${i}`, url: u, weight: 1, source: 'file', disabled: false })) } },
});

test('nodes that agree: one view, no disagreement', () => {
  const { pools, disagreements } = agreePools([rec('a', ['ws://x:1']), rec('b', ['ws://x:1'])]);
  assert.equal(pools.app!.backends[0]!.url, 'ws://x:1');
  assert.deepEqual(disagreements, []);
});

test('nodes that differ: the majority view is shown and every group is named', () => {
  const { pools, disagreements } = agreePools([rec('a', ['ws://x:1']), rec('b', ['ws://x:2']), rec('c', ['ws://x:1'])]);
  assert.equal(pools.app!.backends[0]!.url, 'ws://x:1');
  assert.equal(disagreements.length, 1);
  assert.deepEqual(disagreements[0]!.views.map((v) => v.nodes), [['a', 'c'], ['b']]);
  assert.match(disagreements[0]!.views[1]!.backends, /ws:\/\/x:2/);
});

test('a pool only one node routes is a disagreement too', () => {
  const b = rec('b', ['ws://x:1']);
  const { disagreements } = agreePools([{ ...rec('a', []), pools: {} }, b]);
  assert.deepEqual(disagreements.map((d) => d.views.map((v) => v.backends).sort()), [['(no such pool)', 'b0 ws://x:1']]);
});
