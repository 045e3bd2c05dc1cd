/** The path normaliser: RFC 3986 dot-segment removal after decoding unreserved escapes; what it refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath } from '../../../../node/route/normalize-path';

const ok = (raw: string) => { const v = normalizePath(raw); assert.ok(v.ok, `${raw}: ${!v.ok ? v.reason : ''}`); return v.ok ? v.path : ''; };
const refused = (raw: string, why: RegExp) => { const v = normalizePath(raw); assert.ok(!v.ok, `${raw} was accepted as ${v.ok ? v.path : ''}`); if (!v.ok) assert.match(v.reason, why, raw); };

test('plain paths come back as they are, without a copy', () => {
  const p = '/api/v1/users/42';
  assert.equal(ok(p), p);
  assert.equal(ok('/'), '/');
  assert.equal(ok('//a//b/'), '//a//b/');
});

test('dot segments are removed as RFC 3986 5.2.4 says, trailing slash kept', () => {
  assert.equal(ok('/a/./b'), '/a/b');
  assert.equal(ok('/a/b/..'), '/a/');
  assert.equal(ok('/a/b/.'), '/a/b/');
  assert.equal(ok('/a/../b'), '/b');
  assert.equal(ok('/a/b/../../c/'), '/c/');
  assert.equal(ok('/.'), '/');
  assert.equal(ok('/a//..'), '/a/');
  assert.equal(ok('/a/...'), '/a/...');
  assert.equal(ok('/a/..b/.c'), '/a/..b/.c');
});

test('unreserved escapes are decoded first, so encoded dots are dot segments; other escapes get upper-case hex', () => {
  assert.equal(ok('/a/%2e%2e/b'), '/b');
  assert.equal(ok('/a/.%2E/b'), '/b');
  assert.equal(ok('/%41%7a%2D%5f%7E'), '/Az-_~');
  assert.equal(ok('/a%3fb%2a%20'), '/a%3Fb%2A%20');
  assert.equal(ok('/%252e%252e'), '/%252e%252e');
  assert.equal(ok('/%c3%a9'), '/%C3%A9');
});

test('climbing above the root is refused, however it is spelled', () => {
  for (const p of ['/..', '/../a', '/a/../..', '/%2e%2e', '/./..', '/a/b/../../../c']) refused(p, /above the root/);
});

test('encoded slashes are flagged, never separators; backslashes, NUL and bad escapes are refused', () => {
  const v = normalizePath('/a/..%2fb/%2F..');
  assert.ok(v.ok && v.encodedSlash && v.path === '/a/..%2Fb/%2F..');
  assert.equal(normalizePath('/a/b').ok && (normalizePath('/a/b') as { encodedSlash: boolean }).encodedSlash, false);
  refused('/a\\b', /backslash/);
  refused('/a/%5cb', /backslash/);
  refused('/a/%5C', /backslash/);
  refused('/a%00', /NUL/);
  for (const p of ['/%', '/a%', '/%2', '/%zz', '/%g0', '/%0g']) refused(p, /percent-escape/);
  refused('a/b', /start with/);
});

test('dot segments with path parameters are refused (Tomcat and Jetty drop the parameter)', () => {
  for (const p of ['/a/..;/b', '/a/.;x/b', '/a/..;jsessionid=1', '/..;', '/a/..%3b/b', '/a/%2e%2e;x/b']) refused(p, /parameters/);
  assert.equal(ok('/a;x/../b'), '/b');
  assert.equal(ok('/a/b;v=1'), '/a/b;v=1');
});
