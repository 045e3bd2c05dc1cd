import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../../shared/clock';
import type { HealthObservation } from '../../../../shared/records';
import { decide, mergeVerdict, parseObservation, type MergeOptions, type VerdictRule } from '../../../../cluster/health/verdict';
import { rampFactor, MIN_RAMP } from '../../../../shared/health/slow-start';

const clock = new ManualClock();
const obs = (nodeId: string, up: boolean, agoMs = 0, reason?: string): HealthObservation => ({ nodeId, up, at: clock.wallMs() - agoMs, latencyMs: up ? 1 : null, reason });
/** In these tests an observation's age is how long ago (on the test's clock) it was made. */
const opts = (rule: VerdictRule, extra: Partial<MergeOptions> = {}): MergeOptions => ({ rule, ageMs: (o) => clock.wallMs() - o.at, freshMs: 1000, ...extra });

test('rules: any is cautious, all is tolerant, majority needs more than half', () => {
  const three = [obs('a', false), obs('b', true), obs('c', true)];
  assert.equal(mergeVerdict(three, opts('any')).state, 'down');
  assert.equal(mergeVerdict(three, opts('majority')).state, 'up');
  assert.equal(mergeVerdict(three, opts('all')).state, 'up');
  const twoDown = [obs('a', false), obs('b', false), obs('c', true)];
  assert.equal(mergeVerdict(twoDown, opts('majority')).state, 'down');
  assert.equal(mergeVerdict(twoDown, opts('all')).state, 'up');
  assert.equal(mergeVerdict([obs('a', false), obs('b', false)], opts('all')).state, 'down');
});

test('majority: a tie stays up', () => {
  assert.equal(decide('majority', 2, 1), 'up');
  assert.equal(decide('majority', 4, 2), 'up');
  assert.equal(decide('majority', 4, 3), 'down');
});

test('no fresh observation is unknown; stale ones do not vote', () => {
  assert.equal(mergeVerdict([], opts('any')).state, 'unknown');
  const r = mergeVerdict([obs('a', false, 5000), obs('b', true, 10)], opts('any'));
  assert.equal(r.state, 'up');
  assert.equal(r.observers, 1);
  assert.equal(mergeVerdict([obs('a', false, 5000)], opts('any')).state, 'unknown');
});

test('a dead observer stops voting once its observation ages out (ManualClock)', () => {
  const c = new ManualClock();
  const list: HealthObservation[] = [{ nodeId: 'owner', up: false, at: c.wallMs(), latencyMs: null }, { nodeId: 'standby', up: true, at: c.wallMs(), latencyMs: 2 }];
  const at = () => ({ rule: 'any' as const, ageMs: (o: HealthObservation) => c.wallMs() - o.at, freshMs: 600 });
  assert.equal(mergeVerdict(list, at()).state, 'down');
  c.advance(601);
  list[1] = { ...list[1], at: c.wallMs() }; // the standby keeps observing, the owner died
  assert.equal(mergeVerdict(list, at()).state, 'up');
});

test('the liveness filter drops observations of dead nodes at once', () => {
  const r = mergeVerdict([obs('dead', false), obs('live', true)], opts('any', { isNodeAlive: (id) => id !== 'dead' }));
  assert.deepEqual([r.state, r.observers], ['up', 1]);
});

test('the latest observation per node wins and the newest down reason is given', () => {
  const r = mergeVerdict([obs('a', true, 500), obs('a', false, 100, 'ECONNREFUSED'), obs('b', false, 200, 'timeout')], opts('majority'));
  assert.deepEqual(r, { state: 'down', observers: 2, downVotes: 2, reason: 'a: ECONNREFUSED' });
});

test('malformed stored observations are ignored', () => {
  assert.equal(parseObservation('nope'), null);
  assert.equal(parseObservation('{"nodeId":"a"}'), null);
  assert.deepEqual(parseObservation('{"nodeId":"a","up":true,"at":5,"latencyMs":1}'), { nodeId: 'a', up: true, at: 5, latencyMs: 1 });
});

test('slow start ramps linearly from MIN_RAMP to 1', () => {
  assert.equal(rampFactor(null, 100, 1000), 1);
  assert.equal(rampFactor(0, 100, 0), 1);
  assert.equal(rampFactor(0, 0, 1000), MIN_RAMP);
  assert.equal(rampFactor(0, 500, 1000), 0.5);
  assert.equal(rampFactor(0, 1500, 1000), 1);
});
