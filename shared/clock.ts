/** Monotonic clock, injectable so that pure modules can be tested with fake time. */
export interface Clock {
  /** Milliseconds on the host's monotonic clock (never jumps with wall-clock changes; the same in every process of the host). */
  nowMs(): number;
  /** Wall-clock milliseconds since the epoch, for display only. */
  wallMs(): number;
}

/**
 * CLOCK_MONOTONIC in milliseconds. Unlike performance.now(), which counts
 * from this process's start, it is the same clock in every process of the
 * host, so a deadline computed by the control process can be checked by a
 * worker or by the VIP guard.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** The real clock. */
export const systemClock: Clock = Object.freeze({
  nowMs: monotonicMs,
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
