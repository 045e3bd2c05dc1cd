import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { webcrypto } from 'node:crypto';
import pino from 'pino';
import { JwtSchema } from '../../../../shared/config/edge-schema';
import { JwtVerifier, type VerifierClocks } from '../../../../node/auth/jwt-verifier';
import { makeKey, signToken, type SigningKey } from '../../../harness/edge';

const log = pino({ level: 'silent' });
const T0 = 1_900_000_000_000;

/** Clocks the test moves by hand. */
function clocks(): VerifierClocks & { wall: number; mono: number } {
  const c = { wall: T0, mono: 0, wallMs: () => c.wall, monoMs: () => c.mono };
  return c;
}

/** A verifier on a JWKS the test controls (`doc.keys`), fetched once now, then on an unknown kid or by `refresh()`. */
async function jwksVerifier(keys: SigningKey[], extra: Record<string, unknown> = {}) {
  const doc = { keys };
  const clock = clocks();
  const config = JwtSchema.parse({ jwks: { url: 'http://127.0.0.1:9/jwks', unknownKidRefreshMs: 1 }, algorithms: ['RS256', 'ES256', 'EdDSA'], audience: 'chat', leewayMs: 5000, ...extra });
  const v = new JwtVerifier(config, log, { clocks: clock, fetch: async () => ({ keys: doc.keys.map((k) => k.jwk) }) });
  await v.jwks!.refresh();
  return { v, doc, clock };
}

const sec = (ms: number) => Math.floor(ms / 1000);
const reasonOf = async (p: Promise<unknown>) => { try { await p; return 'ok'; } catch (err) { return (err as { reason?: string }).reason ?? String(err); } };

test('a cache hit checks exp and nbf against the current time, with the leeway', async () => {
  const k = makeKey('k1');
  const { v, clock } = await jwksVerifier([k]);
  const tok = await signToken(k, { aud: 'chat', iat: sec(T0), nbf: sec(T0) - 1, exp: sec(T0) + 10 });
  assert.equal(await reasonOf(v.verify(tok)), 'ok');
  assert.equal(await reasonOf(v.verify(tok)), 'ok');
  assert.equal(v.cache!.hits, 1);
  clock.wall = T0 + 14_000; clock.mono += 14_000;
  assert.equal(await reasonOf(v.verify(tok)), 'ok', 'inside exp + leeway');
  clock.wall = T0 + 15_000; clock.mono += 1;
  assert.equal(await reasonOf(v.verify(tok)), 'token-expired');
  // Wall clock stepped back before nbf - leeway (entry still within its TTL on the monotonic clock).
  const early = await signToken(k, { aud: 'chat', nbf: sec(T0) + 60, exp: sec(T0) + 3600 });
  clock.wall = T0 + 60_000;
  assert.equal(await reasonOf(v.verify(early)), 'ok');
  const hits = v.cache!.hits;
  clock.wall = T0 + 50_000;
  assert.equal(await reasonOf(v.verify(early)), 'token-not-yet-valid');
  assert.equal(v.cache!.hits, hits + 1, 'refused on a hit, not by a new verification');
});

test('a JWKS refresh that drops the key invalidates the tokens it verified; an unchanged set keeps them', async () => {
  const k1 = makeKey('k1'), k2 = makeKey('k2', 'EdDSA');
  const { v, doc } = await jwksVerifier([k1, k2]);
  const t1 = await signToken(k1, { aud: 'chat', exp: sec(T0) + 3600 });
  const t2 = await signToken(k2, { aud: 'chat', exp: sec(T0) + 3600 });
  assert.equal(await reasonOf(v.verify(t1)), 'ok');
  assert.equal(await reasonOf(v.verify(t2)), 'ok');
  const gen = v.jwks!.generation;
  await v.jwks!.refresh();
  assert.equal(v.jwks!.generation, gen, 'same keys: same generation');
  assert.equal(await reasonOf(v.verify(t1)), 'ok');
  assert.equal(v.cache!.hits, 1, 'a routine refresh keeps the cache');
  doc.keys = [k2];
  await v.jwks!.refresh();
  assert.equal(v.jwks!.generation, gen + 1);
  assert.equal(await reasonOf(v.verify(t1)), 'token-unknown-key', 'the retired key no longer admits its cached token');
  assert.equal(await reasonOf(v.verify(t2)), 'ok', 'tokens of a kept key verify again');
  assert.equal(await reasonOf(v.verify(t2)), 'ok');
  assert.equal(v.cache!.hits, 2);
});

