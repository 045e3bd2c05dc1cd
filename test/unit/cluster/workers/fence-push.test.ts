import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FENCE_PUSH_MIN_MS, fenceWorthSending } from '../../../../cluster/workers/fence-push';

test('a fence moved forward by less than the minimum stays unsent; back, revoked, new or far moves are sent', () => {
  const t = 1_000_000;
  assert.equal(fenceWorthSending(undefined, t), true, 'the first fence of a VIP');
  assert.equal(fenceWorthSending(null, t), true, 'a fence after a revoke');
  assert.equal(fenceWorthSending(t, null), true, 'a revoke');
  assert.equal(fenceWorthSending(t, t), false, 'the same deadline again');
  assert.equal(fenceWorthSending(t, t + FENCE_PUSH_MIN_MS - 1), false, 'a small step forward');
  assert.equal(fenceWorthSending(t, t + FENCE_PUSH_MIN_MS), true, 'a step of the minimum');
  assert.equal(fenceWorthSending(t, t - 1), true, 'any step back: the workers must not serve past it');
  assert.equal(fenceWorthSending(t, Infinity), true, 'owned for good');
  assert.equal(fenceWorthSending(Infinity, Infinity), false);
});

test('the fence the workers hold never runs ahead of the last one published, and lags it by less than the minimum', () => {
  let sent: number | null | undefined;
  let now = 0;
  for (let i = 0; i < 10_000; i++) {
    // Publishes as an office does: mostly forward by a few ms, sometimes back, sometimes revoked.
    const r = (i * 7919) % 100;
    const next = r === 0 ? null : (now += r < 5 ? -13 : r % 17);
    if (fenceWorthSending(sent, next)) sent = next;
    if (next === null) assert.equal(sent, null);
    else {
      assert.ok(typeof sent === 'number' && sent <= next, `sent ${sent} ahead of ${next}`);
      assert.ok(next - sent < FENCE_PUSH_MIN_MS, `lag ${next - sent}`);
    }
  }
});
