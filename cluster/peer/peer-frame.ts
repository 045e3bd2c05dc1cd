/**
 * Framing of the peer link: one message per line. During the handshake a
 * line is `WORD JSON` (HELLO, AUTH, OK, NO); after it, every line is
 * `MAC JSON`, where MAC is the first 16 bytes (hex) of
 * HMAC-SHA256(session key, direction + sequence number + JSON). Each side
 * counts the lines it sends, so a replayed, dropped, reordered or injected
 * line fails the check and the connection is closed.
 */
import { createHmac } from 'node:crypto';
import { macEqual } from './peer-auth';

/** Hex characters of a message MAC (16 bytes). */
const MAC_HEX = 32;

/** Direction labels: lines written by the dialing side (c) or by the listening side (s). */
export type Direction = 'c' | 's';

/** Splits a byte stream into lines, refusing any line longer than `maxLineBytes`. */
export class LineSplitter {
  #buf = '';
  constructor(readonly maxLineBytes: number) {}

  /** Feeds a chunk; returns the complete lines, or null when a line is too long (close the connection). */
  push(chunk: Buffer): string[] | null {
    this.#buf += chunk.toString('utf8');
    const out: string[] = [];
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      if (nl > this.maxLineBytes) return null;
      out.push(this.#buf.slice(0, nl));
      this.#buf = this.#buf.slice(nl + 1);
    }
    return this.#buf.length > this.maxLineBytes ? null : out;
  }
}

/** A handshake line: `WORD {json}`; null when malformed. */
export function parseHandshakeLine(line: string): { word: string; body: Record<string, unknown> } | null {
  const sp = line.indexOf(' ');
  if (sp <= 0) return null;
  try {
    const body = JSON.parse(line.slice(sp + 1)) as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
    return { word: line.slice(0, sp), body: body as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** Formats a handshake line. */
export function handshakeLine(word: 'HELLO' | 'AUTH' | 'OK' | 'NO', body: object): string {
  return `${word} ${JSON.stringify(body)}\n`;
}

function lineMac(key: Buffer, dir: Direction, seq: number, json: string): string {
  return createHmac('sha256', key).update(`${dir}:${seq}:`).update(json).digest('hex').slice(0, MAC_HEX);
}

/** Signs outgoing messages of one direction of one connection. */
export class FrameSigner {
  #seq = 0;
  constructor(readonly key: Buffer, readonly dir: Direction) {}
  /** The line to write for `msg`. */
  line(msg: object): string {
    const json = JSON.stringify(msg);
    return `${lineMac(this.key, this.dir, this.#seq++, json)} ${json}\n`;
  }
}

/** Verifies incoming messages of one direction of one connection. */
export class FrameVerifier {
  #seq = 0;
  constructor(readonly key: Buffer, readonly dir: Direction) {}
  /** The message of a verified line, or null (bad MAC, out of order, not JSON): close the connection. */
  open(line: string): Record<string, unknown> | null {
    if (line.length < MAC_HEX + 2 || line[MAC_HEX] !== ' ') return null;
    const json = line.slice(MAC_HEX + 1);
    if (!macEqual(line.slice(0, MAC_HEX), lineMac(this.key, this.dir, this.#seq, json))) return null;
    this.#seq++;
    try {
      const msg = JSON.parse(json) as unknown;
      return msg && typeof msg === 'object' && !Array.isArray(msg) ? (msg as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }
}
