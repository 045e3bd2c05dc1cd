/**
 * What the fuzzer holds true, whatever it sent:
 *
 *   client side   every connection gets nothing and a close, or HTTP/1.1
 *                 responses whose framing is sound (status 100-599, header
 *                 lines, Content-Length or chunked bodies, or a body to the
 *                 close), and after a 101 only unmasked, well-formed
 *                 WebSocket frames from the server; never silence forever
 *   backend side  every request a backend sees is one the client framed on
 *                 a routed path: normalised, one Host, framing stated once
 *                 (a smuggled `/internal/...` or an unnormalised path is a
 *                 finding)
 */
import type { IncomingMessage } from 'node:http';

/** A problem with one answer, or null. */
export type Problem = string | null;

const STATUS_LINE = /^HTTP\/1\.1 ([1-5][0-9][0-9]) [^\r\n]*\r\n/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Request methods in the client's bytes, in order (an approximation of what it pipelined, to know which answers have no body). */
export function requestMethods(sent: Buffer): string[] {
  const text = sent.toString('latin1');
  // The first request's method is its first token, whatever follows (a refusal of a malformed HEAD has no body either).
  const first = /^(?:\r\n)*([A-Z]+) /.exec(text)?.[1];
  // A line that starts like a request counts even without a valid version: Node may still answer it (as HTTP/0.9).
  const rest = [...text.slice(text.indexOf('\r\n') + 2).matchAll(/(?:^|\r\n)([A-Z]+) (?:\/|https?:)/g)].map((m) => m[1]);
  return first ? [first, ...rest] : rest;
}

/** Checks the bytes the node sent on one connection (`closed`: the node closed it). */
export function checkAnswer(bytes: Buffer, closed: boolean, methodList: string[]): Problem {
  const methods = [...methodList];
  const anyHead = methods.includes('HEAD');
  let pos = 0;
  for (let n = 0; pos < bytes.length && n < 1000; n++) {
    const text = bytes.toString('latin1', pos, Math.min(bytes.length, pos + 65536));
    const m = STATUS_LINE.exec(text);
    if (!m) return text.length < 13 && !closed && 'HTTP/1.1 000 '.startsWith(text.slice(0, 9)) ? null : `not an HTTP/1.1 status line at byte ${pos}: ${JSON.stringify(text.slice(0, 40))}`;
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return closed ? `response head cut short at byte ${pos}` : null;
    const status = Number(m[1]);
    const lines = text.slice(m[0].length, end).split('\r\n').filter((l) => l.length > 0);
    let length = -1;
    let chunked = false;
    for (const l of lines) {
      const colon = l.indexOf(':');
      if (colon <= 0 || !TOKEN.test(l.slice(0, colon))) return `bad response header line ${JSON.stringify(l.slice(0, 60))}`;
      const name = l.slice(0, colon).toLowerCase();
      const value = l.slice(colon + 1).trim();
      if (name === 'content-length') { if (!/^\d+$/.test(value) || length >= 0) return `bad or repeated Content-Length ${value}`; length = Number(value); }
      if (name === 'transfer-encoding') chunked = value.toLowerCase() === 'chunked';
    }
    if (chunked && length >= 0) return 'response with both Content-Length and chunked';
    pos += end + 4;
    if (status === 101) return checkServerFrames(bytes.subarray(pos));
    if (status >= 100 && status < 200) continue;
    // Which request an answer belongs to is guessed from the raw bytes, where a request inside a body looks like one
    // too; so when the client sent any HEAD, a response head right after a head that promised a body ends that answer.
    const method = methods.shift();
    if (status === 204 || status === 304) continue;
    if (anyHead && length > 0 && bytes.toString('latin1', pos, pos + 9) === 'HTTP/1.1 ') continue;
    if (method === 'HEAD' && length >= 0 && bytes.length - pos < length) continue;
    if (method === 'HEAD' && length < 0 && !chunked) continue;
    if (chunked) {
      const after = skipChunked(bytes, pos);
      if (after < 0) return closed ? 'chunked body cut short' : null;
      pos = after;
    } else if (length >= 0) {
      if (bytes.length - pos < length) return closed ? `body cut short (${bytes.length - pos} of ${length})` : null;
      pos += length;
    } else {
      return null; // body to the close
    }
  }
  return null;
}

/** Index after a chunked body starting at `pos`, or -1 when incomplete. */
function skipChunked(bytes: Buffer, pos: number): number {
  for (let n = 0; n < 100_000; n++) {
    const eol = bytes.indexOf('\r\n', pos);
    if (eol < 0) return -1;
    const size = parseInt(bytes.toString('latin1', pos, eol).split(';')[0], 16);
    if (!Number.isFinite(size)) return -1;
    pos = eol + 2;
    if (size === 0) {
      // Trailers, then the blank line.
      const endT = bytes.indexOf('\r\n', pos);
      if (endT < 0) return -1;
      if (endT === pos) return pos + 2;
      const blank = bytes.indexOf('\r\n\r\n', pos);
      return blank < 0 ? -1 : blank + 4;
    }
    if (bytes.length < pos + size + 2) return -1;
    pos += size + 2;
  }
  return -1;
}

/** Server-to-client frames after a 101: never masked, known opcodes, control frames short and final. A partial last frame is fine. */
export function checkServerFrames(buf: Buffer): Problem {
  let pos = 0;
  for (let n = 0; pos + 2 <= buf.length && n < 100_000; n++) {
    const b0 = buf[pos];
    const b1 = buf[pos + 1];
    const opcode = b0 & 0x0f;
    if (b1 & 0x80) return 'masked frame from the server';
    if (![0, 1, 2, 8, 9, 10].includes(opcode)) return `unknown opcode ${opcode} from the server`;
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len === 126) { if (pos + 4 > buf.length) return null; len = buf.readUInt16BE(pos + 2); hdr = 4; }
    else if (len === 127) { if (pos + 10 > buf.length) return null; len = Number(buf.readBigUInt64BE(pos + 2)); hdr = 10; }
    if (opcode >= 8 && (len > 125 || !(b0 & 0x80))) return 'bad control frame from the server';
    pos += hdr + len;
  }
  return null;
}

/** Paths the fuzz node routes to the echo backend. */
const ROUTED = /^\/(fz|ws)(\/|\?|$)/;

/** Checks one request as a backend received it. */
export function checkBackendRequest(req: IncomingMessage): Problem {
  const url = req.url ?? '';
  const path = url.split('?')[0];
  if (!ROUTED.test(path)) return `backend saw a request for ${JSON.stringify(url.slice(0, 80))}`;
  if (/(^|\/)\.\.?(\/|$)/.test(path) || /[\\]|%2f|%5c|%00/i.test(path)) return `backend saw an unnormalised path ${JSON.stringify(path.slice(0, 80))}`;
  const raw = req.rawHeaders;
  let hosts = 0;
  let te = 0;
  let cl = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i].toLowerCase();
    if (n === 'host') hosts++;
    if (n === 'transfer-encoding') { te++; if (raw[i + 1].toLowerCase() !== 'chunked') return `backend saw Transfer-Encoding ${JSON.stringify(raw[i + 1])}`; }
    if (n === 'content-length') cl++;
  }
  if (hosts !== 1) return `backend saw ${hosts} Host headers`;
  if (te > 1 || cl > 1 || (te && cl)) return 'backend saw ambiguous framing';
  return null;
}
