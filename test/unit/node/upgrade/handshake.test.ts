import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { buildRequestHead, invalidUpgradeReason, headEnd, parseStatus, withExtraHeaders, cookieValue } from '../../../../node/upgrade/handshake';
import { closeFrame } from '../../../../node/upgrade/tunnel';

function req(headers: Record<string, string>, method = 'GET', url = '/ws'): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url, rawHeaders, headers: lower } as unknown as IncomingMessage;
}
const good = { Host: 'a.test', Upgrade: 'websocket', Connection: 'keep-alive, Upgrade', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

test('upgrade validation', () => {
  assert.equal(invalidUpgradeReason(req(good)), null);
  assert.match(invalidUpgradeReason(req({ ...good, Connection: 'keep-alive' }))!, /Connection/);
  assert.match(invalidUpgradeReason(req({ ...good, 'Sec-WebSocket-Key': 'short' }))!, /Key/);
  assert.match(invalidUpgradeReason(req({ ...good, 'Sec-WebSocket-Version': '8' }))!, /Version/);
  assert.match(invalidUpgradeReason(req(good, 'POST'))!, /GET/);
});

test('request head keeps header case and order, appends X-Forwarded-For, sets Proto and Host', () => {
  const head = buildRequestHead(req({ ...good, 'X-Forwarded-For': '10.0.0.1', 'Sec-WebSocket-Protocol': 'a, b', 'X-Forwarded-Proto': 'spoofed' }), { clientAddress: '192.0.2.9', proto: 'https', extra: 'Cookie: s=1\r\n' });
  assert.ok(head.startsWith('GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\n'));
  assert.match(head, /\r\nSec-WebSocket-Protocol: a, b\r\n/);
  assert.match(head, /\r\nX-Forwarded-For: 10\.0\.0\.1, 192\.0\.2\.9\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: a\.test\r\nCookie: s=1\r\n\r\n$/);
  assert.doesNotMatch(head, /spoofed/);
});

test('response head parsing and extra headers', () => {
  const head = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
  const buf = Buffer.concat([head, Buffer.from([0x81, 0x01, 0x41])]);
  assert.equal(headEnd(buf), head.length);
  assert.equal(headEnd(head.subarray(0, 20)), -1);
  assert.equal(parseStatus(head), 101);
  assert.equal(parseStatus(Buffer.from('garbage garbage\r\n\r\n')), 0);
  assert.equal(withExtraHeaders(head, 'Set-Cookie: a=b\r\n').toString(), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSet-Cookie: a=b\r\n\r\n');
  assert.equal(cookieValue('a=1; sid=x%20y; b=2', 'sid'), 'x y');
  assert.equal(cookieValue('a=1', 'sid'), null);
});

test('close frames are unmasked with the code first and a reason cut to 123 bytes', () => {
  assert.deepEqual([...closeFrame(1012, 'bye')], [0x88, 5, 0x03, 0xf4, 0x62, 0x79, 0x65]);
  const long = closeFrame(1001, 'x'.repeat(300));
  assert.equal(long[1], 125);
  assert.equal(long.length, 127);
});
