import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyHeader, encodeProxyHeader, V1_MAX_BYTES, V2_MAX_PAYLOAD_BYTES, type ProxyParseResult } from '../../../node/listen/proxy-protocol';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(verCmd: number, famProto: number, payload: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(payload.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, famProto]), len, payload]);
}

function done(r: ProxyParseResult) {
  assert.equal(r.state, 'done', JSON.stringify(r));
  return r as Extract<ProxyParseResult, { state: 'done' }>;
}

test('v1 TCP4 header is decoded and the bytes after it are not consumed', () => {
  const line = 'PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n';
  const r = done(parseProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n')));
  assert.equal(r.consumed, line.length);
  assert.deepEqual(r.header, { version: 1, command: 'PROXY', family: 'TCP4', sourceAddress: '192.0.2.1', sourcePort: 56324, destAddress: '198.51.100.7', destPort: 443 });
});

test('v1 TCP6 header is decoded', () => {
  const r = done(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 ::1 1 65535\r\n')));
  assert.equal(r.header.family, 'TCP6');
  assert.equal(r.header.sourceAddress, '2001:db8::1');
  assert.equal(r.header.destAddress, '::1');
  assert.equal(r.header.destPort, 65535);
});

test('v1 UNKNOWN header carries no address, with or without trailing fields', () => {
  for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n']) {
    const r = done(parseProxyHeader(Buffer.from(line)));
    assert.deepEqual(r.header, { version: 1, command: 'PROXY', family: 'UNKNOWN' });
    assert.equal(r.consumed, line.length);
  }
});

test('v1 header split byte by byte answers need-more until the CRLF', () => {
  const line = Buffer.from('PROXY TCP4 10.0.0.1 10.0.0.2 1000 2000\r\n');
  for (let i = 1; i < line.length; i++) assert.deepEqual(parseProxyHeader(line.subarray(0, i)), { state: 'need-more' }, `at ${i}`);
  assert.equal(done(parseProxyHeader(line)).header.sourceAddress, '10.0.0.1');
});

test('v1 malformed headers are invalid', () => {
  const bad = [
    'PROXY TCP4 10.0.0.1 10.0.0.2 1000\r\n',          // missing port
    'PROXY TCP4 ::1 10.0.0.2 1000 2000\r\n',           // v6 in TCP4
    'PROXY TCP6 10.0.0.1 10.0.0.2 1000 2000\r\n',      // v4 in TCP6
    'PROXY TCP4 10.0.0.1 10.0.0.2 1000 70000\r\n',     // port range
    'PROXY TCP4 10.0.0.1  10.0.0.2 1000 2000\r\n',     // double space
    'PROXY UDP4 10.0.0.1 10.0.0.2 1000 2000\r\n',      // protocol
    'PROXY TCP4 10.0.0.1 10.0.0.2 1000 2000\rX',       // CR without LF
    'PROXY TCP4 10.0.0.1 10.0.0.2 1000 2000\n',        // bare LF
    'PROXY TCP4 10.0.0.1 10.0.0.2 -1 2000\r\n',
  ];
  for (const s of bad) assert.equal(parseProxyHeader(Buffer.from(s)).state, 'invalid', s);
});

test('garbage is rejected on its first bytes, not after a timeout', () => {
  assert.equal(parseProxyHeader(Buffer.from('G')).state, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')).state, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from('PROXX')).state, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from([0x0d, 0x0a, 0x0d, 0x0b])).state, 'invalid');
  assert.equal(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01])).state, 'invalid'); // TLS ClientHello
  assert.deepEqual(parseProxyHeader(Buffer.alloc(0)), { state: 'need-more' });
});

test('v1 longer than 107 bytes is invalid; a non-printable byte is invalid at once', () => {
  const long = Buffer.from('PROXY UNKNOWN ' + 'x'.repeat(V1_MAX_BYTES));
  assert.equal(parseProxyHeader(long).state, 'invalid');
  assert.equal(parseProxyHeader(long.subarray(0, V1_MAX_BYTES)).state, 'invalid');
  assert.equal(parseProxyHeader(long.subarray(0, V1_MAX_BYTES - 1)).state, 'need-more');
  assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1\x00')).state, 'invalid');
  // Exactly 107 bytes with CRLF is allowed.
  const max = Buffer.from('PROXY UNKNOWN ' + 'y'.repeat(V1_MAX_BYTES - 16) + '\r\n');
  assert.equal(max.length, V1_MAX_BYTES);
  assert.equal(done(parseProxyHeader(max)).consumed, V1_MAX_BYTES);
});

test('v2 PROXY over IPv4 is decoded; TLVs are skipped by consumed', () => {
  const payload = Buffer.from([192, 0, 2, 1, 198, 51, 100, 7, 0xdc, 0x04, 0x01, 0xbb, /* TLV */ 0x04, 0x00, 0x01, 0x00]);
  const buf = Buffer.concat([v2(0x21, 0x11, payload), Buffer.from('GET')]);
  const r = done(parseProxyHeader(buf));
  assert.equal(r.consumed, 16 + payload.length);
  assert.deepEqual(r.header, { version: 2, command: 'PROXY', family: 'TCP4', sourceAddress: '192.0.2.1', sourcePort: 56324, destAddress: '198.51.100.7', destPort: 443 });
});

