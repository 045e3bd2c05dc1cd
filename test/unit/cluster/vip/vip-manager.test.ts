/**
 * Two VipManagers on one real redis-server, each with its own lease
 * connection; one of them reaches Redis through a TCP gate the test can
 * freeze. The data plane is an in-memory VipHost recording call times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { startTcpGate } from '../../../harness/tcp-gate';
import { MemoryVipHost } from '../../../harness/memory-vip-host';
import { sleep, waitFor } from '../../../harness/ports';
import { VipManager } from '../../../../cluster/vip/vip-manager';
import { LeaseClient } from '../../../../cluster/vip/lease';
import { BindDriver } from '../../../../cluster/vip/drivers/bind';
import type { Candidate } from '../../../../cluster/vip/preemption';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema, VipSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { DEFAULTS } from '../../../../shared/config/defaults';
import { Metrics } from '../../../../shared/metrics';
import { silentLogger } from '../../../../shared/logger';
import { systemClock } from '../../../../shared/clock';

const T = DEFAULTS.lease;

test('VipManager against real Redis', { timeout: 30_000 }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const gate = await startTcpGate(server.port);
  t.after(() => gate.close());
  const keys = new RedisKeys('vm');
  const conns: Redis[] = [];
  const connect = async (port: number) => {
    const r = createRedis(RedisSchema.parse({ url: `redis://127.0.0.1:${port}` }), 'lease');
    r.on('error', () => {});
    conns.push(r);
    await r.connect();
    return r;
  };
  t.after(() => conns.forEach((c) => c.disconnect()));
  const vip = VipSchema.parse({ name: 'main', driver: 'bind', address: '127.0.0.67' });
  const candidates: Candidate[] = [
    { id: 'a', priority: 200, alive: true, ready: true, drained: false },
    { id: 'b', priority: 100, alive: true, ready: true, drained: false },
  ];
  const make = (id: 'a' | 'b', redis: Redis) => {
    const host = new MemoryVipHost();
    const metrics = new Metrics({ defaultMetrics: false });
    const m = new VipManager({
      vip, nodeId: id, lease: new LeaseClient(redis, keys), driver: new BindDriver(), host, timings: T,
      handover: { closeRatePerSec: 1000, closeWindowMs: 0, maxOverlapMs: 1000, timeoutMs: 2000 },
      clock: systemClock, logger: silentLogger(), metrics,
      self: () => candidates.find((c) => c.id === id)!, members: () => candidates,
      send: async () => { throw new Error('no command bus in this test'); },
      onChange: () => {}, onRedis: () => {},
    });
    return { m, host, metrics };
  };
  const A = make('a', await connect(gate.port));
  const direct = await connect(server.port);
  const B = make('b', direct);
  t.after(async () => { gate.thaw(); await Promise.all([A.m.stop(), B.m.stop()]); });
  A.m.start();
  B.m.start();

  await t.test('the higher-priority node acquires; the other stays standby', async () => {
    await waitFor(() => A.m.state === 'owner', 'a owns', 5000);
    await sleep(3 * T.acquirePollMs);
    assert.equal(B.m.state, 'standby');
    assert.equal(A.host.isServing('main'), true);
    assert.deepEqual(A.host.events[0]?.opts, { reusePort: true });
  });

  await t.test('owner cut from Redis steps down before the standby can acquire', async () => {
    const frozenAt = performance.now();
    gate.freeze();
    await waitFor(() => B.m.state === 'owner', 'b takes over after the TTL', 5000);
    const stop = A.host.events.find((e) => e.op === 'stop')!;
    const open = B.host.events.find((e) => e.op === 'open')!;
    console.log(`# a stopped accepting ${(stop.atMs - frozenAt).toFixed(0)} ms after the freeze; b opened ${(open.atMs - frozenAt).toFixed(0)} ms after; gap ${(open.atMs - stop.atMs).toFixed(0)} ms`);
    assert.ok(stop.atMs < open.atMs, 'never two owners');
    assert.ok(stop.atMs - frozenAt < T.ttlMs, 'a stepped down at its deadline (ttl - margin), before its lease could expire');
    assert.ok(open.atMs - stop.atMs >= T.stepDownMarginMs - T.renewIntervalMs - 20, 'at least about the margin between them');
    gate.thaw();
    await sleep(5 * T.acquirePollMs);
    assert.equal(A.m.state, 'standby', 'a sees b holding the lease and stays standby');
    assert.ok(A.m.maxEpochSeen >= 2);
  });

  await t.test('a refused renewal makes the owner step down at once', async () => {
    await direct.set(keys.lease('main'), 'intruder:99', 'PX', 300);
    await waitFor(() => B.m.state !== 'owner', 'b steps down', 2000);
    assert.equal(B.host.isServing('main'), false);
    const changes = await B.metrics.registry.getSingleMetricAsString('wsha_ownership_changes_total');
    assert.match(changes, /reason="lease-lost"/);
    await waitFor(() => A.m.state === 'owner' || B.m.state === 'owner', 'someone owns again after the intruder lease expires', 5000);
    const holder = await new LeaseClient(direct, keys).read('main');
    assert.ok(holder!.epoch > 99, 'epoch above the intruder seen');
  });

  await t.test('graceful stop releases the lease', async () => {
    const owner = A.m.state === 'owner' ? A : B;
    await owner.m.stop();
    assert.equal(owner.m.state, 'stopped');
    assert.equal(owner.host.isServing('main'), false);
    const other = owner === A ? B : A;
    await waitFor(() => other.m.state === 'owner', 'the other acquires', 3000);
  });
});

test('the standby does not wait a rank delay behind the owner that let its lease expire', { timeout: 30_000 }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const gate = await startTcpGate(server.port);
  t.after(() => gate.close());
  const keys = new RedisKeys('vm-rank');
  // A rank delay far longer than the lease: if the stalled owner still counted as a better candidate, b would wait it out.
  const timings = { ...T, rankDelayMs: 5000 };
  const vip = VipSchema.parse({ name: 'main', driver: 'bind', address: '127.0.0.68' });
  const candidates: Candidate[] = [
    { id: 'a', priority: 200, alive: true, ready: true, drained: false },
    { id: 'b', priority: 100, alive: true, ready: true, drained: false },
  ];
  const managers: VipManager[] = [];
  const make = async (id: 'a' | 'b', port: number) => {
    const redis = createRedis(RedisSchema.parse({ url: `redis://127.0.0.1:${port}` }), 'lease');
    redis.on('error', () => {});
    t.after(() => redis.disconnect());
    await redis.connect();
    const host = new MemoryVipHost();
    const m = new VipManager({
      vip, nodeId: id, lease: new LeaseClient(redis, keys), driver: new BindDriver(), host, timings,
      handover: { closeRatePerSec: 1000, closeWindowMs: 0, maxOverlapMs: 1000, timeoutMs: 2000 },
      clock: systemClock, logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }),
      // a's heartbeat still looks fresh throughout (a stalled host): only the lease tells b that a is gone.
      self: () => candidates.find((c) => c.id === id)!, members: () => candidates,
      send: async () => { throw new Error('no command bus in this test'); },
      onChange: () => {}, onRedis: () => {},
    });
    managers.push(m);
    return { m, host };
  };
  const A = await make('a', gate.port);
  const B = await make('b', server.port);
  t.after(async () => { gate.thaw(); await Promise.all(managers.map((m) => m.stop())); });
  A.m.start();
  await waitFor(() => A.m.state === 'owner', 'a owns', 5000);
  B.m.start();
  await sleep(3 * T.acquirePollMs);
  assert.equal(B.m.state, 'standby');
  const frozenAt = performance.now();
  gate.freeze();
  await waitFor(() => B.m.state === 'owner', 'b takes over', 4000);
  const tookMs = performance.now() - frozenAt;
  console.log(`# b owned the VIP ${tookMs.toFixed(0)} ms after a was cut off (lease TTL ${T.ttlMs} ms, rank delay ${timings.rankDelayMs} ms)`);
  assert.ok(tookMs < timings.rankDelayMs, `b took over after ${tookMs.toFixed(0)} ms, without waiting the rank delay`);
});
