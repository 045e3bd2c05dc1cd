/** One node snapshot from its workers': sums, listeners serving when any copy serves, backends merged by id. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeSnapshots } from '../../../../cluster/workers/merge-snapshots';
import type { NodeSnapshot } from '../../../../shared/ports/data-plane';
import { nodeConfig, rawNodeConfig } from '../../../fixtures/node-config';

const config = nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }));

function part(tunnels: number, serving: boolean, state: NodeSnapshot['state'] = 'running'): NodeSnapshot {
  return {
    nodeId: 'proxy-t', state, draining: false, connections: tunnels + 1, tunnels,
    listeners: [{ name: 'public', vip: null, address: '127.0.0.1', port: 8080, tls: false, proxyProtocol: false, serving }],
    pools: [{ name: 'app', balance: 'round-robin', backends: [{ id: 'app-1', url: 'http://127.0.0.1:1', weight: 1, tunnels, inFlight: 1, tunnelsTotal: tunnels * 2, removed: false, up: true }] }],
    tunnelsByPool: { app: { 'app-1': tunnels } }, limits: config.limits, bytes: { in: 10, out: 20 }, refusals: { maxConnections: 1 },
  };
}

test('counts are summed over workers and a listener serves when any worker serves it', () => {
  const m = mergeSnapshots(config, [part(3, false), part(4, true)], [], false);
  assert.equal(m.tunnels, 7);
  assert.equal(m.connections, 9);
  assert.deepEqual(m.bytes, { in: 20, out: 40 });
  assert.deepEqual(m.refusals, { maxConnections: 2 });
  assert.deepEqual(m.tunnelsByPool, { app: { 'app-1': 7 } });
  assert.equal(m.listeners.length, 1);
  assert.equal(m.listeners[0]!.serving, true);
  const b = m.pools[0]!.backends;
  assert.equal(b.length, 1);
  assert.deepEqual({ tunnels: b[0]!.tunnels, inFlight: b[0]!.inFlight, tunnelsTotal: b[0]!.tunnelsTotal }, { tunnels: 7, inFlight: 2, tunnelsTotal: 14 });
});

test('state: running while any worker runs, closed with none; the parts are not changed', () => {
  const a = part(1, true, 'draining');
  assert.equal(mergeSnapshots(config, [a, part(1, true)], [], false).state, 'running');
  assert.equal(mergeSnapshots(config, [a], [], true).state, 'draining');
  assert.equal(mergeSnapshots(config, [], [], false).state, 'closed');
  mergeSnapshots(config, [a, part(2, true)], [], false);
  assert.equal(a.pools[0]!.backends[0]!.tunnels, 1);
});
