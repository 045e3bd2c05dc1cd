/**
 * A sentinel that accepts the connection but never answers does not hold
 * a node's Redis clients: the master lookup times out there after
 * cluster.redis.connectTimeoutMs and asks the next sentinel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { startSentinelSetup } from '../harness/redis';
import { teardown } from '../harness/teardown';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';

test('a silent sentinel first in the list: the client connects through the next one', async (t) => {
  const cleanup = teardown(t);
  const s = await startSentinelSetup('wsha-silent');
  cleanup.after(() => s.stop());
  // Takes connections and reads them, answers nothing.
  const held: Socket[] = [];
  const silent = createServer((c) => { held.push(c); c.on('error', () => {}); c.resume(); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  cleanup.after(() => new Promise<void>((r) => { for (const c of held) c.destroy(); silent.close(() => r()); }));
  const port = (silent.address() as { port: number }).port;
  const cfg = RedisSchema.parse({ sentinels: [{ host: '127.0.0.1', port }, ...s.sentinels.map((x) => ({ host: x.host, port: x.port }))], name: s.name, connectTimeoutMs: 500 });
  const r = createRedis(cfg, 'state', 'wsha-test-silent');
  r.on('error', () => {});
  cleanup.after(() => r.disconnect());
  const t0 = Date.now();
  const connected = r.connect().then(() => true);
  const gaveUp = new Promise<boolean>((res) => setTimeout(() => res(false), 10_000).unref());
  assert.equal(await Promise.race([connected, gaveUp]), true, 'connected through the second sentinel within 10 s');
  assert.equal(await r.ping(), 'PONG');
  t.diagnostic(`connected ${Date.now() - t0} ms after the start, past a silent sentinel (connectTimeoutMs 500)`);
});
