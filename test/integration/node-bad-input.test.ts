/**
 * Bad input against a running node, each followed by a good client on the
 * same node to show nothing else was affected: a garbage request line,
 * missing or wrong Sec-WebSocket-Key, Upgrade without Connection: upgrade,
 * headers over the limit, headers one byte a second, and clients that
 * disconnect mid-handshake.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startBackend, type TestBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { rawExchange, slowExchange, upgradeRequest } from '../harness/raw-client';
import { waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type { ProxyNode } from '../../node/proxy-node';

let backend: TestBackend;
let slow: TestBackend;
let node: ProxyNode;
let port = 0;

before(async () => {
  backend = await startBackend({ id: 'b1' });
  slow = await startBackend({ id: 'slow', httpDelayMs: 2000 });
  const raw = rawNodeConfig({ port: 0, backendUrls: [backend.url], limits: { handshakeTimeoutMs: 600, maxHeaderBytes: 2048 } });
  raw.routes.unshift({ host: '*', path: '/slow', pool: 'slow' });
  raw.pools.slow = { backends: [{ id: 'slow', url: slow.url }] };
  node = await startProxy(nodeConfig(raw));
  port = node.portOf('public')!;
});
after(async () => { node.destroy(); await backend.close(); await slow.close(); });

async function stillServes(): Promise<void> {
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  try { assert.equal(await roundTrip(ws, 'ok?'), 'ok?'); } finally { ws.terminate(); }
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

test('a garbage request line gets 400 and the node keeps serving', async () => {
  const r = await rawExchange(port, 'HELLO THERE\r\n\r\n');
  assert.equal(statusOf(r.response), 400);
  assert.ok(r.closed);
  const r2 = await rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
  assert.ok(r2.closed && (r2.response === '' || statusOf(r2.response) === 400));
  await stillServes();
});

test('a missing or wrong Sec-WebSocket-Key gets 400', async () => {
  for (const req of [upgradeRequest('/', {}, ['Sec-WebSocket-Key']), upgradeRequest('/', { 'Sec-WebSocket-Key': 'abc' }), upgradeRequest('/', { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZQ==' }), upgradeRequest('/', { 'Sec-WebSocket-Version': '8' })]) {
    const r = await rawExchange(port, req);
    assert.equal(statusOf(r.response), 400, r.response);
    assert.match(r.response, /Sec-WebSocket-(Key|Version)/);
    assert.ok(r.closed);
  }
  await stillServes();
});

test('Upgrade: websocket without Connection: upgrade gets 400 and never reaches the backend', async () => {
  const before = backend.seen.length;
  const r = await rawExchange(port, upgradeRequest('/', { Connection: 'keep-alive' }));
  assert.equal(statusOf(r.response), 400);
  assert.match(r.response, /Connection header must include upgrade/);
  assert.equal(backend.seen.length, before);
  await stillServes();
});

test('headers larger than the limit get 431', async () => {
  const r = await rawExchange(port, upgradeRequest('/', { 'X-Big': 'x'.repeat(4096) }));
  assert.equal(statusOf(r.response), 431);
  assert.ok(r.closed);
  const r2 = await rawExchange(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'y'.repeat(4096)}\r\n\r\n`);
  assert.equal(statusOf(r2.response), 431);
  await stillServes();
});

test('a client sending headers one byte at a time gets 408 at the handshake timeout', async () => {
  const slowClient = slowExchange(port, upgradeRequest('/'), 100, 8000);
  // Another client is served normally while the slow one drips.
  await stillServes();
  const r = await slowClient;
  assert.equal(statusOf(r.response), 408, r.response);
  assert.ok(r.closed);
  assert.ok(r.bytesSent < upgradeRequest('/').length, 'cut off before finishing its head');
  assert.ok(r.elapsedMs < 4000, `closed after ${r.elapsedMs} ms`);
  // An idle connection that never sends a byte is closed as well.
  const idle = await rawExchange(port, '', 5000);
  assert.ok(idle.closed, 'idle connection closed');
  await stillServes();
});

test('clients that disconnect mid-handshake leave nothing behind', async () => {
  // Half a request head, then gone.
  for (let i = 0; i < 5; i++) {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write(upgradeRequest('/').slice(0, 40));
    s.destroy();
  }
  // A whole upgrade to a backend, gone before the 101 arrives (the slow pool answers HTTP late, but upgrades fast: use a
  // raw backend-bound upgrade and destroy at once).
  for (let i = 0; i < 5; i++) {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((r) => s.on('connect', () => r()));
    s.write(upgradeRequest('/'));
    s.destroy();
  }
  // An HTTP request whose client leaves while the backend is still thinking.
  const s = connect(port, '127.0.0.1');
  await new Promise<void>((r) => s.on('connect', () => r()));
  s.write('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitFor(() => slow.seen.length > 0 || node.rt.pools.get('slow')!.backends[0].inFlight > 0, 'slow request in flight', 5000);
  s.destroy();
  await waitFor(() => node.connectionCount() === 0 && node.rt.registry.size === 0 && node.rt.pools.get('slow')!.backends[0].inFlight === 0, 'no connection, tunnel or request left', 8000);
  await stillServes();
});

test('a TLS listener: plain HTTP and garbage instead of a ClientHello are closed, slots released, TLS clients served', async (t) => {
  const tlsNode = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [backend.url], listener: { tls: { selfSigned: true } }, limits: { handshakeTimeoutMs: 600 } })));
  t.after(() => tlsNode.destroy());
  const tlsPort = tlsNode.portOf('public')!;
  const plain = await rawExchange(tlsPort, upgradeRequest('/'));
  assert.ok(plain.closed);
  assert.doesNotMatch(plain.response, /^HTTP\/1\.1 101/);
  const garbage = await rawExchange(tlsPort, Buffer.alloc(64, 0xff));
  assert.ok(garbage.closed);
  const silent = await rawExchange(tlsPort, '', 5000);
  assert.ok(silent.closed, 'a client that never starts TLS is closed at the handshake timeout');
  await waitFor(() => tlsNode.connectionCount() === 0, 'slots released');
  const ws = await openWs(`wss://127.0.0.1:${tlsPort}/`, { rejectUnauthorized: false });
  assert.equal(await roundTrip(ws, 'tls ok'), 'tls ok');
  ws.terminate();
});
