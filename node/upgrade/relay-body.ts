/**
 * The body of a backend's non-101 answer to an upgrade, framed so that the
 * relay knows where it ends (RFC 9112 6.3): the client gets it decoded and
 * close-delimited (handshake.ts relayHead: `Connection: close`, no
 * Transfer-Encoding), and both connections end after it, so nothing the
 * backend sends past the end is relayed.
 *
 *   framing    from                        ends at
 *   none       204, 304                    the head
 *   length     Content-Length: N           N bytes
 *   chunked    Transfer-Encoding: chunked  the last chunk and its trailers (dropped)
 *   close      neither                     the backend's FIN
 *
 * A Content-Length next to a Transfer-Encoding, more than one
 * Content-Length, or one that is not a number, is malformed (the same
 * answers Node's parser refused here before): the client gets 502.
 */
import type { ResponseHead } from './response-head';

/** How a relayed body is framed. */
export type RelayFraming = 'none' | 'length' | 'chunked' | 'close';

/** Longest chunk-size line (size and extensions) or trailer section accepted. */
const MAX_FRAMING_LINE_BYTES = 4096;
const MAX_TRAILER_BYTES = 65536;
/** Hex digits of a chunk size: 13 keep it a safe integer. */
const MAX_SIZE_DIGITS = 13;

/** The body framing of `head`, or a string saying why the answer is malformed. */
export function relayFraming(head: ResponseHead): { framing: RelayFraming; length: number } | string {
  const raw = head.rawHeaders;
  let lengths = 0;
  let length = '';
  let codings = '';
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i].toLowerCase();
    if (lower === 'content-length') { lengths++; length = raw[i + 1]; }
    else if (lower === 'transfer-encoding') codings = codings ? `${codings},${raw[i + 1]}` : raw[i + 1];
  }
  if (lengths && codings) return 'both Content-Length and Transfer-Encoding';
  if (lengths > 1) return 'more than one Content-Length';
  if (head.statusCode === 204 || head.statusCode === 304) return { framing: 'none', length: 0 };
  if (codings) {
    const list = codings.split(',').map((c) => c.trim().toLowerCase());
    const chunked = list.filter((c) => c === 'chunked').length;
    if (chunked > 1) return 'chunked applied twice';
    // Chunked not last: the body runs to the close (RFC 9112 6.3 item 4, for responses).
    return { framing: list[list.length - 1] === 'chunked' ? 'chunked' : 'close', length: 0 };
  }
  if (lengths) {
    if (!/^[0-9]{1,15}$/.test(length)) return 'bad Content-Length';
    const n = Number(length);
    return { framing: n === 0 ? 'none' : 'length', length: n };
  }
  return { framing: 'close', length: 0 };
}

const enum Chunk { Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, EndLf, Done }

/**
 * Walks a relayed body as it arrives and hands the payload bytes to
 * `out(ctx, payload)` (a module-level function: no closure per answer). `consume` returns true once the body is complete; a broken
 * framing sets `broken` (the relay then ends without completing).
 */
export class RelayBody {
  readonly framing: RelayFraming;
  #left: number;
  #chunk = Chunk.Size;
  #digits = 0;
  #lineBytes = 0;
  #trailerBytes = 0;
  /** Why the framing broke, or '' while it holds. */
  broken = '';
  done: boolean;

  constructor(framing: RelayFraming, length: number) {
    this.framing = framing;
    this.#left = length;
    this.done = framing === 'none';
  }

