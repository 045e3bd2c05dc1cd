/**
 * TLS termination and reload. wss:// echo through a self-signed listener;
 * then the node as a child process: SIGHUP changes a pool and the
 * certificate while 100 WebSocket connections stay open and keep exchanging
 * messages, and a broken config on SIGHUP is rejected while the node keeps
 * serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { startBackend } from '../harness/backend';
import { startProxy, openWs, roundTrip } from '../harness/proxy';
import { freePort, waitFor } from '../harness/ports';
import { startNodeProcess } from '../harness/node-process';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';
import { generateSelfSigned } from '../../shared/tls/self-signed';

const peerCn = (ws: WebSocket) => ((ws as any)._socket as TLSSocket).getPeerCertificate().subject.CN;

test('wss:// echo through a TLS listener with a self-signed certificate', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { tls: { selfSigned: true } } })));
  t.after(() => node.destroy());
  const ws = await openWs(`wss://127.0.0.1:${node.portOf('public')}/secure`, { rejectUnauthorized: false });
  t.after(() => ws.terminate());
  assert.equal(await roundTrip(ws, 'over tls'), 'over tls');
  const who = JSON.parse(await roundTrip(ws, 'whoami'));
  assert.equal(who.headers['x-forwarded-proto'], 'https');
  assert.equal(peerCn(ws), 'proxy-t');
});

/** A client that sends a message whenever its last one came back; counts echoes. */
class Chatter {
  echoes = 0;
  closed = false;
  constructor(readonly ws: WebSocket) {
    ws.on('message', () => { this.echoes++; setTimeout(() => { if (ws.readyState === WebSocket.OPEN) ws.send(`m${this.echoes}`); }, 20); });
    ws.on('close', () => { this.closed = true; });
    ws.send('m0');
  }
}

test('SIGHUP changes a pool and the certificate while 100 connections keep talking; a broken config is rejected', async (t) => {
  const [a, b] = await Promise.all([startBackend({ id: 'old' }), startBackend({ id: 'new' })]);
  t.after(() => Promise.all([a.close(), b.close()]));
  const dir = mkdtempSync(join(tmpdir(), 'wsha-reload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['one', 'two']) {
    const pem = generateSelfSigned({ commonName: `${name}.test`, altNames: [`${name}.test`, '127.0.0.1'] });
    writeFileSync(join(dir, `${name}.crt`), pem.certPem);
    writeFileSync(join(dir, `${name}.key`), pem.keyPem);
  }
  const port = await freePort();
  const cfg = (cert: string, backendUrl: string) => {
    const raw = rawNodeConfig({ port, backendUrls: [backendUrl], listener: { tls: { certs: [{ cert: join(dir, `${cert}.crt`), key: join(dir, `${cert}.key`) }] } }, limits: { maxConnectionsPerClient: 500 } });
    return raw;
  };
  const n = await startNodeProcess(cfg('one', a.url));
  t.after(() => n.cleanup());
  const url = `wss://127.0.0.1:${port}/`;
  const clients: Chatter[] = [];
  t.after(() => clients.forEach((c) => c.ws.terminate()));
  for (let i = 0; i < 100; i += 20) {
    const batch = await Promise.all(Array.from({ length: 20 }, () => openWs(url, { rejectUnauthorized: false })));
    for (const ws of batch) { assert.equal(peerCn(ws), 'one.test'); clients.push(new Chatter(ws)); }
  }
  assert.equal(a.openSockets(), 100);
  await waitFor(() => clients.every((c) => c.echoes >= 2), 'every client talking');

  n.writeConfig(cfg('two', b.url));
  n.signal('SIGHUP');
  await n.waitForLog((l) => l.msg === 'config reloaded', 'config reloaded');
  const fresh = await openWs(url, { rejectUnauthorized: false });
  t.after(() => fresh.terminate());
  assert.equal(peerCn(fresh), 'two.test', 'new connections get the new certificate');
  assert.equal(JSON.parse(await roundTrip(fresh, 'whoami')).backend, 'new', 'new connections go to the new pool');
  const marks = clients.map((c) => c.echoes);
  await waitFor(() => clients.every((c, i) => c.echoes >= marks[i] + 3), 'old connections keep exchanging messages after the reload');
  assert.equal(clients.filter((c) => c.closed).length, 0, 'no connection closed by the reload');
  assert.equal(a.openSockets(), 100);

  n.writeConfig('cluster: { name: test }\nnode: { id: proxy-t }\nlisteners: [ { name: public, on: 127.0.0.1, port: nope } ]\n');
  n.signal('SIGHUP');
  const rejected = await n.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('config reload rejected'), 'reload rejected');
  assert.ok(rejected.problems.some((p: string) => p.startsWith('listeners[0].port')), JSON.stringify(rejected.problems));
  const after = await openWs(url, { rejectUnauthorized: false });
  t.after(() => after.terminate());
  assert.equal(peerCn(after), 'two.test');
  assert.equal(await roundTrip(after, 'still serving'), 'still serving');
  const marks2 = clients.map((c) => c.echoes);
  await waitFor(() => clients.every((c, i) => c.echoes >= marks2[i] + 2), 'old connections still talking');
  assert.equal(clients.filter((c) => c.closed).length, 0);
  assert.equal(n.proc.exitCode, null);
});

test('several certificates on one listener are chosen by SNI; no SNI gets the first', async (t) => {
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const dir = mkdtempSync(join(tmpdir(), 'wsha-sni-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const certs = ['one', 'two'].map((name) => {
    const pem = generateSelfSigned({ commonName: `${name}.test`, altNames: [`${name}.test`, `*.${name}.test`] });
    writeFileSync(join(dir, `${name}.crt`), pem.certPem);
    writeFileSync(join(dir, `${name}.key`), pem.keyPem);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  });
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { tls: { certs } } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  for (const [servername, cn] of [['two.test', 'two.test'], ['x.two.test', 'two.test'], ['one.test', 'one.test'], ['other.test', 'one.test']]) {
    const ws = await openWs(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false, servername, headers: { Host: servername } } as WebSocket.ClientOptions);
    assert.equal(peerCn(ws), cn, servername);
    assert.equal(await roundTrip(ws, servername), servername);
    ws.terminate();
  }
});

test('reload with a certificate that does not load throws the key-naming ConfigError and applies nothing', async (t) => {
  const [a, b] = await Promise.all([startBackend({ id: 'a' }), startBackend({ id: 'b' })]);
  t.after(() => Promise.all([a.close(), b.close()]));
  const node = await startProxy(nodeConfig(rawNodeConfig({ port: 0, backendUrls: [a.url], listener: { tls: { selfSigned: true } } })));
  t.after(() => node.destroy());
  const bad = rawNodeConfig({ port: 0, backendUrls: [b.url], listener: { tls: { certs: [{ cert: '/nonexistent/x.crt', key: '/nonexistent/x.key' }] } } });
  assert.throws(() => node.reload(nodeConfig(bad)), (e: any) => e.code === 'WSHA_ERR_CONFIG' && e.problems.some((p: string) => p.startsWith('listeners[0].tls.certs[0].cert')));
  const ws = await openWs(`wss://127.0.0.1:${node.portOf('public')}/`, { rejectUnauthorized: false });
  t.after(() => ws.terminate());
  assert.equal(JSON.parse(await roundTrip(ws, 'whoami')).backend, 'a', 'the pool change of the rejected config was not applied');
  assert.equal(peerCn(ws), 'proxy-t');
});
