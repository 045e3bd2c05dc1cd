/** Least-conn across workers: each worker is told what its siblings and the other nodes hold. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { remoteCountsFor } from '../../../../cluster/workers/count-exchange';
import type { WorkerLoad } from '../../../../shared/ports/worker-protocol';
import type { PoolConfig } from '../../../../shared/config/schema';

const load = (counts: WorkerLoad['counts']): { load: WorkerLoad } => ({ load: { connections: 0, tunnels: 0, counts, vipTunnels: {} } });
const pools = { app: { backends: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] } } as unknown as Record<string, PoolConfig>;

test('siblings\' counts plus other nodes\', never the worker\'s own', () => {
  const w0 = load([['app', 'a', 5]]);
  const w1 = load([['app', 'a', 2], ['app', 'b', 1]]);
  const w2 = load([['app', 'b', 4]]);
  const cluster = (pool: string, id: string) => (id === 'c' ? 10 : 0);
  assert.deepEqual(remoteCountsFor(w0, [w0, w1, w2], pools, cluster), [['app', 'a', 2], ['app', 'b', 5], ['app', 'c', 10]]);
  assert.deepEqual(remoteCountsFor(w1, [w0, w1, w2], pools, cluster), [['app', 'a', 5], ['app', 'b', 4], ['app', 'c', 10]]);
});

test('backends that left the pools are not reported; zero rows are left out', () => {
  const w0 = load([]);
  const w1 = load([['app', 'gone', 3]]);
  assert.deepEqual(remoteCountsFor(w0, [w0, w1], pools, () => 0), []);
});
