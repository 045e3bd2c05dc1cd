/**
 * PROXY protocol v1 (text) and v2 (binary) header codec, as sent by an
 * upstream L4 balancer (HAProxy, AWS NLB, ...) in front of a listener, and as
 * sent on by a pool to its backends. Spec:
 * https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt
 *
 * The parser is incremental: it is handed every byte received so far on the
 * connection and answers `need-more`, `done` (with how many bytes the header
 * took) or `invalid`. It rejects as soon as the bytes seen cannot start a
 * valid header, so a client that sends plain HTTP to a PROXY listener is
 * refused on its first byte instead of waiting for a timeout.
 *
 *   v1: "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n"     (at most 107 bytes)
 *   v2: sig(12) | ver<<4|cmd (1) | fam<<4|proto (1) | len (2, BE) | addresses | TLVs
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A decoded PROXY header; addresses are absent for LOCAL, UNKNOWN, UDP and UNIX. */
export interface ProxyHeader {
  version: 1 | 2;
  command: 'PROXY' | 'LOCAL';
  family: 'TCP4' | 'TCP6' | 'UNKNOWN';
  sourceAddress?: string;
  sourcePort?: number;
  destAddress?: string;
  destPort?: number;
}

/** Outcome of one parse attempt over the bytes received so far. */
export type ProxyParseResult =
  | { state: 'need-more' }
  | { state: 'done'; header: ProxyHeader; consumed: number }
  | { state: 'invalid'; reason: string };

/** Longest v1 header, CRLF included (spec section 2.1). */
export const V1_MAX_BYTES = 107;
/** Fixed part of a v2 header: signature, version/command, family, length. */
export const V2_FIXED_BYTES = 16;
/**
 * Largest v2 address block plus TLVs we accept. The spec allows 65535, but
 * balancers send at most a few hundred bytes (AWS NLB: addresses plus a VPC
 * endpoint TLV); a larger claim is treated as garbage rather than buffered.
 */
export const V2_MAX_PAYLOAD_BYTES = 2048;

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CR = 0x0d;
const LF = 0x0a;

const NEED_MORE: ProxyParseResult = Object.freeze({ state: 'need-more' });
const invalid = (reason: string): ProxyParseResult => ({ state: 'invalid', reason });

/** Parses a PROXY v1 or v2 header at the start of `buf` (every byte received so far). */
export function parseProxyHeader(buf: Buffer): ProxyParseResult {
  if (buf.length === 0) return NEED_MORE;
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf);
  if (buf[0] === V1_PREFIX[0]) return parseV1(buf);
  return invalid('not a PROXY protocol header');
}

