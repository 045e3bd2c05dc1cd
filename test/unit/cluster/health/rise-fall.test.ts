import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RiseFall } from '../../../../cluster/health/rise-fall';
import { PassiveHealth } from '../../../../cluster/health/passive';

test('the first result decides at once', () => {
  const a = new RiseFall(3, 3);
  assert.equal(a.state, 'unknown');
  assert.equal(a.record(true), true);
  assert.equal(a.state, 'up');
  const b = new RiseFall(3, 3);
  b.record(false, 'ECONNREFUSED');
  assert.deepEqual([b.state, b.reason], ['down', 'ECONNREFUSED']);
});

test('a flapping backend obeys rise and fall', () => {
  const rf = new RiseFall(2, 3);
  rf.record(true);
  // up: failures interrupted by a success never reach fall=3
  for (const ok of [false, false, true, false, false, true, false]) { rf.record(ok); assert.equal(rf.state, 'up'); }
  rf.record(false);
  rf.record(false);
  assert.equal(rf.state, 'down', 'three failures in a row');
  // down: successes interrupted by a failure never reach rise=2
  for (const ok of [true, false, true, false, true, false]) { rf.record(ok); assert.equal(rf.state, 'down'); }
  assert.equal(rf.record(true), false);
  assert.equal(rf.record(true), true);
  assert.equal(rf.state, 'up');
  assert.equal(rf.reason, undefined);
});

test('forceDown needs rise good checks to come back', () => {
  const rf = new RiseFall(2, 3);
  rf.record(true);
  assert.equal(rf.forceDown('3 failed connections'), true);
  assert.equal(rf.forceDown('again'), false);
  rf.record(true);
  assert.equal(rf.state, 'down');
  rf.record(true);
  assert.equal(rf.state, 'up');
});

test('passive failures report down once at the threshold; a success resets the count', () => {
  const downs: string[] = [];
  const p = new PassiveHealth(() => 3, (pool, id) => downs.push(`${pool}/${id}`));
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  p.connectSucceeded('app', 'a');
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  assert.deepEqual(downs, []);
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  p.connectFailed('app', 'a', 'ECONNREFUSED');
  assert.deepEqual(downs, ['app/a']);
  assert.equal(p.failures('app', 'a'), 4);
});
