/** Monotonic clock, injectable so that pure modules can be tested with fake time. */
export interface Clock {
  /** Milliseconds on a monotonic clock (never jumps with wall-clock changes). */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, for display only. */
  wallMs(): number;
}

/** The real clock. */
export const systemClock: Clock = Object.freeze({
  nowMs: () => performance.now(),
  wallMs: () => Date.now(),
});

/** A clock moved by hand, for tests. */
export class ManualClock implements Clock {
  #now: number;
  #wall: number;
  constructor(start = 0, wallStart = 1_700_000_000_000) { this.#now = start; this.#wall = wallStart; }
  nowMs(): number { return this.#now; }
  wallMs(): number { return this.#wall + this.#now; }
  advance(ms: number): void { this.#now += ms; }
}
