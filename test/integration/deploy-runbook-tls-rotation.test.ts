/**
 * What deploy/runbooks/tls-rotation.md promises, against a real node: new
 * certificate files moved into place plus SIGHUP (what `systemctl reload
 * wsha` sends) make new handshakes get the new certificate, an open wss
 * connection keeps working through the reload, and a broken pair (key not
 * matching the certificate) is rejected with the running certificate kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { startEchoBackend } from '../../cluster/demo/echo-backend';
import { freePort } from '../harness/ports';
import { startRedis } from '../harness/redis';
import { startNodeProcess } from '../harness/node-process';
import { runWsha } from '../harness/wsha-cli';

const SNI = 'chat.example.com';

/** SHA-256 fingerprint of the certificate a fresh handshake gets. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: SNI, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.destroy();
    });
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error('TLS handshake timed out')); });
  });
}

/** `wsha cert generate` into DIR; returns the cert and key paths. */
async function generate(dir: string): Promise<{ cert: string; key: string }> {
  const r = await runWsha(['cert', 'generate', '--cn', SNI, '--san', '127.0.0.1', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

function echo(ws: WebSocket, msg: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
    const onMessage = (d: WebSocket.RawData) => { if (String(d).includes(msg)) { clearTimeout(timer); ws.off('message', onMessage); resolve(String(d)); } };
    ws.on('message', onMessage);
    ws.send(msg);
  });
}

test('certificate rotation with mv + SIGHUP: new handshakes get the new certificate, no connection dropped', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-tls-rotation-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startRedis();
  t.after(() => redis.stop());
  const backend = await startEchoBackend(0, 'app-1');
  t.after(() => backend.close());

  const live = { cert: join(dir, 'fullchain.pem'), key: join(dir, 'privkey.pem') };
  const first = await generate(join(dir, 'first'));
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  const port = await freePort();
  const node = await startNodeProcess({
    cluster: { name: `tls-rotation-${process.pid}`, redis: { url: redis.url } },
    node: { id: 'proxy-a', admin: { listen: `127.0.0.1:${await freePort()}` } },
    listeners: [{ name: 'wss', on: '127.0.0.1', port, tls: { certs: [{ cert: live.cert, key: live.key }] } }],
    routes: [{ pool: 'app' }],
    pools: { app: { backends: [{ id: 'app-1', url: `http://127.0.0.1:${backend.port}` }] } },
  });
  t.after(() => node.cleanup());

  const before = await servedFingerprint(port);
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { rejectUnauthorized: false, handshakeTimeout: 5000 });
  t.after(() => ws.terminate());
  let closed = false;
  ws.on('close', () => { closed = true; });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  assert.match(await echo(ws, 'before rotation'), /\[app-1\] before rotation/);

  // Runbook step 1 and 2: new files beside the old ones, then mv over them, then reload.
  const second = await generate(join(dir, 'second'));
  copyFileSync(second.cert, `${live.cert}.new`);
  copyFileSync(second.key, `${live.key}.new`);
  renameSync(`${live.cert}.new`, live.cert);
  renameSync(`${live.key}.new`, live.key);
  const reloads = () => node.logs.filter((l) => l.msg === 'config reloaded').length;
  const okBefore = reloads();
  node.signal('SIGHUP');
  await node.waitForLog(() => reloads() > okBefore, 'config reloaded after SIGHUP');
  const after = await servedFingerprint(port);
  assert.notEqual(after, before, 'new handshakes must get the new certificate');
  assert.match(await echo(ws, 'after rotation'), /\[app-1\] after rotation/);

  // A key that does not match its certificate: rejected, the running certificate stays.
  copyFileSync(first.key, live.key);
  node.signal('SIGHUP');
  await node.waitForLog((l) => /reload (rejected|failed)/.test(String(l.msg)), 'reload rejected for a mismatched key');
  assert.equal(await servedFingerprint(port), after, 'a rejected reload keeps serving the running certificate');
  assert.match(await echo(ws, 'after a rejected reload'), /after a rejected reload/);
  assert.equal(closed, false, 'the open connection was never dropped');
  assert.equal(node.proc.exitCode, null, 'the node is still running');
});
