import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginMatcher, normaliseOrigin } from '../../../../node/access/origin-matcher';

test('exact origins match case-insensitively with the default port dropped', () => {
  const m = new OriginMatcher(['https://App.Example.com', 'http://localhost:3000']);
  assert.ok(m.allows('https://app.example.com'));
  assert.ok(m.allows('https://app.example.com:443'));
  assert.ok(m.allows('http://localhost:3000'));
  assert.ok(!m.allows('http://app.example.com'));
  assert.ok(!m.allows('https://app.example.com:8443'));
  assert.ok(!m.allows('http://localhost:3001'));
  assert.ok(!m.allows('null'));
  assert.ok(!m.allows('https://app.example.com.evil.net'));
});

test('*.example.com patterns match subdomains only, with or without a scheme', () => {
  const m = new OriginMatcher(['https://*.example.com', '*.test.org']);
  assert.ok(m.allows('https://a.example.com'));
  assert.ok(m.allows('https://a.b.example.com'));
  assert.ok(!m.allows('https://example.com'));
  assert.ok(!m.allows('http://a.example.com'));
  assert.ok(!m.allows('https://evil-example.com'));
  assert.ok(!m.allows('https://a.example.com:8443'));
  assert.ok(m.allows('http://x.test.org'));
  assert.ok(m.allows('https://x.test.org'));
  assert.ok(!m.allows('https://test.org'));
});

test('normaliseOrigin refuses paths and junk', () => {
  assert.equal(normaliseOrigin('https://a.b/x'), null);
  assert.equal(normaliseOrigin('javascript:alert(1)'), null);
  assert.equal(normaliseOrigin('HTTPS://A.B:443'), 'https://a.b');
});
