/** The history query: `--since`/`--until` forms, filters by kind, VIP and node, and ordering by the events' own times. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byTime, compareIds, matches, parseTimeArg } from '../../../../cluster/events/history-query';
import { ConfigError } from '../../../../shared/errors';
import type { HistoryEvent } from '../../../../shared/history-event';

const NOW = new Date(2025, 10, 26, 12, 0, 0).getTime();

test('durations, clock times, ISO dates and epoch ms', () => {
  assert.equal(parseTimeArg('90s', '--since', NOW), NOW - 90_000);
  assert.equal(parseTimeArg('1h', '--since', NOW), NOW - 3_600_000);
  assert.equal(parseTimeArg('2d', '--since', NOW), NOW - 2 * 86_400_000);
  assert.equal(parseTimeArg('03:12', '--since', NOW), new Date(2025, 10, 26, 3, 12, 0).getTime());
  // A clock time later than now is yesterday's.
  assert.equal(parseTimeArg('23:50', '--since', NOW), new Date(2025, 10, 25, 23, 50, 0).getTime());
  assert.equal(parseTimeArg('2025-11-26T03:12:00Z', '--since', NOW), Date.UTC(2025, 10, 26, 3, 12));
  assert.equal(parseTimeArg('1764126720000', '--until', NOW), 1764126720000);
});

test('anything else is a ConfigError naming the flag', () => {
  for (const bad of ['yesterday', '1y', '25:99', '', '12']) {
    assert.throws(() => parseTimeArg(bad, '--until', NOW), (e: unknown) => e instanceof ConfigError && e.message.startsWith('--until'));
  }
});

const own = (at: number, vip: string, owner: string, previousOwner: string | null): HistoryEvent => ({ v: 1, kind: 'ownership', at, node: owner, vip, owner, previousOwner, epoch: 1, reason: 'x' });

test('filters: window on the events\' times, kinds, VIP, and any node the event names', () => {
  const e = own(1000, 'front', 'node-b', 'node-a');
  assert.ok(matches(e, { sinceMs: 1000, untilMs: 1000 }));
  assert.ok(!matches(e, { sinceMs: 1001 }));
  assert.ok(!matches(e, { sinceMs: 0, untilMs: 999 }));
  assert.ok(matches(e, { sinceMs: 0, kinds: new Set(['ownership']) }));
  assert.ok(!matches(e, { sinceMs: 0, kinds: new Set(['verdict']) }));
  assert.ok(matches(e, { sinceMs: 0, vip: 'front' }) && !matches(e, { sinceMs: 0, vip: 'back' }));
  assert.ok(matches(e, { sinceMs: 0, node: 'node-a' }), 'the previous owner is named');
  assert.ok(!matches(e, { sinceMs: 0, node: 'node-c' }));
  const failover: HistoryEvent = { v: 1, kind: 'admin', at: 5, node: null, action: 'failover', target: 'front', by: { name: 'cli', via: 'cli', host: 'h' }, ok: true };
  assert.ok(matches(failover, { sinceMs: 0, vip: 'front' }), 'a failover is about its VIP');
});

test('order: by time, then by stream id (numerically)', () => {
  assert.ok(compareIds('9-0', '10-0') < 0);
  assert.ok(compareIds('10-2', '10-10') < 0);
  const a = { ...own(5, 'v', 'n', null), id: '20-0' };
  const b = { ...own(5, 'v', 'n', null), id: '3-0' };
  const c = { ...own(1, 'v', 'n', null), id: '99-0' };
  assert.deepEqual([a, b, c].sort(byTime).map((x) => x.id), ['99-0', '3-0', '20-0']);
});
