/**
 * What the agent records: ownership changes once for the cluster, step-downs
 * with the machine's reason and epoch, peers not seen and back, Redis lost
 * (at the start of the trouble) and regained, and the time from the old
 * owner's last sign of life to serving after an unplanned takeover (none
 * after a planned one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentHistory, type MemberView } from '../../../../cluster/events/agent-history';
import { ManualClock } from '../../../../shared/clock';
import type { HistoryInput } from '../../../../shared/history-event';
import type { OnceRule } from '../../../../cluster/events/history-port';

function setup(lastSign: number | null = null) {
  const clock = new ManualClock(10_000);
  const got: Array<{ e: HistoryInput; once?: OnceRule }> = [];
  const h = new AgentHistory({ port: { record: (e, once) => got.push({ e, once }) }, nodeId: 'node-b', clock, lastSignMs: () => lastSign });
  return { clock, got, h };
}

const member = (id: string, alive: boolean, incarnation = 'i1', state = 'running'): MemberView => ({ record: { id, state, incarnation }, alive, ageMs: alive ? 100 : 1500 });

test('an ownership event is recorded with a once rule on the VIP and its epoch', () => {
  const { got, h } = setup();
  h.ownership({ type: 'ownership', vip: 'front', owner: 'node-a', epoch: 4, previousOwner: null, reason: 'free', at: 5 });
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.once, { subject: 'ownership:front', state: '4:node-a' });
  assert.ok(got[0]!.e.kind === 'ownership' && got[0]!.e.at === 5 && got[0]!.e.node === 'node-a');
  h.ownership({ type: 'ownership', vip: 'front', owner: null, epoch: 4, previousOwner: 'node-a', reason: 'shutdown', at: 6 });
  assert.deepEqual(got[1]!.once, { subject: 'ownership:front', state: '4:' });
});

test('unplanned takeover: serving records the gap since the old owner\'s last sign of life', () => {
  const { clock, got, h } = setup(9_880);
  h.ownership({ type: 'ownership', vip: 'front', owner: 'node-b', epoch: 5, previousOwner: 'node-a', reason: 'peer-dead', at: clock.wallMs() });
  h.serving('front', 5);
  const s = got.find((g) => g.e.kind === 'vip-serving')!.e;
  assert.ok(s.kind === 'vip-serving');
  assert.equal(s.gapMs, 120);
  assert.equal(s.previousOwner, 'node-a');
  assert.equal(s.lastSignAt, clock.wallMs() - 120);
});

test('planned handover: serving without a gap', () => {
  const { got, h } = setup(9_000);
  h.serving('front', 6);
  h.ownership({ type: 'ownership', vip: 'front', owner: 'node-b', epoch: 6, previousOwner: 'node-a', reason: 'failover (cli)', at: 1 });
  const s = got.find((g) => g.e.kind === 'vip-serving')!.e;
  assert.ok(s.kind === 'vip-serving' && s.gapMs === undefined && s.reason === 'failover (cli)');
});

test('step-downs come from transitions, with the reason and the epoch entered with', () => {
  const { got, h } = setup();
  h.transition('front', { from: 'acquiring', to: 'owner', reason: 'free', fields: { epoch: 9 } });
  h.transition('front', { from: 'owner', to: 'reasserting', reason: 'stalled past the deadline' });
  h.transition('front', { from: 'reasserting', to: 'stepping-down', reason: 'authority-expired' });
  h.transition('front', { from: 'stepping-down', to: 'standby', reason: 'left the VIP' });
  assert.deepEqual(got.map((g) => g.e), [{ kind: 'step-down', vip: 'front', epoch: 9, reason: 'authority-expired' }]);
});

test('peers not seen and back, once for the cluster; a stopping peer is not "not seen"', () => {
  const { got, h } = setup();
  h.members([member('node-a', true), member('node-c', true)]);
  h.members([member('node-a', false), member('node-c', false, 'i1', 'stopping')]);
  h.members([member('node-a', true)]);
  h.members([member('node-a', false, 'i1'), member('node-c', true, 'i2')]);
  assert.deepEqual(got.map((g) => `${g.e.kind}:${g.e.node}:${g.once?.state}:${g.once?.mode}`), [
    'node-not-seen:node-a:not-seen:unless', 'node-back:node-a:back:only', 'node-not-seen:node-a:not-seen:unless',
  ]);
});

test('Redis lost is dated at the start of the trouble; regained says how long it was down', () => {
  const { clock, got, h } = setup();
  const trouble = clock.wallMs();
  h.redisLink({ from: 'connected', to: 'degraded', reason: 'ECONNREFUSED' });
  clock.advance(200);
  h.redisLink({ from: 'degraded', to: 'lost', reason: 'no success for a lease ttl' });
  clock.advance(3000);
  h.redisLink({ from: 'lost', to: 'connected', reason: 'ok' });
  assert.deepEqual(got.map((g) => g.e), [
    { kind: 'redis-lost', reason: 'no success for a lease ttl', at: trouble },
    { kind: 'redis-regained', downMs: 3200 },
  ]);
});
