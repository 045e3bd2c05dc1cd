/**
 * Issue 10, the backend's side: what a backend answers to the upgrade is
 * read by wsha's own head reader and relay framing (response-head.ts,
 * relay-body.ts), strictly. Interim answers and heads split over many
 * writes still open a tunnel; a refusal is relayed with its body decoded and
 * close-delimited; framing a proxy could be fooled by (Content-Length with
 * Transfer-Encoding, two lengths, folded or bare-LF lines) is answered 502
 * and opens nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy } from '../harness/proxy';
import { upgradeRequest } from '../harness/raw-client';
import { acceptOf, converse, keyIn, maskedText, startRawBackend, statuses, type RawConnection } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import { waitFor } from '../harness/ports';

type Answer = (c: RawConnection) => void;

/** A raw backend that runs `answer` once per connection, when the request head is in. */
async function nodeWithBackend(t: { after(fn: () => unknown): void }, answer: Answer) {
  const b = await startRawBackend((c) => {
    if (c.received.includes('\r\n\r\n') && !(c as { answered?: boolean }).answered) { (c as { answered?: boolean }).answered = true; answer(c); }
  });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  return { b, port: node.portOf('public')! };
}

const switching = (key: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`;

/** After the 101, a tiny echo: an unmasked text frame back for every masked one in. */
function echoAfter(c: RawConnection): void {
  c.socket.on('data', (d: Buffer) => { if (d[0] === 0x81) c.socket.write(Buffer.concat([Buffer.from([0x81, d[1] & 0x7f]), d.subarray(6)])); });
}

test('interim 100 and 103 answers before the 101 are skipped, and the tunnel opens', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => {
    c.socket.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n${switching(keyIn(c.received))}`);
    echoAfter(c);
  });
  const r = await converse(port, [upgradeRequest('/ws'), maskedText('ping')], { gapMs: 100, until: (s) => s.includes('ping'), timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [101], r.response);
  assert.ok(r.response.endsWith('\x81\x04ping'), JSON.stringify(r.response));
});

test('a 101 written a few bytes at a time opens the tunnel', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => {
    const head = switching(keyIn(c.received));
    let i = 0;
    const timer = setInterval(() => { if (i >= head.length || c.socket.destroyed) { clearInterval(timer); return; } c.socket.write(head.slice(i, i + 7)); i += 7; }, 2);
    echoAfter(c);
  });
  const r = await converse(port, [upgradeRequest('/ws'), maskedText('slow')], { gapMs: 400, until: (s) => s.includes('slow'), timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [101], r.response);
  assert.ok(r.response.endsWith('\x81\x04slow'), JSON.stringify(r.response));
});

test('a chunked refusal is relayed decoded and close-delimited; what follows its last chunk is not', async (t) => {
  const { b, port } = await nodeWithBackend(t, (c) => {
    c.socket.write('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n4\r\nnot \r\n');
    setTimeout(() => c.socket.write('7;x=y\r\nallowed\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECRET'), 50);
  });
  const r = await converse(port, upgradeRequest('/ws'), { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [403], r.response);
  assert.match(r.response, /\r\nConnection: close\r\n/);
  assert.doesNotMatch(r.response, /Transfer-Encoding|X-Trailer|SECRET/i);
  assert.ok(r.response.endsWith('\r\n\r\nnot allowed'), JSON.stringify(r.response));
  assert.ok(r.closed, 'the client connection ends after the body');
  await waitFor(() => b.connections.length === 1 && b.connections[0].socket.readableEnded, 'the backend connection was closed, never reused');
});

test('a refusal with a length is relayed to its length, and ends both connections', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => { c.socket.write('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nslowEXTRA'); });
  const r = await converse(port, upgradeRequest('/ws'), { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [429], r.response);
  assert.match(r.response, /\r\nRetry-After: 3\r\n/);
  assert.ok(r.response.endsWith('\r\n\r\nslow'), JSON.stringify(r.response));
  assert.ok(r.closed);
});

test('a refusal delimited by the backend closing is relayed whole', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => { c.socket.write('HTTP/1.0 503 Service Unavailable\r\n\r\nback soon'); setTimeout(() => c.socket.end(), 50); });
  const r = await converse(port, upgradeRequest('/ws'), { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [503], r.response);
  assert.ok(r.response.endsWith('\r\n\r\nback soon'), JSON.stringify(r.response));
  assert.ok(r.closed);
});

test('a backend that ends its side instead of answering gives 502 at once, not at the head timeout', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => { c.socket.end(); });
  const r = await converse(port, upgradeRequest('/ws'), { timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [502], r.response);
  // 504 would mean it waited for the head timeout (1 s in this config).
  assert.match(r.response, /closed the connection during the handshake/);
});

test('a backend that sends half a head and ends gives 502', async (t) => {
  const { port } = await nodeWithBackend(t, (c) => { c.socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: webs'); });
  const r = await converse(port, upgradeRequest('/ws'), { timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [502], r.response);
});

for (const [what, answer] of [
  ['Content-Length with Transfer-Encoding', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two Content-Lengths', () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc'],
  ['a folded header line in a 101', (key: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\nX-A: 1\r\n 2\r\n\r\n`],
  ['a 101 with bare LF line ends', (key: string) => `HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: ${acceptOf(key)}\n\n`],
  ['a space before a colon', (key: string) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade : websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`],
  ['an HTTP/2 status line', () => 'HTTP/2 101\r\n\r\n'],
] as Array<[string, (key: string) => string]>) {
  test(`a backend answer with ${what} gets 502 and opens no tunnel`, async (t) => {
    const { b, port } = await nodeWithBackend(t, (c) => { c.socket.write(answer(keyIn(c.received))); });
    const r = await converse(port, [upgradeRequest('/ws'), maskedText('x')], { gapMs: 150, timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [502], r.response);
    assert.match(r.response, /malformed response/);
    assert.ok(r.closed);
    assert.doesNotMatch(b.received(), /\x81\x81/, 'no frame reached the backend');
  });
}