test('keys are imported once (jose importJWK): a refresh with the same keys keeps the imported objects, a new key is imported before it serves', async () => {
  const k1 = makeKey('k1'), k2 = makeKey('k2', 'ES256');
  const { v, doc } = await jwksVerifier([k1]);
  const [held] = v.jwks!.keys;
  const imported = await held.key();
  assert.equal(held.key(), held.key(), 'one import, the same promise on every call');
  assert.equal(Object.prototype.toString.call(imported), '[object CryptoKey]', 'a WebCrypto key, as jose verifies with');
  assert.equal((imported as webcrypto.CryptoKey).algorithm.name, 'RSASSA-PKCS1-v1_5');
  const tok = await signToken(k1, { aud: 'chat', exp: sec(T0) + 3600 });
  assert.equal(await reasonOf(v.verify(tok)), 'ok');
  doc.keys = [k1, k2];
  await v.jwks!.refresh();
  assert.equal(v.jwks!.keys[0], held, 'the kept key is the same object');
  assert.equal(await v.jwks!.keys[0].key(), imported);
  const fresh = v.jwks!.keys[1];
  assert.equal(fresh.kid, 'k2');
  const before = fresh.key();
  assert.equal(await reasonOf(v.verify(await signToken(k2, { aud: 'chat', exp: sec(T0) + 3600 }))), 'ok');
  assert.equal(fresh.key(), before, 'imported during the refresh, not per token');
});

test('failures are never cached: a token refused for a missing key passes once the key is published', async () => {
  const k1 = makeKey('k1'), k2 = makeKey('k2'), forger = makeKey('k1');
  const { v, doc } = await jwksVerifier([k1]);
  const t2 = await signToken(k2, { aud: 'chat', exp: sec(T0) + 3600 });
  assert.equal(await reasonOf(v.verify(t2)), 'token-unknown-key');
  doc.keys = [k1, k2];
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await reasonOf(v.verify(t2)), 'ok');
  const forged = await signToken(forger, { aud: 'chat', exp: sec(T0) + 3600 });
  for (let i = 0; i < 3; i++) assert.equal(await reasonOf(v.verify(forged)), 'token-signature');
  const wrongAud = await signToken(k1, { aud: 'billing', exp: sec(T0) + 3600 });
  for (let i = 0; i < 2; i++) assert.equal(await reasonOf(v.verify(wrongAud)), 'token-audience');
  assert.equal(v.cache!.size, 1, 'only the good token is held');
});

test('cacheMaxTtlMs bounds an entry on the monotonic clock; cacheEntries bounds the count; 0 turns the cache off', async () => {
  const k = makeKey('k1');
  const { v, clock } = await jwksVerifier([k], { cacheEntries: 3, cacheMaxTtlMs: 1000 });
  const toks = await Promise.all([0, 1, 2, 3, 4].map((i) => signToken(k, { aud: 'chat', sub: `u${i}`, exp: sec(T0) + 3600 })));
  for (const t of toks) assert.equal(await reasonOf(v.verify(t)), 'ok');
  assert.equal(v.cache!.size, 3);
  await v.verify(toks[4]);
  assert.equal(v.cache!.hits, 1);
  clock.mono += 1000;
  await v.verify(toks[4]);
  assert.equal(v.cache!.hits, 1, 'past the TTL: verified again');
  const off = await jwksVerifier([k], { cacheEntries: 0 });
  assert.equal(off.v.cache, null);
  assert.equal(await reasonOf(off.v.verify(toks[0])), 'ok');
});

