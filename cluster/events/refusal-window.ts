/**
 * Sums the requests and handshakes this node refused (limits, access, bad
 * handshakes, no route) over each wall-clock minute into one `refusals`
 * event, so that a flood shows in the history as one line a minute per node
 * and never as one line per refusal. It reads the cumulative counters the
 * data plane keeps anyway (read at scrape time for /metrics too): nothing is
 * added on the hot path.
 */
import type { Clock } from '../../shared/clock';
import type { HistoryPort } from './history-port';

/** Cumulative refusals by reason since the process started (prom-client reads its counters asynchronously). */
export type RefusalCounts = () => ReadonlyMap<string, number> | Promise<ReadonlyMap<string, number>>;

/** The differences of two cumulative readings, only the reasons that grew. */
export function refusalDelta(before: ReadonlyMap<string, number>, now: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, n] of now) {
    const d = n - (before.get(reason) ?? 0);
    if (d > 0) out[reason] = d;
  }
  return out;
}

/** One `refusals` event per minute with refusals in it. */
export class RefusalWindow {
  #timer: NodeJS.Timeout | null = null;
  #last: ReadonlyMap<string, number> = new Map();
  #windowStart = 0;
  #started = false;
  /** The close in progress: closes never overlap, so no refusal is counted in two windows. */
  #closing: Promise<void> = Promise.resolve();

  constructor(readonly history: HistoryPort, readonly counts: RefusalCounts, readonly clock: Clock, readonly windowMs: number) {}

  /** Starts the windows; refusals before start() (none in a node that just started) are not counted. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#windowStart = this.clock.wallMs();
    this.#closing = Promise.resolve(this.counts()).then((c) => { this.#last = new Map(c); }, () => undefined);
    this.#schedule();
  }

  /** Records the window so far (its real length) and stops. */
  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#started) return;
    this.#started = false;
    await this.close();
  }

  /** Closes the current window: records it when anything was refused in it. */
  close(): Promise<void> {
    this.#closing = this.#closing.then(() => this.#close(), () => this.#close());
    return this.#closing;
  }

  async #close(): Promise<void> {
    let current: Map<string, number>;
    try { current = new Map(await this.counts()); } catch { return; }
    const now = this.clock.wallMs();
    const counts = refusalDelta(this.#last, current);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total > 0) this.history.record({ kind: 'refusals', at: this.#windowStart, windowMs: Math.max(0, now - this.#windowStart), counts, total });
    this.#last = current;
    this.#windowStart = now;
  }

  /** Next close at the next minute boundary of the wall clock, so windows of all nodes line up. */
  #schedule(): void {
    const now = this.clock.wallMs();
    const next = (Math.floor(now / this.windowMs) + 1) * this.windowMs;
    this.#timer = setTimeout(() => { void this.close(); this.#schedule(); }, Math.max(10, next - now));
    this.#timer.unref();
  }
}
