/**
 * Each limit returns its status and nothing else is affected: connections
 * per client address (429), per node (503), idle WebSocket timeout (close
 * 1001 for the idle one only), and a backend that accepts but never answers
 * the upgrade (504 at backendConnectTimeoutMs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { request } from 'node:http';
import type WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip, closeCode } from '../harness/proxy';
import { waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

function httpStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end();
  });
}

test('connections per client address over the cap get 429; a slot freed is usable again', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: { maxConnectionsPerClient: 2, maxConnections: 50 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const held: WebSocket[] = [await openWs(url), await openWs(url)];
  t.after(() => held.forEach((w) => w.terminate()));
  await assert.rejects(openWs(url), (e: any) => e.statusCode === 429);
  assert.equal(await httpStatus(node.portOf('public')!), 429);
  for (const w of held) assert.equal(await roundTrip(w, 'unaffected'), 'unaffected');
  held.shift()!.close();
  await waitFor(() => node.connectionCount() === 1, 'slot released');
  held.push(await openWs(url));
  assert.equal(await roundTrip(held[1], 'again'), 'again');
});

test('connections per node over the cap get 503', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: { maxConnections: 3, maxConnectionsPerClient: 100 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const held = await Promise.all([openWs(url), openWs(url), openWs(url)]);
  t.after(() => held.forEach((w) => w.terminate()));
  await assert.rejects(openWs(url), (e: any) => e.statusCode === 503);
  assert.equal(await httpStatus(node.portOf('public')!), 503);
  assert.equal(node.snapshot().refusals.maxConnections, 2);
  assert.equal(await roundTrip(held[2], 'unaffected'), 'unaffected');
});

test('an idle WebSocket is closed with 1001 at idleTimeoutMs while a busy one stays', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: { idleTimeoutMs: 1000 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const idle = await openWs(url);
  const busy = await openWs(url);
  t.after(() => { idle.terminate(); busy.terminate(); });
  const started = Date.now();
  const idleClosed = closeCode(idle, 8000);
  const pinger = setInterval(() => busy.send('tick'), 100);
  t.after(() => clearInterval(pinger));
  assert.equal(await idleClosed, 1001);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900, `closed after ${elapsed} ms`);
  // The busy one (a message every 100 ms; 1000 ms of slack for a loaded machine) outlives the idle timeout.
  await new Promise((r) => setTimeout(r, 1200));
  clearInterval(pinger);
  // Echoes of ticks sent just before clearInterval may still be in flight: wait for this message's own echo.
  const echoed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo of "still open" within 5 s')), 5000);
    busy.on('message', (d) => { if (d.toString() === 'still open') { clearTimeout(timer); resolve('still open'); } });
  });
  busy.send('still open');
  assert.equal(await echoed, 'still open');
});

test('a backend that accepts but never answers the upgrade gives 504 at backendConnectTimeoutMs', async (t) => {
  const held: Socket[] = [];
  const mute = createServer((s) => { held.push(s); s.on('error', () => {}); });
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  t.after(() => { held.forEach((s) => s.destroy()); mute.close(); });
  const port = (mute.address() as { port: number }).port;
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [`http://127.0.0.1:${port}`], limits: { backendConnectTimeoutMs: 400 } })));
  t.after(() => node.destroy());
  const started = Date.now();
  await assert.rejects(openWs(`ws://127.0.0.1:${node.portOf('public')}/`), (e: any) => e.statusCode === 504);
  assert.ok(Date.now() - started >= 350);
  await waitFor(() => node.rt.registry.size === 0, 'no tunnel left');
});

test('an HTTP request slower than requestTimeoutMs gets 504; reloaded limits apply to the next connection', async (t) => {
  const slow = await startBackend({ id: 'slow', httpDelayMs: 1500 });
  t.after(() => slow.close());
  const raw = rawNodeConfig({ port: 0, backendUrls: [slow.url], limits: { requestTimeoutMs: 400, handshakeTimeoutMs: 300 } });
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const started = Date.now();
  assert.equal(await httpStatus(port), 504);
  assert.ok(Date.now() - started < 1400, 'answered before the backend');
  raw.limits = { ...raw.limits, requestTimeoutMs: 3000, maxConnectionsPerClient: 1 };
  node.reload(nodeConfig(raw));
  assert.equal(await httpStatus(port), 200, 'the longer timeout applies after reload');
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  await assert.rejects(openWs(`ws://127.0.0.1:${port}/`), (e: any) => e.statusCode === 429, 'the lower per-client cap applies after reload');
  assert.equal(await roundTrip(ws, 'kept'), 'kept');
});
