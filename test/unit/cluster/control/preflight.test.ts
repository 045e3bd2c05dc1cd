/** Pre-flight of a planned handover: a plan, or the reason nothing moves. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHandover, worseBackends } from '../../../../cluster/control/preflight';
import type { Member } from '../../../../cluster/membership/members';

const member = (id: string, priority: number, over: Partial<Member> = {}, down: string[] = [], ready = true): Member => ({
  record: { id, address: '', admin: '', peer: '', incarnation: 'i', peers: [], priority, role: 'standby', state: 'ready', ready, drained: false, version: '0', startedAt: 0, sentAt: 0, connections: 0, vips: [], backendsDown: down },
  ageMs: 0, alive: true, drained: false, ...over,
});
const lease = { nodeId: 'a', epoch: 7 };

test('picks the best eligible node, or the one asked for', () => {
  const ms = [member('a', 200), member('b', 100), member('c', 150)];
  assert.deepEqual(planHandover('main', lease, ms), { vip: 'main', owner: 'a', epoch: 7, target: 'c' });
  assert.deepEqual(planHandover('main', lease, ms, 'b'), { vip: 'main', owner: 'a', epoch: 7, target: 'b' });
});

test('refuses with a reason: no owner, owner down, target drained/unready/down/unknown/self', () => {
  const reason = (r: ReturnType<typeof planHandover>) => ('reason' in r ? r.reason : '');
  assert.match(reason(planHandover('main', null, [member('a', 1)])), /no owner/);
  assert.match(reason(planHandover('main', lease, [member('a', 1, { alive: false }), member('b', 1)])), /down; a standby takes over/);
  assert.match(reason(planHandover('main', lease, [member('a', 1), member('b', 1, { drained: true })], 'b')), /b is drained/);
  assert.match(reason(planHandover('main', lease, [member('a', 1), member('b', 1, {}, [], false)], 'b')), /b is not ready/);
  assert.match(reason(planHandover('main', lease, [member('a', 1), member('b', 1, { alive: false })], 'b')), /b is down/);
  assert.match(reason(planHandover('main', lease, [member('a', 1)], 'zz')), /unknown/);
  assert.match(reason(planHandover('main', lease, [member('a', 1)], 'a')), /already owns/);
  assert.match(reason(planHandover('main', lease, [member('a', 1)])), /only node/);
  assert.match(reason(planHandover('main', lease, [member('a', 1), member('b', 1, { drained: true }), member('c', 1, { alive: false })])), /no eligible target for VIP main: b is drained, c is down/);
});

test('a target that sees a backend down that the owner sees up is not eligible', () => {
  const owner = member('a', 200, {}, ['app/x']);
  const worse = member('b', 150, {}, ['app/x', 'app/y']);
  const same = member('c', 100, {}, ['app/x']);
  assert.deepEqual(worseBackends(owner, worse), ['app/y']);
  assert.deepEqual(planHandover('main', lease, [owner, worse, same]), { vip: 'main', owner: 'a', epoch: 7, target: 'c' });
  const r = planHandover('main', lease, [owner, worse], 'b');
  assert.ok('reason' in r && /app\/y/.test(r.reason));
  const none = planHandover('main', lease, [owner, worse]);
  assert.ok('reason' in none && /b sees backends down \(app\/y\)/.test(none.reason));
});
