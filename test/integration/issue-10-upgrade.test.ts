/**
 * Issue 10: no unverified upgrades. Bytes a client sends after its upgrade
 * head are held until the backend's answer is a verified 101, and dropped
 * otherwise; a 101 without the right Upgrade, Connection or
 * Sec-WebSocket-Accept gets 502 and its backend connection is closed; a
 * non-101 answer is relayed and both connections end. Raw backends
 * record every byte they receive, so "never reached the backend" is
 * checked on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { upgradeRequest } from '../harness/raw-client';
import { acceptOf, converse, keyIn, maskedText, startRawBackend, statuses, type RawBackend } from '../harness/hostile';
import { waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

async function nodeFor(t: { after(fn: () => unknown): void }, url: string, limits: Record<string, unknown> = {}) {
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [url], limits })));
  t.after(() => node.destroy());
  return node;
}

async function raw(t: { after(fn: () => unknown): void }, onData: Parameters<typeof startRawBackend>[0]): Promise<RawBackend> {
  const b = await startRawBackend(onData);
  t.after(() => b.close());
  return b;
}

const INTERNAL = 'POST /internal/delete-everything HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n';

test('pipelined bytes behind an upgrade never reach a backend that answers 426 and keeps the connection', async (t) => {
  const b = await raw(t, (c) => {
    if (c.received.includes('\r\n\r\n') && !c.received.includes('answered')) {
      c.received += '(answered)';
      c.socket.write('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 11\r\n\r\nupgrade me!');
    }
  });
  const node = await nodeFor(t, b.url);
  const r = await converse(node.portOf('public')!, upgradeRequest('/ws', { 'Sec-WebSocket-Version': '13' }) + INTERNAL, { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [426], r.response);
  assert.match(r.response, /\r\nConnection: close\r\n/);
  assert.match(r.response, /upgrade me!$/);
  assert.ok(r.closed, 'client connection closed after the relayed answer');
  assert.doesNotMatch(b.received(), /internal/, 'the pipelined request never reached the backend');
  await waitFor(() => b.connections.every((c) => c.socket.destroyed) && node.rt.registry.size === 0, 'backend connection closed, never reused');
  // The client's socket goes too (a half-closed socket nobody reads would keep its fd for ever).
  await waitFor(() => node.connectionCount() === 0, 'client connection released', 4000);
});

for (const [what, answer] of [
  ['a 101 with no headers at all (a status reflector)', () => 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
  ['a 101 without Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
  ['a 101 with a wrong Sec-WebSocket-Accept', () => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf('AAAAAAAAAAAAAAAAAAAAAA==')}\r\n\r\n`],
  ['a 101 without Connection: upgrade', (key: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`],
  ['a 101 with Upgrade: h2c', (key: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`],
  ['an HTTP/1.0 101', (key: string) => `HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`],
] as Array<[string, (key: string) => string]>) {
  test(`${what} gets 502, and no raw tunnel to the backend opens`, async (t) => {
    // After its 101 this backend serves anything it is sent, as an endpoint that reflects a status code would.
    const b = await raw(t, (c, chunk) => {
      if (!c.received.includes('(switched)') && c.received.includes('\r\n\r\n')) { c.received += '(switched)'; c.socket.write(answer(keyIn(c.received))); return; }
      if (chunk.includes('GET /internal/secret')) c.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECRET');
    });
    const node = await nodeFor(t, b.url);
    const r = await converse(node.portOf('public')!, [upgradeRequest('/ws'), 'GET /internal/secret HTTP/1.1\r\nHost: a\r\n\r\n'], { gapMs: 150, timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [502], r.response);
    assert.doesNotMatch(r.response, /SECRET/);
    assert.ok(r.closed);
    assert.doesNotMatch(b.received(), /internal/);
    await waitFor(() => b.connections.every((c) => c.socket.destroyed), 'backend connection closed');
  });
}

test('bytes pipelined after a valid upgrade are held and delivered after the verified 101', async (t) => {
  const backend = await startBackend({ id: 'echo' });
  t.after(() => backend.close());
  const node = await nodeFor(t, backend.url);
  const r = await converse(node.portOf('public')!, Buffer.concat([Buffer.from(upgradeRequest('/ws'), 'latin1'), maskedText('early bird')]), { until: (s) => s.includes('early bird'), timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [101], r.response);
  assert.match(r.response, new RegExp(`Sec-WebSocket-Accept: ${acceptOf('dGhlIHNhbXBsZSBub25jZQ==').replace(/[+/=]/g, '\\$&')}`, 'i'));
  assert.ok(r.response.includes('early bird'), 'the early frame was echoed after the 101');
});

test('more bytes before the 101 than limits.maxHeaderBytes leaves room for get 400 and reach no backend', async (t) => {
  const b = await raw(t, () => {});
  const node = await nodeFor(t, b.url, { maxHeaderBytes: 2048 });
  const r = await converse(node.portOf('public')!, upgradeRequest('/ws') + 'x'.repeat(4096), { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [400], r.response);
  assert.equal(b.connections.length, 0);
});

test('an HTTP/1.0 request with Upgrade is not upgraded', async (t) => {
  const backend = await startBackend({ id: 'echo' });
  t.after(() => backend.close());
  const node = await nodeFor(t, backend.url);
  const r = await converse(node.portOf('public')!, upgradeRequest('/ws').replace('HTTP/1.1', 'HTTP/1.0'), { timeoutMs: 3000 });
  assert.notDeepEqual(statuses(r.response), [101]);
  assert.equal(statuses(r.response)[0], 400, r.response);
  assert.equal(backend.seen.filter((s) => s.kind === 'ws').length, 0);
});

test('an h2c upgrade is refused and reaches no backend', async (t) => {
  const b = await raw(t, () => {});
  const node = await nodeFor(t, b.url);
  const r = await converse(node.portOf('public')!, 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [400], r.response);
  assert.equal(b.connections.length, 0);
});

test('an upgrade pipelined behind a plain request is refused after that response, never spliced into it', async (t) => {
  const backend = await startBackend({ id: 'echo', httpDelayMs: 300 });
  t.after(() => backend.close());
  const node = await nodeFor(t, backend.url);
  const r = await converse(node.portOf('public')!, `GET /first HTTP/1.1\r\nHost: a\r\n\r\n${upgradeRequest('/ws')}`, { timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [200, 400], r.response);
  assert.ok(r.closed);
  assert.equal(backend.seen.filter((s) => s.kind === 'ws').length, 0);
});

test('a real WebSocket client still connects, and its subprotocol is kept', async (t) => {
  const backend = await startBackend({ id: 'echo' });
  t.after(() => backend.close());
  const node = await nodeFor(t, backend.url);
  const ws = await openWs(`ws://127.0.0.1:${node.portOf('public')}/chat?room=1`, {}, ['v2.chat']);
  t.after(() => ws.terminate());
  assert.equal(ws.protocol, 'v2.chat');
  assert.equal(await roundTrip(ws, 'hi'), 'hi');
  assert.equal(backend.seen.at(-1)?.url, '/chat?room=1');
});
