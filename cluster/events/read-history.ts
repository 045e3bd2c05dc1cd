/**
 * Reads the history stream back: a window (`readHistory`), what came after
 * a stream id (the live page polls with it), and new entries as they are
 * written (`followHistory`, XREAD BLOCK). Entry ids are Redis time at the
 * write; an event's own time `at` may be earlier (a node that buffered it
 * while Redis was unreachable), never later than its id by more than the
 * nodes' clock skew, so a window starting at T is read from id T - skew on.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { parseHistoryEvent, type ConnectionSample, type StoredEvent } from '../../shared/history-event';
import { byTime, matches, type HistoryQuery } from './history-query';

/** How far a node's wall clock may run ahead of Redis's and its events still be found. */
export const CLOCK_SKEW_MS = 60_000;
/** Entries per XRANGE page. */
const PAGE = 1000;
/** Most entries one read looks at (the stream's default cap is 50,000). */
export const MAX_READ_ENTRIES = 500_000;

/** A window of the history. */
export interface HistoryPage {
  /** Matching events, ordered by time. */
  events: StoredEvent[];
  /** Id of the last entry looked at ('0-0' when the stream is empty): continue from it. */
  lastId: string;
  /** More entries than MAX_READ_ENTRIES: the oldest part of the window is missing. */
  truncated: boolean;
}

type Entry = [id: string, fields: string[]];

/** The event of one stream entry with its id, or null when the entry is not a known event. */
export function entryEvent([id, fields]: Entry): StoredEvent | null {
  const at = fields.indexOf('e');
  const e = parseHistoryEvent(at >= 0 ? fields[at + 1] : null);
  return e ? { ...e, id } : null;
}

/** Entries of `key` from `start` (inclusive id, or `(id` exclusive) to `end`, in pages, at most `max`. */
async function range(redis: Redis, key: string, start: string, max: number, end = '+'): Promise<{ entries: Entry[]; truncated: boolean }> {
  const entries: Entry[] = [];
  let from = start;
  for (let i = 0; i * PAGE < max; i++) {
    const page = (await redis.xrange(key, from, end, 'COUNT', PAGE)) as Entry[];
    entries.push(...page);
    if (page.length < PAGE) return { entries, truncated: false };
    from = `(${page[page.length - 1]![0]}`;
  }
  return { entries, truncated: true };
}

/** The events of a window (and filters), read from `afterId` on when given. Throws the Redis error. */
export async function readHistory(redis: Redis, keys: RedisKeys, q: HistoryQuery, afterId?: string): Promise<HistoryPage> {
  const start = afterId ? `(${afterId}` : String(Math.max(0, q.sinceMs - CLOCK_SKEW_MS));
  const { entries, truncated } = await range(redis, keys.history(), start, MAX_READ_ENTRIES);
  const events: StoredEvent[] = [];
  for (const entry of entries) {
    const e = entryEvent(entry);
    if (e && matches(e, q)) events.push(e);
  }
  const lastId = entries.length ? entries[entries.length - 1]![0] : afterId ?? '0-0';
  return { events: events.sort(byTime), lastId, truncated };
}

/** Id of the newest entry ('0-0' when empty): `followHistory` starts after it. */
export async function lastEntryId(redis: Redis, keys: RedisKeys): Promise<string> {
  const last = (await redis.xrevrange(keys.history(), '+', '-', 'COUNT', 1)) as Entry[];
  return last[0]?.[0] ?? '0-0';
}

/**
 * Calls `onEvent` for every entry written after `fromId`, as it is written,
 * until `stopped()` says so or `maxRounds` blocks of `blockMs` have passed.
 * Throws the Redis error (the CLI reports a lost Redis with exit code 3).
 */
export async function followHistory(redis: Redis, keys: RedisKeys, fromId: string, onEvent: (e: StoredEvent) => void, o: { stopped: () => boolean; blockMs?: number; maxRounds: number }): Promise<void> {
  let last = fromId;
  for (let i = 0; i < o.maxRounds && !o.stopped(); i++) {
    const res = (await redis.xread('COUNT', 500, 'BLOCK', o.blockMs ?? 1000, 'STREAMS', keys.history(), last)) as Array<[string, Entry[]]> | null;
    for (const entry of res?.[0]?.[1] ?? []) {
      last = entry[0];
      const e = entryEvent(entry);
      if (e) onEvent(e);
    }
  }
}

/** Connection samples of a window, at most `maxPerNode` per node (evenly thinned), ordered by time. */
export async function readSamples(redis: Redis, keys: RedisKeys, sinceMs: number, untilMs: number, maxPerNode: number): Promise<ConnectionSample[]> {
  const { entries: raw } = await range(redis, keys.historySamples(), String(Math.max(0, sinceMs - CLOCK_SKEW_MS)), MAX_READ_ENTRIES, String(untilMs + CLOCK_SKEW_MS));
  const byNode = new Map<string, ConnectionSample[]>();
  for (const [, fields] of raw) {
    const i = fields.indexOf('s');
    let s: ConnectionSample;
    try { s = JSON.parse(fields[i + 1] ?? '') as ConnectionSample; } catch { continue; }
    if (typeof s?.node !== 'string' || typeof s.at !== 'number' || typeof s.connections !== 'number' || s.at < sinceMs || s.at > untilMs) continue;
    let list = byNode.get(s.node);
    if (!list) byNode.set(s.node, (list = []));
    list.push(s);
  }
  const out: ConnectionSample[] = [];
  for (const list of byNode.values()) {
    const step = Math.max(1, Math.ceil(list.length / maxPerNode));
    for (let i = 0; i < list.length; i += step) out.push(list[i]!);
  }
  return out.sort((a, b) => a.at - b.at);
}
