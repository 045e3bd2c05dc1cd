/**
 * Two VipMachines on one real redis-server, each with its own lease
 * connection; one of them reaches Redis through a TCP gate the test can
 * freeze. The data plane is an in-memory VipHost and the driver records its
 * calls, both with monotonic times; the peer link is an in-memory port (the
 * real one is tested in test/integration/peer-link.test.ts and by the node
 * processes of test/failover/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { startTcpGate } from '../../../harness/tcp-gate';
import { MemoryVipHost } from '../../../harness/memory-vip-host';
import { sleep, waitFor } from '../../../harness/ports';
import { VipMachine } from '../../../../cluster/vip/vip-machine';
import { LeaseClient } from '../../../../cluster/vip/lease';
import type { GuardAction, VipContext, VipDriver } from '../../../../cluster/vip/drivers/driver';
import type { PeerEvidence } from '../../../../cluster/peer/peer-mesh';
import type { Candidate } from '../../../../cluster/vip/preemption';
import type { OwnershipTimings } from '../../../../cluster/vip/ownership';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema, VipSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { DEFAULTS } from '../../../../shared/config/defaults';
import { Metrics } from '../../../../shared/metrics';
import { silentLogger } from '../../../../shared/logger';
import { systemClock } from '../../../../shared/clock';
import { teardown } from '../../../harness/teardown';

const T: OwnershipTimings = { ...DEFAULTS.lease, grantTtlMs: DEFAULTS.peer.grantTtlMs, beatIntervalMs: DEFAULTS.peer.beatIntervalMs, forgetAfterMs: DEFAULTS.heartbeat.forgetAfterMs };

/** An address-moving driver (like linux) that records when it was called. */
class RecordingDriver implements VipDriver {
  readonly kind = 'linux' as const;
  readonly reusePort = false;
  readonly listenDuringUp = false;
  readonly calls: Array<{ op: string; atMs: number }> = [];
  async up(_c: VipContext): Promise<void> { this.calls.push({ op: 'up', atMs: performance.now() }); }
  async down(_c: VipContext): Promise<void> { this.calls.push({ op: 'down', atMs: performance.now() }); }
  async announce(_c: VipContext): Promise<void> {}
  async cleanup(): Promise<void> {}
  guardActions(): GuardAction[] { return [{ kind: 'run', file: 'true', args: [], timeoutMs: 1000, onDeath: true }]; }
}

