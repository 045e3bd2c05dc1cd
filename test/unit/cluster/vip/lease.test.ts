/** Lease scripts against a real redis-server: fencing epochs, compare-and-set, re-assert, expiry, events, replica acknowledgement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../../../harness/redis';
import { sleep, waitFor } from '../../../harness/ports';
import { LeaseClient, parseLease } from '../../../../cluster/vip/lease';
import { RedisKeys } from '../../../../shared/redis/keys';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema } from '../../../../shared/config/schema';
import { teardown } from '../../../harness/teardown';

const held = (nodeId: string, epoch: number, current = epoch) => ({ ok: false, why: 'held', holder: { nodeId, epoch }, epoch: current });
const ok = (nodeId: string, epoch: number, reasserted = false) => ({ ok: true, lease: { nodeId, epoch }, reasserted });

test('lease scripts', async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const cfg = RedisSchema.parse({ url: server.url });
  const redis = createRedis(cfg, 'lease');
  redis.on('error', () => { /* teardown order may stop the server first */ });
  t.after(() => redis.disconnect());
  await redis.connect();
  const sub = createRedis(cfg, 'subscriber');
  sub.on('error', () => {});
  t.after(() => sub.disconnect());
  const keys = new RedisKeys('t1');
  const events: unknown[] = [];
  await sub.subscribe(keys.events());
  sub.on('message', (_c: string, m: string) => events.push(JSON.parse(m)));
  const lease = new LeaseClient(redis, keys);

  await t.test('parseLease', () => {
    assert.deepEqual(parseLease('node-a:12'), { nodeId: 'node-a', epoch: 12 });
    assert.equal(parseLease(''), null);
    assert.equal(parseLease('x:0'), null);
    assert.equal(parseLease('nocolon'), null);
  });

  await t.test('acquire is set-if-absent and increments the epoch', async () => {
    assert.deepEqual(await lease.acquire('main', 'a', 500, 'startup'), ok('a', 1));
    assert.deepEqual(await lease.acquire('main', 'b', 500, 'startup'), held('a', 1));
    assert.equal(await redis.hget(keys.vip('main'), 'owner'), 'a');
    assert.equal(await redis.hget(keys.vip('main'), 'epoch'), '1');
  });

  await t.test('assert renews only the exact node and epoch', async () => {
    assert.deepEqual(await lease.assert('main', { nodeId: 'a', epoch: 1 }, 500), ok('a', 1));
    assert.deepEqual(await lease.assert('main', { nodeId: 'a', epoch: 7 }, 500), held('a', 1));
    assert.deepEqual(await lease.assert('main', { nodeId: 'b', epoch: 1 }, 500), held('a', 1));
  });

  await t.test('an expired lease is re-asserted at the same epoch when nobody took the VIP since', async () => {
    await sleep(650);
    assert.equal((await lease.read('main')).holder, null);
    assert.deepEqual(await lease.assert('main', { nodeId: 'a', epoch: 1 }, 500), ok('a', 1, true));
    assert.equal(await redis.get(keys.epoch('main')), '1', 'no new epoch for a re-assert');
    const r = await lease.read('main');
    assert.deepEqual(r.holder, { nodeId: 'a', epoch: 1 });
    assert.ok(r.ttlMs > 0 && r.ttlMs <= 500);
  });

  await t.test('once someone acquired after expiry, the old epoch cannot come back', async () => {
    await sleep(650);
    assert.deepEqual(await lease.acquire('main', 'b', 5000, 'expired'), ok('b', 2));
    assert.equal(await redis.hget(keys.vip('main'), 'previousOwner'), 'a');
    await redis.del(keys.lease('main'));
    assert.deepEqual(await lease.assert('main', { nodeId: 'a', epoch: 1 }, 500), { ok: false, why: 'held', holder: null, epoch: 2 });
  });

  await t.test('takeover only replaces exactly the dead owner', async () => {
    await lease.assert('main', { nodeId: 'b', epoch: 2 }, 5000);
    assert.equal((await lease.takeover('main', { nodeId: 'b', epoch: 1 }, 'c', 5000, 'peer-dead')).ok, false);
    assert.deepEqual(await lease.takeover('main', { nodeId: 'b', epoch: 2 }, 'c', 5000, 'peer-dead'), ok('c', 3));
    assert.deepEqual(await lease.takeover('main', { nodeId: 'b', epoch: 2 }, 'a', 5000, 'peer-dead'), held('c', 3));
  });

  await t.test('handover needs the current owner and hands out a new epoch', async () => {
    assert.equal((await lease.handover('main', { nodeId: 'a', epoch: 3 }, 'b', 5000, 'failover')).ok, false);
    assert.deepEqual(await lease.handover('main', { nodeId: 'c', epoch: 3 }, 'b', 5000, 'failover'), ok('b', 4));
    assert.equal(await redis.hget(keys.vip('main'), 'reason'), 'failover');
    assert.equal((await lease.assert('main', { nodeId: 'c', epoch: 3 }, 500)).ok, false, 'the old owner cannot re-assert after a handover');
  });

  await t.test('release compares then deletes, and a late re-assert cannot bring the released epoch back', async () => {
    assert.equal((await lease.release('main', { nodeId: 'c', epoch: 3 }, 'stop')).ok, false);
    assert.equal((await lease.release('main', { nodeId: 'b', epoch: 4 }, 'stop')).ok, true);
    const r = await lease.read('main');
    assert.equal(r.holder, null);
    assert.equal(r.recordOwner, '');
    assert.equal(r.releasedEpoch, 4);
    assert.equal((await lease.assert('main', { nodeId: 'b', epoch: 4 }, 500)).ok, false);
    assert.equal((await lease.read('main')).holder, null);
  });

  await t.test('every change is published as an ownership event', async () => {
    await sleep(50);
    const own = events.filter((e) => (e as { type: string }).type === 'ownership') as Array<{ owner: string | null; epoch: number; reason: string }>;
    assert.deepEqual(own.map((e) => [e.owner, e.epoch, e.reason]), [
      ['a', 1, 'startup'], ['b', 2, 'expired'], ['c', 3, 'peer-dead'], ['b', 4, 'failover'], [null, 4, 'stop'],
    ]);
  });
});

