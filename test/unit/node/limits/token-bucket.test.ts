import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket, bucketParams } from '../../../../node/limits/token-bucket';
import { RouteRateLimiter } from '../../../../node/limits/rate-limiter';

test('a bucket allows its burst, then one token per 1/rate seconds', () => {
  const p = bucketParams({ ratePerSec: 10, burst: 3 });
  const b = new TokenBucket(p, 0);
  assert.equal(b.take(p, 0), 0);
  assert.equal(b.take(p, 0), 0);
  assert.equal(b.take(p, 0), 0);
  assert.equal(b.take(p, 0), 100);
  assert.equal(b.take(p, 50), 50);
  assert.equal(b.take(p, 100), 0);
  assert.ok(b.isFull(p, 1000));
});

test('a share splits rate and burst between worker processes, at least one token', () => {
  assert.deepEqual(bucketParams({ ratePerSec: 100, burst: 40 }, 0.25), { ratePerSec: 25, burst: 10 });
  assert.deepEqual(bucketParams({ ratePerSec: 2 }, 0.25), { ratePerSec: 0.5, burst: 1 });
  assert.deepEqual(bucketParams({ ratePerSec: 5 }), { ratePerSec: 5, burst: 5 });
});

test('route limiter: per-client buckets are separate, the route bucket is shared', () => {
  const r = new RouteRateLimiter('r', { cluster: false, upgrades: { perClient: { ratePerSec: 1, burst: 2 }, perRoute: { ratePerSec: 1, burst: 3 } } });
  assert.equal(r.checkLocal('upgrades', 'a', 0), null);
  assert.equal(r.checkLocal('upgrades', 'a', 0), null);
  assert.deepEqual(r.checkLocal('upgrades', 'a', 0), { scope: 'client', retryAfterSec: 1 });
  assert.equal(r.checkLocal('upgrades', 'b', 0), null);
  assert.deepEqual(r.checkLocal('upgrades', 'c', 0), { scope: 'route', retryAfterSec: 1 });
  assert.equal(r.limits('requests'), false);
  assert.equal(r.checkLocal('upgrades', 'a', 2000), null);
});

test('cluster-wide limiter falls back to the local bucket when the shared one is slow or fails', async () => {
  const slow = { take: () => new Promise<number>(() => {}) };
  const r = new RouteRateLimiter('r', { cluster: true, requests: { perRoute: { ratePerSec: 1, burst: 1 } } }, { shared: slow, timeoutMs: 10 });
  assert.equal(await r.check('requests', 'a', 0), null);
  assert.equal((await r.check('requests', 'a', 0))?.scope, 'route');
  assert.equal(r.fallbacks, 2);
  const failing = { take: () => Promise.reject(new Error('down')) };
  const f = new RouteRateLimiter('r', { cluster: true, requests: { perRoute: { ratePerSec: 1, burst: 1 } } }, { shared: failing });
  assert.equal(await f.check('requests', 'a', 0), null);
  assert.equal(f.fallbacks, 1);
  const refusing = { take: async () => 1500 };
  const s = new RouteRateLimiter('r', { cluster: true, requests: { perRoute: { ratePerSec: 1, burst: 1 } } }, { shared: refusing });
  assert.deepEqual(await s.check('requests', 'a', 0), { scope: 'route', retryAfterSec: 2 });
  assert.equal(s.fallbacks, 0);
});
