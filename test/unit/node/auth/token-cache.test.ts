import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenDigest, VerifiedTokenCache } from '../../../../node/auth/token-cache';

const p = (sub: string) => Object.freeze({ sub });

test('at most maxEntries are kept, the least recently used dropped first', () => {
  const c = new VerifiedTokenCache(3, 60_000);
  for (const t of ['a', 'b', 'c']) c.set(tokenDigest(t), p(t), 0, 0, Infinity);
  assert.ok(c.get(tokenDigest('a'), 0, 1), 'a used: b is now the oldest');
  c.set(tokenDigest('d'), p('d'), 0, 2, Infinity);
  assert.equal(c.size, 3);
  assert.equal(c.get(tokenDigest('b'), 0, 3), null);
  for (const t of ['a', 'c', 'd']) assert.equal(c.get(tokenDigest(t), 0, 3)?.sub, t);
  for (let i = 0; i < 1000; i++) c.set(tokenDigest(`t${i}`), p(`t${i}`), 0, 4, Infinity);
  assert.equal(c.size, 3);
});

test('an entry serves until maxTtlMs, or less when the token expires sooner', () => {
  const c = new VerifiedTokenCache(10, 1000);
  c.set('long', p('long'), 0, 0, Infinity);
  c.set('short', p('short'), 0, 0, 200);
  assert.ok(c.get('short', 0, 199));
  assert.equal(c.get('short', 0, 200), null);
  assert.ok(c.get('long', 0, 999));
  assert.equal(c.get('long', 0, 1000), null);
  assert.equal(c.size, 0, 'stale entries are dropped when found');
  c.set('gone', p('gone'), 0, 0, 0);
  assert.equal(c.size, 0, 'a token already past its expiry is not stored');
});

test('a new key set generation empties the cache', () => {
  const c = new VerifiedTokenCache(10, 60_000);
  c.set('x', p('x'), 1, 0, Infinity);
  assert.ok(c.get('x', 1, 1));
  assert.equal(c.get('x', 2, 2), null);
  assert.equal(c.size, 0);
  assert.equal(c.hits, 1);
  assert.equal(c.misses, 1);
  c.set('late', p('late'), 1, 3, Infinity);
  assert.equal(c.size, 0, 'a token verified against the older set is not stored');
  assert.equal(c.get('late', 2, 4), null);
});

test('the key is a digest: the cache holds no token', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';
  assert.equal(tokenDigest(token).length, 44);
  assert.notEqual(tokenDigest(token), tokenDigest(`${token}x`));
});
