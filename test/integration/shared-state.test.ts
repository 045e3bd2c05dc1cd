/**
 * SharedState in process, two or three instances (one per "node") against
 * one real redis-server, with real child-process backends killed by
 * SIGKILL. The multi-process versions with real proxy nodes are in
 * shared-nodes.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { waitFor, sleep } from '../harness/ports';
import { spawnBackend } from '../fixtures/backend-child';
import { sharedConfig, type SharedConfigOptions } from '../fixtures/shared-config';
import { SharedState, type DataPlaneHooks } from '../../cluster/shared-state';
import { writePoolChange } from '../../cluster/config-sync/pool-store';
import { readVerdicts } from '../../cluster/health/read-verdicts';
import { readSessionCounts } from '../../cluster/affinity/read-sessions';
import { silentLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import type { PoolConfig } from '../../shared/config/schema';
import { teardown, type Cleanups } from '../harness/teardown';

async function startShared(t: Cleanups, o: SharedConfigOptions, hooks?: DataPlaneHooks): Promise<SharedState> {
  const s = new SharedState({ config: sharedConfig(o), log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }) });
  t.after(() => s.stop());
  if (hooks) s.attach(hooks);
  await s.start();
  await s.ready();
  return s;
}

function fakeNode(counts: Record<string, number> = {}): DataPlaneHooks & { pools: Array<Readonly<Record<string, PoolConfig>>>; closed: string[] } {
  const pools: Array<Readonly<Record<string, PoolConfig>>> = [];
  const closed: string[] = [];
  return {
    pools, closed,
    updatePools: (p) => { pools.push(p); },
    closeBackendTunnels: (pool, id, code) => { closed.push(`${pool}/${id}/${code}`); return Promise.resolve(1); },
    localCounts: () => Object.entries(counts).map(([backendId, count]) => ({ pool: 'app', backendId, count })),
  };
}

test('a backend killed with SIGKILL is marked down by both nodes within its checks; a node started later knows at once', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const a = await spawnBackend('a');
  const b = await spawnBackend('b');
  cleanup.after(() => Promise.all([a.kill(), b.kill()]));
  const backends = [{ id: 'a', url: a.url }, { id: 'b', url: b.url }];
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends, redis: { url: redis.url } });
  const n2 = await startShared(cleanup, { nodeId: 'n2', backends, redis: { url: redis.url } });
  await waitFor(() => n1.health.verdict('app', 'a')?.observers === 2 && n2.health.verdict('app', 'a')?.observers === 2, 'both nodes see both observations', 5000);
  assert.ok(n1.view.health.isUp('app', 'a') && n2.view.health.isUp('app', 'a'));

  const killedAt = Date.now();
  await a.kill();
  await waitFor(() => !n1.view.health.isUp('app', 'a') && !n2.view.health.isUp('app', 'a'), 'both nodes mark a down', 5000, 5);
  const tookMs = Date.now() - killedAt;
  // fall=2 checks at 100 ms (+/-10 % jitter), plus one read period, plus slack for a busy machine.
  assert.ok(tookMs < 1500, `marked down after ${tookMs} ms`);
  assert.equal(n1.view.health.isUp('app', 'b'), true);
  assert.deepEqual(n1.downBackends(), ['app/a']);
  t.diagnostic(`SIGKILLed backend marked down by both nodes after ${tookMs} ms (interval 100 ms, fall 2)`);

  // A standby that starts now routes correctly from its first connection:
  // right after ready() its verdict already carries the others' observations.
  const n3 = await startShared(cleanup, { nodeId: 'n3', backends, redis: { url: redis.url } });
  assert.equal(n3.view.health.isUp('app', 'a'), false, 'standby knows a is down at ready()');
  assert.ok((n3.health.verdict('app', 'a')?.observers ?? 0) >= 2, 'from the other nodes\' observations');

  const cli = new Redis(redis.url);
  cleanup.after(() => cli.disconnect());
  // n3's own observation of a is written after its first checks, which ready() does not wait for.
  const report = await waitFor(async () => {
    const r = await readVerdicts(cli, n1.keys);
    return r[0]?.observations.length === 3 ? r : null;
  }, 'the three nodes\' observations of a in Redis', 5000, 20);
  assert.deepEqual(report.map((r) => [r.backend, r.verdict]), [['a', 'down'], ['b', 'up']]);
  assert.deepEqual(report[0].observations.map((o) => [o.nodeId, o.up]), [['n1', false], ['n2', false], ['n3', false]]);
});

test('onBackendDown close: tunnels of a backend that goes down are closed with 1012', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const a = await spawnBackend('a');
  cleanup.after(() => a.kill());
  const node = fakeNode();
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends: [{ id: 'a', url: a.url }], redis: { url: redis.url }, pool: { onBackendDown: 'close' } }, node);
  await waitFor(() => n1.health.verdict('app', 'a')?.state === 'up', 'a up', 5000);
  await a.kill();
  await waitFor(() => node.closed.length > 0, 'tunnels closed', 5000);
  assert.deepEqual(node.closed, ['app/a/1012']);
});

test('a sticky session recorded through one node is found through another, also after the first stops', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const backends = [{ id: 'a', url: 'http://127.0.0.1:9' }, { id: 'b', url: 'http://127.0.0.1:9' }];
  const hc = { intervalMs: 1000, timeoutMs: 100 };
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends, redis: { url: redis.url }, balance: 'sticky', healthCheck: hc });
  const n2 = await startShared(cleanup, { nodeId: 'n2', backends, redis: { url: redis.url }, balance: 'sticky', healthCheck: hc });
  n1.view.affinity.record('app', 'sess-1', 'b');
  await waitFor(async () => (await n2.view.affinity.lookup('app', 'sess-1')) === 'b', 'n2 finds the session', 3000);
  await n1.stop();
  assert.equal(await n2.view.affinity.lookup('app', 'sess-1'), 'b');
  n2.view.affinity.record('app', 'sess-1', 'a', 'b');
  await waitFor(async () => (await n2.view.affinity.lookup('app', 'sess-1')) === 'a', 'moved session', 3000);
  assert.equal(n2.sessions.stats.moves, 1);
  const cli = new Redis(redis.url);
  cleanup.after(() => cli.disconnect());
  const counts = await readSessionCounts(cli, n2.keys);
  assert.deepEqual(counts, [{ pool: 'app', total: 1, byBackend: { a: 1 }, truncated: false }]);
  const ttl = await cli.pttl(n2.keys.session('app', 'sess-1'));
  assert.ok(ttl > 50_000 && ttl <= 60_000, `ttl ${ttl}`);
});

test('connection counts: each node sees the others\' counts, and stops counting a node that stopped', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const backends = [{ id: 'a', url: 'http://127.0.0.1:9' }, { id: 'b', url: 'http://127.0.0.1:9' }];
  const hc = { intervalMs: 1000, timeoutMs: 100 };
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends, redis: { url: redis.url }, healthCheck: hc }, fakeNode({ a: 5, b: 0 }));
  const n2 = await startShared(cleanup, { nodeId: 'n2', backends, redis: { url: redis.url }, healthCheck: hc }, fakeNode({ a: 1, b: 2 }));
  await waitFor(() => n1.view.counts.remote('app', 'b') === 2 && n2.view.counts.remote('app', 'a') === 5, 'remote counts', 3000);
  assert.equal(n1.view.counts.remote('app', 'a'), 1, 'own counts are not in remote');
  await n1.stop();
  await waitFor(() => n2.view.counts.remote('app', 'a') === 0, 'stopped node no longer counted', 3000);
});

test('wsha backends add through Redis is applied by every node within a second and survives a restart', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const c = await spawnBackend('c');
  cleanup.after(() => c.kill());
  const backends = [{ id: 'a', url: 'http://127.0.0.1:9' }];
  const hc = { intervalMs: 200, timeoutMs: 100 };
  const node1 = fakeNode();
  const node2 = fakeNode();
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends, redis: { url: redis.url }, healthCheck: hc }, node1);
  const n2 = await startShared(cleanup, { nodeId: 'n2', backends, redis: { url: redis.url }, healthCheck: hc }, node2);
  const cli = new Redis(redis.url);
  cleanup.after(() => cli.disconnect());
  const started = Date.now();
  const change = await writePoolChange(cli, n1.keys, { pool: 'app', op: 'add', backendId: 'c', url: c.url, by: 'test' }, { base: backends.map((b) => ({ ...b, weight: 1 })), nowWallMs: Date.now() });
  await waitFor(() => n1.pools.pools.app.backends.some((b) => b.id === 'c') && n2.pools.pools.app.backends.some((b) => b.id === 'c'), 'both nodes apply the add', 1000, 5);
  const took = Date.now() - started;
  t.diagnostic(`live pool change applied by both nodes after ${took} ms`);
  assert.equal(n2.pools.version, change.version);
  assert.ok(node2.pools.at(-1)?.app.backends.some((b) => b.id === 'c'), 'ProxyNode.updatePools got it');
  await waitFor(() => n2.health.verdict('app', 'c')?.state === 'up', 'the new backend is probed', 3000);
  await writePoolChange(cli, n1.keys, { pool: 'app', op: 'disable', backendId: 'a', by: 'test' }, { base: null, knownIds: new Set(['a', 'c']), nowWallMs: Date.now() });
  await waitFor(() => n2.pools.pools.app.backends.find((b) => b.id === 'a')?.weight === 0, 'disable applied', 1000, 5);
  // A node (re)started now starts from the live changes.
  const n3 = await startShared(cleanup, { nodeId: 'n3', backends, redis: { url: redis.url }, healthCheck: hc });
  assert.deepEqual(n3.pools.pools.app.backends.map((b) => [b.id, b.weight]), [['a', 0], ['c', 1]]);
});

test('Redis unreachable: routing keeps the last known verdicts and sticky lookups answer within the timeout', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const a = await spawnBackend('a');
  const b = await spawnBackend('b');
  cleanup.after(() => Promise.all([a.kill(), b.kill()]));
  const backends = [{ id: 'a', url: a.url }, { id: 'b', url: b.url }];
  const n1 = await startShared(cleanup, { nodeId: 'n1', backends, redis: { url: redis.url }, balance: 'sticky' });
  await a.kill();
  await waitFor(() => !n1.view.health.isUp('app', 'a'), 'a down', 5000);
  n1.view.affinity.record('app', 'sess-9', 'b');
  await sleep(50);
  redis.kill();
  await sleep(200);
  assert.equal(n1.view.health.isUp('app', 'a'), false, 'still down');
  assert.equal(n1.view.health.isUp('app', 'b'), true, 'still up');
  const started = Date.now();
  assert.equal(await n1.view.affinity.lookup('app', 'sess-9'), 'b', 'from the local cache');
  assert.ok(Date.now() - started < 500, `lookup took ${Date.now() - started} ms`);
  assert.ok(n1.sessions.stats.fallbacks >= 1);
  // Own observations stay fresh: the verdict still follows this node's checks.
  await b.kill();
  await waitFor(() => !n1.view.health.isUp('app', 'b'), 'b down from own checks without Redis', 5000);

  // Redis comes back empty on the same port: the node writes its state again.
  const again = await startRedis([], redis.port);
  // After all the clean-ups above (a t.after hook added later runs later): n1, started before it, talks to it too.
  t.after(() => again.stop());
  const cli = new Redis(again.url);
  cleanup.after(() => cli.disconnect());
  await waitFor(async () => (await cli.hget(n1.keys.verdict('app'), 'a')) === 'down', 'verdict table rewritten', 10000, 50);
  await waitFor(async () => Object.keys(await cli.hgetall(n1.keys.health('app', 'b'))).includes('n1'), 'observations published again', 10000, 50);
  n1.view.affinity.record('app', 'sess-10', 'a');
  await waitFor(async () => (await cli.get(n1.keys.session('app', 'sess-10'))) === 'a', 'sessions written again', 5000, 50);
});
