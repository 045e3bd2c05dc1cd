/**
 * The first request line of a connection, checked before Node's HTTP parser
 * sees it (RFC 9112 section 3):
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *
 * llhttp waits silently on an HTTP/0.9 line (`GET /\r\n`) until a timeout
 * and parses HTTP/2.0 as if it were 1.1; here a line wsha does not speak
 * gets its answer as soon as the line is complete. Leading empty lines are
 * skipped (RFC 9112 2.2). Incremental: handed every byte received so far,
 * it answers `need-more`, `ok`, or a refusal with its status.
 */

/** Outcome of one look at the bytes received so far. */
export type RequestLineVerdict =
  | { readonly state: 'need-more' }
  | { readonly state: 'ok' }
  | { readonly state: 'bad'; readonly status: number; readonly reason: string };

const NEED_MORE: RequestLineVerdict = Object.freeze({ state: 'need-more' });
const OK: RequestLineVerdict = Object.freeze({ state: 'ok' });
const CR = 0x0d;
const LF = 0x0a;

/** method SP target SP HTTP/d.d, without CRLF; target is visible ASCII (llhttp refuses the rest itself). */
const LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/([0-9])\.([0-9])$/;

function bad(status: number, reason: string): RequestLineVerdict { return { state: 'bad', status, reason }; }

/** Checks the first request line in `buf`; `maxBytes` bounds the wait for its end (414 beyond). */
export function checkRequestLine(buf: Buffer, maxBytes: number): RequestLineVerdict {
  let start = 0;
  // Empty lines before the request line are allowed; a bare LF is not a line end.
  while (start + 1 < buf.length && buf[start] === CR && buf[start + 1] === LF) start += 2;
  if (start < buf.length && buf[start] === LF) return bad(400, 'bare LF in request line');
  const lf = buf.indexOf(LF, start);
  if (lf < 0) {
    if (buf.length - start > maxBytes) return bad(414, `request line longer than ${maxBytes} bytes`);
    return firstBytesCanStartLine(buf, start) ? NEED_MORE : bad(400, 'malformed request line');
  }
  if (lf === start || buf[lf - 1] !== CR) return bad(400, 'request line must end with CRLF');
  if (lf - start > maxBytes) return bad(414, `request line longer than ${maxBytes} bytes`);
  const m = LINE.exec(buf.toString('latin1', start, lf - 1));
  if (!m) return bad(400, 'malformed request line (HTTP/0.9 is not supported)');
  if (m[3] !== '1' || (m[4] !== '0' && m[4] !== '1')) return bad(400, `HTTP/${m[3]}.${m[4]} is not supported`);
  if (m[1] === 'CONNECT') return bad(405, 'CONNECT is not supported');
  const t = m[2];
  if (t.charCodeAt(0) !== 0x2f && !/^(https?|wss?):\/\//i.test(t)) return bad(400, 'request target must be a path or an absolute http(s) URL');
  return OK;
}

/** False once the bytes so far cannot begin a request line (a method token), so that garbage is refused on arrival. */
function firstBytesCanStartLine(buf: Buffer, start: number): boolean {
  // A CR that may be the first half of an empty line's CRLF.
  if (start === buf.length - 1 && buf[start] === CR) return true;
  for (let i = start; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x20) return i > start;
    if (c === CR) return false;
    if (!isTchar(c)) return false;
  }
  return true;
}

/** tchar (RFC 9110 5.6.2) by byte value. */
const TCHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") t[ch.charCodeAt(0)] = 1;
  return t;
})();

function isTchar(c: number): boolean { return TCHAR[c] === 1; }
