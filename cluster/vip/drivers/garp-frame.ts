/**
 * The bytes of an IPv4 gratuitous ARP, for the raw sender the VIP guard
 * keeps open (guard/garp-sender.ts), and what that sender needs to know of
 * the interface. The frame is the one `arping -U` and keepalived send: an
 * ARP request whose sender and target address are both the VIP, with our
 * hardware address as sender and the broadcast address as target hardware
 * address. Linux updates an existing neighbour entry from such a request
 * even within its `locktime` (it is recognised as gratuitous), which is what
 * repoints clients after a takeover.
 *
 *   0      2      4   5   6      8            14     18           24    28
 *   +------+------+---+---+------+------------+------+------------+-----+
 *   | 0001 | 0800 | 6 | 4 | 0001 | our MAC    | VIP  | ff..ff     | VIP |
 *   +------+------+---+---+------+------------+------+------------+-----+
 *    htype  ptype  hlen plen oper  sender hw    sender target hw  target
 *
 * It goes out on an AF_PACKET datagram socket, so the kernel writes the
 * Ethernet header (to ff:ff:ff:ff:ff:ff, type 0x0806) from the destination
 * address below.
 */
import { isIPv4 } from 'node:net';
import { endianness } from 'node:os';

/** Length of the ARP payload of an Ethernet/IPv4 ARP packet. */
export const ARP_PAYLOAD_BYTES = 28;
/** EtherType of ARP. */
const ETH_P_ARP = 0x0806;

/** What the raw sender needs of an interface. */
export interface LinkFacts { ifindex: number; mac: Buffer }

function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new TypeError(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

/** The 28-byte payload of a gratuitous ARP for `address` from hardware address `mac`. */
export function garpPayload(mac: Buffer, address: string): Buffer {
  if (mac.length !== 6) throw new TypeError(`not an Ethernet hardware address (${mac.length} bytes)`);
  const ip = ipv4Bytes(address);
  const b = Buffer.alloc(ARP_PAYLOAD_BYTES);
  b.writeUInt16BE(1, 0); // Ethernet
  b.writeUInt16BE(0x0800, 2); // IPv4
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(1, 6); // request
  mac.copy(b, 8);
  ip.copy(b, 14);
  b.fill(0xff, 18, 24);
  ip.copy(b, 24);
  return b;
}

/**
 * A `struct sockaddr_ll` without its family field, as socat's generic socket
 * addresses take it (hex data): protocol ARP, the interface, broadcast.
 */
export function broadcastDestination(ifindex: number): string {
  const b = Buffer.alloc(18);
  b.writeUInt16BE(ETH_P_ARP, 0); // sll_protocol, network order
  // sll_ifindex and sll_hatype are in host order; sll_hatype is ignored when sending.
  if (endianness() === 'LE') { b.writeInt32LE(ifindex, 2); b.writeUInt16LE(1, 6); } else { b.writeInt32BE(ifindex, 2); b.writeUInt16BE(1, 6); }
  b[8] = 0; // sll_pkttype
  b[9] = 6; // sll_halen
  b.fill(0xff, 10, 16); // sll_addr: broadcast, padded to 8 bytes
  return `x${b.toString('hex')}`;
}

/** Index and Ethernet address of an interface from `ip -o link show dev IFACE`; null for anything else (no link/ether). */
export function parseLinkLine(text: string): LinkFacts | null {
  const idx = /^(\d+):/.exec(text.trim());
  const mac = /\blink\/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i.exec(text);
  if (!idx || !mac) return null;
  return { ifindex: Number(idx[1]), mac: Buffer.from(mac[1]!.split(':').map((h) => parseInt(h, 16))) };
}
