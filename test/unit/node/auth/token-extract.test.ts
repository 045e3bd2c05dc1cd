import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { extractToken } from '../../../../node/auth/token-extract';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const all = { bearer: true, cookie: 'tok', query: 'access_token', protocolPrefix: 'base64url.bearer.authorization.k8s.io.' };

test('bearer, cookie, query and protocol, in that order', () => {
  assert.deepEqual(extractToken(req({ authorization: 'Bearer a.b.c', cookie: 'tok=x.y.z' }), '', all)?.token, 'a.b.c');
  assert.equal(extractToken(req({ cookie: 'other=1; tok=x.y.z' }), '', all)?.from, 'cookie');
  assert.equal(extractToken(req({}), '?q=1&access_token=q.r.s', all)?.token, 'q.r.s');
  assert.equal(extractToken(req({ authorization: 'Basic Zm9v' }), '', { bearer: true }), null);
  assert.equal(extractToken(req({}), '', all), null);
});

test('a protocol entry is decoded (Kubernetes base64url) and removed from the list', () => {
  const jwt = 'eyJh.eyJz.sig';
  const enc = Buffer.from(jwt).toString('base64url');
  const f = extractToken(req({ 'sec-websocket-protocol': `chat, base64url.bearer.authorization.k8s.io.${enc}, v2` }), '', all);
  assert.equal(f?.token, jwt);
  assert.equal(f?.protocolRest, 'chat, v2');
  const only = extractToken(req({ 'sec-websocket-protocol': 'tok.abc.def' }), '', { bearer: false, protocolPrefix: 'tok.' });
  assert.equal(only?.token, 'abc.def');
  assert.equal(only?.protocolRest, '');
});

test('a query token is removed from the forwarded query, the rest kept byte for byte', () => {
  const q = '?a=1&access_token=x.y.z&b=%20c+d&&e&access_token=again';
  const f = extractToken(req({}), q, all);
  assert.equal(f?.token, 'x.y.z');
  assert.equal(f?.queryRest, '?a=1&b=%20c+d&&e');
  assert.equal(extractToken(req({}), '?access_token=x.y.z', all)?.queryRest, '');
  assert.equal(extractToken(req({}), '?access%5Ftoken=x.y.z&z=%5F', all)?.queryRest, '?z=%5F', 'names compare decoded, as they were found');
  assert.equal(extractToken(req({}), '?access_tokens=1&access_token=t', all)?.queryRest, '?access_tokens=1');
  assert.equal(extractToken(req({ authorization: 'Bearer a.b.c' }), '?access_token=x.y.z', all)?.queryRest, null, 'a token from elsewhere leaves the query alone');
});
