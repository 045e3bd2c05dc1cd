/** Admin token check: where a token may come from per method and route; wrong and missing tokens refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { TokenCheck, generateToken, placesFor, presentedToken, sessionCookie, sessionValue } from '../../../../cluster/admin/auth';

const req = (headers: Record<string, string>, method = 'GET') => ({ headers, method } as unknown as IncomingMessage);
const url = (path = '/api/state', q = '') => new URL(`http://admin${path}${q}`);

test('the token is taken from the header; cookie on GET; the query only on GET /api/events', () => {
  assert.equal(presentedToken(req({ authorization: 'Bearer abc' }), url('/api/events', '?token=def')), 'abc');
  assert.equal(presentedToken(req({ authorization: 'bearer  abc ' }), url()), 'abc');
  assert.equal(presentedToken(req({}), url('/api/events', '?token=def')), 'def');
  assert.equal(presentedToken(req({}), url('/api/state', '?token=def')), null);
  assert.equal(presentedToken(req({ cookie: 'a=1; wsha_admin_token=g%20h' }), url()), 'g h');
  assert.equal(presentedToken(req({ cookie: 'wsha_admin_token=g' }, 'POST'), url('/api/drain')), null);
  assert.equal(presentedToken(req({}, 'POST'), url('/api/drain', '?token=x')), null);
  assert.equal(presentedToken(req({ authorization: 'Basic xyz' }), url()), null);
  assert.equal(placesFor('POST', '/api/events'), 'header');
  assert.equal(placesFor('GET', '/api/events'), 'header-cookie-or-query');
  assert.equal(placesFor('GET', '/metrics'), 'header-or-cookie');
});

test('only the exact token passes; POST only with the header', () => {
  const check = new TokenCheck('s3cret-token');
  assert.equal(check.allows(req({ authorization: 'Bearer s3cret-token' }), url()), true);
  for (const bad of ['s3cret-toke', 's3cret-token2', 'S3CRET-TOKEN', '']) assert.equal(check.allows(req({ authorization: `Bearer ${bad}` }), url()), false, JSON.stringify(bad));
  assert.equal(check.allows(req({}), url()), false);
  assert.equal(check.allows(req({}, 'POST'), url('/api/failover', '?token=s3cret-token')), false);
  assert.equal(check.allows(req({ cookie: `wsha_admin_token=${sessionValue('s3cret-token')}` }, 'POST'), url('/api/drain')), false);
  assert.equal(check.allows(req({ cookie: `wsha_admin_token=${sessionValue('s3cret-token')}` }), url('/api/events')), true);
  // The session value is not a bearer token.
  assert.equal(check.allows(req({ authorization: `Bearer ${sessionValue('s3cret-token')}` }), url()), false);
});

test('the session cookie is HttpOnly and SameSite=Strict, Secure over TLS, and does not hold the token', () => {
  const c = sessionCookie('s3cret-token', false);
  assert.match(c, /; HttpOnly/);
  assert.match(c, /; SameSite=Strict/);
  assert.doesNotMatch(c, /Secure/);
  assert.doesNotMatch(c, /s3cret-token/);
  assert.match(sessionCookie('s3cret-token', true), /; Secure$/);
});

test('generated tokens are long and different', () => {
  const a = generateToken();
  assert.ok(a.length >= 20);
  assert.notEqual(a, generateToken());
});
