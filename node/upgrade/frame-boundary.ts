/**
 * Where the WebSocket frames of the backend-to-client stream end, so that a
 * close frame of our own (1001 drain, 1012 handover) goes out between two
 * frames and not inside one (which the client would read as payload, then
 * see the connection drop: 1006). Only frame headers (2 to 14 bytes each) are
 * looked at; payloads are skipped by length, never read, unmasked or copied.
 * Frame layout: RFC 6455 section 5.2.
 */

/** Longest frame header: 2 + 8 (64-bit length) + 4 (mask). */
const MAX_HEADER_BYTES = 14;

/** Tracks frame boundaries in one direction of a tunnel. One shape; no allocation after construction. */
export class FrameBoundary {
  /** Header bytes of the frame being read, until the header is complete. */
  readonly #hdr = new Uint8Array(MAX_HEADER_BYTES);
  #hdrLen = 0;
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0;

  /** True between two frames. */
  get atBoundary(): boolean { return this.#payloadLeft === 0 && this.#hdrLen === 0; }

  /**
   * Advances over `chunk` and returns how many of its bytes were taken. With
   * `stopAtBoundary`, stops at the first frame boundary (0 when already at
   * one); otherwise takes the whole chunk.
   */
  consume(chunk: Uint8Array, stopAtBoundary: boolean): number {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, len - pos);
        this.#payloadLeft -= n;
        pos += n;
        if (this.#payloadLeft === 0 && stopAtBoundary) return pos;
        continue;
      }
      if (this.#hdrLen === 0 && stopAtBoundary) return pos;
      this.#hdr[this.#hdrLen++] = chunk[pos++];
      const size = this.#headerSize();
      if (size !== 0 && this.#hdrLen === size) {
        this.#payloadLeft = this.#payloadLength();
        this.#hdrLen = 0;
        if (this.#payloadLeft === 0 && stopAtBoundary) return pos;
      }
    }
    return pos;
  }

  /** Total header size once the second byte is known, else 0. */
  #headerSize(): number {
    if (this.#hdrLen < 2) return 0;
    const len7 = this.#hdr[1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (this.#hdr[1] & 0x80 ? 4 : 0);
  }

  #payloadLength(): number {
    const h = this.#hdr;
    const len7 = h[1] & 0x7f;
    if (len7 < 126) return len7;
    if (len7 === 126) return (h[2] << 8) | h[3];
    // 64-bit length: exact up to 2^53, far beyond any frame a backend sends.
    const hi = ((h[2] << 24) >>> 0) + (h[3] << 16) + (h[4] << 8) + h[5];
    const lo = ((h[6] << 24) >>> 0) + (h[7] << 16) + (h[8] << 8) + h[9];
    return hi * 2 ** 32 + lo;
  }
}