  /** Walks `chunk`, passing payload to `out`; true once the body is complete. Bytes after the end are ignored. */
  consume<T>(chunk: Buffer, out: (ctx: T, payload: Buffer) => void, ctx: T): boolean {
    if (this.done || this.broken || chunk.length === 0) return this.done;
    switch (this.framing) {
      case 'close': out(ctx, chunk); return false;
      case 'length': {
        const n = Math.min(this.#left, chunk.length);
        this.#left -= n;
        out(ctx, n === chunk.length ? chunk : chunk.subarray(0, n));
        this.done = this.#left === 0;
        return this.done;
      }
      case 'chunked': return this.#chunked(chunk, out, ctx);
      default: return this.done;
    }
  }

  /** The backend's FIN: complete only for a close-delimited body. */
  ended(): boolean {
    if (this.framing === 'close' && !this.broken) this.done = true;
    return this.done;
  }

  #chunked<T>(buf: Buffer, out: (ctx: T, payload: Buffer) => void, ctx: T): boolean {
    let i = 0;
    while (i < buf.length && !this.broken) {
      if (this.#chunk === Chunk.Data) {
        const n = Math.min(this.#left, buf.length - i);
        out(ctx, buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#chunk = Chunk.DataCr;
        continue;
      }
      this.#framingByte(buf[i++]);
      if (this.#chunk === Chunk.Done) { this.done = true; return true; }
    }
    return false;
  }

  /** One byte of a chunk-size line, the CRLF after a chunk's data, or the trailer section. */
  #framingByte(b: number): void {
    switch (this.#chunk) {
      case Chunk.Size: {
        const d = hexValue(b);
        if (d >= 0 && this.#digits < MAX_SIZE_DIGITS) { this.#left = this.#left * 16 + d; this.#digits++; this.#line(); return; }
        if (this.#digits === 0) return this.#break('bad chunk size');
        if (b === 0x0d) { this.#chunk = Chunk.SizeLf; return; }
        if (b === 0x3b || b === 0x20 || b === 0x09) { this.#chunk = Chunk.Ext; this.#line(); return; }
        return this.#break('bad chunk size');
      }
      case Chunk.Ext:
        // Extensions are ignored, but a bare LF or a control byte in them is a framing trick (smuggling): refused.
        if (b === 0x0d) { this.#chunk = Chunk.SizeLf; return; }
        if ((b < 0x20 && b !== 0x09) || b === 0x7f) return this.#break('bad byte in a chunk extension');
        return this.#line();
      case Chunk.SizeLf:
        if (b !== 0x0a) return this.#break('chunk size line without CRLF');
        this.#lineBytes = 0;
        this.#digits = 0;
        this.#chunk = this.#left === 0 ? Chunk.TrailerStart : Chunk.Data;
        return;
      case Chunk.DataCr: return this.#expect(b, 0x0d, Chunk.DataLf, 'chunk data without CRLF');
      case Chunk.DataLf: return this.#expect(b, 0x0a, Chunk.Size, 'chunk data without CRLF');
      case Chunk.TrailerStart:
        this.#trailer();
        if (b === 0x0a) return this.#break('trailer line without CRLF');
        this.#chunk = b === 0x0d ? Chunk.EndLf : Chunk.TrailerLine;
        return;
      case Chunk.TrailerLine:
        this.#trailer();
        if (b === 0x0d) this.#chunk = Chunk.TrailerLf;
        else if (b === 0x0a) this.#break('trailer line without CRLF');
        return;
      case Chunk.TrailerLf:
        this.#trailer();
        return this.#expect(b, 0x0a, Chunk.TrailerStart, 'trailer line without CRLF');
      case Chunk.EndLf: return this.#expect(b, 0x0a, Chunk.Done, 'last chunk without CRLF');
      default:
    }
  }

  /** The framing byte `want` moves on to `next`; anything else breaks the framing. */
  #expect(b: number, want: number, next: Chunk, why: string): void {
    if (b === want) this.#chunk = next;
    else this.#break(why);
  }

  #line(): void { if (++this.#lineBytes > MAX_FRAMING_LINE_BYTES) this.#break('chunk size line too long'); }
  #trailer(): void { if (++this.#trailerBytes > MAX_TRAILER_BYTES) this.#break('trailers too large'); }
  #break(why: string): void { this.broken = why; }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}