test('VipMachines against real Redis: acquire, grants, address-first step-down, re-assert', { timeout: 60_000 }, async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const server = await startRedis();
  cleanup.after(() => server.stop());
  const gate = await startTcpGate(server.port);
  cleanup.after(() => gate.close());
  const keys = new RedisKeys('vm');
  const conns: Redis[] = [];
  const connect = async (port: number) => {
    const r = createRedis(RedisSchema.parse({ url: `redis://127.0.0.1:${port}` }), 'lease');
    r.on('error', () => {});
    conns.push(r);
    await r.connect();
    return r;
  };
  cleanup.after(() => conns.forEach((c) => c.disconnect()));
  const vip = VipSchema.parse({ name: 'main', driver: 'linux', interface: 'lo', address: '127.0.0.67' });
  const candidates: Candidate[] = [
    { id: 'a', priority: 200, alive: true, ready: true, drained: false },
    { id: 'b', priority: 100, alive: true, ready: true, drained: false },
  ];
  const guards: Record<string, Array<{ op: string; untilMs?: number }>> = { a: [], b: [] };
  let required: string[] = ['b'];
  const make = (id: 'a' | 'b', redis: Redis) => {
    const host = new MemoryVipHost();
    const driver = new RecordingDriver();
    const lease = new LeaseClient(redis, keys);
    const m: VipMachine = new VipMachine({
      vip, nodeId: id, lease, driver, host, timings: T,
      handover: { closeRatePerSec: 1000, closeWindowMs: 0, maxOverlapMs: 1000, timeoutMs: 2000 },
      clock: systemClock, logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }),
      peers: {
        evidence: (): PeerEvidence | undefined => undefined,
        required: () => (id === 'a' ? required : []),
        beatNow: () => {}, claimants: () => [],
      },
      guard: { arm: (_v, untilMs) => guards[id]!.push({ op: 'arm', untilMs }), disarm: () => guards[id]!.push({ op: 'disarm' }) },
      placement: 'priority', self: () => candidates.find((c) => c.id === id)!, members: () => candidates, member: () => undefined,
      send: async () => { throw new Error('no command bus in this test'); },
      onChange: () => {}, publish: () => {}, onRedis: () => {}, redisOk: () => true,
    });
    return { m, host, driver, lease };
  };
  const A = make('a', await connect(gate.port));
  const B = make('b', await connect(server.port));
  cleanup.after(async () => { gate.thaw(); await Promise.all([A.m.stop(), B.m.stop()]); });
  // A starts first: on a loaded machine B's rank delay (50 ms) could otherwise run out before A's first read through
  // the gate, and a lower-ranked node that got the VIP keeps it (no preemption here). Rank order is unit-tested.
  A.m.start();

  await t.test('the higher-priority node acquires, brings the address up, fences the data plane and arms its guard', async () => {
    await waitFor(() => A.m.state === 'owner' && A.host.isServing('main'), 'a owns and serves', 10_000);
    B.m.start();
    await sleep(3 * T.acquirePollMs);
    assert.equal(B.m.state, 'standby');
    assert.deepEqual(A.driver.calls.map((c) => c.op), ['up']);
    assert.ok((A.host.fences.get('main') ?? 0) > performance.timeOrigin * 0, 'fenced with a deadline');
    assert.ok(guards.a!.some((g) => g.op === 'arm'));
    assert.equal(A.m.snapshot().authority, 'redis');
  });

  await t.test('a grant while Redis is also there: both back the VIP; the granter promises not to acquire', async () => {
    const sent = systemClock.nowMs();
    const g = B.m.grant('a', A.m.snapshot().epoch!, true, sent);
    assert.equal(g.ok, true);
    A.m.granted('b', sent, g);
    assert.equal(A.m.snapshot().authority, 'both');
    assert.equal(A.m.grant('b', 99, true, sent).ok, false, 'an owner refuses to grant anyone its own VIP');
  });

  await t.test('owner cut from Redis, no grants: address first, then listeners, and the standby only after', async () => {
    required = ['b'];
    const frozenAt = performance.now();
    gate.freeze();
    await waitFor(() => B.m.state === 'owner' && B.host.isServing('main'), 'b takes over after the lease expired', 10_000);
    const down = A.driver.calls.find((c) => c.op === 'down')!;
    const fenceOff = A.host.events.find((e) => e.op === 'fence')!;
    const stop = A.host.events.find((e) => e.op === 'stop')!;
    const up = B.driver.calls.find((c) => c.op === 'up')!;
    assert.ok(fenceOff.atMs <= down.atMs, 'the fence went first');
    assert.ok(down.atMs <= stop.atMs, 'the address went before the listeners');
    assert.ok(stop.atMs < up.atMs, 'the new owner brought the address up after the old one took it down');
    assert.ok(down.atMs - frozenAt >= T.ttlMs - T.stepDownMarginMs - T.renewIntervalMs - 5, 'not before its authority could have run out');
    assert.ok(guards.a!.at(-1)!.op === 'disarm', 'the guard was disarmed');
    assert.equal(A.m.state, 'standby');
  });

  await t.test('the old owner, back on Redis, sees the new holder and stays standby', async () => {
    gate.thaw();
    await sleep(10 * T.acquirePollMs);
    assert.equal(A.m.state, 'standby');
    assert.equal((await B.lease.read('main')).holder?.nodeId, 'b');
  });
});
