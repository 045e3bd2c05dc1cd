/**
 * Issue 12, rate and message limits on real sockets: connection and request
 * rates per client address and per route hit (429 with Retry-After) and
 * recovered; message rate and size closing tunnels with 1008 and 1009;
 * pool admission capping a burst of reconnects with a short queue and a
 * jittered Retry-After; the per-client connection cap off by default and
 * loud when set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy, roundTrip, closeCode } from '../harness/proxy';
import { tryUpgrade, statusOf } from '../harness/edge';
import { nodeConfig, rawNodeConfig, type RawConfig } from '../fixtures/node-config';

function route(raw: RawConfig, extra: Record<string, unknown>): RawConfig {
  raw.routes = [{ host: '*', path: '/', pool: 'app', name: 'r', ...extra }];
  return raw;
}

function httpGet(port: number): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/' }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined })); });
    req.on('error', reject);
    req.end();
  });
}

test('connection rate per client: burst, then 429 with Retry-After, then recovered', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(route(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { rateLimit: { upgrades: { perClient: { ratePerSec: 5, burst: 3 } }, requests: { perRoute: { ratePerSec: 2, burst: 2 } } } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push(statusOf(await tryUpgrade(url)));
  assert.deepEqual(statuses.slice(0, 3), [101, 101, 101]);
  const refused = await tryUpgrade(url);
  assert.equal(refused.ok, false);
  if (!refused.ok) { assert.equal(refused.status, 429); assert.equal(refused.headers['retry-after'], '1'); }
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(statusOf(await tryUpgrade(url)), 101, 'a token came back after 200 ms');
  // Requests on the same route have their own bucket.
  const port = node.portOf('public')!;
  const h = [await httpGet(port), await httpGet(port), await httpGet(port)];
  assert.deepEqual(h.map((x) => x.status), [200, 200, 429]);
  assert.equal(h[2].retryAfter, '1');
  const denied = new Map(node.edgeReport().denied.map(([, why, n]) => [why, n]));
  assert.ok((denied.get('rate-client') ?? 0) >= 2);
  assert.equal(denied.get('rate-route'), 1);
});

/** A client without permessage-deflate: the limits apply to frames as they cross the wire (wsha never inflates). */
function rawWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => { const ws = new WebSocket(url, { perMessageDeflate: false }); ws.once('open', () => resolve(ws)); ws.once('error', reject); });
}

test('message rate: a client sending faster than ratePerSec is closed with 1008; the backend gets the close too', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(route(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { messages: { ratePerSec: 20, burst: 5 } })));
  t.after(() => node.destroy());
  const ws = await rawWs(`ws://127.0.0.1:${node.portOf('public')}/`);
  // Within the rate: fine.
  for (let i = 0; i < 4; i++) assert.equal(await roundTrip(ws, `m${i}`), `m${i}`);
  const backendWs = [...b.sockets][0];
  const backendClosed = new Promise<number>((r) => backendWs.once('close', (c) => r(c)));
  const code = closeCode(ws);
  for (let i = 0; i < 50; i++) ws.send(`m${i}`);
  assert.equal(await code, 1008);
  assert.equal(await backendClosed, 1008);
  assert.deepEqual(node.edgeReport().policyCloses, [['r', 'message-rate', 1]]);
});

test('message size: one message larger than maxBytes (also when fragmented) is closed with 1009 before it reaches the backend', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(route(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { messages: { maxBytes: 1000 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const ws = await rawWs(url);
  assert.equal((await roundTrip(ws, Buffer.alloc(1000, 1))).length, 1000);
  let got = 0;
  const backendWs = [...b.sockets][0];
  backendWs.on('message', (d: Buffer) => { if (d.length > 1000) got++; });
  const code = closeCode(ws);
  ws.send(Buffer.alloc(1001, 2));
  assert.equal(await code, 1009);
  assert.equal(got, 0, 'the backend never saw the big message');
  const ws2 = await rawWs(url);
  const code2 = closeCode(ws2);
  ws2.send(Buffer.alloc(600, 3), { fin: false });
  ws2.send(Buffer.alloc(600, 3), { fin: true });
  assert.equal(await code2, 1009);
  assert.equal(node.edgeReport().policyCloses.find(([, why]) => why === 'message-size')?.[2], 2);
});

test('admission caps a burst of reconnects: the burst and the queue go through at the rate, the rest get 503 with Retry-After', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], pool: { admission: { handshakesPerSec: 20, burst: 5, queueSize: 10, queueTimeoutMs: 3000, retryAfterMaxSec: 7 } } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const t0 = Date.now();
  const outcomes = await Promise.all(Array.from({ length: 40 }, () => tryUpgrade(url, { timeoutMs: 15000 })));
  const opened = outcomes.filter((o) => o.ok).length;
  const refused = outcomes.filter((o) => !o.ok);
  for (const o of outcomes) if (o.ok) o.ws.terminate();
  // Burst 5 + queue 10; a few more when the queue drains while the 40 are still arriving.
  assert.ok(opened >= 15 && opened <= 19, `opened ${opened}`);
  assert.equal(refused.length, 40 - opened);
  for (const o of refused) if (!o.ok) {
    assert.equal(o.status, 503);
    const ra = Number(o.headers['retry-after']);
    assert.ok(ra >= 1 && ra <= 7, `Retry-After ${ra}`);
  }
  assert.ok(new Set(refused.map((o) => (o.ok ? '' : o.headers['retry-after']))).size > 1, 'Retry-After is jittered');
  assert.ok(Date.now() - t0 >= 400, 'ten queued handshakes at 20/s take about half a second');
  assert.equal(node.edgeReport().admission[0].admitted, opened);
});

test('maxConnectionsPerClient is off by default; when set, each refusal is logged with the address and shown as an alert', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const off = nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: {} }));
  assert.equal(off.limits.maxConnectionsPerClient, 0);
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], limits: { maxConnectionsPerClient: 2 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const a = await tryUpgrade(url);
  const c = await tryUpgrade(url);
  assert.equal(statusOf(await tryUpgrade(url)), 429);
  const alert = node.edgeReport().alerts.find((x) => x.reason === 'client-limit');
  assert.ok(alert);
  assert.equal(alert.lastAddress, '127.0.0.1');
  assert.match(alert.message, /\(2\)/);
  for (const o of [a, c]) if (o.ok) o.ws.terminate();
});
