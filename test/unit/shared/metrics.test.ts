/** Metrics.json(names): only the named metrics, and only the collectors that feed them (issue 11: idle cost per tunnel). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../../shared/metrics';

test('a named read runs collectors without feeds and those feeding a named metric, nothing else', async () => {
  const m = new Metrics({ nodeId: 'n1', defaultMetrics: false });
  const ran: string[] = [];
  m.addCollector(() => { ran.push('always'); m.handshakeFailuresTotal.inc({ reason: 'no-route' }, 2); });
  m.addCollector(() => { ran.push('open'); m.connectionsOpen.set({ listener: 'l', pool: 'p', backend: 'b' }, 5); }, ['wsha_connections_open']);

  const read = await m.json(['wsha_handshake_failures_total', 'wsha_not_a_metric']) as Array<{ name: string; values: Array<{ value: number; labels: Record<string, unknown> }> }>;
  assert.deepEqual(ran, ['always']);
  assert.deepEqual(read.map((x) => x.name), ['wsha_handshake_failures_total'], 'unknown names are left out');
  assert.deepEqual(read[0]!.values, [{ value: 2, labels: { reason: 'no-route', node: 'n1' } }], 'default labels as in a full read');

  ran.length = 0;
  const open = await m.json(['wsha_connections_open']) as Array<{ name: string; values: Array<{ value: number }> }>;
  assert.deepEqual(ran, ['always', 'open']);
  assert.equal(open[0]!.values[0]!.value, 5);

  ran.length = 0;
  const full = await m.json() as Array<{ name: string; values: Array<{ labels: Record<string, unknown> }> }>;
  assert.deepEqual(ran, ['always', 'open'], 'a full read runs every collector');
  assert.deepEqual(full.find((x) => x.name === 'wsha_handshake_failures_total')!.values[0]!.labels, read[0]!.values[0]!.labels, 'the same labels as the named read');
  assert.ok(full.length > 20);
});

test('a named read of a process without default labels or process metrics', async () => {
  const m = new Metrics({ defaultMetrics: false });
  m.accessDeniedTotal.inc({ route: 'chat', reason: 'origin' });
  const read = await m.json(['wsha_access_denied_total']) as Array<{ values: Array<{ labels: Record<string, unknown> }> }>;
  assert.deepEqual(read[0]!.values[0]!.labels, { route: 'chat', reason: 'origin' });
});
