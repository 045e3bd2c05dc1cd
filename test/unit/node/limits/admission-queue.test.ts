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

/**
 * A storm on a simulated clock: `clients` arrive at once and a refused one
 * comes back at its Retry-After. Returns the admission times (ms).
 */
async function storm(queues: AdmissionQueue[], clock: { now: number }, clients: number): Promise<number[]> {
  const admittedAt: number[] = [];
  const due: Array<[number, number]> = Array.from({ length: clients }, (_, i) => [0, i]);
  let waiting = 0;
  for (clock.now = 0; clock.now < 30_000 && admittedAt.length < clients; clock.now += 1) {
    for (let k = due.length - 1; k >= 0; k--) {
      if (due[k][0] > clock.now) continue;
      const [, c] = due.splice(k, 1)[0];
      const q = queues[c % queues.length];
      const r = q.enter(() => false);
      if (r === null) admittedAt.push(clock.now);
      else if (r instanceof Promise) { waiting++; void r.then((x) => { waiting--; if (x === null) admittedAt.push(clock.now); else due.push([clock.now + x.retryAfterSec * 1000, c]); }); }
      else due.push([clock.now + r.retryAfterSec * 1000, c]);
    }
    for (const q of queues) q.onTimer();
    await new Promise((r) => setImmediate(r));
  }
  for (const q of queues) q.close();
  assert.equal(waiting, 0);
  return admittedAt;
}

const peakPerWindow = (ts: number[], windowMs: number) => Math.max(...ts.map((t) => ts.filter((x) => x >= t && x < t + windowMs).length));

test('in a storm, any 1 s window admits at most burst + rate, and a node of two workers (share 1/2 each) no more than one', async () => {
  const c = { now: 0 };
  const one = await storm([new AdmissionQueue(cfg({ handshakesPerSec: 100, burst: 100, queueSize: 200, queueTimeoutMs: 2000 }), { nowMs: () => c.now })], c, 600);
  assert.equal(one.length, 600);
  const peak = peakPerWindow(one, 1000);
  assert.ok(peak <= 200 && peak >= 190, `a full bucket plus a second of refill: ${peak}`);
  assert.ok(peakPerWindow(one.filter((t) => t >= 1000), 1000) <= 101, 'after the burst, the rate');
  const d = { now: 0 };
  const halves = [0, 1].map(() => new AdmissionQueue(cfg({ handshakesPerSec: 100, burst: 100, queueSize: 100, queueTimeoutMs: 2000 }), { share: 0.5, nowMs: () => d.now }));
  const two = await storm(halves, d, 600);
  assert.equal(two.length, 600);
  assert.ok(peakPerWindow(two, 1000) <= 200, `two workers together: ${peakPerWindow(two, 1000)}`);
});

test('a token that comes due while the timer re-arms releases the head, and the waiters behind it still get a timer', async () => {
  // Each reading of this clock moves it by `step` ms: at 10/s every reading after the timer brings one token.
  let clock = 0;
  let step = 0;
  const q = new AdmissionQueue(cfg({ handshakesPerSec: 10, burst: 1, queueSize: 5, queueTimeoutMs: 1_000_000 }), { nowMs: () => (clock += step) });
  assert.equal(q.enter(() => false), null);
  const waiters = [q.enter(() => false), q.enter(() => false), q.enter(() => false)];
  step = 100;
  let timer: NodeJS.Timeout | undefined;
  const within = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('a waiter was left without a timer')), 3000); });
  try {
    assert.deepEqual(await Promise.race([Promise.all(waiters), within]), [null, null, null]);
  } finally { clearTimeout(timer); }
  assert.equal(q.admitted, 4);
  assert.equal(q.waiting, 0);
});
