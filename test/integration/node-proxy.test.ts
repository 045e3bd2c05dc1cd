/**
 * The data plane end to end: real ws/HTTP backends, a real ProxyNode on a
 * free port, real client sockets. Echo over ws://, HTTP GET and POST, the
 * forwarded headers, and a dead backend refused with 502.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { freePort, waitFor } from '../harness/ports';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import { localClusterView } from '../../shared/cluster-view';

function httpRequest(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, any>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

test('WebSocket echo through the proxy, with forwarded headers and subprotocol untouched', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const ws = await openWs(`ws://127.0.0.1:${port}/chat?x=1`, { headers: { 'X-Forwarded-For': '198.51.100.7' } }, 'chat.v2');
  t.after(() => ws.terminate());
  assert.equal(ws.protocol, 'chat.v2');
  assert.equal(await roundTrip(ws, 'hello'), 'hello');
  const big = Buffer.alloc(256 * 1024, 7);
  const echoed = await new Promise<Buffer>((resolve) => { ws.once('message', (d) => resolve(d as Buffer)); ws.send(big); });
  assert.ok(echoed.equals(big), 'a 256 KiB binary message comes back byte for byte');
  const who = JSON.parse(await roundTrip(ws, 'whoami'));
  assert.equal(who.backend, 'b1');
  assert.equal(who.headers['x-forwarded-for'], '198.51.100.7, 127.0.0.1');
  assert.equal(who.headers['x-forwarded-proto'], 'http');
  assert.equal(who.headers['x-forwarded-host'], `127.0.0.1:${port}`);
  assert.equal(who.headers['sec-websocket-protocol'], 'chat.v2');
  assert.match(String(who.headers['sec-websocket-extensions']), /permessage-deflate/);
  assert.equal(b.seen[0].url, '/chat?x=1');
  assert.equal(node.snapshot().tunnels, 1);
});

test('HTTP GET and POST through the proxy on the same listener', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const get = await httpRequest(port, 'GET', '/api/items?id=3');
  assert.equal(get.status, 200);
  const g = JSON.parse(get.body);
  assert.equal(g.backend, 'b1');
  assert.equal(g.url, '/api/items?id=3');
  assert.equal(g.headers['x-forwarded-for'], '127.0.0.1');
  const post = await httpRequest(port, 'POST', '/api/items', '{"name":"x"}', { 'content-type': 'application/json' });
  assert.equal(post.status, 200);
  assert.equal(JSON.parse(post.body).body, '{"name":"x"}');
  assert.equal(post.headers['x-backend'], 'b1');
});

test('a dead backend gives 502 on the handshake and on HTTP, and the node keeps serving', async (t) => {
  const live = await startBackend({ id: 'live' });
  t.after(() => live.close());
  const deadPort = await freePort();
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [`http://127.0.0.1:${deadPort}`] })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  await assert.rejects(openWs(`ws://127.0.0.1:${port}/`), (err: any) => err.statusCode === 502);
  assert.equal((await httpRequest(port, 'GET', '/')).status, 502);
  // Same node, pool pointed at a live backend by reload: serves at once.
  node.reload(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [live.url] })));
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  assert.equal(await roundTrip(ws, 'still here'), 'still here');
});

test('a backend that answers the upgrade with 403 gives the client 403', async (t) => {
  const b = await startBackend({ id: 'b1', refuseUpgradeWith: 403 });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  await assert.rejects(openWs(`ws://127.0.0.1:${node.portOf('public')}/`), (err: any) => err.statusCode === 403);
});

test('drain lets an HTTP request in flight finish, refuses new upgrades, and closes tunnels with 1001 after the grace', async (t) => {
  const fast = await startBackend({ id: 'fast' });
  const slow = await startBackend({ id: 'slow', httpDelayMs: 1000 });
  t.after(() => Promise.all([fast.close(), slow.close()]));
  const raw = rawNodeConfig({ port: 0, backendUrls: [fast.url] });
  raw.routes.unshift({ host: '*', path: '/slow', pool: 'slow' });
  raw.pools.slow = { backends: [{ id: 'slow', url: slow.url }] };
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const ws = await openWs(`ws://127.0.0.1:${port}/`);
  t.after(() => ws.terminate());
  const code = new Promise<number>((resolve) => ws.once('close', (c) => resolve(c)));
  const inFlight = httpRequest(port, 'GET', '/slow/x');
  await new Promise((r) => setTimeout(r, 200));
  const drained = node.drain({ graceMs: 300, deadlineMs: 5000 });
  const res = await inFlight;
  assert.equal(res.status, 200, 'the request in flight finished');
  assert.equal(JSON.parse(res.body).backend, 'slow');
  assert.equal(await code, 1001);
  await drained;
  assert.equal(node.nodeState, 'closed');
  await assert.rejects(httpRequest(port, 'GET', '/'), /ECONNREFUSED/);
});

test('tunnels keep one shape, and metrics are copied in at scrape time', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const a = await openWs(url);
  const c = await openWs(url);
  t.after(() => { a.terminate(); c.terminate(); });
  assert.equal(await roundTrip(a, 'x'.repeat(1000)), 'x'.repeat(1000));
  const [t1, t2] = [...node.rt.registry.tunnels];
  assert.deepEqual(Object.keys(t1), Object.keys(t2));
  const keysOpen = Object.keys(t1);
  a.close();
  await new Promise((r) => a.once('close', r));
  assert.deepEqual(Object.keys(t1), keysOpen, 'no field added while closing');
  const text = await node.metrics.text();
  assert.match(text, /wsha_connections_total\{listener="public",pool="app",backend="app-1"\} 2/);
  assert.match(text, /wsha_connections_open\{listener="public",pool="app",backend="app-1"\} 1/);
  assert.match(text, /wsha_bytes_total\{direction="in"\} [1-9]\d*/);
});

