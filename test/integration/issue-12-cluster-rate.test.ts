/**
 * Issue 12, cluster-wide rate limits through a real redis-server: two
 * nodes' limiters share one bucket (Lua on Redis's clock), and when Redis
 * is gone each falls back to its own local bucket at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { RedisKeys } from '../../shared/redis/keys';
import { RedisRateLimit } from '../../cluster/ratelimit/redis-rate-limit';
import { RouteRateLimiter } from '../../node/limits/rate-limiter';

test('two limiters share a cluster-wide bucket; with Redis gone they fall back to their own', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  // disconnectTimeout: the hook's disconnect comes after this test stopped Redis, and ioredis would wait its default 2 s
  // for the close of a socket that is already gone, keeping the process alive.
  const conn = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true, disconnectTimeout: 100 });
  await conn.connect();
  t.after(() => conn.disconnect());
  const shared = new RedisRateLimit(conn, new RedisKeys('rate-test'));
  const cfg = { cluster: true, upgrades: { perRoute: { ratePerSec: 1, burst: 4 } } };
  const a = new RouteRateLimiter('r', cfg, { shared, timeoutMs: 500 });
  const b = new RouteRateLimiter('r', cfg, { shared, timeoutMs: 500 });
  const results: Array<unknown> = [];
  for (let i = 0; i < 3; i++) { results.push(await a.check('upgrades', 'x', 0)); results.push(await b.check('upgrades', 'y', 0)); }
  assert.deepEqual(results.map((r) => (r === null ? 'ok' : 'refused')), ['ok', 'ok', 'ok', 'ok', 'refused', 'refused'], 'four tokens for both nodes together');
  assert.equal(a.fallbacks + b.fallbacks, 0);
  assert.ok((await conn.keys('*rate:*')).length >= 1);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  assert.equal(await a.check('upgrades', 'x', 0), null, 'the local bucket (still full) decides');
  assert.ok(performance.now() - t0 < 400, 'no wait for a dead Redis beyond the timeout');
  assert.equal(a.fallbacks, 1);
});
