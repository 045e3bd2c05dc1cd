/**
 * Discovery of VIPs, pools and backends by their keys on a real
 * redis-server: one pass finds them among many session keys, ignores other
 * clusters, and the cached variant answers from memory within its TTL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { cachedDiscover, discoverKeys } from '../../cluster/status/discover';
import { RedisKeys } from '../../shared/redis/keys';
import { startRedis } from '../harness/redis';
import { teardown } from '../harness/teardown';

test('one pass finds VIPs, observed backends and verdict pools of this cluster only', { timeout: 60_000 }, async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const server = await startRedis();
  cleanup.after(() => server.stop());
  const redis = new Redis(server.port, '127.0.0.1');
  cleanup.after(() => redis.disconnect());
  const k = new RedisKeys('disc');
  const other = new RedisKeys('other');
  const m = redis.multi();
  m.set(k.lease('front'), 'node-a:3');
  m.hset(k.vip('back'), 'owner', '', 'epoch', '2');
  m.hset(k.health('chat', 'echo-1'), 'node-a', '{}');
  m.hset(k.health('chat', 'echo-2'), 'node-a', '{}');
  m.hset(k.verdict('games'), 'g1', 'up');
  m.set(other.lease('elsewhere'), 'x:1');
  m.hset(other.health('nope', 'n1'), 'a', '{}');
  await m.exec();
  // Many session keys around them, as a busy cluster has.
  for (let batch = 0; batch < 20; batch++) {
    const p = redis.pipeline();
    for (let i = 0; i < 1000; i++) p.set(k.session('chat', `s${batch}-${i}`), 'echo-1');
    await p.exec();
  }
  const found = await discoverKeys(redis, k);
  assert.deepEqual(found.vips.sort(), ['back', 'front']);
  assert.deepEqual(found.observed.map((x) => x.join('/')).sort(), ['chat/echo-1', 'chat/echo-2']);
  assert.deepEqual(found.verdictPools, ['games']);

  let now = 0;
  const cached = cachedDiscover(5000, () => now);
  assert.deepEqual((await cached(redis, k)).vips.sort(), ['back', 'front']);
  await redis.set(k.lease('third'), 'node-b:1');
  now = 4999;
  assert.deepEqual((await cached(redis, k)).vips.sort(), ['back', 'front'], 'cached within the TTL');
  now = 5000;
  assert.deepEqual((await cached(redis, k)).vips.sort(), ['back', 'front', 'third'], 'fresh after it');
});