test('a Redis that lost its data never hands out an epoch the caller has already seen, and learns it back from a re-assert', async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const redis = createRedis(RedisSchema.parse({ url: server.url }), 'lease');
  redis.on('error', () => {});
  t.after(() => redis.disconnect());
  await redis.connect();
  const keys = new RedisKeys('t2');
  const lease = new LeaseClient(redis, keys);
  // an empty Redis (restarted without persistence) while the nodes remember epoch 41
  assert.deepEqual(await lease.acquire('main', 'a', 5000, 'redis-restarted', 41), ok('a', 42));
  assert.deepEqual(await lease.takeover('main', { nodeId: 'a', epoch: 42 }, 'b', 5000, 'peer-dead', 7), ok('b', 43));
  await redis.del(keys.lease('main'), keys.epoch('main'));
  assert.deepEqual(await lease.takeover('main', { nodeId: 'b', epoch: 43 }, 'c', 5000, 'peer-dead'), ok('c', 44));
  await redis.flushall();
  assert.deepEqual(await lease.assert('main', { nodeId: 'c', epoch: 44 }, 5000), ok('c', 44, true), 'the owner re-asserts into an empty Redis');
  assert.equal(await redis.get(keys.epoch('main')), '44', 'and the epoch counter is back where it was');
  assert.deepEqual(await lease.acquire('other', 'c', 5000, 'x'), ok('c', 1));
});

test('with replica acknowledgement a write counts only once a replica has it', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const master = await startRedis();
  cleanup.after(() => master.stop());
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  cleanup.after(() => replica.stop());
  const redis = createRedis(RedisSchema.parse({ url: master.url }), 'lease');
  redis.on('error', () => {});
  cleanup.after(() => redis.disconnect());
  await redis.connect();
  await waitFor(async () => /slave0:.*state=online/.test(await redis.info('replication')), 'the replica is in sync', 10_000);
  const keys = new RedisKeys('t3');
  // A generous ack window: on a loaded machine a replica in sync may still take longer than the default to acknowledge.
  const lease = new LeaseClient(redis, keys, { required: () => true, timeoutMs: 1000 });
  assert.deepEqual(await lease.acquire('main', 'a', 5000, 'startup'), ok('a', 1));
  assert.deepEqual(await lease.assert('main', { nodeId: 'a', epoch: 1 }, 5000), ok('a', 1));
  replica.proc.kill('SIGSTOP');
  cleanup.after(() => { replica.proc.kill('SIGCONT'); });
  // WAIT answers 0 after its timeout, or (Redis checks blocked clients on its cron) the command times out first: neither counts.
  const r = await lease.assert('main', { nodeId: 'a', epoch: 1 }, 5000).catch((err: Error) => ({ ok: false, error: err.message }));
  assert.equal(r.ok, false, `a renewal no replica acknowledged does not count: ${JSON.stringify(r)}`);
  if ('why' in r) assert.equal(r.why, 'not-replicated');
  const a = await lease.acquire('other', 'a', 5000, 'x').catch((err: Error) => ({ ok: false, error: err.message }));
  assert.equal(a.ok, false, 'nor does an acquisition');
  replica.proc.kill('SIGCONT');
  await waitFor(async () => (await lease.assert('main', { nodeId: 'a', epoch: 1 }, 5000)).ok, 'acknowledged again once the replica is back', 10_000);
});
