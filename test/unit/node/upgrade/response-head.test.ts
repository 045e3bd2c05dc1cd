import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseHeadReader, parseHead } from '../../../../node/upgrade/response-head';

const OK = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n';

function feedAll(reader: ResponseHeadReader, parts: string[]) {
  let r = reader.feed(Buffer.from(parts[0], 'latin1'));
  for (const p of parts.slice(1)) r = reader.feed(Buffer.from(p, 'latin1'));
  return r;
}

test('a 101 in one chunk gives its head and the bytes after it', () => {
  const r = new ResponseHeadReader(65536).feed(Buffer.from(`${OK}\x81\x02hi`, 'latin1'));
  assert.equal(r.kind, 'head');
  if (r.kind !== 'head') return;
  assert.equal(r.head.statusCode, 101);
  assert.equal(r.head.statusMessage, 'Switching Protocols');
  assert.equal(r.head.httpVersion, '1.1');
  assert.deepEqual(r.head.rawHeaders, ['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Accept', 'abc=']);
  assert.equal(r.rest.toString('latin1'), '\x81\x02hi');
});

test('a head split anywhere, even inside the blank line, is read the same', () => {
  for (let cut = 1; cut < OK.length; cut++) {
    const r = feedAll(new ResponseHeadReader(65536), [OK.slice(0, cut), OK.slice(cut)]);
    assert.equal(r.kind, 'head', `cut at ${cut}`);
    if (r.kind === 'head') assert.equal(r.rest.length, 0);
  }
  const bytes = [...OK];
  const r = feedAll(new ResponseHeadReader(65536), bytes);
  assert.equal(r.kind, 'head', 'one byte at a time');
});

test('interim 1xx answers are skipped; the final answer (or the 101) is returned', () => {
  const r = new ResponseHeadReader(65536).feed(Buffer.from(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${OK}`, 'latin1'));
  assert.equal(r.kind, 'head');
  if (r.kind === 'head') assert.equal(r.head.statusCode, 101);
  const r2 = feedAll(new ResponseHeadReader(65536), ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 4', '03 Forbidden\r\nContent-Length: 2\r\n\r\nno']);
  assert.equal(r2.kind, 'head');
  if (r2.kind === 'head') { assert.equal(r2.head.statusCode, 403); assert.equal(r2.rest.toString(), 'no'); }
});

test('values lose surrounding blanks only; obs-text stays', () => {
  const h = parseHead('HTTP/1.0 200\r\nX-A: \t v \t\r\nX-B:\r\nX-C: caf\xe9\xa0');
  assert.ok(typeof h !== 'string');
  if (typeof h === 'string') return;
  assert.equal(h.httpVersion, '1.0');
  assert.equal(h.statusMessage, '');
  assert.deepEqual(h.rawHeaders, ['X-A', 'v', 'X-B', '', 'X-C', 'caf\xe9\xa0']);
});

test('malformed heads are refused with a reason', () => {
  const bad: Array<[string, RegExp]> = [
    ['HTTP/2.0 101 X', /status line/],
    ['HTTP/1.1 99 X', /status line/],
    ['HTTP/1.1 1010 X', /status line/],
    ['http/1.1 101 X', /status line/],
    ['HTTP/1.1 101 X\rY', /status line/],
    ['HTTP/1.1 200 OK\r\nNo-Colon', /header line/],
    ['HTTP/1.1 200 OK\r\nName : v', /header line/],
    ['HTTP/1.1 200 OK\r\nA: b\r\n folded', /header line/],
    ['HTTP/1.1 200 OK\r\n: v', /header line/],
    ['HTTP/1.1 200 OK\r\nA: b\nC: d', /header value/],
    ['HTTP/1.1 200 OK\r\nA: b\0c', /header value/],
    ['HTTP/1.1 200 OK\r\nA\x7f: b', /header line/],
  ];
  for (const [head, why] of bad) {
    const r = new ResponseHeadReader(65536).feed(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
    assert.equal(r.kind, 'malformed', JSON.stringify(head));
    if (r.kind === 'malformed') assert.match(r.why, why, JSON.stringify(head));
  }
});

test('a head ended by bare LFs is refused at once, not left waiting for a CRLF', () => {
  const r = new ResponseHeadReader(65536).feed(Buffer.from('HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n', 'latin1'));
  assert.equal(r.kind, 'malformed');
  const split = feedAll(new ResponseHeadReader(65536), ['HTTP/1.1 101 X\nUpgrade: websocket\n', '\n']);
  assert.equal(split.kind, 'malformed');
});

test('a head larger than the bound is refused, whole or in pieces', () => {
  const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}\r\n\r\n`;
  const whole = new ResponseHeadReader(100).feed(Buffer.from(big));
  assert.equal(whole.kind, 'malformed');
  const reader = new ResponseHeadReader(100);
  let r = reader.feed(Buffer.from(big.slice(0, 60)));
  assert.equal(r.kind, 'more');
  r = reader.feed(Buffer.from(big.slice(60, 150)));
  assert.equal(r.kind, 'malformed');
});
