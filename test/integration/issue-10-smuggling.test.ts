/**
 * Issue 10: request smuggling on the plain-HTTP path. Only /public is
 * routed; the backend is a real Node HTTP server on keep-alive sockets
 * pooled by the node. A body the client framed (chunked on GET, HEAD,
 * DELETE, OPTIONS; Content-Length that `Connection` tried to remove) must
 * reach the backend as that body, never as a request of its own, and a
 * second client must get its own response. Framing wsha cannot forward
 * unambiguously gets 400 and a close, and reaches no backend.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, type TestBackend } from '../harness/backend';
import { startProxy } from '../harness/proxy';
import { converse, responses, statuses } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type { ProxyNode } from '../../node/proxy-node';

let backend: TestBackend;
let node: ProxyNode;
let port = 0;

before(async () => {
  backend = await startBackend({ id: 'pub' });
  const raw = rawNodeConfig({ port: 0, backendUrls: [backend.url] });
  raw.routes = [{ host: '*', path: '/public', pool: 'app' }];
  node = await startProxy(nodeConfig(raw));
  port = node.portOf('public')!;
});
after(async () => { node.destroy(); await backend.close(); });

const SMUGGLED = 'GET /internal/secret HTTP/1.1\r\nHost: a\r\n\r\n';
const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n0\r\n\r\n`;

/** Everything the backend was asked for stayed under /public. */
function onlyPublicSeen(since: number): void {
  const urls = backend.seen.slice(since).map((r) => r.url);
  assert.ok(urls.every((u) => u.startsWith('/public')), `backend saw ${JSON.stringify(urls)}`);
}

/** A second, unrelated client gets the response to its own request. */
async function secondClientGetsItsOwn(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const r = await converse(port, `GET /public/other-${i} HTTP/1.1\r\nHost: a\r\n\r\n`, { until: responses(1), timeoutMs: 3000 });
    assert.equal(statuses(r.response)[0], 200, r.response);
    assert.match(r.response, new RegExp(`"url":"/public/other-${i}"`));
  }
}

for (const method of ['GET', 'HEAD', 'DELETE', 'OPTIONS']) {
  test(`${method} with Transfer-Encoding: chunked: the chunk is a body, not a request`, async () => {
    const since = backend.seen.length;
    const req = `${method} /public/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`;
    const r = await converse(port, req, { until: responses(1), timeoutMs: 3000 });
    assert.equal(statuses(r.response)[0], 200, r.response);
    if (method !== 'HEAD') assert.match(r.response, /"body":"GET \/internal\/secret/);
    onlyPublicSeen(since);
    await secondClientGetsItsOwn();
    onlyPublicSeen(since);
  });
}

for (const conn of ['content-length', 'keep-alive, content-length', 'Content-Length, close']) {
  test(`Connection: ${conn} cannot remove Content-Length`, async () => {
    const since = backend.seen.length;
    const req = `GET /public/y HTTP/1.1\r\nHost: a\r\nConnection: ${conn}\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`;
    const r = await converse(port, req, { until: responses(1), timeoutMs: 3000 });
    assert.equal(statuses(r.response)[0], 200, r.response);
    onlyPublicSeen(since);
    await secondClientGetsItsOwn();
    onlyPublicSeen(since);
  });
}

test('Connection: transfer-encoding cannot remove the chunked framing', async () => {
  const since = backend.seen.length;
  const req = `DELETE /public/z HTTP/1.1\r\nHost: a\r\nConnection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`;
  const r = await converse(port, req, { until: responses(1), timeoutMs: 3000 });
  assert.equal(statuses(r.response)[0], 200, r.response);
  onlyPublicSeen(since);
  await secondClientGetsItsOwn();
  onlyPublicSeen(since);
});

test('Connection: host cannot remove Host, and X-Forwarded-For still carries the client', async () => {
  const r = await converse(port, 'GET /public/h HTTP/1.1\r\nHost: app.test\r\nConnection: host, x-forwarded-for\r\n\r\n', { until: responses(1), timeoutMs: 3000 });
  assert.equal(statuses(r.response)[0], 200, r.response);
  assert.match(r.response, /"host":"app.test"/);
  assert.match(r.response, /"x-forwarded-for":"127\.0\.0\.1"/);
});

test('pipelined requests behind a smuggling attempt are answered in order, each with its own response', async () => {
  const since = backend.seen.length;
  const first = `GET /public/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`;
  const second = `GET /public/2 HTTP/1.1\r\nHost: a\r\nConnection: content-length\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`;
  const third = 'GET /public/3 HTTP/1.1\r\nHost: a\r\n\r\n';
  const r = await converse(port, first + second + third, { until: responses(3), timeoutMs: 4000 });
  assert.deepEqual(statuses(r.response), [200, 200, 200], r.response);
  const urls = [...r.response.matchAll(/"url":"([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/public/1', '/public/2', '/public/3']);
  onlyPublicSeen(since);
});

const AMBIGUOUS: Array<[string, string]> = [
  ['Transfer-Encoding: chunked, identity', `Transfer-Encoding: chunked, identity\r\n\r\n${chunk(SMUGGLED)}`],
  ['Transfer-Encoding: gzip, chunked', `Transfer-Encoding: gzip, chunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['Transfer-Encoding: xchunked', `Transfer-Encoding: xchunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['two Transfer-Encoding headers', `Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['Transfer-Encoding and Content-Length (CL.TE)', `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['Content-Length and Transfer-Encoding (TE.CL)', `Transfer-Encoding: chunked\r\nContent-Length: ${chunk(SMUGGLED).length}\r\n\r\n${chunk(SMUGGLED)}`],
  ['Transfer-Encoding with a space before the colon', `Transfer-Encoding : chunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['Transfer-Encoding folded onto the next line', `Transfer-Encoding:\r\n chunked\r\n\r\n${chunk(SMUGGLED)}`],
  ['two different Content-Lengths', `Content-Length: 3\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`],
  ['Content-Length: +5', `Content-Length: +${SMUGGLED.length}\r\n\r\n${SMUGGLED}`],
];

for (const [what, rest] of AMBIGUOUS) {
  test(`ambiguous framing gets 400 and a close, and reaches no backend: ${what}`, async () => {
    const since = backend.seen.length;
    const r = await converse(port, `POST /public/a HTTP/1.1\r\nHost: a\r\n${rest}GET /public/after HTTP/1.1\r\nHost: a\r\n\r\n`, { timeoutMs: 3000 });
    assert.deepEqual(statuses(r.response), [400], r.response);
    assert.ok(r.closed, 'connection closed');
    assert.equal(backend.seen.length, since, 'nothing reached the backend');
  });
}

test('Transfer-Encoding on an HTTP/1.0 request gets 400 and a close', async () => {
  const since = backend.seen.length;
  const r = await converse(port, `POST /public/a HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}`, { timeoutMs: 3000 });
  assert.deepEqual(statuses(r.response), [400], r.response);
  assert.ok(r.closed);
  assert.equal(backend.seen.length, since);
});
