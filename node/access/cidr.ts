/**
 * CIDR lists compiled once per config: IPv4 ranges as 32-bit integers, IPv6
 * as two 64-bit halves (BigInt only at compile time; matching compares the
 * parsed address words). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what
 * a dual-stack listener reports) match IPv4 ranges.
 */
import { isIPv4, isIPv6 } from 'node:net';

interface V4Range { net: number; mask: number }
interface V6Range { hi: bigint; lo: bigint; maskHi: bigint; maskLo: bigint }

const ALL64 = (1n << 64n) - 1n;

/** Parses dotted IPv4 into an unsigned 32-bit integer. */
export function ipv4ToInt(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

/** Parses IPv6 (with `::` and an embedded IPv4 tail) into 8 16-bit words. */
export function ipv6Words(a: string): number[] {
  let s = a;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) > 0) {
    // `::ffff:1.2.3.4`: the dotted tail is two 16-bit words.
    const v4 = ipv4ToInt(s.slice(lastColon + 1));
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const gap = s.indexOf('::');
  const parse = (part: string) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  if (gap < 0) return parse(s);
  const head = parse(s.slice(0, gap));
  const tail = parse(s.slice(gap + 2));
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

function v6Halves(words: number[]): [bigint, bigint] {
  let hi = 0n;
  let lo = 0n;
  for (let i = 0; i < 4; i++) hi = (hi << 16n) | BigInt(words[i] ?? 0);
  for (let i = 4; i < 8; i++) lo = (lo << 16n) | BigInt(words[i] ?? 0);
  return [hi, lo];
}

/** The IPv4 address inside an IPv4-mapped IPv6 address, or null. */
export function unmapV4(a: string): string | null {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return m ? m[1] : null;
}

/** A compiled list of CIDRs. */
export class CidrList {
  readonly #v4: V4Range[] = [];
  readonly #v6: V6Range[] = [];
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) this.#add(c);
    this.size = cidrs.length;
  }

  #add(cidr: string): void {
    const slash = cidr.indexOf('/');
    const addr = slash < 0 ? cidr : cidr.slice(0, slash);
    const mapped = unmapV4(addr);
    if (isIPv4(addr) || mapped) {
      const bits = slash < 0 ? 32 : Number(cidr.slice(slash + 1)) - (mapped ? 96 : 0);
      const b = Math.max(0, Math.min(32, bits));
      const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
      this.#v4.push({ net: (ipv4ToInt(mapped ?? addr) & mask) >>> 0, mask });
      return;
    }
    if (!isIPv6(addr)) throw new Error(`not a CIDR: ${cidr}`);
    const bits = slash < 0 ? 128 : Number(cidr.slice(slash + 1));
    const [hi, lo] = v6Halves(ipv6Words(addr));
    const maskHi = bits >= 64 ? ALL64 : bits === 0 ? 0n : (ALL64 << BigInt(64 - bits)) & ALL64;
    const maskLo = bits <= 64 ? 0n : bits >= 128 ? ALL64 : (ALL64 << BigInt(128 - bits)) & ALL64;
    this.#v6.push({ hi: hi & maskHi, lo: lo & maskLo, maskHi, maskLo });
  }

  /** True when `address` (IPv4, IPv6 or IPv4-mapped IPv6) is in one of the ranges. */
  has(address: string): boolean {
    const v4 = isIPv4(address) ? address : unmapV4(address);
    if (v4 !== null) {
      if (this.#v4.length === 0) return false;
      const n = ipv4ToInt(v4);
      for (const r of this.#v4) if (((n & r.mask) >>> 0) === r.net) return true;
      return false;
    }
    if (this.#v6.length === 0 || !isIPv6(address)) return false;
    const [hi, lo] = v6Halves(ipv6Words(address));
    for (const r of this.#v6) if ((hi & r.maskHi) === r.hi && (lo & r.maskLo) === r.lo) return true;
    return false;
  }
}
