/**
 * Issue 10: request lines and heads wsha does not speak get an answer at
 * once (never silence until a timeout), and two Host headers or an
 * absolute target that disagrees with Host get 400, on plain HTTP and on
 * upgrades. A good client is served afterwards on the same node.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { upgradeRequest } from '../harness/raw-client';
import { converse, responses, statuses } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type { ProxyNode } from '../../node/proxy-node';

let backend: TestBackend;
let node: ProxyNode;
let port = 0;

before(async () => {
  backend = await startBackend({ id: 'b' });
  // A long handshake timeout: an answer within a second is not the timeout's.
  node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [backend.url], limits: { handshakeTimeoutMs: 8000, maxHeaderBytes: 4096 } })));
  port = node.portOf('public')!;
});
after(async () => { node.destroy(); await backend.close(); });

async function stillServes(): Promise<void> {
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  try { assert.equal(await roundTrip(ws, 'ok?'), 'ok?'); } finally { ws.terminate(); }
}

/** Sends `data`, expects exactly `status` and a close, quickly. */
async function refusedAtOnce(data: string, status: number): Promise<void> {
  const r = await converse(port, data, { timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [status], `${JSON.stringify(data)} -> ${JSON.stringify(r.response)}`);
  assert.ok(r.closed, `${JSON.stringify(data)} left open`);
  assert.ok(r.elapsedMs < 1500, `${JSON.stringify(data)} answered after ${r.elapsedMs} ms`);
}

test('HTTP/0.9, HTTP/2.0, unknown versions and malformed request lines get 400 at once', async () => {
  const before = backend.seen.length;
  for (const line of ['GET /\r\n', 'GET /\r\n\r\n', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n',
    'GET / HTTP/0.9\r\n\r\n', 'GET / http/1.1\r\nHost: a\r\n\r\n', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n', 'GET / HTTP/1.1\nHost: a\n\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', 'GET a.test:80 HTTP/1.1\r\nHost: a\r\n\r\n', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03']) {
    await refusedAtOnce(line, 400);
  }
  assert.equal(backend.seen.length, before);
  await stillServes();
});

test('a later keep-alive request with an unknown version is refused too', async () => {
  const r = await converse(port, 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/2.0\r\nHost: a\r\n\r\n', { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [200, 400], r.response);
  assert.ok(r.closed);
});

test('CONNECT gets 405; a request line longer than maxHeaderBytes gets 414', async () => {
  await refusedAtOnce('CONNECT internal.test:443 HTTP/1.1\r\nHost: internal.test:443\r\n\r\n', 405);
  await refusedAtOnce(`GET /${'a'.repeat(5000)}`, 414);
  await stillServes();
});

test('two Host headers get 400 on plain HTTP and on upgrades, and reach no backend', async () => {
  const before = backend.seen.length;
  await refusedAtOnce('GET / HTTP/1.1\r\nHost: a.test\r\nHost: internal.test\r\n\r\n', 400);
  await refusedAtOnce('GET / HTTP/1.1\r\nHost: a.test\r\nhost: a.test\r\n\r\n', 400);
  await refusedAtOnce(upgradeRequest('/ws', { 'host': 'internal.test' }).replace('\r\n\r\n', '\r\nHost: second.test\r\n\r\n'), 400);
  assert.equal(backend.seen.length, before);
});

test('a malformed Host, a missing Host on HTTP/1.1, and an absolute target disagreeing with Host get 400', async () => {
  for (const host of ['a/b', 'a b', 'user@a', 'a\\b', 'a:80:80', '[::1']) await refusedAtOnce(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400);
  await refusedAtOnce('GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', 400);
  await refusedAtOnce('GET http://internal.test/ HTTP/1.1\r\nHost: a.test\r\n\r\n', 400);
  await refusedAtOnce(upgradeRequest('http://internal.test/ws'), 400);
  // HTTP/1.0 may leave Host out.
  const r = await converse(port, 'GET / HTTP/1.0\r\n\r\n', { until: responses(1), timeoutMs: 3000 });
  assert.equal(statuses(r.response)[0], 200, r.response);
});

test('a fragment in the target gets 400', async () => {
  await refusedAtOnce('GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n', 400);
});

test('a head larger than maxHeaderBytes gets 431, one split into tiny pieces is still served', async () => {
  await refusedAtOnce(`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'y'.repeat(5000)}\r\n\r\n`, 431);
  const req = 'GET /split HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await converse(port, req.split(''), { gapMs: 2, until: responses(1), timeoutMs: 4000 });
  assert.equal(statuses(r.response)[0], 200, r.response);
  assert.match(r.response, /"url":"\/split"/);
});

test('slowloris: a request line dripped slowly and then headers dripped slowly get one handshake timeout, not two', async (t) => {
  const slowNode = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [backend.url], limits: { handshakeTimeoutMs: 1000 } })));
  t.after(() => slowNode.destroy());
  const line = 'GET /slow HTTP/1.1\r\n';
  const headers = 'Host: a\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\nX-E: 5\r\n\r\n';
  // The line takes about 700 ms, the headers would take about 1.5 s more.
  const parts = [...line.split(''), ...headers.match(/.{1,2}/gs)!];
  const r = await converse(slowNode.portOf('public')!, parts, { gapMs: 35, timeoutMs: 5000 });
  assert.deepEqual(statuses(r.response), [408], r.response);
  assert.ok(r.closed);
  assert.ok(r.elapsedMs < 1600, `408 after ${r.elapsedMs} ms`);
});

test('more header lines than the parser keeps get 431, and reach no backend', async () => {
  const before = backend.seen.length;
  const many = Array.from({ length: 1000 }, (_, i) => `X${i}: v\r\n`).join('');
  // Within maxHeaderBytes (4096 here would be too small: use a node with room for the lines).
  const roomy = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [backend.url], limits: { maxHeaderBytes: 65536 } })));
  try {
    const r = await converse(roomy.portOf('public')!, `GET / HTTP/1.1\r\nHost: a\r\n${many}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, { timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [431], r.response.slice(0, 200));
    assert.equal(backend.seen.length, before);
  } finally { roomy.destroy(); }
});

test('a refused request followed by garbage gets exactly one answer', async () => {
  for (const data of ['HEAD / HTTP/1.1\r\n\r\n\r\nHost: a\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n\x00garbage\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGARBAGE \x01\r\n\r\n']) {
    const r = await converse(port, data, { timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [400], JSON.stringify(r.response));
    assert.ok(r.closed);
  }
});
