import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayBody, relayFraming } from '../../../../node/upgrade/relay-body';
import type { ResponseHead } from '../../../../node/upgrade/response-head';

function head(statusCode: number, rawHeaders: string[]): ResponseHead {
  return { statusCode, statusMessage: '', httpVersion: '1.1', rawHeaders };
}
function collect(out: string[], payload: Buffer): void { out.push(payload.toString('latin1')); }

/** Feeds `parts` in order; returns what was relayed, whether the body completed and why it broke. */
function relay(h: ResponseHead, parts: string[], ended = false) {
  const f = relayFraming(h);
  assert.ok(typeof f !== 'string', String(f));
  if (typeof f === 'string') throw new Error(f);
  const body = new RelayBody(f.framing, f.length);
  const out: string[] = [];
  let done = body.done;
  for (const p of parts) done = body.consume(Buffer.from(p, 'latin1'), collect, out) || done;
  if (ended) done = body.ended();
  return { framing: f.framing, out: out.join(''), done, broken: body.broken };
}

test('framing follows RFC 9112 6.3 for responses', () => {
  assert.equal(relay(head(204, ['Content-Length', '5']), []).framing, 'none');
  assert.equal(relay(head(304, []), []).framing, 'none');
  assert.equal(relay(head(403, ['Content-Length', '0']), []).framing, 'none');
  assert.equal(relay(head(403, ['Content-Length', '3']), []).framing, 'length');
  assert.equal(relay(head(403, ['Transfer-Encoding', 'gzip, chunked']), []).framing, 'chunked');
  assert.equal(relay(head(403, ['Transfer-Encoding', 'chunked, gzip']), []).framing, 'close');
  assert.equal(relay(head(403, []), []).framing, 'close');
});

test('smuggling-shaped framing headers are malformed', () => {
  assert.match(String(relayFraming(head(403, ['Content-Length', '3', 'Transfer-Encoding', 'chunked']))), /both/);
  assert.match(String(relayFraming(head(403, ['Content-Length', '3', 'Content-Length', '3']))), /more than one/);
  assert.match(String(relayFraming(head(403, ['Content-Length', '3, 3']))), /bad Content-Length/);
  assert.match(String(relayFraming(head(403, ['Content-Length', '-1']))), /bad Content-Length/);
  assert.match(String(relayFraming(head(403, ['Content-Length', '0x10']))), /bad Content-Length/);
  assert.match(String(relayFraming(head(403, ['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']))), /twice/);
});

test('a length-framed body ends at its length, whatever follows', () => {
  const r = relay(head(426, ['Content-Length', '11']), ['upgrade', ' me!HTTP/1.1 200 OK\r\n']);
  assert.deepEqual([r.out, r.done], ['upgrade me!', true]);
  const short = relay(head(426, ['Content-Length', '11']), ['upgr'], true);
  assert.deepEqual([short.out, short.done], ['upgr', false], 'cut short by the close');
});

test('a chunked body is decoded, split anywhere, trailers dropped', () => {
  const wire = '5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nGARBAGE';
  for (let cut = 0; cut <= wire.length; cut++) {
    const r = relay(head(403, ['Transfer-Encoding', 'chunked']), [wire.slice(0, cut), wire.slice(cut)]);
    assert.deepEqual([r.out, r.done, r.broken], ['hello 0123456789', true, ''], `cut at ${cut}`);
  }
  const byByte = relay(head(403, ['Transfer-Encoding', 'chunked']), [...wire]);
  assert.deepEqual([byByte.out, byByte.done], ['hello 0123456789', true]);
  assert.equal(relay(head(403, ['Transfer-Encoding', 'chunked']), ['0\r\n\r\n']).done, true);
});

test('broken chunk framing stops the relay without completing it', () => {
  const cases: Array<[string, RegExp]> = [
    ['g\r\n', /chunk size/],
    ['\r\n', /chunk size/],
    ['5\nhello\r\n0\r\n\r\n', /chunk size/],
    ['5;a\nb\r\nhello', /extension/],
    ['5\r\nhelloXY', /without CRLF/],
    ['12345678901234\r\n', /chunk size/],
    ['0\r\n\n', /trailer/],
    ['0\r\nX: 1\n\r\n', /trailer/],
    ['0\r\n\rX', /last chunk/],
  ];
  for (const [wire, why] of cases) {
    const r = relay(head(403, ['Transfer-Encoding', 'chunked']), [wire]);
    assert.equal(r.done, false, JSON.stringify(wire));
    assert.match(r.broken, why, JSON.stringify(wire));
  }
  assert.equal(relay(head(403, ['Transfer-Encoding', 'chunked']), ['5\r\nhel'], true).done, false, 'cut short by the close');
});

test('a close-delimited body is complete at the backend FIN', () => {
  const r = relay(head(403, []), ['a', 'b'], true);
  assert.deepEqual([r.out, r.done], ['ab', true]);
});
