/**
 * Issue 12, external authorisation on real sockets: a real auth service
 * allowing (with headers copied onto the backend request), denying with
 * 401 and 403 (relayed), timing out (503, or through when failing open),
 * and decisions cached per credential.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend } from '../harness/backend';
import { startProxy, roundTrip } from '../harness/proxy';
import { startAuthService, tryUpgrade, statusOf } from '../harness/edge';
import { nodeConfig, rawNodeConfig, type RawConfig } from '../fixtures/node-config';

function extRoute(raw: RawConfig, external: Record<string, unknown>): RawConfig {
  raw.routes = [{ host: '*', path: '/', pool: 'app', name: 'ext', auth: { external } }];
  return raw;
}

test('the auth service allows (headers copied, forged ones stripped), denies with 401 or 403, and is told what was asked', async (t) => {
  const auth = await startAuthService((req): { status: number; headers?: Record<string, string> } => {
    const a = req.headers.authorization;
    if (a === 'Bearer alice') return { status: 200, headers: { 'X-Auth-User': 'alice', 'X-Other': 'not copied' } };
    if (a === 'Bearer mallory') return { status: 403 };
    return { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="corp"' } };
  });
  t.after(() => auth.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(extRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { url: auth.url, responseHeaders: ['X-Auth-User'] })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/room/1?x=2`;
  const ok = await tryUpgrade(url, { headers: { Authorization: 'Bearer alice', 'X-Auth-User': 'root' } });
  assert.ok(ok.ok);
  if (ok.ok) {
    const who = JSON.parse(await roundTrip(ok.ws, 'whoami'));
    assert.equal(who.headers['x-auth-user'], 'alice');
    assert.equal(who.headers['x-other'], undefined);
    ok.ws.terminate();
  }
  const asked = auth.seen[0];
  assert.equal(asked['x-forwarded-uri'], '/room/1?x=2');
  assert.equal(asked['x-forwarded-method'], 'GET');
  assert.equal(asked['x-forwarded-for'], '127.0.0.1');
  assert.equal(asked.authorization, 'Bearer alice');
  const denied = await tryUpgrade(url, { headers: { Authorization: 'Bearer mallory' } });
  assert.equal(denied.ok ? 101 : denied.status, 403);
  const who = await tryUpgrade(url);
  assert.equal(who.ok ? 101 : who.status, 401);
  if (!who.ok) assert.equal(who.headers['www-authenticate'], 'Basic realm="corp"', 'the service challenge is relayed');
  assert.equal(b.seen.filter((s) => s.kind === 'ws').length, 1);
});

test('a service that does not answer in time: 503, or through when the route fails open', async (t) => {
  const auth = await startAuthService(() => 'hang');
  t.after(() => auth.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(extRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { url: auth.url, timeoutMs: 200 })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const t0 = Date.now();
  assert.equal(statusOf(await tryUpgrade(url)), 503);
  assert.ok(Date.now() - t0 < 2000);
  node.reload(nodeConfig(extRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { url: auth.url, timeoutMs: 200, failOpen: true })));
  assert.equal(statusOf(await tryUpgrade(url)), 101);
  // An unreachable service counts as unavailable too.
  node.reload(nodeConfig(extRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { url: 'http://127.0.0.1:1/check', timeoutMs: 500 })));
  assert.equal(statusOf(await tryUpgrade(url)), 503);
  assert.equal(node.edgeReport().denied.find(([, why]) => why === 'ext-unavailable')?.[2], 2);
});

test('decisions are cached per credential for cacheTtlMs', async (t) => {
  let calls = 0;
  const auth = await startAuthService((req) => { calls++; return { status: req.headers.authorization === 'Bearer ok' ? 204 : 403 }; });
  t.after(() => auth.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(extRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { url: auth.url, cacheTtlMs: 400 })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  for (let i = 0; i < 3; i++) assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: 'Bearer ok' } })), 101);
  for (let i = 0; i < 3; i++) assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: 'Bearer no' } })), 403);
  assert.equal(calls, 2, 'one call per credential');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: 'Bearer ok' } })), 101);
  assert.equal(calls, 3, 'asked again after the TTL');
});
