/** The documented shape of `wsha status --json`, as validateStatusDocument checks it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStatusDocument } from '../../../../cluster/status/status-document';

const good = () => ({
  version: 1, cluster: 'demo', generatedAt: 1, health: 'degraded', redis: { address: '127.0.0.1:6379', latencyMs: 0.3 },
  nodes: [{ id: 'a', alive: false, address: null, admin: null, role: null, state: 'down', priority: null, heartbeatAgeMs: 4000, version: null, uptimeMs: null, connections: null, ready: null, drained: false, vips: [], workers: [] }],
  vips: [{ name: 'front', owner: 'b', epoch: 2, since: 1, reason: 'takeover', previousOwner: 'a', preempt: false, driver: 'bind', address: '127.0.0.9', leaseTtlMs: 700 }],
  pools: [{ name: 'chat', sessions: 0, backends: [{ id: 'e1', verdict: 'down', connections: 0, lastCheckLatencyMs: null, live: null, views: [{ nodeId: 'b', up: false, ageMs: 10, latencyMs: null, reason: 'ECONNREFUSED', fresh: true }] }] }],
  warnings: [{ code: 'node-not-seen', message: 'node a not seen for 4s' }],
});

test('a conforming document has no problems', () => {
  assert.deepEqual(validateStatusDocument(good()), []);
});

test('every departure is named with its path', () => {
  const d = good() as any;
  d.version = 2;
  assert.deepEqual(validateStatusDocument(d), ['$.version: bad value 2']);
  const e = good() as any;
  e.nodes[0].alive = 'yes';
  e.vips[0].epoch = '2';
  e.pools[0].backends[0].verdict = 'maybe';
  e.pools[0].backends[0].views[0].fresh = null;
  assert.deepEqual(validateStatusDocument(e), [
    '$.nodes[0].alive: bad value "yes"',
    '$.vips[0].epoch: bad value "2"',
    '$.pools[0].backends[0].verdict: bad value "maybe"',
    '$.pools[0].backends[0].views[0].fresh: bad value null',
  ]);
  assert.deepEqual(validateStatusDocument(null), ['$: expected an object']);
});

test('peerProblem is optional and, when present, a string', () => {
  const d = good() as any;
  d.nodes[0].peerProblem = 'node.peer.listen: this node would advertise 127.0.0.1:7946';
  assert.deepEqual(validateStatusDocument(d), []);
  d.nodes[0].peerProblem = 1;
  assert.deepEqual(validateStatusDocument(d), ['$.nodes[0].peerProblem: bad value 1']);
});
