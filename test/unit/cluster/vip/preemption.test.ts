/** Pure priority and preemption policy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireDelayMs, handoverTarget, isEligible, preemptionTarget, rankOf, rankedCandidates, type Candidate } from '../../../../cluster/vip/preemption';

const node = (id: string, priority: number, over: Partial<Candidate> = {}): Candidate => ({ id, priority, alive: true, ready: true, drained: false, ...over });

test('eligible means alive, ready and not drained', () => {
  assert.equal(isEligible(node('a', 1)), true);
  assert.equal(isEligible(node('a', 1, { alive: false })), false);
  assert.equal(isEligible(node('a', 1, { ready: false })), false);
  assert.equal(isEligible(node('a', 1, { drained: true })), false);
});

test('rank by priority, ties by id, ineligible nodes left out', () => {
  const all = [node('c', 100), node('a', 100), node('b', 200), node('d', 300, { drained: true })];
  assert.deepEqual(rankedCandidates(all).map((c) => c.id), ['b', 'a', 'c']);
  assert.equal(rankOf(node('b', 200), all), 0);
  assert.equal(rankOf(node('c', 100), all), 2);
  assert.equal(rankOf(node('d', 300, { drained: true }), all), -1);
  // a dead owner excluded from the ranking moves everyone up
  assert.equal(rankOf(node('c', 100), all, new Set(['b'])), 1);
  // self counts even before its own heartbeat is visible
  assert.equal(rankOf(node('z', 500), all), 0);
  assert.equal(acquireDelayMs(0, 150), 0);
  assert.equal(acquireDelayMs(2, 150), 300);
});

test('preemption hands over only to a strictly better eligible node, and only when on', () => {
  const owner = node('a', 100);
  const all = [owner, node('b', 200), node('c', 150)];
  assert.equal(preemptionTarget(owner, all, false), null);
  assert.equal(preemptionTarget(owner, all, true)?.id, 'b');
  assert.equal(preemptionTarget(owner, [owner, node('b', 100)], true), null);
  assert.equal(preemptionTarget(owner, [owner, node('b', 200, { ready: false })], true), null);
});

test('handover target: best eligible, or a reason naming each rejected node', () => {
  const all = [node('a', 100), node('b', 90, { drained: true }), node('c', 80, { ready: false }), node('d', 70, { alive: false })];
  const r = handoverTarget('a', all);
  assert.ok('reason' in r);
  assert.match(r.reason, /b is drained/);
  assert.match(r.reason, /c is not ready/);
  assert.match(r.reason, /d is down/);
  const to = handoverTarget('a', all, 'b');
  assert.ok('reason' in to && /drained/.test(to.reason));
  assert.ok('reason' in handoverTarget('a', all, 'zz'));
  assert.ok('reason' in handoverTarget('a', all, 'a'));
  const ok = handoverTarget('a', [...all, node('e', 10)]);
  assert.ok('target' in ok && ok.target.id === 'e');
});
