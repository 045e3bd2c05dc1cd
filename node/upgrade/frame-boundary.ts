/**
 * Where the WebSocket frames of the backend-to-client stream end, so that a
 * close frame of our own (1001 drain, 1012 handover) goes out between two
 * frames and not inside one (which the client would read as payload, then
 * see the connection drop: 1006). Only frame headers (2 to 14 bytes each) are
 * looked at; payloads are skipped by length, never read, unmasked or copied.
 * Frame layout: RFC 6455 section 5.2.
 */

/** Tracks frame boundaries in one direction of a tunnel. One shape, number fields only: nothing allocated. */
export class FrameBoundary {
  /** Header bytes of the current frame seen so far (0 between frames). */
  #hdrPos = 0;
  /** Header size once its second byte is known (2, 4 or 10, plus 4 when masked), else 0. */
  #hdrSize = 0;
  /** End of the extended length bytes in the header (2 when there are none). */
  #extEnd = 0;
  /** Payload length, built from the 7-bit length or the extended length bytes. */
  #len = 0;
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0;

  /** True between two frames. */
  get atBoundary(): boolean { return this.#payloadLeft === 0 && this.#hdrPos === 0; }

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
      if (this.#hdrPos === 0 && stopAtBoundary) return pos;
      this.#headerByte(chunk[pos++]);
      if (this.#hdrSize !== 0 && this.#hdrPos === this.#hdrSize) {
        this.#payloadLeft = this.#len;
        this.#hdrPos = 0;
        this.#hdrSize = 0;
        if (this.#payloadLeft === 0 && stopAtBoundary) return pos;
      }
    }
    return pos;
  }

  /** One header byte: byte 1 gives the length form and mask bit, bytes 2.. the extended length (mask key ignored). */
  #headerByte(b: number): void {
    const i = this.#hdrPos++;
    if (i === 0) return;
    if (i === 1) {
      const len7 = b & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      this.#extEnd = 2 + ext;
      this.#hdrSize = this.#extEnd + (b & 0x80 ? 4 : 0);
      this.#len = ext === 0 ? len7 : 0;
      return;
    }
    // 64-bit lengths are exact up to 2^53, far beyond any frame a backend sends.
    if (i < this.#extEnd) this.#len = this.#len * 256 + b;
  }
}
