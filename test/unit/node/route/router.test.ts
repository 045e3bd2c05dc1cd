import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, normalizeHost, pathHasPrefix } from '../../../../node/route/router';

const r = (host: string, path: string, pool: string) => ({ host, path, pool });

test('exact host beats wildcard beats *, longest path prefix wins inside a host class', () => {
  const router = new Router([r('*', '/', 'default'), r('*', '/api', 'api'), r('*.example.com', '/', 'wild'), r('*.eu.example.com', '/', 'eu'), r('chat.example.com', '/ws', 'chat')]);
  assert.equal(router.match('chat.example.com', '/ws/room')?.pool, 'chat');
  assert.equal(router.match('CHAT.example.com:8443', '/ws')?.pool, 'chat');
  assert.equal(router.match('chat.example.com', '/other')?.pool, 'wild', 'no path match on the exact host falls through to the wildcard');
  assert.equal(router.match('x.eu.example.com', '/')?.pool, 'eu', 'longest wildcard suffix first');
  assert.equal(router.match('example.com', '/')?.pool, 'default', '*.example.com does not match the bare domain');
  assert.equal(router.match('other.test', '/api/v1')?.pool, 'api');
  assert.equal(router.match('other.test', '/apix')?.pool, 'default', 'prefixes match on segment boundaries');
  assert.equal(router.match(undefined, '/')?.pool, 'default');
});

test('no route gives null', () => {
  const router = new Router([r('a.test', '/x', 'p')]);
  assert.equal(router.match('a.test', '/y'), null);
  assert.equal(router.match('b.test', '/x'), null);
});

test('host normalisation and prefix boundaries', () => {
  assert.equal(normalizeHost('[::1]:8080'), '[::1]');
  assert.equal(normalizeHost('Example.COM:80'), 'example.com');
  assert.ok(pathHasPrefix('/api?x=1', '/api'));
  assert.ok(pathHasPrefix('/api/', '/api/'));
  assert.ok(!pathHasPrefix('/apiary', '/api'));
});
