/** The terminal rendering of `wsha status`: the Workers table appears when nodes report workers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatus, renderWorkers } from '../../../../cluster/status/render';
import type { NodeStatus, StatusDocument } from '../../../../cluster/status/status-document';

const node = (id: string, workers: NodeStatus['workers']): NodeStatus => ({
  id, alive: true, address: '127.0.0.1', admin: null, role: 'owner', state: 'ready', priority: 100, heartbeatAgeMs: 100,
  version: '1', uptimeMs: 1000, connections: 7, ready: true, drained: false, vips: [], workers,
});
const doc = (nodes: NodeStatus[]): StatusDocument => ({ version: 1, cluster: 'c', generatedAt: 0, health: 'healthy', redis: { address: 'r', latencyMs: 1 }, nodes, vips: [], pools: [], warnings: [] });
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

test('one row per worker: node, slot, pid, state, connections, restarts', () => {
  const text = plain(renderWorkers([node('n1', [
    { index: 0, pid: 101, state: 'running', connections: 3, restarts: 0 },
    { index: 1, pid: 102, state: 'running', connections: 4, restarts: 2 },
  ])]));
  const rows = text.trim().split('\n').slice(-2).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows, [['n1', '0', '101', 'running', '3', '0'], ['n1', '1', '102', 'running', '4', '2']]);
});

test('the Workers section is shown only when a node reports workers', () => {
  assert.match(plain(renderStatus(doc([node('n1', [{ index: 0, pid: 1, state: 'running', connections: 0, restarts: 0 }])]))), /Workers/);
  assert.doesNotMatch(plain(renderStatus(doc([node('n1', [])]))), /Workers/);
});