test('v2 PROXY over IPv6 is decoded in RFC 5952 form', () => {
  const p = Buffer.alloc(36);
  p.write('20010db8000000000000000000000001', 0, 'hex');
  p.write('00000000000000000000ffff7f000001', 16, 'hex');
  p.writeUInt16BE(1234, 32); p.writeUInt16BE(80, 34);
  const r = done(parseProxyHeader(v2(0x21, 0x21, p)));
  assert.deepEqual(r.header, { version: 2, command: 'PROXY', family: 'TCP6', sourceAddress: '2001:db8::1', sourcePort: 1234, destAddress: '::ffff:127.0.0.1', destPort: 80 });
});

test('v2 LOCAL carries no address even when an address block is present', () => {
  const r = done(parseProxyHeader(v2(0x20, 0x11, Buffer.alloc(12, 7))));
  assert.deepEqual(r.header, { version: 2, command: 'LOCAL', family: 'UNKNOWN' });
  assert.equal(r.consumed, 28);
  assert.equal(done(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0)))).consumed, 16);
});

test('v2 UDP and UNSPEC give UNKNOWN family', () => {
  assert.equal(done(parseProxyHeader(v2(0x21, 0x12, Buffer.alloc(12)))).header.family, 'UNKNOWN');
  assert.equal(done(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)))).header.family, 'UNKNOWN');
});

test('v2 split across chunks answers need-more until the whole length has arrived', () => {
  const full = v2(0x21, 0x11, Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2]));
  for (let i = 1; i < full.length; i++) assert.deepEqual(parseProxyHeader(full.subarray(0, i)), { state: 'need-more' }, `at ${i}`);
  assert.equal(done(parseProxyHeader(full)).header.destAddress, '10.0.0.2');
});

test('v2 bad version, command, family, truncated address block and oversized length are invalid', () => {
  assert.equal(parseProxyHeader(v2(0x11, 0x11, Buffer.alloc(12))).state, 'invalid');
  assert.equal(parseProxyHeader(Buffer.concat([SIG, Buffer.from([0x31])])).state, 'invalid'); // version seen early
  assert.equal(parseProxyHeader(v2(0x22, 0x11, Buffer.alloc(12))).state, 'invalid');
  assert.equal(parseProxyHeader(v2(0x21, 0x41, Buffer.alloc(12))).state, 'invalid');
  assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.alloc(8))).state, 'invalid');
  assert.equal(parseProxyHeader(v2(0x21, 0x21, Buffer.alloc(20))).state, 'invalid');
  const huge = Buffer.concat([SIG, Buffer.from([0x21, 0x11, 0xff, 0xff])]);
  assert.equal(parseProxyHeader(huge).state, 'invalid');
  const justOver = Buffer.concat([SIG, Buffer.from([0x21, 0x11]), Buffer.from([(V2_MAX_PAYLOAD_BYTES + 1) >> 8, (V2_MAX_PAYLOAD_BYTES + 1) & 0xff])]);
  assert.equal(parseProxyHeader(justOver).state, 'invalid');
});

test('encode -> parse round trip for v1 and v2, IPv4 and IPv6', () => {
  const cases: Array<[string, string, 'TCP4' | 'TCP6']> = [
    ['203.0.113.9', '127.0.0.1', 'TCP4'],
    ['2001:db8:0:1::ab', 'fe80::1:2', 'TCP6'],
    ['::1', '::', 'TCP6'],
    ['1:2:3:4:5:6:7:8', '1::8', 'TCP6'],
  ];
  for (const version of ['v1', 'v2'] as const) {
    for (const [s, d, fam] of cases) {
      const buf = encodeProxyHeader(version, { address: s, port: 40000 }, { address: d, port: 8443 });
      const r = done(parseProxyHeader(buf));
      assert.equal(r.consumed, buf.length);
      assert.deepEqual(r.header, { version: version === 'v1' ? 1 : 2, command: 'PROXY', family: fam, sourceAddress: s, sourcePort: 40000, destAddress: d, destPort: 8443 }, `${version} ${s}`);
    }
  }
});

test('encode unmaps IPv4-mapped pairs, maps mixed pairs to IPv6, and falls back to UNKNOWN', () => {
  const a = done(parseProxyHeader(encodeProxyHeader('v2', { address: '::ffff:127.0.0.5', port: 1 }, { address: '::ffff:127.0.0.1', port: 2 })));
  assert.equal(a.header.family, 'TCP4');
  assert.equal(a.header.sourceAddress, '127.0.0.5');
  const b = done(parseProxyHeader(encodeProxyHeader('v2', { address: '10.1.2.3', port: 1 }, { address: '::1', port: 2 })));
  assert.equal(b.header.family, 'TCP6');
  assert.equal(b.header.sourceAddress, '::ffff:10.1.2.3');
  const c = done(parseProxyHeader(encodeProxyHeader('v1', { address: '::ffff:10.1.2.3', port: 1 }, { address: '::1', port: 2 })));
  assert.equal(c.header.sourceAddress, '::ffff:10.1.2.3');
  assert.equal(encodeProxyHeader('v1', { address: 'not-an-ip', port: 1 }, { address: '::1', port: 2 }).toString(), 'PROXY UNKNOWN\r\n');
  assert.equal(done(parseProxyHeader(encodeProxyHeader('v2', { address: '', port: 0 }, { address: '', port: 0 }))).header.family, 'UNKNOWN');
  assert.equal(done(parseProxyHeader(encodeProxyHeader('v1', { address: 'fe80::1%eth0', port: 1 }, { address: 'fe80::2', port: 2 }))).header.sourceAddress, 'fe80::1');
});
