/**
 * Message limits of the client-to-backend direction of one tunnel
 * (routes[].messages), and the frame boundaries of that direction, so that
 * a close frame of our own (token expiry, a broken limit, drain) reaches
 * the backend between two frames. Like frame-boundary.ts it reads frame
 * headers only (2 to 14 bytes, RFC 6455 5.2): payloads are skipped by
 * length, never unmasked or copied. One shape, number fields only.
 *
 * A message is counted when its first frame starts (text, binary, ping and
 * pong frames; continuations and close are not new messages). Its size is
 * the sum of its fragments' payload lengths, known from each header before
 * any payload byte passes, so an oversized frame is never forwarded.
 */

/** Close codes for a broken limit (RFC 6455 7.4.1). */
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;

/** Result of consume() when every byte may pass. */
export const PASS = -1;

/** Limits and frame tracking for one tunnel's client-to-backend stream. */
export class MessageGate {
  readonly #maxBytes: number;
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #lastMs: number;
  #hdrPos = 0;
  #hdrSize = 0;
  #extEnd = 0;
  #len = 0;
  #opcode = 0;
  #payloadLeft = 0;
  #msgBytes = 0;
  /** Set by consume() when a limit broke: CLOSE_POLICY or CLOSE_TOO_BIG. */
  violation = 0;
  /** False when the frame that broke the limit started in an earlier chunk (its first bytes already passed). */
  cleanCut = true;

  /** `maxBytes` 0 and `ratePerSec` 0 turn that limit off (the gate then only tracks boundaries). */
  constructor(maxBytes: number, ratePerSec: number, burst: number, nowMs: number) {
    this.#maxBytes = maxBytes;
    this.#ratePerMs = ratePerSec / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** True between two frames. */
  get atBoundary(): boolean { return this.#payloadLeft === 0 && this.#hdrPos === 0; }

  /**
   * Advances over `chunk`. Returns PASS when all of it may be forwarded, or
   * the offset where forwarding must stop: the start of a frame that breaks
   * a limit (`violation` set), or with `stopAtBoundary` the first frame
   * boundary (0 when already at one).
   */
  consume(chunk: Uint8Array, nowMs: number, stopAtBoundary: boolean): number {
    if (this.#ratePerMs > 0 && nowMs > this.#lastMs) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (nowMs - this.#lastMs) * this.#ratePerMs);
      this.#lastMs = nowMs;
    }
    const len = chunk.length;
    let pos = 0;
    let frameStart = 0;
    while (pos < len) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, len - pos);
        this.#payloadLeft -= n;
        pos += n;
        if (this.#payloadLeft === 0 && stopAtBoundary) return pos;
        continue;
      }
      if (this.#hdrPos === 0) {
        if (stopAtBoundary) return pos;
        frameStart = pos;
        this.#splitHeader = false;
      }
      this.#headerByte(chunk[pos++]);
      if (this.#hdrSize !== 0 && this.#hdrPos === this.#hdrSize) {
        this.#hdrPos = 0;
        this.#hdrSize = 0;
        if (this.#frameBreaksLimit()) {
          this.cleanCut = !this.#splitHeader;
          return frameStart;
        }
        this.#payloadLeft = this.#len;
        if (this.#payloadLeft === 0 && stopAtBoundary) return pos;
      }
    }
    // A header cut by the chunk end: its first bytes pass now, so a refusal of that frame cannot be clean.
    if (this.#hdrPos > 0) this.#splitHeader = true;
    return PASS;
  }

  /** The current frame's header began in an earlier chunk. */
  #splitHeader = false;

  #frameBreaksLimit(): boolean {
    const op = this.#opcode;
    if (op === 1 || op === 2) this.#msgBytes = this.#len;
    else if (op === 0) this.#msgBytes += this.#len;
    if (this.#maxBytes > 0 && op <= 2 && this.#msgBytes > this.#maxBytes) { this.violation = CLOSE_TOO_BIG; return true; }
    if (this.#ratePerMs > 0 && op !== 0 && op !== 8) {
      if (this.#tokens < 1) { this.violation = CLOSE_POLICY; return true; }
      this.#tokens -= 1;
    }
    return false;
  }

  /** One header byte: byte 0 the opcode, byte 1 the length form and mask bit, then the extended length (mask key ignored). */
  #headerByte(b: number): void {
    const i = this.#hdrPos++;
    if (i === 0) { this.#opcode = b & 0x0f; return; }
    if (i === 1) {
      const len7 = b & 0x7f;
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
      this.#extEnd = 2 + ext;
      this.#hdrSize = this.#extEnd + (b & 0x80 ? 4 : 0);
      this.#len = ext === 0 ? len7 : 0;
      return;
    }
    if (i < this.#extEnd) this.#len = this.#len * 256 + b;
  }
}

/** A client-to-server close frame (masked, RFC 6455 5.3), for the backend; the reason is cut to fit 123 bytes. */
export function maskedCloseFrame(code: number, reason: string, mask: Uint8Array): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const payload = Buffer.allocUnsafe(2 + r.length);
  payload.writeUInt16BE(code, 0);
  r.copy(payload, 2);
  const frame = Buffer.allocUnsafe(6 + payload.length);
  frame[0] = 0x88;
  frame[1] = 0x80 | payload.length;
  frame[2] = mask[0]; frame[3] = mask[1]; frame[4] = mask[2]; frame[5] = mask[3];
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ mask[i & 3];
  return frame;
}
