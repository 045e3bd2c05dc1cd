/** The first request line, checked before Node's parser: versions, shape, incremental verdicts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestLine } from '../../../../node/listen/request-line';

const v = (s: string, max = 1024) => checkRequestLine(Buffer.from(s, 'latin1'), max);

test('HTTP/1.0 and HTTP/1.1 lines pass, after optional empty lines', () => {
  assert.equal(v('GET / HTTP/1.1\r\n').state, 'ok');
  assert.equal(v('POST /a?b=c HTTP/1.0\r\nHost: x\r\n\r\n').state, 'ok');
  assert.equal(v('\r\n\r\nGET / HTTP/1.1\r\n').state, 'ok');
  assert.equal(v('GET http://a.test/x HTTP/1.1\r\n').state, 'ok');
  assert.equal(v('M-SEARCH /x HTTP/1.1\r\n').state, 'ok');
});

test('an incomplete line waits, unless its first bytes cannot be a method', () => {
  for (const s of ['', 'G', 'GET', 'GET ', 'GET /', 'GET / HTTP/1.1', 'GET / HTTP/1.1\r', '\r', '\r\n']) assert.equal(v(s).state, 'need-more', JSON.stringify(s));
  for (const s of ['\x16\x03\x01', ' GET', '\x00', 'G(T']) assert.equal(v(s).state, 'bad', JSON.stringify(s));
});

test('HTTP/0.9, other versions and malformed lines are refused with 400 as soon as the line ends', () => {
  for (const s of ['GET /\r\n', 'GET / HTTP/2.0\r\n', 'GET / HTTP/1.2\r\n', 'GET / HTTP/0.9\r\n', 'GET / HTTP/3\r\n', 'GET / http/1.1\r\n',
    'GET  / HTTP/1.1\r\n', 'GET / HTTP/1.1 \r\n', 'GET / HTTP/1.1\n', '\nGET / HTTP/1.1\r\n', 'PRI * HTTP/2.0\r\n', 'OPTIONS * HTTP/1.1\r\n', 'GET a.test:80 HTTP/1.1\r\n']) {
    const r = v(s);
    assert.ok(r.state === 'bad' && r.status === 400, `${JSON.stringify(s)}: ${JSON.stringify(r)}`);
  }
});

test('CONNECT gets 405, a line longer than the limit 414', () => {
  const c = v('CONNECT a:443 HTTP/1.1\r\n');
  assert.ok(c.state === 'bad' && c.status === 405);
  const long = v(`GET /${'a'.repeat(100)}`, 64);
  assert.ok(long.state === 'bad' && long.status === 414);
  const longDone = v(`GET /${'a'.repeat(100)} HTTP/1.1\r\n`, 64);
  assert.ok(longDone.state === 'bad' && longDone.status === 414);
});
