/**
 * The refusal window reads two counters once a minute (handshake failures
 * and access denials), not a whole scrape: a scrape's process metrics
 * (active handles, open fds) and the open-tunnel gauge cost per open socket
 * in every worker, and that read was most of what idle tunnels cost (issue
 * 11). With real sockets: the named read gives the same counts a full scrape
 * gives, walks no tunnel and collects no process metric; a full scrape still
 * has everything; the same holds through worker processes over IPC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { ProxyNode } from '../../node/proxy-node';
import { Metrics } from '../../shared/metrics';
import { silentLogger } from '../../shared/logger';
import { localClusterView } from '../../shared/cluster-view';
import { WorkerFleet } from '../../cluster/workers/worker-fleet';
import { WORKER_ENTRY, WORKER_EXEC_ARGV } from '../../shared/ports/worker-entry';
import { REFUSAL_METRIC_NAMES, refusalCounts } from '../../cluster/events/node-history';
import { selfSignedPems } from '../../shared/tls/self-signed-pem';
import { startBackend } from '../harness/backend';
import { openWs, roundTrip } from '../harness/proxy';
import { rawExchange, upgradeRequest } from '../harness/raw-client';
import { waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

const TUNNELS = 6;
const BAD_HANDSHAKES = 3;

type MetricJson = { name: string; values: Array<{ value: number; labels: Record<string, string | number> }> };
const named = (ms: unknown[], name: string) => (ms as MetricJson[]).find((m) => m.name === name);
const total = (m: MetricJson | undefined) => (m?.values ?? []).reduce((a, v) => a + v.value, 0);

/** A handshake without Sec-WebSocket-Key: refused with 400, counted as bad-handshake. */
async function badHandshake(port: number): Promise<void> {
  const r = await rawExchange(port, upgradeRequest('/', {}, ['Sec-WebSocket-Key']));
  assert.match(r.response, /^HTTP\/1\.1 400 /);
}

test('a read of the refusal counters runs no per-tunnel collector and no process metric; a full scrape still counts every tunnel', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const metrics = new Metrics({ nodeId: 'proxy-t' });
  const node = new ProxyNode({ config: nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })), logger: silentLogger(), metrics, view: localClusterView() });
  await node.start();
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const held: WebSocket[] = [];
  t.after(() => held.forEach((w) => w.terminate()));
  for (let i = 0; i < TUNNELS; i++) held.push(await openWs(`ws://127.0.0.1:${port}/`));
  for (let i = 0; i < BAD_HANDSHAKES; i++) await badHandshake(port);
  assert.equal(await roundTrip(held[0]!, 'still spliced'), 'still spliced');

  // Count the walks over the live tunnels (the open-tunnel gauge's collector is the one that walks them).
  const tunnels = node.rt.registry.tunnels;
  const iterate = tunnels[Symbol.iterator];
  let walks = 0;
  Object.defineProperty(tunnels, Symbol.iterator, { configurable: true, value: function (this: Set<unknown>) { walks++; return iterate.call(this); } });
  t.after(() => { delete (tunnels as any)[Symbol.iterator]; });

  const read = await metrics.json(REFUSAL_METRIC_NAMES);
  assert.equal(walks, 0, 'the refusal read walked the tunnels');
  assert.deepEqual((read as MetricJson[]).map((m) => m.name), [...REFUSAL_METRIC_NAMES], 'only the named metrics, in order');
  const failures = named(read, 'wsha_handshake_failures_total')!;
  assert.deepEqual(failures.values.map((v) => v.labels), [{ reason: 'bad-handshake', node: 'proxy-t' }], 'hot-path counts copied in, default labels kept');
  assert.equal(total(failures), BAD_HANDSHAKES);
  assert.deepEqual(Object.fromEntries(refusalCounts([read])), { 'bad-handshake': BAD_HANDSHAKES });

  const full = await metrics.json();
  assert.equal(walks, 1, 'a full scrape walks the tunnels once');
  assert.equal(total(named(full, 'wsha_connections_open')), TUNNELS, 'wsha_connections_open still counts every open tunnel');
  assert.ok(named(full, 'wsha_process_open_fds') || named(full, 'wsha_process_nodejs_active_handles_total'), 'the process metrics are in a full scrape');
  assert.deepEqual(Object.fromEntries(refusalCounts([full])), Object.fromEntries(refusalCounts([read])), 'the named read and a scrape count the same refusals');
  assert.equal(total(named(await metrics.json(['wsha_no_such_metric', 'wsha_connections_open']), 'wsha_connections_open')), TUNNELS, 'an unknown name is left out; a named gauge gets its collector');
});

test('worker processes answer a named metrics read over IPC with only those metrics, summed as a scrape sums them', { timeout: 60_000 }, async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const config = nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] }));
  const fleet = new WorkerFleet({
    config, count: 2, entry: WORKER_ENTRY, execArgv: [...WORKER_EXEC_ARGV], log: silentLogger(), metrics: new Metrics({ defaultMetrics: false }),
    sources: {
      pools: () => config.pools, health: () => [], clusterRemote: () => 0,
      affinity: { lookup: async () => null, record: () => {} },
      passive: { connectFailed: () => {}, connectSucceeded: () => {} },
      selfSigned: (c) => selfSignedPems(c),
    },
  });
  await fleet.start();
  t.after(() => fleet.stop());
  const port = fleet.ports.public!;
  const held: WebSocket[] = [];
  t.after(() => held.forEach((w) => w.terminate()));
  for (let i = 0; i < TUNNELS; i++) held.push(await openWs(`ws://127.0.0.1:${port}/`));
  for (let i = 0; i < BAD_HANDSHAKES; i++) await badHandshake(port);
  await waitFor(() => fleet.connectionCount() === TUNNELS || null, 'every tunnel in the load reports');

  const reads = await fleet.metricsJson(REFUSAL_METRIC_NAMES);
  assert.equal(reads.length, 2, 'one answer per worker');
  for (const r of reads) assert.deepEqual((r as MetricJson[]).map((m) => m.name), [...REFUSAL_METRIC_NAMES], 'a worker sent only the named metrics');
  assert.deepEqual(Object.fromEntries(refusalCounts(reads)), { 'bad-handshake': BAD_HANDSHAKES }, 'refusals summed over the workers');

  const full = await fleet.metricsJson();
  assert.equal(full.reduce((a, ms) => a + total(named(ms, 'wsha_connections_open')), 0), TUNNELS, 'a full read still counts the open tunnels of both workers');
  assert.deepEqual(Object.fromEntries(refusalCounts(full)), { 'bad-handshake': BAD_HANDSHAKES });
});
