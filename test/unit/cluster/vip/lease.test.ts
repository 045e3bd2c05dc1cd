/** Lease scripts against a real redis-server: fencing epochs, compare-and-set, expiry, events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../../../harness/redis';
import { sleep } from '../../../harness/ports';
import { LeaseClient, parseLease } from '../../../../cluster/vip/lease';
import { RedisKeys } from '../../../../shared/redis/keys';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema } from '../../../../shared/config/schema';

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
    const a = await lease.acquire('main', 'a', 500, 'startup');
    assert.deepEqual(a, { ok: true, lease: { nodeId: 'a', epoch: 1 } });
    const b = await lease.acquire('main', 'b', 500, 'startup');
    assert.deepEqual(b, { ok: false, holder: { nodeId: 'a', epoch: 1 } });
    assert.equal(await redis.hget(keys.vip('main'), 'owner'), 'a');
    assert.equal(await redis.hget(keys.vip('main'), 'epoch'), '1');
  });

  await t.test('renew compares node and epoch', async () => {
    assert.equal((await lease.renew('main', { nodeId: 'a', epoch: 1 }, 500)).ok, true);
    const stale = await lease.renew('main', { nodeId: 'a', epoch: 7 }, 500);
    assert.deepEqual(stale, { ok: false, holder: { nodeId: 'a', epoch: 1 } });
    const other = await lease.renew('main', { nodeId: 'b', epoch: 1 }, 500);
    assert.equal(other.ok, false);
  });

  await t.test('an unrenewed lease expires and the next acquire gets a higher epoch', async () => {
    await sleep(650);
    assert.equal(await lease.read('main'), null);
    const lost = await lease.renew('main', { nodeId: 'a', epoch: 1 }, 500);
    assert.deepEqual(lost, { ok: false, holder: null });
    const b = await lease.acquire('main', 'b', 5000, 'expired');
    assert.deepEqual(b, { ok: true, lease: { nodeId: 'b', epoch: 2 } });
    assert.equal(await redis.hget(keys.vip('main'), 'previousOwner'), 'a');
  });

  await t.test('takeover only replaces exactly the dead owner', async () => {
    const wrong = await lease.takeover('main', { nodeId: 'b', epoch: 1 }, 'c', 5000, 'peer-dead');
    assert.equal(wrong.ok, false);
    const ok = await lease.takeover('main', { nodeId: 'b', epoch: 2 }, 'c', 5000, 'peer-dead');
    assert.deepEqual(ok, { ok: true, lease: { nodeId: 'c', epoch: 3 } });
    const again = await lease.takeover('main', { nodeId: 'b', epoch: 2 }, 'a', 5000, 'peer-dead');
    assert.deepEqual(again, { ok: false, holder: { nodeId: 'c', epoch: 3 } });
  });

  await t.test('handover needs the current owner and hands out a new epoch', async () => {
    const notOwner = await lease.handover('main', { nodeId: 'a', epoch: 3 }, 'b', 5000, 'failover');
    assert.equal(notOwner.ok, false);
    const ok = await lease.handover('main', { nodeId: 'c', epoch: 3 }, 'b', 5000, 'failover');
    assert.deepEqual(ok, { ok: true, lease: { nodeId: 'b', epoch: 4 } });
    assert.equal(await redis.hget(keys.vip('main'), 'reason'), 'failover');
  });

  await t.test('release compares then deletes', async () => {
    assert.equal((await lease.release('main', { nodeId: 'c', epoch: 3 }, 'stop')).ok, false);
    assert.equal((await lease.release('main', { nodeId: 'b', epoch: 4 }, 'stop')).ok, true);
    assert.equal(await lease.read('main'), null);
    assert.equal(await redis.hget(keys.vip('main'), 'owner'), '');
  });

  await t.test('every change is published as an ownership event', async () => {
    await sleep(50);
    const own = events.filter((e) => (e as { type: string }).type === 'ownership') as Array<{ owner: string | null; epoch: number; reason: string }>;
    assert.deepEqual(own.map((e) => [e.owner, e.epoch, e.reason]), [
      ['a', 1, 'startup'], ['b', 2, 'expired'], ['c', 3, 'peer-dead'], ['b', 4, 'failover'], [null, 4, 'stop'],
    ]);
  });
});

test('a Redis that lost its data never hands out an epoch the caller has already seen', async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const redis = createRedis(RedisSchema.parse({ url: server.url }), 'lease');
  redis.on('error', () => {});
  t.after(() => redis.disconnect());
  await redis.connect();
  const keys = new RedisKeys('t2');
  const lease = new LeaseClient(redis, keys);
  // an empty Redis (restarted without persistence) while the nodes remember epoch 41
  assert.deepEqual(await lease.acquire('main', 'a', 5000, 'redis-restarted', 41), { ok: true, lease: { nodeId: 'a', epoch: 42 } });
  assert.deepEqual(await lease.takeover('main', { nodeId: 'a', epoch: 42 }, 'b', 5000, 'peer-dead', 7), { ok: true, lease: { nodeId: 'b', epoch: 43 } });
  await redis.del(keys.lease('main'), keys.epoch('main'));
  assert.deepEqual(await lease.takeover('main', { nodeId: 'b', epoch: 43 }, 'c', 5000, 'peer-dead'), { ok: true, lease: { nodeId: 'c', epoch: 44 } });
});
