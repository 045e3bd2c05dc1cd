/**
 * The history recorder against a real redis-server: the stream stays within
 * its count and age caps whoever writes, events recorded while Redis is out
 * of reach are written when it answers with their original times (and once
 * only, even when a batch Redis had already run is sent again), a full
 * buffer leaves one `history-dropped` event saying what is missing, and a
 * state event seen by several nodes is recorded once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { startRedis, type RedisProcess } from '../harness/redis';
import { freePort, sleep, waitFor } from '../harness/ports';
import { HistoryRecorder } from '../../cluster/events/history-recorder';
import { appendEvent, publishCaps } from '../../cluster/events/history-append';
import { readHistory } from '../../cluster/events/read-history';
import { RedisKeys } from '../../shared/redis/keys';
import { createRedis } from '../../shared/redis/connect';
import { silentLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import { systemClock } from '../../shared/clock';
import { HistorySchema, RedisSchema } from '../../shared/config/schema';
import { teardown, type Cleanups } from '../harness/teardown';

const keys = new RedisKeys('rec');

function recorder(t: Cleanups, url: string, o: { nodeId?: string; bufferCount?: number; maxCount?: number } = {}): { rec: HistoryRecorder; metrics: Metrics } {
  const redis = createRedis(RedisSchema.parse({ url }), 'state');
  redis.on('error', () => {});
  redis.connect().catch(() => {});
  const metrics = new Metrics({ defaultMetrics: false });
  const history = HistorySchema.parse({ maxCount: o.maxCount ?? 1000, bufferCount: o.bufferCount ?? 1000 });
  const rec = new HistoryRecorder({ redis, keys, nodeId: o.nodeId ?? 'node-a', history, clock: systemClock, log: process.env.DBG ? require('../../shared/logger').createLogger({ pretty: false }) : silentLogger(), metrics });
  rec.start();
  t.after(async () => { await rec.stop(200); redis.disconnect(); });
  return { rec, metrics };
}

async function client(t: Cleanups, r: RedisProcess): Promise<Redis> {
  const c = new Redis(r.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  c.on('error', () => {});
  t.after(() => c.disconnect());
  return c;
}

const counter = async (m: Metrics, result: string) => (await m.historyEventsTotal.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

test('the stream stays within its count cap, and the age cap trims old entries, whoever writes', { timeout: 30_000 }, async (t) => {
  // Torn down last-in first-out: the recorder and the client before the redis-server they talk to.
  const cleanup = teardown(t);
  const r = await startRedis();
  cleanup.after(() => r.stop());
  const c = await client(cleanup, r);
  const { rec } = recorder(cleanup, r.url, { maxCount: 100 });
  for (let i = 0; i < 250; i++) rec.record({ kind: 'config-reload', ok: true, errors: [], at: Date.now() });
  await waitFor(async () => rec.buffered === 0 && (await c.hget(keys.historyCaps(), 'maxCount')) === '100', 'recorder idle');
  await sleep(50);
  assert.equal(await c.xlen(keys.history()), 100);
  // A writer without a recorder (the CLI) trims by the caps the nodes published.
  await appendEvent(c, keys, { kind: 'config-reload', ok: false, errors: ['x'] });
  assert.equal(await c.xlen(keys.history()), 100);

  await publishCaps(c, keys, { maxCount: 100, maxAgeMs: 300 });
  await sleep(400);
  await appendEvent(c, keys, { kind: 'config-reload', ok: true, errors: [] });
  assert.equal(await c.xlen(keys.history()), 1, 'entries older than maxAgeMs are trimmed on the next write');
});

test('events recorded while Redis is stalled are written once it answers, with their original times, exactly once', { timeout: 40_000 }, async (t) => {
  // Torn down last-in first-out: the recorder and the client before the redis-server they talk to.
  const cleanup = teardown(t);
  const r = await startRedis();
  cleanup.after(() => { try { process.kill(r.proc.pid!, 'SIGCONT'); } catch { /* gone */ } return r.stop(); });
  const c = await client(cleanup, r);
  const { rec, metrics } = recorder(cleanup, r.url);
  rec.record({ kind: 'config-reload', ok: true, errors: [] });
  await waitFor(async () => rec.buffered === 0 && (await c.xlen(keys.history())) === 1, 'first event written');

  // A stalled Redis: the connection stays open, commands time out (and run when it resumes).
  process.kill(r.proc.pid!, 'SIGSTOP');
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const at = Date.now();
    times.push(at);
    rec.record({ kind: 'redis-lost', reason: `stall ${i}`, at });
    await sleep(300);
  }
  await sleep(2500);
  assert.ok(rec.buffered > 0, 'events wait in the buffer while Redis does not answer');
  const resumedAt = Date.now();
  process.kill(r.proc.pid!, 'SIGCONT');
  await waitFor(() => rec.buffered === 0, 'buffer written', 20_000);
  await sleep(200);

  const page = await readHistory(c, keys, { sinceMs: 0, kinds: new Set(['redis-lost']) });
  assert.deepEqual(page.events.map((e) => e.kind === 'redis-lost' && e.reason), [0, 1, 2, 3, 4].map((i) => `stall ${i}`), 'each event once, in order');
  assert.deepEqual(page.events.map((e) => e.at), times, 'original times kept');
  for (const e of page.events) assert.ok(Number(e.id.split('-')[0]) >= resumedAt - 50, `written after Redis came back (${e.id} vs ${resumedAt})`);
  // The batches sent during the stall ran when Redis resumed; their retries were recognised and skipped.
  assert.ok((await counter(metrics, 'duplicate')) >= 1, 'a retry of a batch Redis had run is skipped');
});

