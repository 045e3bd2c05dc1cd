/**
 * HealthSync against a real redis-server with a ManualClock: observations of
 * two nodes merge, a change is logged, counted, written to verdict:{pool}
 * and published as a ClusterEvent; a silent observer ages out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { waitFor } from '../../../harness/ports';
import { HealthSync, type VerdictChange } from '../../../../cluster/health/health-sync';
import { ManualClock } from '../../../../shared/clock';
import { RedisKeys } from '../../../../shared/redis/keys';
import { silentLogger } from '../../../../shared/logger';
import { Metrics } from '../../../../shared/metrics';
import { sharedConfig } from '../../../fixtures/shared-config';
import type { ClusterEvent } from '../../../../shared/records';
import { teardown } from '../../../harness/teardown';

test('two observers merge by majority; a change is published, counted and stored', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const [r1, r2, sub] = [new Redis(redis.url), new Redis(redis.url), new Redis(redis.url)];
  cleanup.after(() => { r1.disconnect(); r2.disconnect(); sub.disconnect(); });
  await Promise.all([r1.ping(), r2.ping()]);
  const keys = new RedisKeys('hs');
  const events: ClusterEvent[] = [];
  await sub.subscribe(keys.events());
  sub.on('message', (_c, m) => events.push(JSON.parse(m) as ClusterEvent));
  const clock = new ManualClock();
  const config = sharedConfig({ nodeId: 'n1', backends: [{ id: 'a', url: 'http://127.0.0.1:9' }], redis: { url: redis.url }, verdict: 'majority', healthCheck: { intervalMs: 100, timeoutMs: 100 } });
  const metrics = new Metrics({ defaultMetrics: false });
  const h1 = new HealthSync({ redis: r1, keys, nodeId: 'n1', cluster: config.cluster, clock, log: silentLogger(), metrics });
  const h2 = new HealthSync({ redis: r2, keys, nodeId: 'n2', cluster: config.cluster, clock, log: silentLogger() });
  for (const h of [h1, h2]) h.setPools(config.pools);
  const changes: VerdictChange[] = [];
  h1.onChange((c) => changes.push(c));
  const obs = (nodeId: string, up: boolean) => ({ nodeId, up, at: clock.wallMs(), latencyMs: up ? 1 : null, reason: up ? undefined : 'ECONNREFUSED' });

  await h1.publishLocal('app', 'a', obs('n1', true));
  await h2.publishLocal('app', 'a', obs('n2', true));
  await h1.refresh();
  assert.deepEqual(h1.verdict('app', 'a'), { state: 'up', observers: 2, downVotes: 0 });

  await h1.publishLocal('app', 'a', obs('n1', false));
  assert.equal(h1.isUp('app', 'a'), true, 'one of two is a tie: stays up');
  await h2.publishLocal('app', 'a', obs('n2', false));
  await h1.refresh();
  assert.equal(h1.isUp('app', 'a'), false);
  assert.deepEqual(changes.map((c) => [c.backendId, c.up]), [['a', false]]);
  // Each node publishes its own verdict change (n2 alone already saw its single down observation).
  await waitFor(() => events.length >= 2, 'verdict events', 2000);
  assert.deepEqual(events.map((e) => e.type === 'verdict' && [e.pool, e.backend, e.up, e.by]).sort(), [['app', 'a', false, 'n1'], ['app', 'a', false, 'n2']]);
  assert.equal(await r1.hget(keys.verdict('app'), 'a'), 'down');
  assert.match(await metrics.text(), /wsha_backend_verdict_changes_total\{pool="app",backend="a",verdict="down"\} 1/);
  assert.deepEqual(h1.downBackends(), ['app/a']);

});

test('rule any: a silent observer ages out after its freshness window; slow start ramps the comeback', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const [r1, r2] = [new Redis(redis.url), new Redis(redis.url)];
  cleanup.after(() => { r1.disconnect(); r2.disconnect(); });
  await Promise.all([r1.ping(), r2.ping()]);
  const keys = new RedisKeys('hs2');
  const clock = new ManualClock();
  const config = sharedConfig({ nodeId: 'n1', backends: [{ id: 'a', url: 'http://127.0.0.1:9' }], redis: { url: redis.url }, verdict: 'any', healthCheck: { intervalMs: 100, timeoutMs: 100 }, pool: { slowStartMs: 1000 } });
  const h1 = new HealthSync({ redis: r1, keys, nodeId: 'n1', cluster: config.cluster, clock, log: silentLogger() });
  const h2 = new HealthSync({ redis: r2, keys, nodeId: 'n2', cluster: config.cluster, clock, log: silentLogger() });
  for (const h of [h1, h2]) h.setPools(config.pools);
  const obs = (nodeId: string, up: boolean) => ({ nodeId, up, at: clock.wallMs(), latencyMs: up ? 1 : null });
  await h1.publishLocal('app', 'a', obs('n1', true));
  assert.equal(h1.rampFactor('app', 'a'), 1, 'first seen up: no ramp');
  await h2.publishLocal('app', 'a', obs('n2', false));
  await h1.refresh();
  assert.equal(h1.isUp('app', 'a'), false, 'any: one down observer is enough');
  // n2 dies silently; n1 keeps observing up. Fresh window: 3 x 100 + 100 = 400 ms.
  clock.advance(350);
  await h1.publishLocal('app', 'a', obs('n1', true));
  await h1.refresh();
  assert.equal(h1.isUp('app', 'a'), false, 'n2 still fresh at 350 ms');
  clock.advance(100);
  await h1.publishLocal('app', 'a', obs('n1', true));
  assert.equal(h1.isUp('app', 'a'), true, 'n2 aged out at 450 ms');
  assert.equal(h1.verdict('app', 'a')?.observers, 1);
  assert.equal(h1.rampFactor('app', 'a'), 0.05);
  clock.advance(500);
  assert.equal(h1.rampFactor('app', 'a'), 0.5);
  clock.advance(600);
  assert.equal(h1.rampFactor('app', 'a'), 1);
});

test('a node whose heartbeat is older than the heartbeat timeout stops voting at once, before its observation ages out', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const r = new Redis(redis.url);
  cleanup.after(() => r.disconnect());
  await r.ping();
  const keys = new RedisKeys('hs3');
  const clock = new ManualClock();
  const config = sharedConfig({ nodeId: 'n1', backends: [{ id: 'a', url: 'http://127.0.0.1:9' }], redis: { url: redis.url }, verdict: 'any', healthCheck: { intervalMs: 2000, timeoutMs: 1000 } });
  const h1 = new HealthSync({ redis: r, keys, nodeId: 'n1', cluster: config.cluster, clock, log: silentLogger() });
  h1.setPools(config.pools);
  // The owner (n2) said down just now; its last heartbeat is 700 ms old on Redis's clock (timeout 600 ms in this config).
  const [sec, usec] = await r.time();
  const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  await r.hset(keys.health('app', 'a'), 'n2', JSON.stringify({ nodeId: 'n2', up: false, at: clock.wallMs(), latencyMs: null }));
  await r.zadd(keys.nodes(), redisNow - 700, 'n2', redisNow, 'n1');
  await h1.publishLocal('app', 'a', { nodeId: 'n1', up: true, at: clock.wallMs(), latencyMs: 1 });
  await h1.refresh();
  assert.deepEqual([h1.isUp('app', 'a'), h1.verdict('app', 'a')?.observers], [true, 1], 'dead n2 does not vote');
  await r.zadd(keys.nodes(), redisNow + 100, 'n2');
  await h1.refresh();
  assert.deepEqual([h1.isUp('app', 'a'), h1.verdict('app', 'a')?.observers], [false, 2], 'alive n2 votes');
  // Without any heartbeat in Redis (nodes run without the agent) freshness alone decides.
  await r.del(keys.nodes());
  await h1.refresh();
  assert.equal(h1.verdict('app', 'a')?.observers, 2);
});
