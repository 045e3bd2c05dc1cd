import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { forwardHeaders } from '../../../../node/http/http-proxy';

test('forwarded HTTP headers: hop-by-hop and Connection-listed headers dropped, X-Forwarded-* added, session cookie merged', () => {
  const req = {
    headers: {
      host: 'app.test', connection: 'keep-alive, X-Secret', 'keep-alive': 'timeout=5', 'x-secret': 's', te: 'trailers',
      'transfer-encoding': 'chunked', 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'spoofed', cookie: 'a=1', accept: 'text/plain',
    },
  } as unknown as IncomingMessage;
  const out = forwardHeaders(req, '192.0.2.5', 'https', 'Cookie: sid=xyz\r\n');
  assert.deepEqual(Object.keys(out).sort(), ['accept', 'cookie', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
  assert.equal(out['x-forwarded-for'], '10.0.0.1, 192.0.2.5');
  assert.equal(out['x-forwarded-proto'], 'https');
  assert.equal(out['x-forwarded-host'], 'app.test');
  assert.equal(out.cookie, 'a=1; sid=xyz');
});
