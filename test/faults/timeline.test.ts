/**
 * The fault matrix's arithmetic (pure; no namespaces): if these are wrong,
 * the table lies. Runs in `npm test`; the matrix itself is `npm run faults`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downMs, firstAnswerGap, maxConcurrent, outages, spansFromObservations, subtractSpans, takeovers } from './timeline';
import { ClaimTracker } from './claim-periods';
import { parseMonitorLine } from './address-watch';
import { missedTargets, stopMsOf } from './targets';
import { stat } from './report';
import { answersOutsideClaims, type RunMetrics } from './measure';

test('maxConcurrent: touching spans do not overlap; the overlap of two is measured', () => {
  assert.deepEqual(maxConcurrent([{ who: 'a', from: 0, to: 10 }, { who: 'b', from: 10, to: 20 }]), { max: 1, overlapMs: 0, whoAtMax: ['a'] });
  const r = maxConcurrent([{ who: 'a', from: 0, to: 10 }, { who: 'b', from: 7, to: 20 }, { who: 'a', from: 30, to: 40 }]);
  assert.equal(r.max, 2);
  assert.equal(r.overlapMs, 3);
  assert.deepEqual(r.whoAtMax, ['a', 'b']);
  assert.equal(maxConcurrent([{ who: 'a', from: 0, to: 10 }, { who: 'a', from: 5, to: 15 }]).max, 1, 'one host twice is one holder');
});

test('spansFromObservations: repeated ons are one span; an open span ends at the end', () => {
  const s = spansFromObservations([{ who: 'a', t: 5, on: true }, { who: 'a', t: 1, on: true }, { who: 'a', t: 9, on: false }, { who: 'b', t: 8, on: true }], 20);
  assert.deepEqual(s, [{ who: 'a', from: 1, to: 9 }, { who: 'b', from: 8, to: 20 }]);
});

test('outages: from the first failed attempt to the start of the next answered one; downMs counts after the failure', () => {
  const attempts = [{ t0: 0, t1: 1, who: 'p1' }, { t0: 20, t1: 520, err: 'timeout' }, { t0: 40, t1: 41, err: 'refused' }, { t0: 60, t1: 70, who: 'p2' }, { t0: 80, t1: 81, err: 'reset' }];
  assert.deepEqual(outages(attempts, 100), [{ from: 20, to: 60 }, { from: 80, to: 100 }]);
  assert.equal(downMs(outages(attempts, 100), 30), 50);
  assert.equal(firstAnswerGap(attempts, 10, (w) => w !== 'p1'), 60);
  assert.equal(firstAnswerGap(attempts, 10, (w) => w === 'p3'), null);
});

test('takeovers counts changes of owner; subtractSpans cuts holes per host', () => {
  assert.equal(takeovers([{ who: 'p1', from: 0, to: 5 }, { who: 'p2', from: 6, to: 9 }, { who: 'p2', from: 10, to: 12 }, { who: 'p1', from: 13, to: 20 }]), 2);
  assert.deepEqual(subtractSpans([{ who: 'b', from: 0, to: 10 }], [{ who: 'a', from: 3, to: 5 }]), [{ who: 'b', from: 0, to: 10 }], 'holes of another host do not cut');
  const cut = subtractSpans([{ who: 'a', from: 0, to: 10 }], [{ who: 'a', from: 3, to: 5 }]);
  assert.deepEqual(cut, [{ who: 'a', from: 0, to: 3 }, { who: 'a', from: 5, to: 10 }]);
});

test('ClaimTracker: a period seen again after silence ends where the node says it ended; incarnations are apart', () => {
  const t = new ClaimTracker();
  t.add({ node: 'p1', pid: 1, at: 100, claims: true, claimChangedAt: 50 });
  t.add({ node: 'p1', pid: 1, at: 120, claims: true, claimChangedAt: 50 });
  // silent (stopped or cut off), then: "I stopped claiming at 900"
  t.add({ node: 'p1', pid: 1, at: 1500, claims: false, claimChangedAt: 900 });
  // a killed process's period ends at its last answer; its successor starts apart
  t.add({ node: 'p2', pid: 7, at: 950, claims: true, claimChangedAt: 940 });
  t.add({ node: 'p2', pid: 8, at: 2000, claims: false, claimChangedAt: 1990 });
  assert.deepEqual(t.spans().sort((a, b) => a.from - b.from), [{ who: 'p1', from: 50, to: 900 }, { who: 'p2', from: 940, to: 950 }]);
});

test('ClaimTracker: with claimUntil, a node silent past its own deadline claimed only until then', () => {
  const t = new ClaimTracker();
  t.add({ node: 'p1', pid: 1, at: 100, claims: true, claimChangedAt: 50, claimUntil: 750 });
  t.add({ node: 'p1', pid: 1, at: 2000, claims: false, claimChangedAt: 1990 });
  assert.deepEqual(t.spans(), [{ who: 'p1', from: 50, to: 750 }]);
});

test('ClaimTracker: a stalled owner seen again claiming anew (its end unseen) claimed until its deadline', () => {
  const t = new ClaimTracker();
  t.add({ node: 'p1', pid: 1, at: 100, claims: true, claimChangedAt: 50, claimUntil: 300 });
  // stopped from 110 to 1000; its workers serve until its deadline (300); it re-asserts and claims again from 1030
  t.add({ node: 'p1', pid: 1, at: 1040, claims: true, claimChangedAt: 1030, claimUntil: 1240 });
  assert.deepEqual(t.spans(), [{ who: 'p1', from: 50, to: 300 }, { who: 'p1', from: 1030, to: 1040 }]);
  // without a known deadline, the old period ends at its last answer
  const u = new ClaimTracker();
  u.add({ node: 'p1', pid: 1, at: 100, claims: true, claimChangedAt: 50 });
  u.add({ node: 'p1', pid: 1, at: 1040, claims: true, claimChangedAt: 1030 });
  assert.deepEqual(u.spans()[0], { who: 'p1', from: 50, to: 100 });
});

test('answersOutsideClaims: an answer from a host that claimed nothing then is counted', () => {
  const claims = [{ who: 'p1', from: 0, to: 100 }, { who: 'p2', from: 100, to: 300 }];
  assert.equal(answersOutsideClaims([{ t0: 50, t1: 60, who: 'p1' }, { t0: 130, t1: 135, who: 'p1' }, { t0: 200, t1: 210, who: 'p1' }, { t0: 200, t1: 210, who: 'p2' }], claims, 0), 1);
});

test('answersOutsideClaims: past a claim\'s sampled end, one unsampled renewal (plus a sampling period) still counts as inside', () => {
  const claims = [{ who: 'p1', from: 0, to: 1000 }, { who: 'p1', from: 2000, to: 3000 }];
  // 51 ms past the sampled end: within a sampling period plus a renewal interval (a soak's stalled owner, served by
  // its workers up to a fence one renewal later than the last sample).
  assert.equal(answersOutsideClaims([{ t0: 1028, t1: 1051, who: 'p1' }], claims, 0), 0);
  assert.equal(answersOutsideClaims([{ t0: 1100, t1: 1120, who: 'p1' }], claims, 0), 1);
  assert.equal(answersOutsideClaims([{ t0: 1940, t1: 1950, who: 'p1' }], claims, 0), 1, 'the start keeps the sampling slack only');
});

test('parseMonitorLine reads ip -ts -o monitor address (add and Deleted) for the VIP only', () => {
  const add = parseMonitorLine('[2026-12-01T11:23:54.621793] 2: eth0    inet 10.213.0.100/32 scope global eth0\\       valid_lft forever', '10.213.0.100');
  assert.equal(add?.on, true);
  assert.equal(add?.t, new Date(2026, 11, 1, 11, 23, 54, 621).getTime());
  assert.equal(parseMonitorLine('[2026-12-01T11:23:54.624035] Deleted 2: eth0    inet 10.213.0.100/32 scope global eth0', '10.213.0.100')?.on, false);
  assert.equal(parseMonitorLine('[2026-12-01T11:23:54.624035] 2: eth0    inet 10.213.0.1/24 scope global eth0', '10.213.0.100'), null);
});

function metrics(o: Partial<RunMetrics>): RunMetrics {
  return { vipDownMs: 0, gapMs: null, dropped: 0, lost: 0, refused: 0, refusedBy: {}, maxOwners: 1, ownersOverlapMs: 0, maxAddressHolders: 1, addressOverlapMs: 0, maxListeners: 1, servedOutsideClaim: 0, takeovers: 0, ownerAfter: 'p1', startRefusals: 0, notes: [], ...o };
}

test('targets: Redis outages must drop nothing; a kill needs a gap within 100 ms; two owners always miss', () => {
  const row = (id: string, runs: RunMetrics[]) => ({ id, issue: 9, title: '', nodes: 2, runs, errors: [] });
  assert.deepEqual(missedTargets(row('redis-kill-5s', [metrics({})])), []);
  assert.deepEqual(missedTargets(row('redis-kill-5s', [metrics({ dropped: 200, refused: 3, takeovers: 1 })])), ['connections dropped', 'new connections refused', 'VIP moved']);
  assert.deepEqual(missedTargets(row('owner-kill', [metrics({ gapMs: 40, takeovers: 1 }), metrics({ gapMs: 180, takeovers: 1, maxOwners: 2 })])), ['two owners', 'gap 110 ms > 100 ms']);
  assert.deepEqual(missedTargets(row('owner-stop-1.9s', [metrics({ takeovers: 1 })])), ['VIP moved']);
  assert.equal(stopMsOf('owner-stop-0.3s'), 300);
  assert.equal(stat([3, 1, 9]), '3 (9)');
  assert.equal(stat([null]), '-');
});
