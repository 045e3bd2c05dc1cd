import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { forwardHeaderList } from '../../../../node/http/forward-headers';
import { responseHeaders } from '../../../../node/http/http-proxy';

const fwd = { clientAddress: '192.0.2.5', proto: 'https', extra: 'Cookie: sid=xyz\r\n', stickyHeader: 'x-session', backendHost: 'b:1' };
const req = (raw: string[]) => ({ rawHeaders: raw }) as unknown as IncomingMessage;
const names = (out: string[]) => out.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());

test('forwarded HTTP headers: hop-by-hop and Connection-listed headers dropped, X-Forwarded-* added, session cookie merged', () => {
  const out = forwardHeaderList(req(['Host', 'app.test', 'Connection', 'keep-alive, X-Secret', 'Keep-Alive', 'timeout=5', 'X-Secret', 's', 'TE', 'trailers',
    'Transfer-Encoding', 'chunked', 'X-Forwarded-For', '10.0.0.1', 'X-Forwarded-Proto', 'spoofed', 'Cookie', 'a=1', 'Accept', 'text/plain']), fwd, 'http', 'chunked');
  assert.deepEqual(names(out), ['host', 'cookie', 'accept', 'transfer-encoding', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
  assert.deepEqual(out.slice(6), ['Transfer-Encoding', 'chunked', 'X-Forwarded-For', '10.0.0.1, 192.0.2.5', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'app.test']);
  assert.equal(out[3], 'a=1; sid=xyz');
});

test('Connection can never remove the framing, Host, cookies, auth or the sticky header', () => {
  const out = forwardHeaderList(req(['Host', 'a', 'Connection', 'content-length, transfer-encoding, host, cookie, authorization, x-session, x-forwarded-for, x-drop', 'Content-Length', '5',
    'Cookie', 'c=1', 'Authorization', 'Bearer t', 'X-Session', 'k', 'X-Drop', 'gone']), { ...fwd, extra: '' }, 'http', 'length');
  assert.deepEqual(names(out), ['host', 'content-length', 'cookie', 'authorization', 'x-session', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
});

test('a request without framing is sent without any; duplicates of end-to-end headers are kept in order', () => {
  const out = forwardHeaderList(req(['Host', 'a', 'Accept', 'x', 'accept', 'y']), { ...fwd, extra: '' }, 'http', 'none');
  assert.deepEqual(out.slice(0, 6), ['Host', 'a', 'Accept', 'x', 'accept', 'y']);
  assert.ok(!names(out).includes('transfer-encoding') && !names(out).includes('content-length'));
});

test('response headers: hop-by-hop and the ones the backend lists in Connection are dropped, Content-Length is kept', () => {
  const pres = { rawHeaders: ['Content-Length', '3', 'Connection', 'keep-alive, X-Hop, content-length', 'X-Hop', '1', 'Keep-Alive', 'timeout=5', 'X-End', '2'] } as unknown as IncomingMessage;
  assert.deepEqual(responseHeaders(pres), ['Content-Length', '3', 'X-End', '2']);
});
