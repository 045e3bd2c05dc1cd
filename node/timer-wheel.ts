/**
 * Coarse timers for per-socket timeouts (idle tunnels, close handshakes,
 * pre-HTTP phases), after undici's util/timers: one interval scans the
 * tracked entries every `tickMs`, so a busy socket never resets a
 * `setTimeout` per chunk. An entry is any object with the fields below; the
 * hot path only sets `active = 1` (an integer store, no allocation).
 */

/** Something the wheel watches. Keep it one shape: all fields set at construction. */
export interface WheelEntry {
  /** Set to 1 by the hot path on activity; the wheel clears it and restarts the count. */
  active: number;
  /** Milliseconds without activity counted so far (owned by the wheel). */
  idleMs: number;
  /** Fires when `idleMs` reaches this; 0 means never. */
  timeoutMs: number;
  /** Called once when the timeout fires (the entry is untracked first). */
  onWheelTimeout(): void;
}

/** A coarse timer wheel; accuracy is one tick. */
export class TimerWheel {
  readonly tickMs: number;
  #entries = new Set<WheelEntry>();
  #timer: NodeJS.Timeout | null = null;

  constructor(tickMs: number) { this.tickMs = tickMs; }

  /** Starts watching `e` (idempotent); its idle count restarts. */
  track(e: WheelEntry): void {
    e.idleMs = 0;
    e.active = 0;
    this.#entries.add(e);
    if (this.#timer === null) {
      this.#timer = setInterval(wheelOnTick, this.tickMs, this);
      this.#timer.unref();
    }
  }

  /** Stops watching `e` (idempotent). */
  untrack(e: WheelEntry): void {
    this.#entries.delete(e);
    if (this.#entries.size === 0) this.stop();
  }

  /** Number of watched entries. */
  get size(): number { return this.#entries.size; }

  /** Advances every entry by one tick; exposed for tests. */
  tick(): void {
    const step = this.tickMs;
    for (const e of this.#entries) {
      if (e.active !== 0) { e.active = 0; e.idleMs = 0; continue; }
      if (e.timeoutMs <= 0) continue;
      e.idleMs += step;
      if (e.idleMs >= e.timeoutMs) {
        this.#entries.delete(e);
        try { e.onWheelTimeout(); } catch { /* a timeout handler must never stop the wheel */ }
      }
    }
    if (this.#entries.size === 0) this.stop();
  }

  /** Stops the interval; tracked entries stay and restart it on the next track(). */
  stop(): void {
    if (this.#timer !== null) { clearInterval(this.#timer); this.#timer = null; }
  }
}

function wheelOnTick(wheel: TimerWheel): void { wheel.tick(); }