test('jose refuses what is malformed or outside the configured algorithms; a key serves only its own algorithm', async () => {
  const rsa = makeKey('r1'), ec = makeKey('e1', 'ES256'), ed = makeKey('d1', 'EdDSA');
  const { v } = await jwksVerifier([rsa, ec, ed]);
  const exp = sec(T0) + 3600;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  for (const k of [rsa, ec, ed]) assert.equal(await reasonOf(v.verify(await signToken(k, { aud: 'chat', exp }))), 'ok', k.alg);
  const good = await signToken(rsa, { aud: 'chat', exp });
  const [, body, sig] = good.split('.');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'none' })}.${body}.`)), 'token-algorithm', 'alg none is not among the algorithms');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'none' })}.${body}.${sig}`)), 'token-algorithm');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'HS256', kid: 'r1' })}.${body}.${sig}`)), 'token-algorithm');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'RS256', kid: 'r1', crit: ['exp'] })}.${body}.${sig}`)), 'token-malformed');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'RS256', kid: 7 })}.${body}.${sig}`)), 'token-malformed');
  assert.equal(await reasonOf(v.verify(`${good.slice(0, -2)}+/`)), 'token-malformed');
  assert.equal(await reasonOf(v.verify(`${good}.x`)), 'token-malformed');
  assert.equal(await reasonOf(v.verify(`${b64({ alg: 'ES256', kid: 'r1' })}.${body}.${sig}`)), 'token-unknown-key', 'an RSA key never serves ES256');
  assert.equal(await reasonOf(v.verify(`${good.split('.')[0]}.${b64({ aud: 'chat', exp, admin: true })}.${sig}`)), 'token-signature');
  const arr = await signRaw(rsa, { alg: 'RS256', kid: 'r1' }, '[1,2]');
  assert.equal(await reasonOf(v.verify(arr)), 'token-malformed', 'a claims set must be an object');
  assert.equal(await reasonOf(v.verify(await signToken(rsa, { aud: 'chat', exp: 'soon' }))), 'token-claims');
  assert.equal(await reasonOf(v.verify(await signToken(rsa, { aud: 'chat', exp: undefined }))), 'token-claims', 'exp is required by default');
});

test('key files: PEM, JWK and an HS256 secret verify; a short RSA key refuses the config', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-jwt-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const rsa = makeKey('pem');
  writeFileSync(join(dir, 'k.pem'), rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  const secret = new Uint8Array(32).fill(7);
  writeFileSync(join(dir, 'hs.key'), Buffer.concat([Buffer.from(secret), Buffer.from('\n')]));
  const config = JwtSchema.parse({ keyFiles: [join(dir, 'k.pem')], secretFile: join(dir, 'hs.key'), algorithms: ['RS256', 'HS256'] });
  const v = new JwtVerifier(config, log);
  assert.equal(await reasonOf(v.verify(await signToken(rsa, {}))), 'ok');
  assert.equal(await reasonOf(v.verify(await signToken({ alg: 'HS256', secret }, {}))), 'ok');
  assert.equal(await reasonOf(v.verify(await signToken({ alg: 'HS256', secret: new Uint8Array(32).fill(8) }, {}))), 'token-signature');
  const { generateKeyPairSync } = await import('node:crypto');
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  writeFileSync(join(dir, 'small.pem'), small.export({ format: 'pem', type: 'spki' }));
  assert.throws(() => new JwtVerifier(JwtSchema.parse({ keyFiles: [join(dir, 'small.pem')] }), log), (err: Error & { code?: string }) => err.code === 'WSHA_ERR_KEY_LOAD' && /2048/.test(err.message));
});

/** A token whose claims part is `body` verbatim. */
async function signRaw(k: SigningKey, header: Record<string, unknown>, body: string): Promise<string> {
  const { sign } = await import('node:crypto');
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(body).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), k.privateKey).toString('base64url')}`;
}
