/**
 * GET /api/history for the live page's timeline: the events of a window,
 * what owned each VIP when the window began (so an owner bar starts at the
 * left edge, not at the first change inside it), and the connection samples
 * per node, thinned to what a screen can draw.
 *
 *   ?windowMs=3600000            the last hour (one of 15 min, 1 h, 24 h on the page)
 *   ?sinceMs=..&untilMs=..       an explicit window (wall ms)
 *   ?after=ID                    only entries written after stream id ID (the page's polling)
 *
 * Answers { now, sinceMs, untilMs, lastId, truncated, events, before, samples, backends } (backends: the
 * verdict of every backend now, for those whose verdict did not change lately).
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { BadRequestError, RedisUnavailableError } from '../../shared/errors';
import { readHistory, readSamples } from '../events/read-history';
import { readVerdicts } from '../health/read-verdicts';
import type { StoredEvent } from '../../shared/history-event';

/** Longest window the page may ask for (its widest choice, 24 h, and some slack). */
export const MAX_WINDOW_MS = 48 * 60 * 60 * 1000;
/** Samples per node the page draws at most. */
const SAMPLES_PER_NODE = 300;
/** How far before the window the page looks for the state each VIP and backend was in when it began. */
const LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;

function num(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BadRequestError(`${name}: expected a number of milliseconds`);
  return n;
}

/** The last ownership event of each VIP and verdict of each backend before `sinceMs`: what held when the window began. */
function stateBefore(events: readonly StoredEvent[]): StoredEvent[] {
  const last = new Map<string, StoredEvent>();
  for (const e of events) {
    if (e.kind === 'ownership') last.set(`vip:${e.vip}`, e);
    else if (e.kind === 'verdict') last.set(`verdict:${e.pool}/${e.backend}`, e);
  }
  return [...last.values()];
}

/** The provider of GET /api/history on the admin server's own Redis connection. */
export function historyProvider(redis: Redis, keys: RedisKeys, address: string): (q: URLSearchParams) => Promise<unknown> {
  return async (q) => {
    if (redis.status !== 'ready') throw new RedisUnavailableError(address);
    const now = Date.now();
    const windowMs = num(q, 'windowMs');
    const untilMs = num(q, 'untilMs') ?? now;
    const sinceMs = num(q, 'sinceMs') ?? untilMs - (windowMs ?? 60 * 60 * 1000);
    if (untilMs - sinceMs > MAX_WINDOW_MS || sinceMs > untilMs) throw new BadRequestError(`window: expected at most ${MAX_WINDOW_MS} ms, since before until`);
    const after = q.get('after') ?? undefined;
    if (after !== undefined && !/^\d+-\d+$/.test(after)) throw new BadRequestError('after: expected a stream id (ms-seq)');
    const page = await readHistory(redis, keys, { sinceMs, untilMs }, after);
    const before = after ? [] : stateBefore((await readHistory(redis, keys, { sinceMs: sinceMs - LOOKBACK_MS, untilMs: sinceMs - 1, kinds: new Set(['ownership', 'verdict']) })).events);
    const samples = await readSamples(redis, keys, sinceMs, untilMs, SAMPLES_PER_NODE);
    const backends = (await readVerdicts(redis, keys)).map((v) => ({ pool: v.pool, backend: v.backend, verdict: v.verdict }));
    return { now, sinceMs, untilMs, lastId: page.lastId, truncated: page.truncated, events: page.events, before, samples, backends };
  };
}
