/** The request checks shared by plain HTTP and upgrades: version, Host, target form, framing, headers, path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { checkRequest, sameAuthority } from '../../../../node/http/request-checks';
import { WshaError } from '../../../../shared/errors';

function req(url: string, raw: string[], version = '1.1'): IncomingMessage {
  const [major, minor] = version.split('.').map(Number);
  return { url, rawHeaders: raw, httpVersion: version, httpVersionMajor: major, httpVersionMinor: minor } as unknown as IncomingMessage;
}
const code = (r: ReturnType<typeof checkRequest>) => (r instanceof WshaError ? r.code : 'ok');

test('a plain request passes with its normalised path, query and framing', () => {
  const r = checkRequest(req('/a/./b?x=../y', ['Host', 'app.test']));
  assert.ok(!(r instanceof WshaError));
  assert.deepEqual(r, { host: 'app.test', path: '/a/b', query: '?x=../y', encodedSlash: false, framing: 'none' });
  const c = checkRequest(req('/', ['Host', 'a', 'Transfer-Encoding', 'Chunked ']));
  assert.equal(!(c instanceof WshaError) && c.framing, 'chunked');
  const l = checkRequest(req('/', ['Host', 'a', 'Content-Length', '12']));
  assert.equal(!(l instanceof WshaError) && l.framing, 'length');
});

test('versions other than 1.0 and 1.1 are refused', () => {
  for (const v of ['0.9', '2.0', '1.2']) assert.equal(code(checkRequest(req('/', ['Host', 'a'], v))), 'WSHA_ERR_BAD_REQUEST', v);
  assert.equal(code(checkRequest(req('/', [], '1.0'))), 'ok');
});

test('Host: exactly one, well formed, required on 1.1', () => {
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'host', 'b']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('/', []))), 'WSHA_ERR_BAD_REQUEST');
  for (const h of ['a/b', 'a@b', 'a b', '[::1', 'a:b']) assert.equal(code(checkRequest(req('/', ['Host', h]))), 'WSHA_ERR_BAD_REQUEST', h);
  for (const h of ['a.test', 'a.test:8080', '[::1]:80', '127.0.0.1', 'under_score.test', '']) assert.equal(code(checkRequest(req('/', ['Host', h]))), 'ok', h);
});

test('absolute-form must agree with Host (scheme default ports count); other forms are refused', () => {
  const r = checkRequest(req('http://A.test:80/x?q', ['Host', 'a.test']));
  assert.ok(!(r instanceof WshaError) && r.path === '/x' && r.query === '?q');
  assert.equal(code(checkRequest(req('https://a.test/x', ['Host', 'a.test:443']))), 'ok');
  assert.equal(code(checkRequest(req('http://b.test/x', ['Host', 'a.test']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('http://a.test:81/x', ['Host', 'a.test']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('http://u@a.test/x', ['Host', 'a.test']))), 'WSHA_ERR_BAD_REQUEST');
  for (const t of ['*', 'a.test:443', 'ftp://a/x', '/a#b']) assert.equal(code(checkRequest(req(t, ['Host', 'a']))), 'WSHA_ERR_BAD_REQUEST', t);
  const noHost = checkRequest(req('http://a.test/x', [], '1.0'));
  assert.ok(!(noHost instanceof WshaError) && noHost.host === 'a.test');
  assert.ok(sameAuthority('[::1]', '[::1]:80', 'http'));
});

test('framing that cannot be forwarded unambiguously is refused', () => {
  for (const raw of [['Transfer-Encoding', 'gzip, chunked'], ['Transfer-Encoding', 'identity'], ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked'],
    ['Transfer-Encoding', 'chunked', 'Content-Length', '3'], ['Content-Length', '1', 'Content-Length', '1'], ['Content-Length', '-1'], ['Content-Length', '1e3']]) {
    assert.equal(code(checkRequest(req('/', ['Host', 'a', ...raw]))), 'WSHA_ERR_BAD_FRAMING', JSON.stringify(raw));
  }
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'Transfer-Encoding', 'chunked'], '1.0'))), 'WSHA_ERR_BAD_FRAMING');
});

test('invalid header names and values are refused; obs-text in a value is allowed', () => {
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'Bad Name', 'x']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'X', 'a\u0000b']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'X', 'a\rb']))), 'WSHA_ERR_BAD_REQUEST');
  assert.equal(code(checkRequest(req('/', ['Host', 'a', 'X', 'caf\u00e9\tok']))), 'ok');
});

test('paths the normaliser refuses are WSHA_ERR_BAD_PATH; an encoded slash is flagged for the route to decide', () => {
  for (const p of ['/..', '/a\\b', '/a/..;/b', '/%00', '/%zz']) assert.equal(code(checkRequest(req(p, ['Host', 'a']))), 'WSHA_ERR_BAD_PATH', p);
  const r = checkRequest(req('/a%2Fb', ['Host', 'a']));
  assert.ok(!(r instanceof WshaError) && r.encodedSlash);
});
