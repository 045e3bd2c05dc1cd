/**
 * A node's Redis clients outlive ioredis ending them during a reconnect
 * (shared/redis/revive.ts). The race is made with public calls only: a
 * disconnect that reaches the connector in the same tick as a reconnect's
 * connect, which is what Sentinel's failover detector does on
 * +switch-master. Without the revival the client stays 'end' for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { waitFor } from '../harness/ports';
import { teardown } from '../harness/teardown';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';

/**
 * Makes ioredis end `r` the way a failover does: its connection drops, and as the reconnect's connect starts, a
 * disconnect reaches the connector (ioredis emits 'connecting' on the tick before the connector looks, and then fails
 * the connect with "Connection is closed."). Resolves at the 'end'; rejects after 5 s.
 */
function endDuringReconnect(r: Redis): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ioredis did not end the client (status ${r.status})`)), 5000);
    r.once('end', () => { clearTimeout(timer); resolve(); });
    r.once('reconnecting', () => r.once('connecting', () => r.disconnect(true)));
    r.disconnect(true);
  });
}

test('a state client that ioredis ended during a reconnect connects again and serves commands', async (t) => {
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const revivals: number[] = [];
  const r = createRedis(RedisSchema.parse({ url: redis.url }), 'state', 'wsha-test-state', (n) => revivals.push(n));
  r.on('error', () => {});
  cleanup.after(() => r.disconnect());
  await r.connect();
  assert.equal(await r.ping(), 'PONG');

  await endDuringReconnect(r);
  await waitFor(() => r.status === 'ready', 'the ended client to be ready again', 10_000);
  assert.equal(await r.ping(), 'PONG');
  assert.deepEqual(revivals, [1]);
});

test('a subscriber ended during a reconnect comes back with its subscriptions', async (t) => {
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const cfg = RedisSchema.parse({ url: redis.url });
  const sub = createRedis(cfg, 'subscriber', 'wsha-test-sub');
  const pub = createRedis(cfg, 'state', 'wsha-test-pub');
  for (const c of [sub, pub]) { c.on('error', () => {}); cleanup.after(() => c.disconnect()); }
  await Promise.all([sub.connect(), pub.connect()]);
  const got: string[] = [];
  sub.on('message', (_channel: string, message: string) => got.push(message));
  await sub.subscribe('wsha-test-events');

  await endDuringReconnect(sub);
  await waitFor(async () => (await pub.publish('wsha-test-events', 'after')) === 1, 'the subscriber to be subscribed again', 10_000, 50);
  await waitFor(() => got.includes('after'), 'the message published after the revival');
});

test('a client closed on purpose stays closed: disconnect() and quit()', async (t) => {
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const cfg = RedisSchema.parse({ url: redis.url });
  const a = createRedis(cfg, 'state', 'wsha-test-a');
  const b = createRedis(cfg, 'lease', 'wsha-test-b');
  for (const c of [a, b]) { c.on('error', () => {}); cleanup.after(() => c.disconnect()); }
  await Promise.all([a.connect(), b.connect()]);
  const ended = Promise.all([new Promise((r) => a.once('end', r)), new Promise((r) => b.once('end', r))]);
  a.disconnect();
  await b.quit();
  await ended;
  // Longer than several revival delays (100 ms, doubling to 1 s).
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(a.status, 'end');
  assert.equal(b.status, 'end');
});
