/** Refusals per minute: only what grew, one event per window with refusals, windows of the real length. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RefusalWindow, refusalDelta } from '../../../../cluster/events/refusal-window';
import { ManualClock } from '../../../../shared/clock';
import type { HistoryInput } from '../../../../shared/history-event';

test('the delta keeps only reasons that grew', () => {
  assert.deepEqual(refusalDelta(new Map([['a', 2], ['b', 5]]), new Map([['a', 2], ['b', 7], ['c', 1]])), { b: 2, c: 1 });
});

test('one event per window with refusals; an empty window records nothing', async () => {
  const clock = new ManualClock();
  const counts = new Map<string, number>([['origin', 4]]);
  const got: HistoryInput[] = [];
  const w = new RefusalWindow({ record: (e) => got.push(e) }, () => counts, clock, 60_000);
  w.start();
  const started = clock.wallMs();
  await w.close();
  assert.equal(got.length, 0, 'refusals before start are not counted');
  clock.advance(30_000);
  counts.set('origin', 10);
  counts.set('rate-limit', 3);
  await w.close();
  clock.advance(1000);
  await w.stop();
  assert.equal(got.length, 1);
  const e = got[0]!;
  assert.ok(e.kind === 'refusals');
  assert.deepEqual(e.counts, { origin: 6, 'rate-limit': 3 });
  assert.equal(e.total, 9);
  assert.equal(e.at, started);
  assert.equal(e.windowMs, 30_000);
});
