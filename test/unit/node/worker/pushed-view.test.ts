/** The worker's ClusterView: routing reads pushed copies; passive results and sessions go to the control process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushedClusterView, type ControlChannel } from '../../../../node/worker/pushed-view';
import { ManualClock } from '../../../../shared/clock';
import { MIN_RAMP } from '../../../../shared/health/slow-start';

function channel(): ControlChannel & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    lookup: async (pool, key, timeoutMs) => { sent.push(`lookup ${pool}/${key} ${timeoutMs}`); return 'b2'; },
    tellPassive: (pool, id, ok, reason) => sent.push(`passive ${pool}/${id} ${ok} ${reason ?? ''}`.trim()),
    tellRecord: (pool, key, id, moved) => sent.push(`record ${pool}/${key} ${id} ${moved ?? ''}`.trim()),
    tellRelease: (pool, key) => sent.push(`release ${pool}/${key}`),
    rateTake: async (key, rate, burst) => { sent.push(`rate ${key} ${rate} ${burst}`); return 250; },
  };
}

test('cluster-wide rate checks are relayed to the control process (issue 12)', async () => {
  const ch = channel();
  const view = pushedClusterView(ch, new ManualClock(0), () => 50);
  assert.equal(await view.rateLimit!.take('r\u0000upgrades\u0000r', 5, 10), 250);
  assert.deepEqual(ch.sent, ['rate r\u0000upgrades\u0000r 5 10']);
});

test('verdicts and slow start as last pushed; unknown backends are up', () => {
  const clock = new ManualClock(10_000);
  const v = pushedClusterView(channel(), clock, () => 100);
  assert.equal(v.health.isUp('app', 'x'), true);
  v.setHealth([{ pool: 'app', backendId: 'a', up: false, upSinceMs: null, slowStartMs: 0 }, { pool: 'app', backendId: 'b', up: true, upSinceMs: 10_000, slowStartMs: 1000 }]);
  assert.equal(v.health.isUp('app', 'a'), false);
  assert.equal(v.health.rampFactor('app', 'b'), MIN_RAMP);
  clock.advance(500);
  assert.equal(v.health.rampFactor('app', 'b'), 0.5);
  v.setHealth([]);
  assert.equal(v.health.isUp('app', 'a'), true, 'a push replaces the whole table');
});

test('counts held elsewhere as pushed, replaced whole', () => {
  const v = pushedClusterView(channel(), new ManualClock(), () => 100);
  v.setCounts([['app', 'a', 3]]);
  assert.equal(v.counts.remote('app', 'a'), 3);
  v.setCounts([['app', 'b', 1]]);
  assert.deepEqual([v.counts.remote('app', 'a'), v.counts.remote('app', 'b')], [0, 1]);
});

test('a success is reported only after a failure of the same backend; sessions go to the control process', async () => {
  const ch = channel();
  const v = pushedClusterView(ch, new ManualClock(), () => 150);
  v.passive.connectSucceeded('app', 'a');
  v.passive.connectFailed('app', 'a', 'ECONNREFUSED');
  v.passive.connectSucceeded('app', 'b');
  v.passive.connectSucceeded('app', 'a');
  v.passive.connectSucceeded('app', 'a');
  assert.equal(await v.affinity.lookup('app', 's1'), 'b2');
  v.affinity.record('app', 's1', 'b2', 'b1');
  v.affinity.release?.('app', 's1');
  assert.deepEqual(ch.sent, ['passive app/a false ECONNREFUSED', 'passive app/a true', 'lookup app/s1 150', 'record app/s1 b2 b1', 'release app/s1']);
});