function prefixMatches(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  for (let i = 0; i < n; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

function parseV1(buf: Buffer): ProxyParseResult {
  if (!prefixMatches(buf, V1_PREFIX)) return invalid('not a PROXY protocol header');
  const limit = Math.min(buf.length, V1_MAX_BYTES);
  let cr = -1;
  for (let i = 0; i < limit; i++) {
    const c = buf[i]!;
    if (c === CR) { cr = i; break; }
    // Only printable ASCII may appear in a v1 line; anything else is garbage now, not after 107 bytes.
    if (c < 0x20 || c > 0x7e) return invalid('v1 header contains a non-printable byte');
  }
  if (cr === -1) return buf.length >= V1_MAX_BYTES ? invalid('v1 header longer than 107 bytes') : NEED_MORE;
  if (cr + 1 >= buf.length) return cr + 1 >= V1_MAX_BYTES ? invalid('v1 header longer than 107 bytes') : NEED_MORE;
  if (buf[cr + 1] !== LF) return invalid('v1 header not terminated by CRLF');
  const header = decodeV1Line(buf.toString('latin1', 0, cr));
  return typeof header === 'string' ? invalid(header) : { state: 'done', header, consumed: cr + 2 };
}

function decodeV1Line(line: string): ProxyHeader | string {
  const parts = line.split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { version: 1, command: 'PROXY', family: 'UNKNOWN' };
  if (family !== 'TCP4' && family !== 'TCP6') return `v1 header has unknown protocol ${JSON.stringify(family ?? '')}`;
  if (parts.length !== 6) return 'v1 header must have protocol, two addresses and two ports separated by single spaces';
  const [, , src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const isFamily = family === 'TCP4' ? isIPv4 : isIPv6;
  if (!isFamily(src) || !isFamily(dst)) return `v1 header has an address that is not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`;
  const sourcePort = parsePort(sport);
  const destPort = parsePort(dport);
  if (sourcePort < 0 || destPort < 0) return 'v1 header has a port outside 0-65535';
  return { version: 1, command: 'PROXY', family, sourceAddress: src, sourcePort, destAddress: dst, destPort };
}

function parsePort(s: string): number {
  if (!/^\d{1,5}$/.test(s)) return -1;
  const n = Number(s);
  return n <= 65535 ? n : -1;
}

function parseV2(buf: Buffer): ProxyParseResult {
  if (!prefixMatches(buf, V2_SIGNATURE)) return invalid('not a PROXY protocol header');
  if (buf.length < V2_FIXED_BYTES) {
    // Version/command byte is checked as soon as it arrives.
    if (buf.length > 12 && (buf[12]! & 0xf0) !== 0x20) return invalid('v2 header has an unsupported version');
    return NEED_MORE;
  }
  const verCmd = buf[12]!;
  if ((verCmd & 0xf0) !== 0x20) return invalid('v2 header has an unsupported version');
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return invalid('v2 header has an unknown command');
  const famProto = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (len > V2_MAX_PAYLOAD_BYTES) return invalid(`v2 header longer than ${V2_MAX_PAYLOAD_BYTES} bytes of addresses and TLVs`);
  const total = V2_FIXED_BYTES + len;
  if (buf.length < total) return NEED_MORE;
  // LOCAL: health checks from the balancer itself; the receiver must ignore any address block.
  if (cmd === 0) return { state: 'done', header: { version: 2, command: 'LOCAL', family: 'UNKNOWN' }, consumed: total };
  const header = decodeV2Addresses(buf, famProto, len);
  return typeof header === 'string' ? invalid(header) : { state: 'done', header, consumed: total };
}

function decodeV2Addresses(buf: Buffer, famProto: number, len: number): ProxyHeader | string {
  const family = famProto >> 4;
  const proto = famProto & 0x0f;
  if (family > 3 || proto > 2) return 'v2 header has an unknown address family or protocol';
  // UNSPEC, UDP and UNIX carry no TCP client address: the connection's own address stands.
  if (proto !== 1 || (family !== 1 && family !== 2)) return { version: 2, command: 'PROXY', family: 'UNKNOWN' };
  const o = V2_FIXED_BYTES;
  if (family === 1) {
    if (len < 12) return 'v2 header too short for IPv4 addresses';
    return {
      version: 2, command: 'PROXY', family: 'TCP4',
      sourceAddress: formatIPv4(buf, o), destAddress: formatIPv4(buf, o + 4),
      sourcePort: buf.readUInt16BE(o + 8), destPort: buf.readUInt16BE(o + 10),
    };
  }
  if (len < 36) return 'v2 header too short for IPv6 addresses';
  return {
    version: 2, command: 'PROXY', family: 'TCP6',
    sourceAddress: formatIPv6(buf, o), destAddress: formatIPv6(buf, o + 16),
    sourcePort: buf.readUInt16BE(o + 32), destPort: buf.readUInt16BE(o + 34),
  };
}

function formatIPv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text form (longest zero run compressed, lower case), as Node reports remoteAddress. */
function formatIPv6(b: Buffer, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(o + i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${formatIPv4(b, o + 12)}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Builds the header a pool sends to a backend before the client's bytes. */
export function encodeProxyHeader(version: 'v1' | 'v2', src: { address: string; port: number }, dst: { address: string; port: number }): Buffer {
  const pair = addressPair(src.address, dst.address);
  return version === 'v1' ? encodeV1(pair, src.port, dst.port) : encodeV2(pair, src.port, dst.port);
}

interface AddressPair { family: 'TCP4' | 'TCP6' | 'UNKNOWN'; src: string; dst: string }

/** Chooses one family for both ends: IPv4-mapped addresses become IPv4 when both ends are IPv4, else IPv4 is mapped to IPv6. */
function addressPair(srcRaw: string, dstRaw: string): AddressPair {
  const src = unmapIPv4(stripZone(srcRaw));
  const dst = unmapIPv4(stripZone(dstRaw));
  const s4 = isIPv4(src), d4 = isIPv4(dst), s6 = isIPv6(src), d6 = isIPv6(dst);
  if (s4 && d4) return { family: 'TCP4', src, dst };
  if ((s4 || s6) && (d4 || d6)) return { family: 'TCP6', src: s4 ? `::ffff:${src}` : src, dst: d4 ? `::ffff:${dst}` : dst };
  return { family: 'UNKNOWN', src, dst };
}

function stripZone(a: string): string {
  const i = a.indexOf('%');
  return i === -1 ? a : a.slice(0, i);
}

function unmapIPv4(a: string): string {
  return a.length > 7 && a.slice(0, 7).toLowerCase() === '::ffff:' && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function encodeV1(p: AddressPair, sport: number, dport: number): Buffer {
  if (p.family === 'UNKNOWN') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(`PROXY ${p.family} ${p.src} ${p.dst} ${sport} ${dport}\r\n`, 'latin1');
}

function encodeV2(p: AddressPair, sport: number, dport: number): Buffer {
  const addrLen = p.family === 'TCP4' ? 12 : p.family === 'TCP6' ? 36 : 0;
  const out = Buffer.alloc(V2_FIXED_BYTES + addrLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21; // version 2, PROXY
  out[13] = p.family === 'TCP4' ? 0x11 : p.family === 'TCP6' ? 0x21 : 0x00;
  out.writeUInt16BE(addrLen, 14);
  const o = V2_FIXED_BYTES;
  if (p.family === 'TCP4') {
    writeIPv4(out, o, p.src); writeIPv4(out, o + 4, p.dst);
    out.writeUInt16BE(sport, o + 8); out.writeUInt16BE(dport, o + 10);
  } else if (p.family === 'TCP6') {
    writeIPv6(out, o, p.src); writeIPv6(out, o + 16, p.dst);
    out.writeUInt16BE(sport, o + 32); out.writeUInt16BE(dport, o + 34);
  }
  return out;
}

function writeIPv4(out: Buffer, o: number, a: string): void {
  const parts = a.split('.');
  for (let i = 0; i < 4; i++) out[o + i] = Number(parts[i]);
}

/** Writes a valid IPv6 text address (possibly with '::' and a dotted IPv4 tail) as 16 bytes. */
function writeIPv6(out: Buffer, o: number, a: string): void {
  let text = a;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.indexOf('.', lastColon) !== -1) {
    const v4 = text.slice(lastColon + 1).split('.').map(Number);
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = text.slice(0, lastColon + 1) + '0'; // placeholder group, dropped below
  }
  const halves = text.split('::');
  const head = halves[0] ? halves[0].split(':').map((h) => parseInt(h, 16)) : [];
  let rest = halves.length > 1 && halves[1] ? halves[1].split(':').map((h) => parseInt(h, 16)) : [];
  if (tail.length) {
    if (halves.length > 1) rest = rest.slice(0, -1); else head.pop();
  }
  const fill = 8 - head.length - rest.length - tail.length;
  const groups = [...head, ...new Array<number>(Math.max(fill, 0)).fill(0), ...rest, ...tail];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, o + i * 2);
}
