/**
 * Live tunnels of one node: creation, counts per backend, paced closes (for
 * handover and drain) and the bookkeeping the metrics collector reads.
 */
import type { Logger } from 'pino';
import type { ClusterView } from '../../shared/cluster-view';
import type { TimerWheel } from '../timer-wheel';
import { Tunnel, CLOSE_TIMEOUT_MS, type TunnelInit, type TunnelOwner } from './tunnel';

/** At most one "handshake refused" log line per backend in this interval. */
const FAILURE_LOG_INTERVAL_MS = 5000;
/** Step of the paced-close loop. */
const PACE_TICK_MS = 20;

/** Live tunnels and their counters. */
export class TunnelRegistry implements TunnelOwner {
  readonly stats = { bytesIn: 0, bytesOut: 0 };
  readonly tunnels = new Set<Tunnel>();
  /** Tunnels opened, by `listener\0pool\0backend` (read at scrape time). */
  readonly openedTotal = new Map<string, number>();
  /** Refused handshakes by reason class (`backend`, `status-NNN`). */
  readonly failures = new Map<string, number>();
  readonly #wheel: TimerWheel;
  readonly #view: ClusterView;
  readonly #log: Logger;
  #emptyWaiters: Array<() => void> = [];
  /** Last refused-handshake log line per backend, and how many were held back since. */
  #lastFailureLog = new Map<string, { atMs: number; suppressed: number }>();

  constructor(wheel: TimerWheel, view: ClusterView, log: Logger) {
    this.#wheel = wheel;
    this.#view = view;
    this.#log = log;
  }

  /** Creates a tunnel in `connecting`, counts it on its backend at once (least-conn sees it) and sends its handshake. */
  create(init: Omit<TunnelInit, 'owner'>): Tunnel {
    init.target.tunnels++;
    const t = new Tunnel({ ...init, owner: this });
    this.tunnels.add(t);
    // The client may have sent its request and FIN together: its 'end' or 'close' is already past.
    if (t.client.destroyed || t.client.readableEnded) t.clientGone();
    else t.start();
    return t;
  }

  get size(): number { return this.tunnels.size; }

  track(t: Tunnel): void { this.#wheel.track(t); }
  untrack(t: Tunnel): void { this.#wheel.untrack(t); }

  tunnelOpened(t: Tunnel): void {
    t.target.tunnelsTotal++;
    const key = `${t.origin.listener}\u0000${t.target.pool}\u0000${t.target.id}`;
    this.openedTotal.set(key, (this.openedTotal.get(key) ?? 0) + 1);
    this.#view.passive.connectSucceeded(t.target.pool, t.target.id);
  }

  tunnelFailed(t: Tunnel, status: number, reason: string, backendFault: boolean): void {
    const key = backendFault ? 'backend' : `status-${status}`;
    this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    if (backendFault) this.#view.passive.connectFailed(t.target.pool, t.target.id, reason);
    // One line per backend per interval, with the count of the ones held back: a dead backend must not flood the log.
    const logKey = `${t.target.pool}/${t.target.id}`;
    const now = Date.now();
    const last = this.#lastFailureLog.get(logKey);
    if (last && now - last.atMs < FAILURE_LOG_INTERVAL_MS) { last.suppressed++; return; }
    this.#lastFailureLog.set(logKey, { atMs: now, suppressed: 0 });
    if (this.#lastFailureLog.size > 10_000) this.#lastFailureLog.clear();
    this.#log.warn({ pool: t.target.pool, backend: t.target.id, status, reason, client: t.origin.clientAddress, suppressed: last?.suppressed ?? 0 }, 'websocket handshake refused');
  }

  tunnelClosed(t: Tunnel): void {
    if (!this.tunnels.delete(t)) return;
    t.target.tunnels--;
    // Only sessions with an open connection here get their affinity TTL refreshed by this node.
    if (t.sessionKey !== null) this.#view.affinity.release?.(t.target.pool, t.sessionKey);
    if (this.tunnels.size === 0 && this.#emptyWaiters.length) {
      const w = this.#emptyWaiters;
      this.#emptyWaiters = [];
      for (const fn of w) fn();
    }
  }

  /** Tunnels matching `pred`. */
  select(pred: (t: Tunnel) => boolean): Tunnel[] {
    const out: Tunnel[] = [];
    for (const t of this.tunnels) if (pred(t)) out.push(t);
    return out;
  }

  /**
   * Closes `list` with `code`, spread evenly over `windowMs` and never
   * faster than `ratePerSec`; resolves with the count once all are closed
   * (or their close timeout passed).
   */
  async closePaced(list: Tunnel[], code: number, reason: string, ratePerSec: number, windowMs: number): Promise<number> {
    const n = list.length;
    if (n === 0) return 0;
    // Close i goes out at i * spacing: the first at once, the last at the end of the window.
    const spacingMs = Math.max(windowMs / Math.max(1, n - 1), 1000 / Math.max(1, ratePerSec));
    const start = Date.now();
    let i = 0;
    for (let guard = 0; i < n && guard < 1_000_000; guard++) {
      const due = windowMs <= 0 && spacingMs < PACE_TICK_MS / n ? n : Math.min(n, Math.floor((Date.now() - start) / spacingMs) + 1);
      for (; i < due; i++) list[i].close(code, reason);
      if (i < n) await new Promise((r) => setTimeout(r, PACE_TICK_MS));
    }
    await waitUntil(() => list.every((t) => t.state === 'closed'), CLOSE_TIMEOUT_MS + 1000);
    return n;
  }

  /** Resolves when no tunnel is left. */
  whenEmpty(): Promise<void> {
    if (this.tunnels.size === 0) return Promise.resolve();
    return new Promise((r) => this.#emptyWaiters.push(r));
  }

  /** Destroys every tunnel at once. */
  destroyAll(): void {
    for (const t of [...this.tunnels]) t.destroy();
  }
}

async function waitUntil(fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn() && Date.now() < deadline) await new Promise((r) => setTimeout(r, PACE_TICK_MS));
}
