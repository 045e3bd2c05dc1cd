import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionQueue } from '../../../../node/limits/admission-queue';

const cfg = (o: Record<string, number> = {}) => ({ handshakesPerSec: 20, burst: 2, queueSize: 2, queueTimeoutMs: 1000, retryAfterMaxSec: 5, ...o });

test('burst goes at once, the queue waits its turn, a full queue is refused with a jittered Retry-After', async () => {
  const q = new AdmissionQueue(cfg(), { random: () => 0.99 });
  assert.equal(q.enter(() => false), null);
  assert.equal(q.enter(() => false), null);
  const w1 = q.enter(() => false);
  const w2 = q.enter(() => false);
  assert.ok(w1 instanceof Promise && w2 instanceof Promise);
  assert.deepEqual(q.enter(() => false), { why: 'queue-full', retryAfterSec: 5 });
  const t0 = performance.now();
  assert.equal(await w1, null);
  assert.equal(await w2, null);
  const took = performance.now() - t0;
  assert.ok(took >= 80 && took < 1000, `two tokens at 20/s take about 100 ms, took ${took}`);
  assert.equal(q.admitted, 4);
  assert.equal(q.refused, 1);
});

test('a waiter whose time runs out is refused; a client that left spends no token', async () => {
  const q = new AdmissionQueue(cfg({ handshakesPerSec: 1, burst: 1, queueTimeoutMs: 50 }), { random: () => 0 });
  assert.equal(q.enter(() => false), null);
  assert.deepEqual(await q.enter(() => false), { why: 'queue-timeout', retryAfterSec: 1 });
  const r = new AdmissionQueue(cfg({ handshakesPerSec: 10, burst: 1 }));
  assert.equal(r.enter(() => false), null);
  let gone = false;
  const left = r.enter(() => gone);
  const next = r.enter(() => false);
  gone = true;
  assert.equal(await left, null);
  assert.equal(await next, null);
  assert.equal(r.admitted, 2, 'the one that left is not counted as admitted');
});
