/**
 * Issue 12, JWT at the edge on real sockets with a real JWKS server: a
 * valid token in each of the four places; expired, not-yet-valid, wrong
 * audience, wrong signature and unknown-kid tokens get 401 with
 * WWW-Authenticate; the JWKS endpoint going down (last good set kept); key
 * rotation through the JWKS; forged claim headers stripped; the token's
 * subprotocol entry removed; a tunnel closed with 1008 at expiry between
 * two frames, in both directions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { startBackend } from '../harness/backend';
import { startProxy, roundTrip } from '../harness/proxy';
import { makeKey, signToken, startJwks, tryUpgrade, statusOf } from '../harness/edge';
import { nodeConfig, rawNodeConfig, type RawConfig } from '../fixtures/node-config';

function jwtRoute(raw: RawConfig, jwt: Record<string, unknown>): RawConfig {
  raw.routes = [{ host: '*', path: '/', pool: 'app', name: 'api', auth: { jwt: { audience: 'chat', issuer: 'https://issuer.test', ...jwt } } }];
  return raw;
}

const good = { aud: 'chat', iss: 'https://issuer.test', sub: 'user-1' };

function httpGet(port: number, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/h', headers }, (res) => {
      let body = ''; res.on('data', (c) => { body += c; }); res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a valid token is accepted from the Authorization header, a cookie, a query parameter and a subprotocol entry', async (t) => {
  const key = makeKey('k1');
  const jwks = await startJwks([key]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), {
    jwks: { url: jwks.url }, tokenFrom: { bearer: true, cookie: 'session', query: 'access_token', protocolPrefix: 'base64url.bearer.authorization.k8s.io.' },
    claimHeaders: { sub: 'X-User', scope: 'X-Scope' },
  })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const url = `ws://127.0.0.1:${port}/`;
  const tok = await signToken(key, { ...good, scope: ['read', 'write'] });
  const ways = [
    await tryUpgrade(url, { headers: { Authorization: `Bearer ${tok}`, 'X-User': 'forged', 'x-scope': 'admin' } }),
    await tryUpgrade(url, { headers: { Cookie: `a=1; session=${tok}` } }),
    await tryUpgrade(`${url}?access_token=${tok}`),
    await tryUpgrade(url, { protocols: ['chat.v1', `base64url.bearer.authorization.k8s.io.${Buffer.from(tok).toString('base64url')}`] }),
  ];
  for (const [i, o] of ways.entries()) {
    assert.ok(o.ok, `way ${i} opened`);
    const who = JSON.parse(await roundTrip(o.ws, 'whoami'));
    assert.equal(who.headers['x-user'], 'user-1', `way ${i}: the claim, not a forged value`);
    assert.equal(who.headers['x-scope'], '["read","write"]');
    if (i === 3) {
      assert.equal(who.headers['sec-websocket-protocol'], 'chat.v1', 'the token entry never reaches the backend');
      assert.equal(o.protocol, 'chat.v1');
    }
    o.ws.terminate();
  }
  const forged = b.seen.filter((s) => s.kind === 'ws').map((s) => s.headers['x-user']);
  assert.deepEqual(forged, ['user-1', 'user-1', 'user-1', 'user-1']);
  // Plain HTTP on the same route: 401 without a token, the claim header with one (forged one stripped).
  const none = await httpGet(port, {});
  assert.equal(none.status, 401);
  assert.equal(none.headers['www-authenticate'], 'Bearer realm="wsha"');
  const ok = await httpGet(port, { authorization: `Bearer ${tok}`, 'x-user': 'root' });
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).headers['x-user'], 'user-1');
});

test('a token from the query is not in the request line the backend gets (upgrade and plain HTTP); the rest of the query is', async (t) => {
  const key = makeKey('k1');
  const jwks = await startJwks([key]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { jwks: { url: jwks.url }, tokenFrom: { bearer: true, query: 'access_token' } })));
  t.after(() => node.destroy());
  const port = node.portOf('public')!;
  const tok = await signToken(key, good);
  const rest = 'room=7&name=J%C3%BCrgen+S&flag&x=a%26b';
  const ws = await tryUpgrade(`ws://127.0.0.1:${port}/chat?${rest.slice(0, 6)}&access_token=${tok}&${rest.slice(7)}`);
  assert.ok(ws.ok);
  if (ws.ok) ws.ws.terminate();
  const only = await tryUpgrade(`ws://127.0.0.1:${port}/chat?access_token=${tok}`);
  assert.ok(only.ok);
  if (only.ok) only.ws.terminate();
  const viaHttp = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: `/h?access_token=${tok}&${rest}` }, (res) => {
      let body = ''; res.on('data', (c) => { body += c; }); res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(viaHttp.status, 200);
  assert.deepEqual(b.seen.map((s) => [s.kind, s.url]), [['ws', `/chat?${rest}`], ['ws', '/chat'], ['http', `/h?${rest}`]]);
  assert.ok(b.seen.every((s) => !s.url.includes(tok)));
});

test('expired, not yet valid, wrong audience, wrong issuer, bad signature and unknown kid: 401 with WWW-Authenticate', async (t) => {
  const key = makeKey('k1');
  const other = makeKey('k1');
  const stranger = makeKey('k9');
  const jwks = await startJwks([key]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { jwks: { url: jwks.url, unknownKidRefreshMs: 60000 }, leewayMs: 5000 })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, Promise<string>, RegExp]> = [
    ['token-expired', signToken(key, { ...good, exp: now - 60 }), /error="invalid_token", error_description="token expired"/],
    ['token-not-yet-valid', signToken(key, { ...good, nbf: now + 60 }), /not yet valid/],
    ['token-audience', signToken(key, { ...good, aud: 'billing' }), /audience/],
    ['token-issuer', signToken(key, { ...good, iss: 'https://evil.test' }), /issuer/],
    ['token-signature', signToken(other, good), /signature/],
    ['token-unknown-key', signToken(stranger, good), /invalid_token/],
    ['token-malformed', Promise.resolve('not.a.jwt'), /malformed/],
  ];
  for (const [reason, tokP, challenge] of cases) {
    const o = await tryUpgrade(url, { headers: { Authorization: `Bearer ${await tokP}` } });
    assert.equal(o.ok, false, reason);
    if (o.ok) continue;
    assert.equal(o.status, 401, reason);
    assert.match(String(o.headers['www-authenticate']), /^Bearer realm="wsha"/, reason);
    assert.match(String(o.headers['www-authenticate']), challenge, reason);
  }
  // Inside the leeway an expired token still passes.
  assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken(key, { ...good, exp: now - 2 })}` } })), 101);
  const denied = new Map(node.edgeReport().denied.map(([, why, n]) => [why, n]));
  for (const [reason] of cases) assert.equal(denied.get(reason), 1, reason);
  assert.equal(b.seen.filter((s) => s.kind === 'ws').length, 1);
  // Unknown kids: one refresh per unknownKidRefreshMs, however many tokens name one.
  const hits = jwks.hits;
  for (let i = 0; i < 5; i++) assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken(makeKey(`x${i}`, 'ES256'), good)}` } })), 401);
  assert.ok(jwks.hits - hits <= 1, `at most one refresh for a burst of unknown kids, saw ${jwks.hits - hits}`);
});

test('JWKS down: the last good key set stays in use; a rotated key is picked up on its first token', async (t) => {
  const k1 = makeKey('k1');
  const k2 = makeKey('k2', 'EdDSA');
  const jwks = await startJwks([k1]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), {
    algorithms: ['RS256', 'EdDSA'], jwks: { url: jwks.url, refreshIntervalMs: 200, unknownKidRefreshMs: 100, timeoutMs: 300 },
  })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const bearer = async (k: typeof k1) => ({ headers: { Authorization: `Bearer ${await signToken(k, good)}` } });
  assert.equal(statusOf(await tryUpgrade(url, await bearer(k1))), 101);
  // Endpoint answers 503, then hangs past the timeout: refreshes fail, k1 keeps working.
  jwks.mode = 'down';
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(statusOf(await tryUpgrade(url, await bearer(k1))), 101);
  jwks.mode = 'hang';
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(statusOf(await tryUpgrade(url, await bearer(k1))), 101);
  const report = node.edgeReport().jwks[0];
  assert.ok(report.failures >= 2, `failed refreshes are counted (${report.failures})`);
  assert.equal(report.keys, 1);
  // Rotation: the issuer publishes k2 and signs with it; an open tunnel of k1 stays open.
  jwks.mode = 'up';
  const held = await tryUpgrade(url, await bearer(k1));
  assert.ok(held.ok);
  jwks.keys = [k1, k2];
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(statusOf(await tryUpgrade(url, await bearer(k2))), 101);
  jwks.keys = [k2];
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(statusOf(await tryUpgrade(url, await bearer(k1))), 401, 'a retired key is refused once the JWKS drops it');
  if (held.ok) { assert.equal(await roundTrip(held.ws, 'still here'), 'still here'); held.ws.terminate(); }
});

test('PEM and JWK key files and an HS256 secret; a bad key file refuses the config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-jwt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rsa = makeKey('pem');
  const ec = makeKey('ec1', 'ES256');
  writeFileSync(join(dir, 'rsa.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'ec.jwk'), JSON.stringify(ec.jwk));
  const secret = Buffer.alloc(32, 7);
  writeFileSync(join(dir, 'hs.secret'), secret);
  writeFileSync(join(dir, 'bad.pem'), 'not a key');
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), {
    algorithms: ['RS256', 'ES256', 'HS256'], keyFiles: [join(dir, 'rsa.pem'), join(dir, 'ec.jwk')], secretFile: join(dir, 'hs.secret'),
  })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  for (const k of [rsa, ec, { alg: 'HS256' as const, secret: new Uint8Array(secret) }]) {
    assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken(k, good)}` } })), 101, k.alg);
  }
  assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken({ alg: 'HS256', secret: new Uint8Array(32) }, good)}` } })), 401);
  const bad = nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { keyFiles: [join(dir, 'bad.pem')] }));
  assert.throws(() => node.reload(bad), (err: Error & { code?: string }) => err.code === 'WSHA_ERR_CONFIG' && /routes\[0\]\.auth\.jwt/.test(err.message));
  assert.equal(statusOf(await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken(rsa, good)}` } })), 101, 'the running config stays');
});

test('a tunnel is closed with 1008 when its token expires, between two frames, and the backend gets the close too', async (t) => {
  const key = makeKey('k1');
  const jwks = await startJwks([key]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { jwks: { url: jwks.url }, leewayMs: 0 })));
  t.after(() => node.destroy());
  const url = `ws://127.0.0.1:${node.portOf('public')}/`;
  const exp = Math.floor(Date.now() / 1000) + 2;
  const o = await tryUpgrade(url, { headers: { Authorization: `Bearer ${await signToken(key, { ...good, exp })}` } });
  assert.ok(o.ok);
  if (!o.ok) return;
  const ws = o.ws;
  const backendWs = [...b.sockets][0];
  const backendClose = new Promise<[number, string]>((r) => backendWs.once('close', (c, why) => r([c, why.toString()])));
  // Both directions busy with large frames around the expiry: every frame arrives whole, then the close.
  let received = 0;
  let bad = 0;
  ws.on('message', (d: Buffer) => { received++; if (d.length !== 200_000 || d[0] !== 9 || d[d.length - 1] !== 9) bad++; });
  let backendGot = 0;
  backendWs.on('message', (d: Buffer) => { if (d.length === 200_000) backendGot++; });
  const big = Buffer.alloc(200_000, 9);
  // Sent only while little is queued, so the close is not stuck behind seconds of buffered frames.
  const pump = setInterval(() => {
    if (ws.readyState === ws.OPEN && ws.bufferedAmount < 1_000_000) ws.send(big);
    if (backendWs.readyState === backendWs.OPEN && backendWs.bufferedAmount < 1_000_000) backendWs.send(big);
  }, 5);
  t.after(() => clearInterval(pump));
  const closed = new Promise<[number, string]>((r) => ws.once('close', (c, why) => r([c, why.toString()])));
  const [code, reason] = await closed;
  clearInterval(pump);
  assert.equal(code, 1008);
  assert.equal(reason, 'token expired');
  const at = Date.now();
  // Never before exp; after it by one expiry tick plus the frames already queued ahead of the close (a loaded machine).
  assert.ok(at >= exp * 1000 && at < exp * 1000 + 5000, `closed at expiry (+${at - exp * 1000} ms)`);
  assert.equal(bad, 0, 'no frame was cut');
  assert.ok(received > 0 && backendGot > 0);
  const [bcode, breason] = await backendClose;
  assert.equal(bcode, 1008, 'the backend got a clean close frame, not a cut connection');
  assert.equal(breason, 'token expired');
  assert.deepEqual(node.edgeReport().policyCloses, [['api', 'token-expired', 1]]);
});

test('closeAtExpiry: false keeps the tunnel open past the token expiry', async (t) => {
  const key = makeKey('k1');
  const jwks = await startJwks([key]);
  t.after(() => jwks.close());
  const b = await startBackend({ id: 'b1' });
  t.after(() => b.close());
  const node = await startProxy(nodeConfig(jwtRoute(rawNodeConfig({ port: 0, backendUrls: [b.url] }), { jwks: { url: jwks.url }, leewayMs: 0, closeAtExpiry: false })));
  t.after(() => node.destroy());
  const o = await tryUpgrade(`ws://127.0.0.1:${node.portOf('public')}/`, { headers: { Authorization: `Bearer ${await signToken(key, { ...good, exp: Math.floor(Date.now() / 1000) + 1 })}` } });
  assert.ok(o.ok);
  if (!o.ok) return;
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(await roundTrip(o.ws, 'after expiry'), 'after expiry');
  o.ws.terminate();
});
