/** Admin token check: header, query parameter and cookie; wrong and missing tokens refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { TokenCheck, generateToken, presentedToken } from '../../../../node/admin/auth';

const req = (headers: Record<string, string>) => ({ headers } as unknown as IncomingMessage);
const url = (q = '') => new URL(`http://admin/api/state${q}`);

test('the token is taken from header, then query, then cookie', () => {
  assert.equal(presentedToken(req({ authorization: 'Bearer abc' }), url('?token=def')), 'abc');
  assert.equal(presentedToken(req({ authorization: 'bearer  abc ' }), url()), 'abc');
  assert.equal(presentedToken(req({}), url('?token=def')), 'def');
  assert.equal(presentedToken(req({ cookie: 'a=1; wsha_admin_token=g%20h' }), url()), 'g h');
  assert.equal(presentedToken(req({ authorization: 'Basic xyz' }), url()), null);
  assert.equal(presentedToken(req({}), url()), null);
});

test('only the exact token passes', () => {
  const check = new TokenCheck('s3cret-token');
  assert.equal(check.allows(req({ authorization: 'Bearer s3cret-token' }), url()), true);
  for (const bad of ['s3cret-toke', 's3cret-token2', 'S3CRET-TOKEN', '']) assert.equal(check.allows(req({ authorization: `Bearer ${bad}` }), url()), false, JSON.stringify(bad));
  assert.equal(check.allows(req({}), url()), false);
});

test('generated tokens are long and different', () => {
  const a = generateToken();
  assert.ok(a.length >= 20);
  assert.notEqual(a, generateToken());
});
