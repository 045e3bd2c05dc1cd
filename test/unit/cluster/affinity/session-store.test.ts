/**
 * SessionStore against a real redis-server, and against a "Redis" that
 * accepts TCP and never answers: the lookup still returns within its
 * timeout, from local memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { waitFor } from '../../../harness/ports';
import { SessionStore } from '../../../../cluster/affinity/session-store';
import { LocalSessionCache } from '../../../../cluster/affinity/local-cache';
import { RedisKeys } from '../../../../shared/redis/keys';
import { silentLogger } from '../../../../shared/logger';
import { teardown } from '../../../harness/teardown';

const keys = new RedisKeys('aff');

test('record sets the key with its TTL; release lets open sessions be refreshed', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const r = new Redis(redis.url);
  cleanup.after(() => r.disconnect());
  const s = new SessionStore({ redis: r, keys, ttlMs: 5000, lookupTimeoutMs: 200, log: silentLogger() });
  s.record('app', 'k1', 'b1');
  s.record('app', 'k2', 'b2');
  await waitFor(async () => (await r.get(keys.session('app', 'k2'))) === 'b2', 'stored', 2000);
  assert.equal(await s.lookup('app', 'k1'), 'b1');
  assert.equal(await s.lookup('app', 'nope'), null);
  const ttl = await r.pttl(keys.session('app', 'k1'));
  assert.ok(ttl > 4000 && ttl <= 5000, `ttl ${ttl}`);
  assert.equal(await s.refreshActive(), 0, 'no refresh before the data plane ever calls release');
  s.release('app', 'k2');
  await r.pexpire(keys.session('app', 'k1'), 1000);
  assert.equal(await s.refreshActive(), 1, 'k1 is still open, k2 closed');
  assert.ok((await r.pttl(keys.session('app', 'k1'))) > 4000, 'k1 refreshed');
});

test('a Redis that never answers: lookup returns within its timeout from local memory', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const held = new Set<Socket>();
  const srv = createServer((sock) => { held.add(sock); sock.on('error', () => undefined); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.after(() => new Promise<void>((r) => { for (const x of held) x.destroy(); srv.close(() => r()); }));
  const r = new Redis({ port: (srv.address() as { port: number }).port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  cleanup.after(() => r.disconnect());
  void r.connect().catch(() => undefined);
  const s = new SessionStore({ redis: r, keys, ttlMs: 5000, lookupTimeoutMs: 80, log: silentLogger() });
  s.record('app', 'k1', 'b1');
  const started = performance.now();
  assert.equal(await s.lookup('app', 'k1'), 'b1');
  assert.equal(await s.lookup('app', 'unknown'), null);
  const took = performance.now() - started;
  assert.ok(took < 600, `two lookups took ${took} ms`);
  assert.equal(s.stats.fallbacks, 2);
});

test('the local cache is bounded and evicts closed sessions first', () => {
  const c = new LocalSessionCache(3);
  c.open('p', 'open-1', 'a');
  c.open('p', 'closed-1', 'a');
  c.close('p', 'closed-1');
  c.open('p', 'open-2', 'a');
  c.open('p', 'open-3', 'b');
  assert.equal(c.size, 3);
  assert.equal(c.get('p', 'closed-1'), null);
  assert.equal(c.get('p', 'open-1'), 'a');
  assert.deepEqual([...c.active()].map((e) => e.key), ['open-1', 'open-2', 'open-3']);
});

test('a session recorded again soon is not rewritten, unless it moved or Redis lost it', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const r = new Redis(redis.url);
  cleanup.after(() => r.disconnect());
  await r.ping();
  const s = new SessionStore({ redis: r, keys, ttlMs: 60_000, lookupTimeoutMs: 200, log: silentLogger() });
  const writes: string[] = [];
  const mon = await r.monitor();
  cleanup.after(() => mon.disconnect());
  mon.on('monitor', (_time: string, args: string[]) => { if (args[0]?.toLowerCase() === 'set') writes.push(`${args[1].split(':').pop()}=${args[2]}`); });
  s.record('app', 'k', 'b1');
  await waitFor(async () => (await r.get(keys.session('app', 'k'))) === 'b1', 'first write', 2000);
  s.record('app', 'k', 'b1');
  s.record('app', 'k', 'b1');
  s.record('app', 'k', 'b2', 'b1');
  await waitFor(async () => (await r.get(keys.session('app', 'k'))) === 'b2', 'move written', 2000);
  await r.del(keys.session('app', 'k'));
  assert.equal(await s.lookup('app', 'k'), 'b2', 'local memory answers while Redis lost it');
  s.record('app', 'k', 'b2');
  await waitFor(async () => (await r.get(keys.session('app', 'k'))) === 'b2', 'rewritten after loss', 2000);
  await waitFor(() => writes.length >= 3, 'writes seen', 2000);
  assert.deepEqual(writes, ['k=b1', 'k=b2', 'k=b2']);
});
