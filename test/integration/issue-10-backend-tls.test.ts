/**
 * Issue 10: HTTPS and WSS backends and their health probes verify the
 * backend certificate by default; a pool's `tls: { ca, servername, verify }`
 * says which CA and name, or turns verification off. The backend here has a
 * self-signed certificate for 127.0.0.1 and backend.test.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { generateSelfSigned } from '../../shared/tls/self-signed';
import { probe, probeTarget } from '../../cluster/health/probes';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { converse, responses, statuses } from '../harness/hostile';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

let dir = '';
let caFile = '';
let server: Server;
let url = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsha-issue10-btls-'));
  const pem = generateSelfSigned({ commonName: 'backend.test', altNames: ['backend.test', '127.0.0.1'] });
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pem.certPem);
  server = createHttpsServer({ cert: pem.certPem, key: pem.keyPem }, (req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`tls backend ${req.url}`); });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => ws.send(d.toString()))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => { server.closeAllConnections(); server.close(); rmSync(dir, { recursive: true, force: true }); });

async function nodeWith(t: { after(fn: () => unknown): void }, tls: Record<string, unknown> | undefined) {
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [url], pool: tls ? { tls } : {} })));
  t.after(() => node.destroy());
  return node.portOf('public')!;
}

async function httpStatus(port: number): Promise<number> {
  const r = await converse(port, 'GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n', { until: responses(1), timeoutMs: 4000 });
  return statuses(r.response)[0] ?? 0;
}

async function wsOk(port: number): Promise<boolean> {
  try {
    const ws = await openWs(`ws://127.0.0.1:${port}/`);
    const ok = (await roundTrip(ws, 'hello')) === 'hello';
    ws.terminate();
    return ok;
  } catch { return false; }
}

test('by default an unknown backend certificate is refused: 502 for HTTP and upgrades, probes fail', async (t) => {
  const port = await nodeWith(t, undefined);
  assert.equal(await httpStatus(port), 502);
  assert.equal(await wsOk(port), false);
  for (const type of ['tcp', 'http', 'ws'] as const) {
    const r = await probe(probeTarget(url), { type, path: '/', expectStatus: '200-399', intervalMs: 2000, timeoutMs: 1000, rise: 1, fall: 1, passiveFail: 3 });
    assert.equal(r.ok, false, `${type} probe passed without verification`);
  }
});

test('with the pool CA the backend is verified and served, probes pass', async (t) => {
  const port = await nodeWith(t, { ca: caFile });
  assert.equal(await httpStatus(port), 200);
  assert.equal(await wsOk(port), true);
  for (const type of ['tcp', 'http', 'ws'] as const) {
    const r = await probe(probeTarget(url, { ca: caFile, verify: true }), { type, path: '/', expectStatus: '200-399', intervalMs: 2000, timeoutMs: 1000, rise: 1, fall: 1, passiveFail: 3 });
    assert.equal(r.ok, true, `${type}: ${r.reason}`);
  }
});

test('a servername the certificate does not carry is refused; one it carries is accepted', async (t) => {
  assert.equal(await httpStatus(await nodeWith(t, { ca: caFile, servername: 'other.test' })), 502);
  assert.equal(await httpStatus(await nodeWith(t, { ca: caFile, servername: 'backend.test' })), 200);
});

test('verify: false turns verification off for that pool only', async (t) => {
  const port = await nodeWith(t, { verify: false });
  assert.equal(await httpStatus(port), 200);
  assert.equal(await wsOk(port), true);
});

test('an unreadable CA file is a config error at start', async () => {
  await assert.rejects(startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [url], pool: { tls: { ca: join(dir, 'missing.pem') } } }))), (e: any) => e.code === 'WSHA_ERR_CONFIG' && /pools\.app\.tls\.ca/.test(e.message));
});
