/**
 * Issue 12, address lists and Origins on real sockets: allow/deny CIDRs on
 * the socket address, on the PROXY-protocol source and on a trusted
 * X-Forwarded-For hop; Origin allow-list with patterns; every refusal a 403
 * on the raw socket, counted by route and reason; reloadable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy } from '../harness/proxy';
import { tryUpgrade, statusOf } from '../harness/edge';
import { nodeConfig, rawNodeConfig, type RawConfig } from '../fixtures/node-config';
import { encodeProxyHeader } from '../../node/listen/proxy-protocol';
import { configWarnings } from '../../shared/config/warnings';

function withRoute(raw: RawConfig, route: Record<string, unknown>): RawConfig {
  raw.routes = [{ host: '*', path: '/', pool: 'app', name: 'main', ...route }];
  return raw;
}

/** Upgrade through a connection that starts with a PROXY v2 header from `src`. */
function upgradeVia(port: number, src: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
      handshakeTimeout: 5000,
      createConnection: () => { const s = connect(port, '127.0.0.1'); s.write(encodeProxyHeader('v2', { address: src, port: 40000 }, { address: '127.0.0.1', port: 80 })); return s; },
    });
    ws.once('open', () => { ws.terminate(); resolve(101); });
    ws.once('unexpected-response', (_q, res) => { ws.terminate(); resolve(res.statusCode ?? 0); });
    ws.once('error', reject);
  });
}

function httpStatus(port: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/x', headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
    req.on('error', reject);
    req.end();
  });
}

test('allow and deny lists on the socket address, for upgrades and plain requests; refusals counted', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { allow: ['10.0.0.0/8'] } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const refused = await tryUpgrade(url);
  assert.equal(refused.ok, false);
  if (!refused.ok) { assert.equal(refused.status, 403); assert.match(refused.body, /not allowed/); }
  assert.equal(await httpStatus(node.portOf('public')!), 403);
  assert.equal(b.seen.length, 0, 'the backend saw nothing');
  // Reloadable: allow loopback, then deny it again with a more specific deny.
  node.reload(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { allow: ['127.0.0.0/8', '::1/128'] } })));
  assert.equal(statusOf(await tryUpgrade(url)), 101);
  assert.equal(await httpStatus(node.portOf('public')!), 200);
  node.reload(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { allow: ['127.0.0.0/8'], deny: ['127.0.0.1/32'] } })));
  assert.equal(statusOf(await tryUpgrade(url)), 403);
  const report = node.edgeReport();
  assert.deepEqual(report.denied.find(([r, why]) => r === 'main' && why === 'address')?.[2], 3);
  assert.equal(report.alerts[0]?.lastAddress, '127.0.0.1');
  const text = await node.metrics.text();
  assert.match(text, /wsha_access_denied_total\{[^}]*route="main"[^}]*reason="address"[^}]*\} 3/);
});

test('the address judged is the PROXY-protocol source when the listener takes PROXY headers', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { proxyProtocol: true } }), { access: { allow: ['203.0.113.0/24', '2001:db8::/32'], deny: ['203.0.113.66'] } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  assert.equal(await upgradeVia(port, '203.0.113.9'), 101);
  assert.equal(await upgradeVia(port, '2001:db8::5'), 101);
  assert.equal(await upgradeVia(port, '203.0.113.66'), 403);
  assert.equal(await upgradeVia(port, '198.51.100.1'), 403);
  assert.equal(await upgradeVia(port, '127.0.0.1'), 403);
});

test('trusted X-Forwarded-For hops: the entry that many from the right is the client', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { deny: ['192.0.2.0/24'], trustedForwardedHops: 1 } })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  assert.equal(statusOf(await tryUpgrade(url, { headers: { 'X-Forwarded-For': '192.0.2.7' } })), 403);
  // A client that forges an entry on the left is still judged by the one the trusted proxy appended.
  assert.equal(statusOf(await tryUpgrade(url, { headers: { 'X-Forwarded-For': '198.51.100.1, 192.0.2.7' } })), 403);
  assert.equal(statusOf(await tryUpgrade(url, { headers: { 'X-Forwarded-For': '192.0.2.7, 198.51.100.1' } })), 101);
  assert.equal(statusOf(await tryUpgrade(url)), 101, 'no header: the socket address');
});

test('Origin allow-list: exact and pattern origins pass, others and (when configured) a missing Origin get 403', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const raw = withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { origins: ['https://app.example.com', 'https://*.example.org'], allowMissingOrigin: false } });
  const node = await startProxy(nodeConfig(raw));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  assert.equal(statusOf(await tryUpgrade(url, { origin: 'https://app.example.com' })), 101);
  assert.equal(statusOf(await tryUpgrade(url, { origin: 'https://chat.eu.example.org' })), 101);
  assert.equal(statusOf(await tryUpgrade(url, { origin: 'https://evil.example.net' })), 403);
  assert.equal(statusOf(await tryUpgrade(url, { origin: 'http://app.example.com' })), 403);
  assert.equal(statusOf(await tryUpgrade(url, { origin: 'https://example.org' })), 403);
  assert.equal(statusOf(await tryUpgrade(url)), 403, 'no Origin');
  // Origins are a WebSocket matter: plain requests are not judged by them.
  assert.equal(await httpStatus(node.portOf('public')!), 200);
  assert.deepEqual(node.edgeReport().denied.find(([, why]) => why === 'origin')?.[2], 4);
  node.reload(nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { access: { origins: ['https://app.example.com'] } })));
  assert.equal(statusOf(await tryUpgrade(url)), 101, 'a missing Origin is allowed by default');
});

test('config check warns about routes on a public listener without an Origin list', () => {
  const probes = { secretProblem: () => null };
  const pub = nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'], listener: { on: '0.0.0.0' } }));
  assert.ok(configWarnings(pub, probes).some((w) => w.startsWith('routes[0].access.origins')));
  const local = nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }));
  assert.ok(!configWarnings(local, probes).some((w) => w.startsWith('routes[0].access.origins')));
  const listed = nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'], listener: { on: '0.0.0.0' } }), { access: { origins: ['https://a.example.com'] } }));
  assert.ok(!configWarnings(listed, probes).some((w) => w.startsWith('routes[0].access.origins')));
});

test('bad edge config is refused naming the key', () => {
  assert.throws(() => nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }), { access: { allow: ['10.0.0.0/33'] } })), /routes\[0\]\.access\.allow\[0\]/);
  assert.throws(() => nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }), { access: { origins: ['https://a.com/path'] } })), /routes\[0\]\.access\.origins\[0\]/);
  assert.throws(() => nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }), { auth: { jwt: {} } })), /routes\[0\]\.auth\.jwt: expected keyFiles, jwks or secretFile/);
  assert.throws(() => nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }), { auth: { jwt: { jwks: { url: 'http://127.0.0.1:1/j' }, claimHeaders: { sub: 'Host' } } } })), /claimHeaders\.sub: Host cannot carry a claim/);
  assert.throws(() => nodeConfig(withRoute(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'] }), { messages: {} })), /routes\[0\]\.messages: expected ratePerSec or maxBytes/);
});
