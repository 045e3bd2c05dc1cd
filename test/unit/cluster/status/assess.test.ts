/** Pure health judgement of a status document: warnings, health and exit code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIS_SLOW_MS, exitCodeOf, healthOf, warningsFor } from '../../../../cluster/status/assess';
import type { NodeStatus, PoolStatus, StatusDocument, VipStatus } from '../../../../cluster/status/status-document';

const node = (id: string, alive = true, extra: Partial<NodeStatus> = {}): NodeStatus => ({
  id, alive, address: '127.0.0.1', admin: null, role: 'standby', state: alive ? 'ready' : 'down', priority: 100, heartbeatAgeMs: alive ? 100 : 5000,
  version: '1', uptimeMs: 1000, connections: 0, ready: alive ? true : null, drained: false, vips: [], workers: [], ...extra,
});
const vip = (owner: string | null): VipStatus => ({ name: 'front', owner, epoch: 1, since: 1, reason: 'x', previousOwner: null, preempt: false, driver: 'bind', address: '127.0.0.9', leaseTtlMs: 500 });
const pool = (...verdicts: Array<'up' | 'down' | 'unknown'>): PoolStatus => ({ name: 'chat', sessions: 0, backends: verdicts.map((v, i) => ({ id: `b${i}`, verdict: v, connections: 0, lastCheckLatencyMs: 1, live: null, views: [] })) });
const doc = (p: Partial<Omit<StatusDocument, 'warnings' | 'health'>>): Omit<StatusDocument, 'warnings' | 'health'> => ({
  version: 1, cluster: 'c', generatedAt: 0, redis: { address: 'x', latencyMs: 1 }, nodes: [node('a'), node('b')], vips: [vip('a')], pools: [pool('up', 'up')], ...p,
});
const codes = (d: ReturnType<typeof doc>) => warningsFor(d).map((w) => w.code).sort();

test('healthy when every node is alive, every VIP owned, every backend up', () => {
  assert.deepEqual(warningsFor(doc({})), []);
  assert.equal(healthOf(warningsFor(doc({}))), 'healthy');
  assert.equal(exitCodeOf('healthy'), 0);
});

test('degraded: a node not seen, a node not ready, a backend down, Redis slow', () => {
  for (const d of [doc({ nodes: [node('a'), node('b', false)] }), doc({ nodes: [node('a'), node('b', true, { ready: false, state: 'starting' })] }), doc({ pools: [pool('up', 'down')] }), doc({ redis: { address: 'x', latencyMs: REDIS_SLOW_MS + 1 } })]) {
    assert.equal(healthOf(warningsFor(d)), 'degraded', JSON.stringify(codes(d)));
  }
  assert.deepEqual(codes(doc({ nodes: [node('a'), node('b', false)] })), ['node-not-seen']);
  assert.equal(exitCodeOf('degraded'), 1);
});

test('a drained node that is not ready is not a warning', () => {
  assert.deepEqual(codes(doc({ nodes: [node('a'), node('b', true, { ready: false, drained: true, state: 'maintenance' })] })), []);
});

test('down: no live node, a VIP without owner, a pool with every backend down', () => {
  assert.deepEqual(codes(doc({ vips: [vip(null)] })), ['vip-without-owner']);
  assert.deepEqual(codes(doc({ pools: [pool('down', 'down')] })), ['backend-down', 'backend-down', 'pool-down']);
  assert.ok(codes(doc({ nodes: [node('a', false)] })).includes('no-nodes'));
  for (const d of [doc({ vips: [vip(null)] }), doc({ pools: [pool('down', 'down')] }), doc({ nodes: [] })]) assert.equal(healthOf(warningsFor(d)), 'down');
  assert.equal(exitCodeOf('down'), 2);
});

test('unknown verdicts are not failures', () => {
  assert.deepEqual(codes(doc({ pools: [pool('unknown', 'up')] })), []);
});

test('degraded: a node serving with a peer address the others cannot reach (its heartbeat says why)', () => {
  const problem = 'node.peer.listen: this node would advertise 127.0.0.1:7946, which only this host can reach, while b advertises 192.0.2.10:7946';
  const w = warningsFor(doc({ nodes: [node('a', true, { role: 'owner', peerProblem: problem }), node('b')] }));
  assert.deepEqual(w, [{ code: 'peer-address-unusable', message: `node a: ${problem}` }]);
  assert.equal(healthOf(w), 'degraded');
  assert.deepEqual(codes(doc({ nodes: [node('a', false, { peerProblem: problem }), node('b')] })), ['node-not-seen'], 'a node not seen is not judged on its old heartbeat');
});
