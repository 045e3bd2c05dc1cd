/** One line per event for people: every kind is described, tones, relative and absolute times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { absoluteTime, describeEvent, eventTone, relativeTime } from '../../../../cluster/events/event-text';
import { HISTORY_KINDS, type HistoryEvent } from '../../../../shared/history-event';

const by = { name: 'ops', via: 'admin-api' as const, host: 'node-a', from: '10.0.0.9' };
const SAMPLES: HistoryEvent[] = [
  { v: 1, at: 1, node: 'b', kind: 'ownership', vip: 'front', owner: 'b', previousOwner: 'a', epoch: 7, reason: 'peer-dead' },
  { v: 1, at: 1, node: 'b', kind: 'vip-serving', vip: 'front', epoch: 7, previousOwner: 'a', reason: 'peer-dead', gapMs: 120, lastSignAt: 0 },
  { v: 1, at: 1, node: 'a', kind: 'handover', vip: 'front', phase: 'started', from: 'a', to: 'b' },
  { v: 1, at: 1, node: 'a', kind: 'step-down', vip: 'front', epoch: 6, reason: 'lease-lost' },
  { v: 1, at: 1, node: 'a', kind: 'node-joined', version: '0.1.0', incarnation: 'abc', address: '127.0.0.1' },
  { v: 1, at: 1, node: 'a', kind: 'node-left', reason: 'shutdown' },
  { v: 1, at: 1, node: 'a', kind: 'node-not-seen', observer: 'b', heartbeatAgeMs: 1500 },
  { v: 1, at: 1, node: 'a', kind: 'node-back', observer: 'b' },
  { v: 1, at: 1, node: 'a', kind: 'node-drained', by },
  { v: 1, at: 1, node: 'a', kind: 'node-undrained', by },
  { v: 1, at: 1, node: null, kind: 'verdict', pool: 'app', backend: 'app-1', up: false, observers: 2, downVotes: 2, reason: 'ECONNREFUSED', views: [{ node: 'a', up: false }, { node: 'b', up: false }] },
  { v: 1, at: 1, node: null, kind: 'pool-change', pool: 'app', backend: 'app-3', op: 'add', url: 'ws://10.0.0.3:80', version: 4, by },
  { v: 1, at: 1, node: 'a', kind: 'config-reload', ok: false, errors: ['pools.app.balance: bad'] },
  { v: 1, at: 1, node: 'a', kind: 'redis-lost', reason: 'no success' },
  { v: 1, at: 1, node: 'a', kind: 'redis-regained', downMs: 3200 },
  { v: 1, at: 1, node: 'a', kind: 'refusals', windowMs: 60_000, counts: { origin: 3, 'rate-limit': 40 }, total: 43 },
  { v: 1, at: 1, node: null, kind: 'admin', action: 'failover', target: 'front', by, ok: false, error: 'no target' },
  { v: 1, at: 1, node: 'a', kind: 'history-dropped', count: 15, firstAt: 0, lastAt: 1000 },
];

test('every kind has a description (the samples cover them all)', () => {
  assert.deepEqual([...new Set(SAMPLES.map((e) => e.kind))].sort(), [...HISTORY_KINDS].sort());
  for (const e of SAMPLES) assert.ok(describeEvent(e).length > 5, e.kind);
});

test('the descriptions carry the fields an operator asks about', () => {
  const text = (k: string) => describeEvent(SAMPLES.find((e) => e.kind === k)!);
  assert.equal(text('ownership'), 'front: a -> b (epoch 7, peer-dead)');
  assert.match(text('vip-serving'), /120 ms from its last sign of life/);
  assert.match(text('verdict'), /app\/app-1 down \(2\/2 down: ECONNREFUSED; a down, b down\)/);
  assert.match(text('pool-change'), /by ops@node-a \(10\.0\.0\.9\)/);
  assert.match(text('config-reload'), /rejected: pools\.app\.balance: bad/);
  assert.match(text('refusals'), /^43 refused in 60\.0 s: rate-limit 40, origin 3$/);
  assert.match(text('admin'), /failover front by ops@node-a .*failed: no target/);
});

test('tones: unplanned step-downs are bad, planned ones are acts', () => {
  const sd = (reason: string): HistoryEvent => ({ v: 1, at: 1, node: 'a', kind: 'step-down', vip: 'v', epoch: 1, reason });
  assert.equal(eventTone(sd('lease-lost')), 'bad');
  assert.equal(eventTone(sd('failover (cli)')), 'act');
  assert.equal(eventTone(sd('handover-aborted: x')), 'act');
  assert.equal(eventTone(SAMPLES[1]!), 'good');
});

test('relative and absolute times', () => {
  const now = new Date(2025, 10, 26, 12, 0, 0, 0).getTime();
  assert.equal(relativeTime(now - 450, now), '450ms ago');
  assert.equal(relativeTime(now - 75_000, now), '1m ago');
  assert.equal(relativeTime(now - 3 * 86_400_000, now), '3d ago');
  assert.equal(relativeTime(now + 2000, now), 'in 2s');
  assert.equal(absoluteTime(now - 1500, now), '11:59:58.500');
  assert.equal(absoluteTime(new Date(2025, 10, 25, 3, 12, 0, 7).getTime(), now), '2025-11-25 03:12:00.007');
});