test('a full buffer keeps the newest events and records how many it dropped', { timeout: 30_000 }, async (t) => {
  const port = await freePort();
  // Nothing listens yet: the recorder cannot write at all.
  const { rec, metrics } = recorder(t, `redis://127.0.0.1:${port}`, { bufferCount: 10 });
  const first = Date.now();
  for (let i = 0; i < 25; i++) rec.record({ kind: 'config-reload', ok: false, errors: [`e${i}`], at: first + i });
  assert.equal(rec.buffered, 10);
  assert.equal(await counter(metrics, 'dropped'), 15);
  // The recorder (its hook came first) stops first; then the client, then the redis-server.
  const cleanup = teardown(t);
  const r = await startRedis([], port);
  cleanup.after(() => r.stop());
  const c = await client(cleanup, r);
  await waitFor(async () => rec.buffered === 0 && (await c.xlen(keys.history())) === 11, `buffer written after Redis started (${rec.buffered} buffered, ${await c.xlen(keys.history())} in the stream)`, 20_000);
  const { events } = await readHistory(c, keys, { sinceMs: 0 });
  const dropped = events.find((e) => e.kind === 'history-dropped');
  assert.ok(dropped && dropped.kind === 'history-dropped');
  assert.equal(dropped.count, 15);
  assert.equal(dropped.firstAt, first);
  assert.equal(dropped.lastAt, first + 14);
  assert.deepEqual(events.filter((e) => e.kind === 'config-reload').map((e) => e.kind === 'config-reload' && e.errors[0]), Array.from({ length: 10 }, (_, i) => `e${i + 15}`));
});

test('a state event seen by two nodes is recorded once; a later change is recorded again', { timeout: 30_000 }, async (t) => {
  // Torn down last-in first-out: the recorders and the client before the redis-server they talk to.
  const cleanup = teardown(t);
  const r = await startRedis();
  cleanup.after(() => r.stop());
  const c = await client(cleanup, r);
  const a = recorder(cleanup, r.url, { nodeId: 'node-a' }).rec;
  const b = recorder(cleanup, r.url, { nodeId: 'node-b' }).rec;
  const down = { subject: 'verdict:app/app-1', state: 'down' };
  const ev = (up: boolean) => ({ kind: 'verdict' as const, node: null, pool: 'app', backend: 'app-1', up, observers: 2, downVotes: up ? 0 : 2, views: [] });
  a.record(ev(false), down);
  b.record(ev(false), down);
  await waitFor(() => a.buffered === 0 && b.buffered === 0, 'both written');
  a.record(ev(true), { subject: 'verdict:app/app-1', state: 'up' });
  await waitFor(() => a.buffered === 0, 'up written');
  b.record(ev(true), { subject: 'verdict:app/app-1', state: 'up' });
  await waitFor(() => b.buffered === 0, 'up written twice');
  await sleep(100);
  const { events } = await readHistory(c, keys, { sinceMs: 0, kinds: new Set(['verdict']) });
  assert.deepEqual(events.map((e) => e.kind === 'verdict' && e.up), [false, true]);
});
