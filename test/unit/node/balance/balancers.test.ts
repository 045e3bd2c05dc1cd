import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackendPool } from '../../../../node/pool/backend-pool';
import { localClusterView, type ClusterView } from '../../../../shared/cluster-view';
import { nodeConfig, rawNodeConfig } from '../../../fixtures/node-config';

function pool(balance: string, weights: number[], view: ClusterView = localClusterView(), sticky?: object): BackendPool {
  const raw = rawNodeConfig({ port: 0, backendUrls: weights.map((_, i) => `http://127.0.0.1:${9000 + i}`), balance, pool: sticky ? { sticky } : {} });
  raw.pools.app.backends.forEach((b: any, i: number) => { b.weight = weights[i]; });
  return new BackendPool('app', nodeConfig(raw).pools.app, view);
}
const ctx = (key: string | null = null, preferredId: string | null = null) => ({ clientAddress: '192.0.2.1', sessionKey: key, preferredId });

test('round-robin is smooth and weighted', () => {
  const p = pool('round-robin', [5, 1, 1]);
  const seq = Array.from({ length: 7 }, () => p.pick(ctx())!.id);
  assert.deepEqual(seq, ['app-1', 'app-1', 'app-2', 'app-1', 'app-3', 'app-1', 'app-1']);
});

test('round-robin skips down and zero-weight backends and returns null when none is eligible', () => {
  const down = new Set(['app-2']);
  const view = { ...localClusterView(), health: { isUp: (_p: string, id: string) => !down.has(id), rampFactor: () => 1 } };
  const p = pool('round-robin', [1, 1, 0], view);
  assert.deepEqual(Array.from({ length: 3 }, () => p.pick(ctx())!.id), ['app-1', 'app-1', 'app-1']);
  down.add('app-1');
  assert.equal(p.pick(ctx()), null);
});

test('least-conn prefers the backend with the fewest local plus remote connections per weight', () => {
  const remote: Record<string, number> = { 'app-1': 0, 'app-2': 0 };
  const view = { ...localClusterView(), counts: { remote: (_p: string, id: string) => remote[id] ?? 0 } };
  const p = pool('least-conn', [1, 1], view);
  p.backends[0].tunnels = 3;
  assert.equal(p.pick(ctx())!.id, 'app-2');
  remote['app-2'] = 10;
  assert.equal(p.pick(ctx())!.id, 'app-1');
  const ties = new Set(Array.from({ length: 4 }, () => pool('least-conn', [1, 1, 1]).pick(ctx())!.id));
  assert.ok(ties.size >= 1);
});

test('sticky: affinity answer first, then rendezvous hashing that moves only the keys of a removed backend', () => {
  const p = pool('sticky', [1, 1, 1, 1], localClusterView(), { header: 'X-S' });
  const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
  const before = new Map(keys.map((k) => [k, p.pick(ctx(k))!.id]));
  const counts = new Map<string, number>();
  for (const id of before.values()) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const n of counts.values()) assert.ok(n > 25, `spread: ${[...counts.entries()]}`);
  for (const k of keys) assert.equal(p.pick(ctx(k))!.id, before.get(k), 'stable');
  assert.equal(p.pick(ctx('k1', 'app-3'))!.id, 'app-3', 'affinity store wins');
  p.apply({ ...p.config, backends: p.config.backends.filter((b) => b.id !== 'app-2') });
  for (const k of keys) {
    const now = p.pick(ctx(k))!.id;
    if (before.get(k) !== 'app-2') assert.equal(now, before.get(k), `${k} did not move`);
    else assert.notEqual(now, 'app-2');
  }
  assert.notEqual(p.pick(ctx('k1', 'app-2'))!.id, 'app-2', 'a remembered backend that left is ignored');
});

test('pool.apply keeps backend objects and counts by id and marks leavers removed', () => {
  const p = pool('round-robin', [1, 1]);
  const first = p.backends[0];
  first.tunnels = 7;
  const removed = p.apply({ ...p.config, backends: [p.config.backends[0], { id: 'app-9', url: 'ws://127.0.0.1:9999', weight: 2 }] });
  assert.equal(p.backends[0], first);
  assert.equal(p.backends[0].tunnels, 7);
  assert.deepEqual(removed.map((b) => [b.id, b.removed]), [['app-2', true]]);
  assert.equal(p.get('app-9')!.port, 9999);
});
