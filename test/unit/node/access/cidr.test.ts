import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrList, ipv6Words } from '../../../../node/access/cidr';

test('IPv4 ranges match by prefix, including IPv4-mapped IPv6 addresses', () => {
  const l = new CidrList(['10.0.0.0/8', '192.168.1.7', '0.0.0.0/32']);
  assert.ok(l.has('10.200.3.4'));
  assert.ok(l.has('::ffff:10.1.2.3'));
  assert.ok(l.has('192.168.1.7'));
  assert.ok(!l.has('192.168.1.8'));
  assert.ok(!l.has('11.0.0.1'));
  assert.ok(!l.has('2001:db8::1'));
});

test('IPv6 ranges match across the 64-bit halves', () => {
  const l = new CidrList(['2001:db8::/32', '::1/128', 'fe80::/10', '2001:db8:0:0:1::/80']);
  assert.ok(l.has('2001:db8:ffff::1'));
  assert.ok(l.has('::1'));
  assert.ok(!l.has('::2'));
  assert.ok(l.has('fe80::abcd'));
  assert.ok(l.has('febf::1'));
  assert.ok(!l.has('fec0::1'));
  assert.ok(!l.has('2001:db9::1'));
  assert.ok(!l.has('10.0.0.1'));
  assert.ok(new CidrList(['::/0']).has('1234::5'));
  assert.ok(new CidrList(['0.0.0.0/0']).has('8.8.8.8'));
});

test('IPv6 parsing handles ::, an IPv4 tail and zone ids', () => {
  assert.deepEqual(ipv6Words('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Words('2001:db8::'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(ipv6Words('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
  assert.deepEqual(ipv6Words('fe80::1%eth0'), [0xfe80, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(ipv6Words('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
});
