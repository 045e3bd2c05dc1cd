/** The pure VIP ownership machine: table, step-down math, standby decisions, driven by ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../shared/clock';
import { StateMachine, IllegalTransitionError } from '../../../../shared/state-machine';
import { VIP_TRANSITIONS, VIP_STATES, claimsOwnership, decideStandby, jittered, mustStepDown, stepDownAtMs, type VipState } from '../../../../cluster/vip/ownership';
import { DEFAULTS } from '../../../../shared/config/defaults';

const T = DEFAULTS.lease;

test('the transition table covers every state and allows the designed paths only', () => {
  for (const s of VIP_STATES) assert.ok(Array.isArray(VIP_TRANSITIONS[s]), s);
  const m = new StateMachine<VipState>('vip', 'standby', VIP_TRANSITIONS);
  for (const s of ['acquiring', 'owner', 'handing-over', 'releasing', 'standby', 'receiving', 'owner', 'releasing', 'stopped'] as const) m.transition(s, 'test');
  assert.equal(m.state, 'stopped');
  const n = new StateMachine<VipState>('vip', 'standby', VIP_TRANSITIONS);
  assert.throws(() => n.transition('owner', 'skip acquiring'), IllegalTransitionError);
  assert.throws(() => n.transition('handing-over', 'not owner'), IllegalTransitionError);
  assert.deepEqual(VIP_TRANSITIONS.stopped, []);
});

test('only owner and handing-over claim the VIP', () => {
  assert.deepEqual(VIP_STATES.filter(claimsOwnership), ['owner', 'handing-over']);
});

test('the owner steps down at lastRenewStart + ttl - margin on its own clock', () => {
  const clock = new ManualClock(1000);
  const lastRenewStart = clock.nowMs();
  assert.equal(stepDownAtMs(lastRenewStart, T), 1000 + T.ttlMs - T.stepDownMarginMs);
  clock.advance(500); // a 500 ms stall must not move the VIP
  assert.equal(mustStepDown(clock.nowMs(), lastRenewStart, T), false);
  clock.advance(T.ttlMs - T.stepDownMarginMs - 501);
  assert.equal(mustStepDown(clock.nowMs(), lastRenewStart, T), false);
  clock.advance(1);
  assert.equal(mustStepDown(clock.nowMs(), lastRenewStart, T), true);
  // the owner has let go strictly before Redis could expire the lease
  assert.ok(stepDownAtMs(lastRenewStart, T) < lastRenewStart + T.ttlMs);
});

test('a free lease is tried at once by rank 0 and after k * rankDelayMs by rank k', () => {
  const clock = new ManualClock(0);
  assert.deepEqual(decideStandby({ nowMs: clock.nowMs(), leaseFree: true, freeSinceMs: null, rank: 0 }, T), { action: 'acquire' });
  const since = clock.nowMs();
  const first = decideStandby({ nowMs: clock.nowMs(), leaseFree: true, freeSinceMs: since, rank: 2 }, T);
  assert.equal(first.action, 'wait');
  assert.ok(first.action === 'wait' && first.why === 'rank-delay' && first.retryInMs <= T.acquirePollMs);
  clock.advance(2 * T.rankDelayMs - 1);
  assert.equal(decideStandby({ nowMs: clock.nowMs(), leaseFree: true, freeSinceMs: since, rank: 2 }, T).action, 'wait');
  clock.advance(1);
  assert.equal(decideStandby({ nowMs: clock.nowMs(), leaseFree: true, freeSinceMs: since, rank: 2 }, T).action, 'acquire');
});

test('a held lease or an ineligible node waits a poll interval', () => {
  assert.deepEqual(decideStandby({ nowMs: 0, leaseFree: false, freeSinceMs: null, rank: 0 }, T), { action: 'wait', why: 'held', retryInMs: T.acquirePollMs });
  assert.deepEqual(decideStandby({ nowMs: 0, leaseFree: true, freeSinceMs: 0, rank: -1 }, T), { action: 'wait', why: 'ineligible', retryInMs: T.acquirePollMs });
});

test('jitter stays within ±20 %', () => {
  assert.equal(jittered(100, () => 0), 80);
  assert.equal(jittered(100, () => 1), 120);
  assert.equal(jittered(100, () => 0.5), 100);
});
