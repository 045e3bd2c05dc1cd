/**
 * The node as a child process (`wsha node start`): a malformed config
 * exits 2 naming the bad key, SIGTERM drains WebSocket clients with 1001
 * after the grace period and exits 0, and HTTP keeps working until then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from '../harness/backend';
import { openWs, roundTrip, closeCode } from '../harness/proxy';
import { freePort, waitFor } from '../harness/ports';
import { spawnNodeProcess, startNodeProcess } from '../harness/node-process';
import { rawNodeConfig } from '../fixtures/node-config';

test('a malformed config gives the key-naming error and exit code 2', async (t) => {
  const raw = rawNodeConfig({ port: 0, backendUrls: ['ftp://127.0.0.1:1'] });
  raw.limits.maxHeaderBytes = 'big';
  const n = spawnNodeProcess(raw);
  t.after(() => n.cleanup());
  const exit = await n.exited();
  assert.equal(exit.code, 2);
  assert.match(n.stderr(), /pools\.app\.backends\[0\]\.url: expected an http\(s\) or ws\(s\) URL/);
  assert.match(n.stderr(), /limits\.maxHeaderBytes: .*expected a size in bytes/);
});

test('SIGTERM drains: WebSocket clients get 1001 after the grace period, then the process exits 0', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const port = await freePort();
  const n = await startNodeProcess(rawNodeConfig({ port, backendUrls: [b.url], drain: { graceMs: 1500, deadlineMs: 6000 } }));
  t.after(() => n.cleanup());
  const clients = await Promise.all([1, 2, 3].map(() => openWs(`ws://127.0.0.1:${port}/`)));
  t.after(() => clients.forEach((c) => c.terminate()));
  for (const c of clients) assert.equal(await roundTrip(c, 'before'), 'before');
  const codes = clients.map((c) => closeCode(c, 8000));
  const sentAt = Date.now();
  n.signal('SIGTERM');
  // During the grace period the tunnels still carry messages.
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await roundTrip(clients[0], 'during grace'), 'during grace');
  assert.deepEqual(await Promise.all(codes), [1001, 1001, 1001]);
  assert.ok(Date.now() - sentAt >= 1300, 'closes come after the grace period');
  const exit = await n.exited();
  assert.equal(exit.code, 0);
  assert.ok(n.logs.some((l) => l.msg === 'drained, exiting'));
});

test('a listener address already in use: exit code 1 with the reason on stderr', async (t) => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => blocker.close());
  const n = spawnNodeProcess(rawNodeConfig({ port: (blocker.address() as { port: number }).port, backendUrls: ['http://127.0.0.1:1'] }));
  t.after(() => n.cleanup());
  const exit = await n.exited();
  assert.equal(exit.code, 1);
  assert.match(n.stderr(), /cannot start node: .*EADDRINUSE/);
});

test('Redis out of reach: the admin API answers /healthz (200) and /readyz (503), and plain listeners serve traffic', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const [port, adminPort] = [await freePort(), await freePort()];
  const raw = rawNodeConfig({ port, backendUrls: [b.url] });
  raw.node.admin = { listen: `127.0.0.1:${adminPort}`, token: 'test-token-123' };
  const n = await startNodeProcess(raw);
  t.after(() => n.cleanup());
  const healthz = await waitFor(async () => (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status === 200, '/healthz with Redis down', 10000);
  assert.equal(healthz, true);
  assert.equal((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status, 503);
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  assert.equal(await roundTrip(ws, 'no redis'), 'no redis');
});
