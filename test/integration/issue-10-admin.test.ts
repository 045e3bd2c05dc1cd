/**
 * Issue 10: admin secrets. A node started without a token writes the one it
 * generates to a 0600 file and logs the file's path, never the token; POST
 * actions take the token only from the Authorization header (`?token=`
 * and cookies refused); the live page's cookie is HttpOnly and
 * SameSite=Strict; the admin API serves TLS when configured and picks up
 * new certificates on reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startNodeProcess } from '../harness/node-process';
import { AdminServer } from '../../cluster/admin/admin-server';
import { startAdminServer } from '../../cluster/admin/start-admin';
import { generateSelfSigned } from '../../shared/tls/self-signed';
import { Metrics } from '../../shared/metrics';
import { silentLogger } from '../../shared/logger';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

const TOKEN = 'admin-token-for-tests-1234';

function tmp(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-issue10-admin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Answer { status: number; text: string; headers: Record<string, string | string[] | undefined> }

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a generated token is written to a 0600 file whose path is logged; the token is in no log line', { timeout: 60_000 }, async (t) => {
  const dir = tmp(t);
  const raw = rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:9'] });
  raw.logging = { level: 'debug' };
  const node = await startNodeProcess(raw, { WSHA_ADMIN_TOKEN: '', XDG_RUNTIME_DIR: dir, RUNTIME_DIRECTORY: '' }, 'started');
  t.after(() => node.cleanup());
  const line = await node.waitForLog((l) => typeof l.tokenFile === 'string', 'token file logged');
  assert.equal(line.tokenFile, join(dir, 'wsha-test-proxy-t.admin-token'));
  const st = statSync(line.tokenFile);
  assert.equal(st.mode & 0o777, 0o600);
  const token = readFileSync(line.tokenFile, 'utf8').trim();
  assert.ok(token.length >= 20);
  const adminAt = (await node.waitForLog((l) => typeof l.admin === 'string', 'admin address')).admin as string;
  const port = Number(adminAt.slice(adminAt.lastIndexOf(':') + 1));
  assert.equal((await call(port, 'GET', '/api/state', { authorization: `Bearer ${token}` })).status, 200);
  // Everything the process wrote so far, logs and stderr.
  const everything = JSON.stringify(node.logs) + node.stderr();
  assert.ok(!everything.includes(token), 'the token appears in the output');
  node.signal('SIGTERM');
  await node.exited();
  assert.equal(existsSync(line.tokenFile), false, 'the token file is removed at stop');
});

test('a token file path that is a symlink is replaced, never written through', async (t) => {
  const dir = tmp(t);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'do not touch\n');
  const link = join(dir, 'token');
  require('node:fs').symlinkSync(victim, link);
  const raw = rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:9'] });
  raw.node.admin.tokenFile = link;
  const a = await startAdminServer({ config: nodeConfig(raw), logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }), node: { status: () => ({ state: 'running', draining: false }), snapshot: () => ({ state: 'running', draining: false }) } });
  t.after(() => a.stop());
  assert.equal(readFileSync(victim, 'utf8'), 'do not touch\n');
  assert.equal(readFileSync(link, 'utf8').trim(), a.token);
  assert.equal(require('node:fs').lstatSync(link).isSymbolicLink(), false);
  assert.equal(statSync(link).mode & 0o777, 0o600);
});

async function admin(t: { after(fn: () => unknown): void }) {
  const calls: string[] = [];
  const server = new AdminServer({
    listen: '127.0.0.1:0', token: TOKEN, metrics: new Metrics({ defaultMetrics: false }), eventIntervalMs: 100,
    providers: {
      state: () => ({ nodeId: 'n1' }),
      ready: () => true,
      drain: async () => { calls.push('drain'); return {}; },
      undrain: async () => { calls.push('undrain'); return {}; },
      failover: async () => { calls.push('failover'); return {}; },
    },
  });
  const { port } = await server.start();
  t.after(() => server.close());
  return { port, calls };
}

test('POST actions accept only the Authorization header: ?token= and cookies are refused', async (t) => {
  const a = await admin(t);
  for (const path of ['/api/drain', '/api/undrain', '/api/failover', '/api/session']) {
    assert.equal((await call(a.port, 'POST', `${path}?token=${TOKEN}`, {}, '{}')).status, 401, `POST ${path}?token=`);
    assert.equal((await call(a.port, 'POST', path, { cookie: `wsha_admin_token=${TOKEN}` }, '{}')).status, 401, `POST ${path} with the token cookie`);
  }
  assert.deepEqual(a.calls, []);
  assert.equal((await call(a.port, 'POST', '/api/drain', { authorization: `Bearer ${TOKEN}` })).status, 200);
  assert.deepEqual(a.calls, ['drain']);
  // Outside the event stream a token in the URL is not accepted either.
  assert.equal((await call(a.port, 'GET', `/api/state?token=${TOKEN}`)).status, 401);
});

test('the live page session cookie is HttpOnly and SameSite=Strict, holds no token, and cannot trigger actions', async (t) => {
  const a = await admin(t);
  const s = await call(a.port, 'POST', '/api/session', { authorization: `Bearer ${TOKEN}` });
  assert.equal(s.status, 204);
  const cookie = String((s.headers['set-cookie'] as string[])[0]);
  assert.match(cookie, /^wsha_admin_token=[^;]+; Path=\/; HttpOnly; SameSite=Strict$/);
  assert.ok(!cookie.includes(TOKEN));
  const pair = cookie.split(';')[0];
  assert.equal((await call(a.port, 'GET', '/api/state', { cookie: pair })).status, 200);
  assert.equal((await call(a.port, 'POST', '/api/drain', { cookie: pair })).status, 401);
  assert.deepEqual(a.calls, []);
});

function writePair(dir: string, name: string): { cert: string; key: string; pem: string } {
  const pem = generateSelfSigned({ commonName: name, altNames: ['127.0.0.1'] });
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, pem.certPem);
  writeFileSync(key, pem.keyPem, { mode: 0o600 });
  return { cert, key, pem: pem.certPem };
}

function servedCert(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => { resolve(s.getPeerX509Certificate()!.fingerprint256); s.destroy(); });
    s.on('error', reject);
  });
}

test('the admin API serves TLS with node.admin.tls, and reload swaps the certificate for new connections', async (t) => {
  const dir = tmp(t);
  const first = writePair(dir, 'admin-one');
  const second = writePair(dir, 'admin-two');
  const raw = rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:9'] });
  raw.node.admin = { listen: '127.0.0.1:0', token: TOKEN, tls: { cert: first.cert, key: first.key } };
  const a = await startAdminServer({ config: nodeConfig(raw), logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }), node: { status: () => ({ state: 'running', draining: false }), snapshot: () => ({ state: 'running', draining: false }) } });
  t.after(() => a.stop());
  const port = Number(a.address.slice(a.address.lastIndexOf(':') + 1));
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/api/state', ca: first.pem, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  const s = await call(port, 'GET', '/healthz').catch(() => ({ status: -1 }));
  assert.notEqual(s.status, 200, 'no plain HTTP on a TLS admin listener');
  assert.equal(await servedCert(port), new X509Certificate(first.pem).fingerprint256);
  raw.node.admin.tls = { cert: second.cert, key: second.key };
  a.reload(nodeConfig(raw));
  assert.equal(await servedCert(port), new X509Certificate(second.pem).fingerprint256);
  raw.node.admin.tls = { cert: second.cert, key: first.key };
  assert.throws(() => a.reload(nodeConfig(raw)), (e: any) => e.code === 'WSHA_ERR_CONFIG');
  assert.equal(await servedCert(port), new X509Certificate(second.pem).fingerprint256, 'a bad pair keeps the running certificate');
});
