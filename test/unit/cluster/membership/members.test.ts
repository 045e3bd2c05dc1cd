/** Membership view: parsing, liveness, drained set; heartbeat loop against a real redis-server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMembers, parseHeartbeat, readMembers, toCandidate } from '../../../../cluster/membership/members';
import { Heartbeat } from '../../../../cluster/membership/heartbeat';
import type { HeartbeatRecord } from '../../../../shared/records';
import { startRedis } from '../../../harness/redis';
import { waitFor } from '../../../harness/ports';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { silentLogger } from '../../../../shared/logger';
import { teardown } from '../../../harness/teardown';

const rec = (id: string, sentAt: number, over: Partial<HeartbeatRecord> = {}): HeartbeatRecord => ({
  id, address: '127.0.0.1', admin: '127.0.0.1:1', peer: '127.0.0.1:2', incarnation: `inc-${id}`, peers: [], priority: 100, role: 'standby', state: 'ready', ready: true, drained: false,
  version: '0', startedAt: 0, sentAt, connections: 0, vips: [], backendsDown: [], ...over,
});

test('parseHeartbeat rejects garbage', () => {
  assert.equal(parseHeartbeat(null), null);
  assert.equal(parseHeartbeat('{'), null);
  assert.equal(parseHeartbeat('{"id":1}'), null);
  assert.equal(parseHeartbeat(JSON.stringify(rec('a', 5)))?.id, 'a');
});

test('alive means a heartbeat younger than the timeout on Redis\'s clock and not stopping; drained comes from the set', () => {
  const now = 10_000;
  // The records' own wall clocks (sentAt) are wild on purpose: only the Redis stamps count.
  const stamps = new Map([['b', now - 1001], ['a', now - 1000], ['c', now], ['d', now]]);
  const m = buildMembers([rec('b', 0), rec('a', now + 99_999), rec('c', 5, { state: 'stopping' }), null, rec('d', -3, { drained: true })], stamps, new Set(['a']), now, 1000);
  assert.deepEqual(m.map((x) => [x.record.id, x.alive, x.drained]), [['a', true, true], ['b', false, false], ['c', false, false], ['d', true, false]]);
  assert.deepEqual(toCandidate(m[0]!), { id: 'a', priority: 100, alive: true, ready: true, drained: true });
});

test('heartbeats through a real Redis: written, read back, last word says stopping', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const server = await startRedis();
  cleanup.after(() => server.stop());
  const redis = createRedis(RedisSchema.parse({ url: server.url }), 'state');
  redis.on('error', () => { /* teardown order may stop the server first */ });
  cleanup.after(() => redis.disconnect());
  await redis.connect();
  const keys = new RedisKeys('hb');
  const views: string[][] = [];
  let oks = 0;
  const mk = (id: string) => new Heartbeat({
    redis, keys, intervalMs: 20, timeoutMs: 200, keepMs: 60_000, logger: silentLogger(),
    record: () => { const r = rec(id, 0); delete (r as Partial<HeartbeatRecord>).sentAt; return r; },
    onMembers: (m) => views.push(m.filter((x) => x.alive).map((x) => x.record.id)),
    onRedis: (ok) => { if (ok) oks++; },
  });
  const a = mk('a');
  const b = mk('b');
  a.start();
  b.start();
  cleanup.after(() => { void a.stop(); void b.stop(); });
  await waitFor(() => views.some((v) => v.join() === 'a,b'), 'both alive', 3000);
  await b.stop();
  assert.equal(JSON.parse((await redis.get(keys.node('b')))!).state, 'stopping');
  const members = await readMembers(redis, keys, 200);
  assert.deepEqual(members.map((m) => [m.record.id, m.alive]), [['a', true], ['b', false]]);
  await redis.sadd(keys.drained(), 'a');
  assert.equal((await readMembers(redis, keys, 200))[0]!.drained, true);
  assert.ok(oks >= 2, "each node reported its successful round trips");
  const score = Number(await redis.zscore(keys.nodes(), 'a'));
  const [sec] = await redis.time();
  assert.ok(Math.abs(Number(sec) * 1000 - score) < 5000, 'the nodes zset is stamped with Redis TIME');
  assert.ok((await redis.pttl(keys.node('a'))) > 50_000, 'a heartbeat is kept for keepMs');
});