test('failed connects and handshakes are reported to passive health, successes too', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const deadPort = await freePort();
  const events: string[] = [];
  const view = { ...localClusterView(), passive: { connectFailed: (p: string, id: string) => { events.push(`fail ${p}/${id}`); }, connectSucceeded: (p: string, id: string) => { events.push(`ok ${p}/${id}`); } } };
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [`http://127.0.0.1:${deadPort}`, b.url] })), view);
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  await assert.rejects(openWs(url), (e: any) => e.statusCode === 502);
  const ws = await openWs(url);
  ws.terminate();
  assert.deepEqual(events, ['fail app/app-1', 'ok app/app-2']);
});

test('backpressure: a client that stops reading makes the proxy stop reading from the backend', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url] })));
  t.after(() => node.destroy());
  const ws = await openWs(`ws://127.0.0.1:${node.portOf('public')}/`, { perMessageDeflate: false });
  t.after(() => ws.terminate());
  const total = 64 * 1024 * 1024;
  let received = 0;
  ws.on('message', (d: Buffer) => { received += d.length; });
  (ws as any)._socket.pause();
  ws.send(`flood ${total}`);
  await waitFor(() => node.rt.registry.stats.bytesOut > 0, 'flood started');
  await new Promise((r) => setTimeout(r, 1000));
  const relayed = node.rt.registry.stats.bytesOut;
  const [backendSide] = [...b.sockets];
  assert.ok(relayed < total / 2, `the proxy stopped reading (relayed ${relayed} of ${total} bytes)`);
  assert.ok(backendSide.bufferedAmount > total / 4, `the backend holds the rest (${backendSide.bufferedAmount} bytes buffered)`);
  (ws as any)._socket.resume();
  await waitFor(() => received >= total, 'everything arrives once the client reads again', 30000);
  assert.equal(received, total);
});

test('a GET on a keep-alive socket the backend has just closed is sent again once, not answered 502', async (t) => {
  const { createServer } = await import('node:net');
  let connections = 0;
  // Answers the first request of each connection with keep-alive, then drops the connection on the next one.
  const flaky = createServer((s) => {
    connections++;
    let requests = 0;
    let buf = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      buf += d.toString('latin1');
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        if (++requests > 1) { s.destroy(); return; }
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
  t.after(() => flaky.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [`http://127.0.0.1:${(flaky.address() as { port: number }).port}`] })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  for (let i = 0; i < 3; i++) {
    const r = await httpRequest(port, 'GET', `/k${i}`);
    assert.equal(r.status, 200, `request ${i}`);
    assert.equal(r.body, 'ok');
  }
  assert.ok(connections >= 3, 'each retry opened a fresh connection');
});

test('churn: 300 clients open, talk and vanish (close, terminate, or mid-handshake) and nothing is left behind', async (t) => {
  const bs = await Promise.all([startBackend({ id: 'b1' }), startBackend({ id: 'b2' })]);
  t.after(() => Promise.all(bs.map((b) => b.close())));
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: bs.map((b) => b.url), balance: 'least-conn' })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  let echoed = 0;
  const one = async (i: number) => {
    if (i % 3 === 2) {
      const ws = new (await import('ws')).default(url);
      ws.on('error', () => {});
      ws.on('upgrade', () => ws.terminate());
      setTimeout(() => ws.terminate(), i % 7);
      return;
    }
    const ws = await openWs(url);
    if ((await roundTrip(ws, `m${i}`)) === `m${i}`) echoed++;
    if (i % 3 === 0) ws.close(); else ws.terminate();
  };
  for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(i + k)));
  assert.equal(echoed, 200);
  await waitFor(() => node.rt.registry.size === 0 && node.connectionCount() === 0, 'no tunnel or connection left', 10000);
  await waitFor(() => bs.every((b) => b.openSockets() === 0), 'backends see every tunnel closed', 10000);
  for (const p of node.rt.pools.values()) for (const b of p.backends) assert.equal(b.tunnels, 0);
  const ws = await openWs(url);
  t.after(() => ws.terminate());
  assert.equal(await roundTrip(ws, 'after churn'), 'after churn');
});
