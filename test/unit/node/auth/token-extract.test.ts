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
