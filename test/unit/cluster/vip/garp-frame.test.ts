/**
 * The gratuitous ARP bytes the VIP guard's raw sender writes, the socket
 * address it sends them to, and the interface facts it reads from `ip`.
 * The frame on a real wire is checked in test/failover/garp-sender-netns.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { ARP_PAYLOAD_BYTES, broadcastDestination, garpPayload, parseLinkLine } from '../../../../cluster/vip/drivers/garp-frame';

const MAC = Buffer.from([0x0e, 0x51, 0xa7, 0xe1, 0x65, 0x7c]);

test('the payload is an ARP request from the VIP for the VIP, as arping -U sends it', () => {
  const b = garpPayload(MAC, '10.213.0.100');
  assert.equal(b.length, ARP_PAYLOAD_BYTES);
  // Captured from `arping -U -c 1 -I eth0 10.213.0.100` on a host with that MAC.
  assert.equal(b.toString('hex'), '0001' + '0800' + '06' + '04' + '0001' + '0e51a7e1657c' + '0ad50064' + 'ffffffffffff' + '0ad50064');
});

test('the payload refuses what is not an Ethernet address or not IPv4', () => {
  assert.throws(() => garpPayload(Buffer.alloc(5), '10.0.0.1'), TypeError);
  assert.throws(() => garpPayload(MAC, 'fd00::1'), TypeError);
  assert.throws(() => garpPayload(MAC, '10.0.0'), TypeError);
});

test('the destination is a sockaddr_ll without its family: ARP, the interface index in host order, broadcast', () => {
  const hex = broadcastDestination(3);
  assert.match(hex, /^x[0-9a-f]{36}$/);
  const b = Buffer.from(hex.slice(1), 'hex');
  assert.equal(b.readUInt16BE(0), 0x0806);
  assert.equal(endianness() === 'LE' ? b.readInt32LE(2) : b.readInt32BE(2), 3);
  assert.equal(b[9], 6);
  assert.equal(b.subarray(10, 16).toString('hex'), 'ffffffffffff');
  assert.equal(b.subarray(16).toString('hex'), '0000');
});

test('interface facts come from `ip -o link show`, and nothing comes from a link without an Ethernet address', () => {
  const eth = '3: eth0@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 0e:51:a7:e1:65:7c brd ff:ff:ff:ff:ff:ff link-netns wsha-t-1-hub\n';
  const f = parseLinkLine(eth);
  assert.equal(f?.ifindex, 3);
  assert.equal(f?.mac.toString('hex'), '0e51a7e1657c');
  assert.equal(parseLinkLine('1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00'), null);
  assert.equal(parseLinkLine('12: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420\\    link/none'), null);
  assert.equal(parseLinkLine(''), null);
});
