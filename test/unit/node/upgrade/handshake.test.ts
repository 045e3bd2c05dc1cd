import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { acceptFor, cookieValue, invalid101Reason, invalidUpgradeReason, relayHead, requestHeadBytes, switchingHead } from '../../../../node/upgrade/handshake';
import { forwardHeaderList } from '../../../../node/http/forward-headers';
import { closeFrame } from '../../../../node/upgrade/tunnel';
import type { ResponseHead } from '../../../../node/upgrade/response-head';

function req(headers: Record<string, string>, method = 'GET', url = '/ws', httpVersion = '1.1'): IncomingMessage {
  const rawHeaders = Object.entries(headers).flat();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url, httpVersion, rawHeaders, headers: lower } as unknown as IncomingMessage;
}
function res(statusCode: number, rawHeaders: string[], httpVersion: '1.0' | '1.1' = '1.1', statusMessage = 'Switching Protocols'): ResponseHead {
  return { statusCode, statusMessage, httpVersion, rawHeaders };
}
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const good = { Host: 'a.test', Upgrade: 'websocket', Connection: 'keep-alive, Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13' };

test('upgrade validation', () => {
  assert.equal(invalidUpgradeReason(req(good)), null);
  assert.match(invalidUpgradeReason(req({ ...good, Connection: 'keep-alive' }))!, /Connection/);
  assert.match(invalidUpgradeReason(req({ ...good, 'Sec-WebSocket-Key': 'short' }))!, /Key/);
  assert.match(invalidUpgradeReason(req({ ...good, 'Sec-WebSocket-Version': '8' }))!, /Version/);
  assert.match(invalidUpgradeReason(req(good, 'POST'))!, /GET/);
  assert.match(invalidUpgradeReason(req(good, 'GET', '/ws', '1.0'))!, /HTTP\/1\.1/);
  assert.match(invalidUpgradeReason(req(good), 'chunked')!, /body/);
  assert.match(invalidUpgradeReason(req({ ...good, 'Content-Length': '5' }), 'length')!, /body/);
  assert.equal(invalidUpgradeReason(req({ ...good, 'Content-Length': '0' }), 'length'), null);
});

test('Sec-WebSocket-Accept is computed as RFC 6455 shows it', () => {
  assert.equal(acceptFor(KEY), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('a 101 opens a tunnel only with HTTP/1.1, one Upgrade: websocket, Connection: upgrade and the right Accept', () => {
  const accept = acceptFor(KEY);
  const ok = ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', accept];
  assert.equal(invalid101Reason(res(101, ok), accept), null);
  assert.equal(invalid101Reason(res(101, ['upgrade', 'WebSocket', 'connection', 'keep-alive, upgrade', 'sec-websocket-accept', accept]), accept), null);
  assert.match(invalid101Reason(res(101, ok, '1.0'), accept)!, /HTTP\/1\.0/);
  assert.match(invalid101Reason(res(101, ['Connection', 'Upgrade', 'Sec-WebSocket-Accept', accept]), accept)!, /Upgrade/);
  assert.match(invalid101Reason(res(101, ['Upgrade', 'h2c', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', accept]), accept)!, /Upgrade/);
  assert.match(invalid101Reason(res(101, ['Upgrade', 'websocket', 'Sec-WebSocket-Accept', accept]), accept)!, /Connection/);
  assert.match(invalid101Reason(res(101, ['Upgrade', 'websocket', 'Connection', 'Upgrade']), accept)!, /no Sec-WebSocket-Accept/);
  assert.match(invalid101Reason(res(101, [...ok.slice(0, 4), 'Sec-WebSocket-Accept', acceptFor('AAAAAAAAAAAAAAAAAAAAAA==')]), accept)!, /does not match/);
  assert.match(invalid101Reason(res(101, [...ok, 'Sec-WebSocket-Accept', accept]), accept)!, /more than one/);
  assert.match(invalid101Reason(res(200, ok), accept)!, /status 200/);
});

test('the 101 keeps the backend headers and adds extra lines; a relayed refusal ends with Connection: close', () => {
  const r = res(101, ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'x']);
  assert.equal(switchingHead(r, 'Set-Cookie: a=b\r\n').toString(), 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\nSet-Cookie: a=b\r\n\r\n');
  const refused = res(426, ['Sec-WebSocket-Version', '13', 'Connection', 'keep-alive', 'Transfer-Encoding', 'chunked', 'Content-Type', 'text/plain'], '1.1', 'Upgrade Required');
  assert.equal(relayHead(refused).toString(), 'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
});

test('upgrade headers: case and order kept, Connection normalised, hop-by-hop and listed headers dropped, X-Forwarded-* set', () => {
  const out = forwardHeaderList(req({ ...good, 'X-Forwarded-For': '10.0.0.1', 'Sec-WebSocket-Protocol': 'a, b', 'X-Forwarded-Proto': 'spoofed', 'Keep-Alive': '5', Cookie: 'c=1' }),
    { clientAddress: '192.0.2.9', proto: 'https', extra: 'Cookie: s=1\r\n', stickyHeader: '', backendHost: 'b:1' }, 'upgrade', 'none');
  assert.deepEqual(out, ['Host', 'a.test', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', KEY, 'Sec-WebSocket-Version', '13', 'Sec-WebSocket-Protocol', 'a, b', 'Cookie', 'c=1; s=1',
    'X-Forwarded-For', '10.0.0.1, 192.0.2.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'a.test']);
  assert.equal(requestHeadBytes(req({ Host: 'a' })), 'GET /ws HTTP/1.1\r\nHost: a\r\n\r\n'.length);
});

test('cookie values', () => {
  assert.equal(cookieValue('a=1; sid=x%20y; b=2', 'sid'), 'x y');
  assert.equal(cookieValue('a=1', 'sid'), null);
});

test('close frames are unmasked with the code first and a reason cut to 123 bytes', () => {
  assert.deepEqual([...closeFrame(1012, 'bye')], [0x88, 5, 0x03, 0xf4, 0x62, 0x79, 0x65]);
  const long = closeFrame(1001, 'x'.repeat(300));
  assert.equal(long[1], 125);
  assert.equal(long.length, 127);
});
