/**
 * Mutations of a seed's bytes: byte flips, inserted control and 8-bit bytes,
 * duplicated and oversized headers, invalid UTF-8, CRLF turned into LF or
 * CR, stray CRLFs, truncation, and splits of the bytes into writes (at a
 * random offset, at every offset, or byte by byte).
 */
import type { Rng } from './rng';

const SPECIAL = [0x00, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x22, 0x25, 0x2c, 0x2f, 0x3a, 0x3b, 0x3f, 0x40, 0x5c, 0x7f, 0x80, 0xc0, 0xff];
const INVALID_UTF8 = [[0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80], [0xff, 0xfe, 0xfd], [0xc0, 0xae]];
const HEADERS = ['Host: other.test', 'Host: fuzz.test', 'Content-Length: 5', 'Content-Length: 0', 'Transfer-Encoding: chunked', 'Connection: close', 'Connection: upgrade',
  'Connection: content-length', 'Upgrade: websocket', 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==', 'Expect: 100-continue', 'X-Forwarded-For: 10.0.0.1', ': empty', 'Bad Header: x', 'X:'];

/** One mutation, named for the report. */
type Mutation = (buf: Buffer, rng: Rng, maxHeaderBytes: number) => Buffer;

function at(buf: Buffer, rng: Rng): number { return buf.length === 0 ? 0 : rng.int(buf.length + 1); }

function crlfPositions(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = buf.indexOf('\r\n'); i >= 0 && out.length < 10_000; i = buf.indexOf('\r\n', i + 1)) out.push(i);
  return out;
}

/** Where header lines start (after a CRLF, before the blank line). */
function headerLineStart(buf: Buffer, rng: Rng): number {
  const end = buf.indexOf('\r\n\r\n');
  const lines = crlfPositions(buf).filter((p) => end < 0 || p < end);
  return lines.length ? rng.pick(lines) + 2 : at(buf, rng);
}

export const MUTATIONS: Record<string, Mutation> = {
  flip: (buf, rng) => { if (!buf.length) return buf; const c = Buffer.from(buf); c[rng.int(c.length)] ^= 1 << rng.int(8); return c; },
  randomByte: (buf, rng) => { if (!buf.length) return buf; const c = Buffer.from(buf); c[rng.int(c.length)] = rng.int(256); return c; },
  insertSpecial: (buf, rng) => { const i = at(buf, rng); return Buffer.concat([buf.subarray(0, i), Buffer.from([rng.pick(SPECIAL)]), buf.subarray(i)]); },
  deleteRange: (buf, rng) => { const i = at(buf, rng); return Buffer.concat([buf.subarray(0, i), buf.subarray(Math.min(buf.length, i + 1 + rng.int(8)))]); },
  duplicateLine: (buf, rng) => {
    const i = headerLineStart(buf, rng);
    const j = buf.indexOf('\r\n', i);
    return j < 0 ? buf : Buffer.concat([buf.subarray(0, j + 2), buf.subarray(i, j + 2), buf.subarray(j + 2)]);
  },
  insertHeader: (buf, rng) => { const i = headerLineStart(buf, rng); return Buffer.concat([buf.subarray(0, i), Buffer.from(`${rng.pick(HEADERS)}\r\n`, 'latin1'), buf.subarray(i)]); },
  oversizedHeader: (buf, rng, max) => { const i = headerLineStart(buf, rng); return Buffer.concat([buf.subarray(0, i), Buffer.from(`X-Pad: ${'p'.repeat(1 + rng.int(max * 2))}\r\n`, 'latin1'), buf.subarray(i)]); },
  invalidUtf8: (buf, rng) => { const i = at(buf, rng); return Buffer.concat([buf.subarray(0, i), Buffer.from(rng.pick(INVALID_UTF8)), buf.subarray(i)]); },
  crlfToLf: (buf, rng) => { const p = crlfPositions(buf); if (!p.length) return buf; const i = rng.pick(p); return Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1)]); },
  crlfToCr: (buf, rng) => { const p = crlfPositions(buf); if (!p.length) return buf; const i = rng.pick(p); return Buffer.concat([buf.subarray(0, i + 1), buf.subarray(i + 2)]); },
  insertCrlf: (buf, rng) => { const i = at(buf, rng); return Buffer.concat([buf.subarray(0, i), Buffer.from(rng.pick(['\r\n', '\n', '\r', '\r\n\r\n'])), buf.subarray(i)]); },
  truncate: (buf, rng) => buf.subarray(0, at(buf, rng)),
  repeat: (buf, rng) => Buffer.concat(Array.from({ length: 2 + rng.int(3) }, () => buf)),
};

const NAMES = Object.keys(MUTATIONS);

/** Applies 0 to 3 random mutations; returns the result and their names. */
export function mutate(buf: Buffer, rng: Rng, maxHeaderBytes: number): { buf: Buffer; applied: string[] } {
  const applied: string[] = [];
  let out = buf;
  const n = rng.chance(0.25) ? 0 : 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    const name = rng.pick(NAMES);
    out = MUTATIONS[name](out, rng, maxHeaderBytes);
    applied.push(name);
  }
  return { buf: out, applied };
}

/** How the bytes of the first part go on the wire. */
export type Split = { kind: 'whole' } | { kind: 'at'; offset: number } | { kind: 'bytes' };

/** Splits `buf` into writes. */
export function split(buf: Buffer, how: Split): Buffer[] {
  if (how.kind === 'whole' || buf.length < 2) return [buf];
  if (how.kind === 'at') return [buf.subarray(0, how.offset), buf.subarray(how.offset)].filter((p) => p.length > 0);
  return Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));
}
