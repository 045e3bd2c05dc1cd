/**
 * Connection caps per node and per client address (the latter off unless
 * limits.maxConnectionsPerClient is set). A connection over a cap is not
 * counted; it is answered 503 (node) or 429 (client) on its first request,
 * logged with its address and the cap (denied-log.ts), and nothing else is
 * affected. Caps change on reload; connections
 * already admitted are never closed by a lower cap.
 */
import type { LimitsConfig } from '../shared/config/schema';
import { LimitError } from '../shared/errors';

/** Counts admitted connections and refuses those over a cap. */
export class ConnectionLimiter {
  #limits: LimitsConfig;
  #total = 0;
  #perClient = new Map<string, number>();
  /** Connections refused since start, by cap. */
  refusedNode = 0;
  refusedClient = 0;

  constructor(limits: LimitsConfig) { this.#limits = limits; }

  /** Swaps in new caps (reload). */
  setLimits(limits: LimitsConfig): void { this.#limits = limits; }

  /** Admitted connections now open. */
  get total(): number { return this.#total; }

  /** Open connections of one client address. */
  countOf(address: string): number { return this.#perClient.get(address) ?? 0; }

  /** Admits (and counts) a connection, or returns the LimitError to answer it with. */
  admit(address: string): LimitError | null {
    if (this.#total >= this.#limits.maxConnections) {
      this.refusedNode++;
      return new LimitError('maxConnections', `node connection limit (${this.#limits.maxConnections}) reached`, 503);
    }
    const n = this.#perClient.get(address) ?? 0;
    // 0 is off (issue 12): behind an L4 balancer without PROXY protocol every client has one address.
    const cap = this.#limits.maxConnectionsPerClient;
    if (cap > 0 && n >= cap) {
      this.refusedClient++;
      return new LimitError('maxConnectionsPerClient', `connection limit per client address (${this.#limits.maxConnectionsPerClient}) reached`, 429);
    }
    this.#perClient.set(address, n + 1);
    this.#total++;
    return null;
  }

  /** Releases a connection admitted earlier. */
  release(address: string): void {
    const n = this.#perClient.get(address) ?? 0;
    if (n <= 1) this.#perClient.delete(address); else this.#perClient.set(address, n - 1);
    if (this.#total > 0) this.#total--;
  }
}
