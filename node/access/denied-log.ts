/**
 * Every refusal of the edge, counted, logged and kept for `wsha status`:
 * counts by route and reason (integer map, read at scrape time into
 * wsha_access_denied_total{route,reason}), a log line per refusal with its
 * reason and client address (at most DEFAULTS.edge.refusalLogsPerSec lines
 * per route and reason each second; the next line says how many were held
 * back), and alerts: what was refused in the last alertWindowMs, which the
 * heartbeat carries to `wsha status` as warnings.
 */
import type { Logger } from 'pino';
import { DEFAULTS } from '../../shared/config/defaults';
import type { EdgeAlert } from '../../shared/ports/edge-report';

/** One alert for `wsha status`. */
export type { EdgeAlert };

interface LogBudget { secondMs: number; lines: number; held: number }

/** The node's refusal ledger. */
export class DeniedLog {
  /** Refusals by `route\0reason` since start. */
  readonly counts = new Map<string, number>();
  readonly #alerts = new Map<string, EdgeAlert>();
  readonly #budget = new Map<string, LogBudget>();
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(log: Logger, nowMs: () => number = Date.now) {
    this.#log = log;
    this.#now = nowMs;
  }

  /** Records one refusal (or policy close) of `route` for `reason`. */
  record(route: string, reason: string, status: number, address: string, message: string): void {
    const key = `${route}\u0000${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const now = this.#now();
    const a = this.#alerts.get(key);
    if (a && now - a.lastAt < DEFAULTS.edge.alertWindowMs) { a.count++; a.lastAddress = address; a.lastAt = now; a.message = message; }
    else this.#alerts.set(key, { route, reason, count: 1, lastAddress: address, message, lastAt: now });
    this.#logLine(key, route, reason, status, address, message, now);
  }

  #logLine(key: string, route: string, reason: string, status: number, address: string, message: string, now: number): void {
    let b = this.#budget.get(key);
    const second = Math.floor(now / 1000);
    if (!b || b.secondMs !== second) {
      const held = b?.held ?? 0;
      b = { secondMs: second, lines: 0, held: 0 };
      this.#budget.set(key, b);
      if (held) this.#log.warn({ route, reason, held }, 'refusals held back from the log');
    }
    if (b.lines >= DEFAULTS.edge.refusalLogsPerSec) { b.held++; return; }
    b.lines++;
    this.#log.warn({ route, reason, status, client: address, detail: message }, 'request refused at the edge');
  }

  /** Alerts with a refusal in the last alertWindowMs. */
  alerts(): EdgeAlert[] {
    const now = this.#now();
    const out: EdgeAlert[] = [];
    for (const [k, a] of this.#alerts) {
      if (now - a.lastAt >= DEFAULTS.edge.alertWindowMs) this.#alerts.delete(k);
      else out.push({ ...a });
    }
    return out;
  }

  /** Counts as `[route, reason, count]`. */
  totals(): Array<[string, string, number]> {
    return [...this.counts].map(([k, n]) => { const [route, reason] = k.split('\u0000'); return [route, reason, n]; });
  }
}
