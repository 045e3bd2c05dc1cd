/**
 * What a reader of the history asks for, and the pure filter that answers
 * it: a time window on the events' own times, and optional VIP, node and
 * kinds. `parseTimeArg` reads the operator's `--since` / `--until`:
 * a duration back from now (`90s`, `15m`, `1h`, `2d`), a clock time today
 * (`03:12`, `03:12:30`), an ISO date (`2025-11-26T03:12`) or epoch ms.
 */
import { ConfigError } from '../../shared/errors';
import { nodesOf, vipOf, type HistoryEvent } from '../../shared/history-event';

/** A query of the history. Times are wall-clock ms. */
export interface HistoryQuery {
  sinceMs: number;
  untilMs?: number;
  vip?: string;
  node?: string;
  /** Kinds to keep (all when absent or empty). */
  kinds?: ReadonlySet<string>;
}

/** Whether one event answers the query. */
export function matches(e: HistoryEvent, q: HistoryQuery): boolean {
  if (e.at < q.sinceMs) return false;
  if (q.untilMs !== undefined && e.at > q.untilMs) return false;
  if (q.kinds && q.kinds.size && !q.kinds.has(e.kind)) return false;
  if (q.vip && vipOf(e) !== q.vip) return false;
  if (q.node && !nodesOf(e).includes(q.node)) return false;
  return true;
}

/** Orders events by their own time; events of the same ms stay in the order they were written. */
export function byTime<T extends { at: number; id: string }>(a: T, b: T): number {
  return a.at - b.at || compareIds(a.id, b.id);
}

/** Compares two stream ids (`ms-seq`) numerically. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return (am! - bm!) || ((as ?? 0) - (bs ?? 0));
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a `--since` / `--until` value into wall-clock ms; throws ConfigError naming the flag. */
export function parseTimeArg(text: string, flag: string, nowMs: number): number {
  const t = text.trim();
  const dur = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(t);
  if (dur) return nowMs - Number(dur[1]) * UNITS[dur[2]!]!;
  if (/^\d{12,}$/.test(t)) return Number(t);
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (clock && Number(clock[1]) < 24 && Number(clock[2]) < 60 && Number(clock[3] ?? 0) < 60) {
    const d = new Date(nowMs);
    d.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 0);
    // A clock time later than now means that time yesterday ("what happened at 23:50" asked at 00:10).
    if (d.getTime() > nowMs) d.setDate(d.getDate() - 1);
    return d.getTime();
  }
  const parsed = Date.parse(t);
  if (/^\d{4}-\d{2}-\d{2}/.test(t) && Number.isFinite(parsed)) return parsed;
  throw new ConfigError(`${flag} ${text}: expected a duration (90s, 15m, 1h, 2d), a time today (03:12), an ISO date (2025-11-26T03:12) or epoch ms`);
}
