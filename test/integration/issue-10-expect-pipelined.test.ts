/**
 * Issue 10, fuzz case 2750: pipelined requests with `Expect: 100-continue`.
 * Node's server queues the 100 Continue of a request whose answer waits
 * behind an earlier one; the backend's response head then has to go out
 * after that 100, not in front of it. When the head jumped the queue, the
 * wire read `200 head, 100 Continue, body`: the 100 landed inside the
 * Content-Length body and the client read body bytes as the next status
 * line (RFC 9110 15.2: a 1xx comes before the final response of its request).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startProxy } from '../harness/proxy';
import { converse } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import type { ProxyNode } from '../../node/proxy-node';

/** The first request of a pipeline is answered this late, so the later answers are ready while it is still queued. */
const FIRST_DELAY_MS = 150;

let backend: Server;
let node: ProxyNode;
let port = 0;

before(async () => {
  backend = createServer((req, res) => {
    let size = 0;
    req.on('data', (c: Buffer) => { size += c.length; });
    req.on('end', () => setTimeout(() => {
      const body = JSON.stringify({ url: req.url, size });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, req.url?.endsWith('/1') ? FIRST_DELAY_MS : 0));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(backend.address() as { port: number }).port}`;
  node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [url] })));
  port = node.portOf('public')!;
});
after(async () => {
  node.destroy();
  backend.closeAllConnections();
  await new Promise<void>((r) => backend.close(() => r()));
});

/** A response as a client's parser reads it: interim 1xx heads skipped, the body by its Content-Length. */
interface Parsed { interim: number[]; status: number; body: string }

/** Reads the answer strictly in order; throws where the bytes are not a response. */
function parseResponses(answer: string): Parsed[] {
  const out: Parsed[] = [];
  let pos = 0;
  let interim: number[] = [];
  while (pos < answer.length) {
    const end = answer.indexOf('\r\n\r\n', pos);
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(answer.slice(pos, pos + 13));
    assert.ok(m && end > 0, `no status line at byte ${pos}: ${JSON.stringify(answer.slice(pos, pos + 40))}`);
    const status = Number(m[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(answer.slice(pos, end + 2))?.[1] ?? 0);
    pos = end + 4;
    if (status < 200) { interim.push(status); continue; }
    out.push({ interim, status, body: answer.slice(pos, pos + length) });
    pos += length;
    interim = [];
  }
  return out;
}

const put = (n: number, body = 'body') =>
  `PUT /e/${n} HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

/** Resolves true once `n` complete JSON bodies are in the answer. */
const bodies = (n: number) => (answer: string) => (answer.match(/"size":\d+\}/g) ?? []).length >= n;

test('pipelined PUTs with Expect: 100-continue: every 100 comes before its own response, never inside a body', async () => {
  const r = await converse(port, put(1) + put(2) + put(3), { until: bodies(3), timeoutMs: 4000 });
  const got = parseResponses(r.response);
  assert.deepEqual(got.map((p) => p.status), [200, 200, 200], r.response);
  assert.deepEqual(got.map((p) => JSON.parse(p.body)), [1, 2, 3].map((n) => ({ url: `/e/${n}`, size: 4 })), r.response);
  for (const p of got) assert.ok(p.interim.every((s) => s === 100) && p.interim.length <= 1, r.response);
});

test('a client that waits for the 100 before sending its body gets it, then its response', async () => {
  const head = put(1, '').replace('Content-Length: 0', 'Content-Length: 5');
  const r = await converse(port, [head, 'hello'], { gapMs: 300, until: bodies(1), timeoutMs: 4000 });
  assert.ok(r.response.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), r.response);
  const got = parseResponses(r.response);
  assert.deepEqual(got.map((p) => [p.interim, p.status, JSON.parse(p.body)]), [[[100], 200, { url: '/e/1', size: 5 }]], r.response);
});
