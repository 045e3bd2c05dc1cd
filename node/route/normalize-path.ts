/**
 * One normalised path for routing and forwarding, so that the path a route
 * matched is the path its backend sees (RFC 3986 section 6.2.2):
 *
 *   1. percent-escapes of unreserved characters (ALPHA DIGIT - . _ ~) are
 *      decoded, every other escape is kept with upper-case hex digits;
 *   2. dot segments are removed (section 5.2.4), after step 1, so that
 *      `%2e%2e` is `..` as any backend that decodes would read it.
 *
 * Refused, because a backend may read them differently from the router:
 *
 *   raw `\` or `%5C`     Windows-style separators (IIS, some frameworks)
 *   `%2F`                an encoded slash: a backend that decodes it sees
 *                        more segments than the router did (a route may
 *                        opt in, then it stays encoded and is no separator)
 *   `%00`                NUL truncates paths in C backends
 *   `%` not followed by two hex digits
 *   `..;x`, `.;x`        dot segments with path parameters: Tomcat and
 *                        Jetty drop the `;x` and then climb
 *   `..` above the root  RFC 3986 clamps it to `/`; a backend that resolves
 *                        against a file system may not
 *
 * The scan allocates nothing for the common path without `%` or `.`.
 */

/** Outcome of normalising one path. */
export type PathVerdict =
  | { readonly ok: true; readonly path: string; readonly encodedSlash: boolean }
  | { readonly ok: false; readonly reason: string };

const PERCENT = 0x25;
const DOT = 0x2e;
const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const HEX = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 section 2.3). */
function isUnreserved(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === DOT || c === 0x5f || c === 0x7e;
}

function bad(reason: string): PathVerdict { return { ok: false, reason }; }

/**
 * Normalises the path part of an origin-form request target (no query, it
 * starts with `/`). Never throws.
 */
export function normalizePath(raw: string): PathVerdict {
  if (raw.charCodeAt(0) !== SLASH) return bad('path must start with /');
  let work = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === BACKSLASH) return bad('backslash in path');
    if (c === PERCENT || c === DOT) work = true;
  }
  if (!work) return { ok: true, path: raw, encodedSlash: false };
  const decoded = decodeUnreserved(raw);
  if (typeof decoded !== 'string') return decoded;
  return removeDotSegments(decoded, decoded.includes('%2F'));
}

/** Step 1; returns the refusal for a bad escape. */
function decodeUnreserved(raw: string): string | PathVerdict {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== PERCENT) { out += raw[i]; continue; }
    const hi = hexValue(raw.charCodeAt(i + 1));
    const lo = hexValue(raw.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return bad('malformed percent-escape in path');
    const v = hi * 16 + lo;
    i += 2;
    if (v === 0) return bad('NUL in path');
    if (v === BACKSLASH) return bad('encoded backslash in path');
    if (isUnreserved(v)) out += String.fromCharCode(v);
    else out += `%${HEX[hi]}${HEX[lo]}`;
  }
  return out;
}

/** The part of a segment before its parameters (`;...`, also when the `;` is encoded). */
function segmentBase(seg: string): string {
  const semi = seg.indexOf(';');
  const enc = seg.indexOf('%3B');
  const cut = semi < 0 ? enc : enc < 0 ? semi : Math.min(semi, enc);
  return cut < 0 ? seg : seg.slice(0, cut);
}

/** Step 2 (RFC 3986 section 5.2.4), refusing a climb above the root and disguised dot segments. */
function removeDotSegments(path: string, encodedSlash: boolean): PathVerdict {
  const segs = path.split('/');
  const out: string[] = [];
  const last = segs.length - 1;
  // segs[0] is the empty string before the leading slash.
  for (let k = 1; k <= last; k++) {
    const s = segs[k];
    if (s === '.') { if (k === last) out.push(''); continue; }
    if (s === '..') {
      if (out.length === 0) return bad('path climbs above the root');
      out.pop();
      if (k === last) out.push('');
      continue;
    }
    const base = segmentBase(s);
    if (base !== s && (base === '.' || base === '..')) return bad('dot segment with parameters in path');
    out.push(s);
  }
  return { ok: true, path: `/${out.join('/')}`, encodedSlash };
}
