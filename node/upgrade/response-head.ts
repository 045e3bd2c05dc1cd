/**
 * Reads a backend's answer to the upgrade request: the response head
 * (status line and header fields), strictly, as the data arrives.
 *
 * The tunnel used to take its backend socket through Node's HTTP client for
 * this. That put a ClientRequest, an OutgoingMessage, a parser and an
 * IncomingMessage on every handshake (about a tenth of a worker's CPU per
 * new connection in the handshake profile: deploy/docs/performance.md),
 * for a head of a few lines read once. What it gave, a strict framing of a
 * hostile backend's answer (issue 10), is kept here: CRLF line ends only,
 * token field names with the colon straight after them, no obs-fold, no
 * control bytes, HTTP/1.0 or 1.1, three status digits, a bounded size.
 * Anything else is malformed, and the tunnel answers the client 502.
 *
 * Interim answers (1xx other than 101) are skipped, as Node's client did:
 * the head returned is the first final answer or the 101.
 */

/** A parsed response head, as the handshake checks and the relay use it. */
export interface ResponseHead {
  readonly statusCode: number;
  /** The reason phrase, '' when there was none. */
  readonly statusMessage: string;
  readonly httpVersion: '1.0' | '1.1';
  /** Names and values as they came, flat: [name, value, ...]; values without surrounding blanks. */
  readonly rawHeaders: string[];
}

/** What a feed gave: nothing yet, a head (and the bytes after it), or why the answer is malformed. */
export type HeadResult =
  | { readonly kind: 'more' }
  | { readonly kind: 'head'; readonly head: ResponseHead; readonly rest: Buffer }
  | { readonly kind: 'malformed'; readonly why: string };

const MORE: HeadResult = Object.freeze({ kind: 'more' });
const END = Buffer.from('\r\n\r\n', 'latin1');
const BARE_END = Buffer.from('\n\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
/** A header field name: an RFC 9110 token. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A byte a header value must not carry (RFC 9110 5.5: CTLs other than HTAB, among them CR, LF and NUL). */
export const BAD_VALUE_BYTE = /[^\t\x20-\x7e\x80-\xff]/;

/** Reads one response head, chunk by chunk, up to `maxBytes` of head. One per tunnel, dropped once done. */
export class ResponseHeadReader {
  readonly #maxBytes: number;
  /** Bytes of a head that has not ended yet, or null. */
  #pending: Buffer | null = null;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds the next bytes from the backend. */
  feed(chunk: Buffer): HeadResult {
    let buf = chunk;
    let from = 0;
    if (this.#pending) {
      from = Math.max(0, this.#pending.length - 3);
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = null;
    }
    for (;;) {
      const end = buf.indexOf(END, from);
      if (end < 0) {
        if (buf.length > this.#maxBytes) return malformed(`response head larger than ${this.#maxBytes} bytes`);
        // A head ended by bare LFs would otherwise wait for a CRLF CRLF that never comes, until the head timeout.
        if (buf.indexOf(BARE_END, from) >= 0) return malformed('line ends without CR');
        // A copy: the chunk's memory may be a slice of a larger read buffer that must not stay alive.
        this.#pending = Buffer.from(buf);
        return MORE;
      }
      if (end + 4 > this.#maxBytes) return malformed(`response head larger than ${this.#maxBytes} bytes`);
      const head = parseHead(buf.toString('latin1', 0, end));
      if (typeof head === 'string') return malformed(head);
      const rest = buf.subarray(end + 4);
      // 1xx other than 101 is an interim answer; the final one follows (RFC 9110 15.2).
      if (head.statusCode >= 200 || head.statusCode === 101) return { kind: 'head', head, rest };
      buf = rest;
      from = 0;
    }
  }
}

function malformed(why: string): HeadResult { return { kind: 'malformed', why }; }

/** Parses a head without its final blank line; a string says why it is malformed. */
export function parseHead(text: string): ResponseHead | string {
  const lines = text.split('\r\n');
  const status = STATUS_LINE.exec(lines[0]);
  if (!status) return 'bad status line';
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // A line without a colon, a blank before it (a folded line, "Name : v") or a stray CR or LF in it.
    if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) return 'bad header line';
    const value = trimBlanks(line.slice(colon + 1));
    if (BAD_VALUE_BYTE.test(value)) return 'bad byte in a header value';
    rawHeaders.push(line.slice(0, colon), value);
  }
  return { statusCode: Number(status[2]), statusMessage: status[3] ?? '', httpVersion: status[1] === '1' ? '1.1' : '1.0', rawHeaders };
}

/** Strips spaces and tabs only (String#trim would take obs-text such as 0xA0 too). */
function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
