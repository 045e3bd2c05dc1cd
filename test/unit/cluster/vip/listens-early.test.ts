/**
 * A driver that lets the listeners open before the address is local (linux
 * with ip_nonlocal_bind=1): the owner opens them while up() runs, not after
 * it; when up() fails, what opened is closed again and the lease goes back.
 * One VipMachine on a real redis-server, an in-memory data plane, and a
 * driver whose up() the test releases by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { MemoryVipHost } from '../../../harness/memory-vip-host';
import { waitFor } from '../../../harness/ports';
import { VipMachine } from '../../../../cluster/vip/vip-machine';
import { LeaseClient } from '../../../../cluster/vip/lease';
import type { GuardAction, VipContext, VipDriver } from '../../../../cluster/vip/drivers/driver';
import type { OwnershipTimings } from '../../../../cluster/vip/ownership';
import { nonlocalBindAllowed, nonlocalBindFile } from '../../../../cluster/vip/drivers/nonlocal-bind';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema, VipSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { DEFAULTS } from '../../../../shared/config/defaults';
import { Metrics } from '../../../../shared/metrics';
import { silentLogger } from '../../../../shared/logger';
import { systemClock } from '../../../../shared/clock';

const T: OwnershipTimings = { ...DEFAULTS.lease, grantTtlMs: DEFAULTS.peer.grantTtlMs, beatIntervalMs: DEFAULTS.peer.beatIntervalMs, forgetAfterMs: DEFAULTS.heartbeat.forgetAfterMs };

/** up() waits until the test settles it. */
class GatedDriver implements VipDriver {
  readonly kind = 'linux' as const;
  readonly reusePort = false;
  readonly listensEarly = true;
  readonly calls: string[] = [];
  #settle: ((ok: boolean) => void) | null = null;
  up(_c: VipContext): Promise<void> {
    this.calls.push('up');
    return new Promise((resolve, reject) => { this.#settle = (ok) => (ok ? resolve() : reject(new Error('ip addr add failed'))); });
  }
  release(ok: boolean): void { this.#settle?.(ok); this.#settle = null; }
  get pending(): boolean { return this.#settle !== null; }
  async down(_c: VipContext): Promise<void> { this.calls.push('down'); }
  async announce(_c: VipContext): Promise<void> {}
  async cleanup(): Promise<void> {}
  guardActions(): GuardAction[] { return []; }
}

test('nonlocal bind: read from the family\'s sysctl, off when unreadable', () => {
  assert.equal(nonlocalBindFile('10.0.0.1'), '/proc/sys/net/ipv4/ip_nonlocal_bind');
  assert.equal(nonlocalBindFile('fd00::1'), '/proc/sys/net/ipv6/ip_nonlocal_bind');
  assert.equal(nonlocalBindAllowed('10.0.0.1', () => '1\n'), true);
  assert.equal(nonlocalBindAllowed('10.0.0.1', () => '0\n'), false);
  assert.equal(nonlocalBindAllowed('10.0.0.1', () => { throw new Error('ENOENT'); }), false);
});

test('a driver that listens early: listeners open while the address is added; a failed add closes them and gives the lease back', { timeout: 30_000 }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const redis: Redis = createRedis(RedisSchema.parse({ url: `redis://127.0.0.1:${server.port}` }), 'lease');
  redis.on('error', () => {});
  t.after(() => redis.disconnect());
  await redis.connect();
  const keys = new RedisKeys('early');
  const vip = VipSchema.parse({ name: 'main', driver: 'linux', interface: 'lo', address: '127.0.0.68' });
  const host = new MemoryVipHost();
  const driver = new GatedDriver();
  const lease = new LeaseClient(redis, keys);
  const self = { id: 'a', priority: 100, alive: true, ready: true, drained: false };
  const m = new VipMachine({
    vip, nodeId: 'a', lease, driver, host, timings: T,
    handover: { closeRatePerSec: 1000, closeWindowMs: 0, maxOverlapMs: 1000, timeoutMs: 2000 },
    clock: systemClock, logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }),
    peers: { evidence: () => undefined, required: () => [], beatNow: () => {}, claimants: () => [] },
    guard: { arm: () => {}, disarm: () => {} },
    placement: 'priority', self: () => self, members: () => [self], member: () => undefined,
    send: async () => { throw new Error('no command bus in this test'); },
    onChange: () => {}, publish: () => {}, onRedis: () => {}, redisOk: () => true,
  });
  t.after(async () => { driver.release(true); await m.stop(); });
  m.start();

  await waitFor(() => driver.pending, 'up() called', 10_000);
  await waitFor(() => host.isServing('main'), 'the listeners open while up() is still running', 2_000);
  assert.equal(m.state, 'owner');
  const epoch = m.snapshot().epoch;

  driver.release(false);
  await waitFor(() => !host.isServing('main'), 'the listeners are closed after the failed add', 5_000);
  await waitFor(async () => (await lease.read('main')).holder?.epoch !== epoch, 'the lease given back', 5_000);
  assert.notEqual(m.state, 'owner');
});
