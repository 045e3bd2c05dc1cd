/**
 * Passive health: failed connects and handshakes seen on live traffic. After
 * `passiveFail` failures in a row to one backend (no success in between) the
 * backend is reported down, without waiting for the next active check.
 * Called once per connection attempt, never per message.
 */
import type { PassiveHealthSink } from '../../shared/cluster-view';

/** Receives a backend that passive failures marked down. */
export type PassiveDownHandler = (pool: string, backendId: string, reason: string) => void;

/** Consecutive-failure counter per backend, implementing the data plane's sink. */
export class PassiveHealth implements PassiveHealthSink {
  /** pool -> backend -> consecutive failures. */
  readonly #fails = new Map<string, Map<string, number>>();
  readonly #threshold: (pool: string) => number;
  readonly #onDown: PassiveDownHandler;

  constructor(threshold: (pool: string) => number, onDown: PassiveDownHandler) {
    this.#threshold = threshold;
    this.#onDown = onDown;
  }

  connectFailed(pool: string, backendId: string, reason: string): void {
    let m = this.#fails.get(pool);
    if (!m) { m = new Map(); this.#fails.set(pool, m); }
    const n = (m.get(backendId) ?? 0) + 1;
    m.set(backendId, n);
    // Every `threshold` failures, not only the first time: the backend may have
    // come back on this node's checks (count not reset) and failed again.
    if (n % this.#threshold(pool) === 0) this.#onDown(pool, backendId, `${n} failed connections from live traffic: ${reason}`);
  }

  connectSucceeded(pool: string, backendId: string): void {
    const m = this.#fails.get(pool);
    if (m && m.get(backendId)) m.set(backendId, 0);
  }

  /** Consecutive failures now counted for a backend. */
  failures(pool: string, backendId: string): number { return this.#fails.get(pool)?.get(backendId) ?? 0; }

  /** Forgets a backend (it left its pool or came back up). */
  reset(pool: string, backendId: string): void { this.#fails.get(pool)?.delete(backendId); }
}
