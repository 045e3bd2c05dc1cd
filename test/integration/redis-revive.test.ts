/**
 * A node's Redis clients outlive ioredis ending them during a reconnect
 * (shared/redis/revive.ts). The race is made with public calls only: a
 * disconnect that reaches the connector in the same tick as a reconnect's
 * connect, which is what Sentinel's failover detector does on
 * +switch-master. Without the revival the client stays 'end' for good.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { waitFor } from '../harness/ports';
import { teardown, type Cleanups } from '../harness/teardown';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema, type RedisConfig } from '../../shared/config/schema';
import type { OnRevive } from '../../shared/redis/revive';

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

/** A redis-server of the test's own, and a maker of connected clients that are closed at its end. */
async function withRedis(t: TestContext): Promise<(purpose: 'state' | 'lease' | 'subscriber', name: string, onRevive?: OnRevive) => Promise<Redis>> {
  const cleanup: Cleanups = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const cfg: RedisConfig = RedisSchema.parse({ url: redis.url });
  return async (purpose, name, onRevive) => {
    const c = createRedis(cfg, purpose, name, onRevive);
    c.on('error', () => {});
    cleanup.after(() => c.disconnect());
    await c.connect();
    return c;
  };
}

test('a state client that ioredis ended during a reconnect connects again and serves commands', async (t) => {
  const client = await withRedis(t);
  const revivals: number[] = [];
  const r = await client('state', 'wsha-test-state', (n) => revivals.push(n));
  assert.equal(await r.ping(), 'PONG');

  await endDuringReconnect(r);
  await waitFor(() => r.status === 'ready', 'the ended client to be ready again', 10_000);
  assert.equal(await r.ping(), 'PONG');
  assert.deepEqual(revivals, [1]);
});

test('a subscriber ended during a reconnect comes back with its subscriptions', async (t) => {
  const client = await withRedis(t);
  const [sub, pub] = await Promise.all([client('subscriber', 'wsha-test-sub'), client('state', 'wsha-test-pub')]);
  const got: string[] = [];
  sub.on('message', (_channel: string, message: string) => got.push(message));
  await sub.subscribe('wsha-test-events');

  await endDuringReconnect(sub);
  await waitFor(async () => (await pub.publish('wsha-test-events', 'after')) === 1, 'the subscriber to be subscribed again', 10_000, 50);
  await waitFor(() => got.includes('after'), 'the message published after the revival');
});

test('a client closed on purpose stays closed: disconnect() and quit()', async (t) => {
  const client = await withRedis(t);
  const [a, b] = await Promise.all([client('state', 'wsha-test-a'), client('lease', 'wsha-test-b')]);
  const ended = Promise.all([new Promise((r) => a.once('end', r)), new Promise((r) => b.once('end', r))]);
  a.disconnect();
  await b.quit();
  await ended;
  // Longer than several revival delays (100 ms, doubling to 1 s).
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(a.status, 'end');
  assert.equal(b.status, 'end');
});
