/**
 * A node with two worker processes on a plain listener (issue 11), as a
 * real `wsha node start` child process with real sockets: the kernel
 * spreads connections over both workers (SO_REUSEPORT), /metrics is the sum
 * over them, a SIGHUP reaches every worker (a pool change takes effect in
 * both), and SIGTERM drains every worker (1001 to every client) and ends
 * every process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { freePort, waitFor } from '../harness/ports';
import { startNodeProcess } from '../harness/node-process';
import { closeCode, openWs, roundTrip } from '../harness/proxy';
import { rawNodeConfig } from '../fixtures/node-config';
import { metricSum, pidAlive, workersOf } from '../harness/workers';

const TOKEN = 'workers-test-token';
const CLIENTS = 40;

function whoami(ws: WebSocket): Promise<string> {
  return roundTrip(ws, 'whoami').then((t) => (JSON.parse(t) as { backend: string }).backend);
}

test('workers: 2 share the listener, sum their metrics, both reload on SIGHUP and both drain on SIGTERM', { timeout: 60_000 }, async (t) => {
  const b1 = await startBackend({ id: 'b1' });
  t.after(() => b1.close());
  const b2 = await startBackend({ id: 'b2' });
  t.after(() => b2.close());
  const port = await freePort();
  const adminPort = await freePort();
  const raw = rawNodeConfig({ port, backendUrls: [b1.url], drain: { graceMs: 300, deadlineMs: 5000 } });
  raw.node.workers = 2;
  raw.node.admin = { listen: `127.0.0.1:${adminPort}`, token: TOKEN };
  const n = await startNodeProcess(raw, {}, 'started');
  t.after(() => n.cleanup());

  const first = await waitFor(async () => { const w = await workersOf(adminPort, TOKEN); return w.length === 2 && w.every((x) => x.state === 'running') ? w : null; }, 'two running workers');
  const pids = first.map((w) => w.pid!);
  assert.equal(new Set(pids).size, 2, 'two processes');
  assert.ok(!pids.includes(n.pid), 'the workers are not the control process');

  const clients: WebSocket[] = [];
  for (let i = 0; i < CLIENTS; i++) clients.push(await openWs(`ws://127.0.0.1:${port}/`));
  for (const ws of clients) assert.equal(await whoami(ws), 'b1');
  const spread = await waitFor(async () => { const w = await workersOf(adminPort, TOKEN); return w.reduce((a, x) => a + x.tunnels, 0) === CLIENTS ? w : null; }, 'every tunnel reported');
  assert.ok(spread.every((w) => w.tunnels > 0), `both workers hold tunnels: ${spread.map((w) => w.tunnels).join(' + ')}`);
  assert.equal(await metricSum(adminPort, TOKEN, 'wsha_connections_open'), CLIENTS, 'wsha_connections_open summed over the workers');
  assert.equal(await metricSum(adminPort, TOKEN, 'wsha_workers_running'), 2);

  // SIGHUP: the pool now has only b2. Every new connection, whichever worker takes it, goes there.
  n.writeConfig({ ...raw, pools: { app: { balance: 'round-robin', backends: [{ id: 'app-2', url: b2.url }] } } });
  const reloads = n.logs.filter((l) => l.msg === 'config reloaded').length;
  n.signal('SIGHUP');
  await waitFor(() => n.logs.filter((l) => l.msg === 'config reloaded').length >= reloads + 2 || null, 'both workers reloaded');
  const before = spread.map((w) => w.tunnels);
  const more: WebSocket[] = [];
  for (let i = 0; i < CLIENTS; i++) more.push(await openWs(`ws://127.0.0.1:${port}/`));
  for (const ws of more) assert.equal(await whoami(ws), 'b2', 'a new connection after the reload reaches the new pool');
  const after = await waitFor(async () => { const w = await workersOf(adminPort, TOKEN); return w.reduce((a, x) => a + x.tunnels, 0) === 2 * CLIENTS ? w : null; }, 'every tunnel reported');
  assert.ok(after.every((w, i) => w.tunnels > before[i]!), `both workers took new connections after the reload: ${before.join(',')} -> ${after.map((w) => w.tunnels).join(',')}`);
  for (const ws of clients) assert.equal(await whoami(ws), 'b1', 'tunnels opened before the reload stay');

  // SIGTERM: every client of every worker gets 1001; every process ends.
  const codes = [...clients, ...more].map((ws) => closeCode(ws, 10_000));
  n.signal('SIGTERM');
  assert.deepEqual([...new Set(await Promise.all(codes))], [1001]);
  assert.equal((await n.exited()).code, 0);
  await waitFor(() => pids.every((p) => !pidAlive(p)) || null, 'worker processes gone', 3000);
});
