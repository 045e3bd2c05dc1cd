/**
 * The write side of the history stream in Redis: the append script
 * (shared/redis/scripts/history-append.lua: trims to the published caps,
 * skips retries and unchanged states), the caps every node publishes, and a
 * one-shot append for the CLI and the admin API, which have no recorder of
 * their own. A writer that does not know the caps (the CLI) still trims by
 * the ones the nodes published, so the stream stays within them whoever writes.
 */
import type Redis from 'ioredis';
import type { ChainableCommander } from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { scriptSource } from '../../shared/redis/script-source';
import { HISTORY_VERSION, type HistoryEvent, type HistoryInput } from '../../shared/history-event';
import type { OnceRule } from './history-port';

const COMMAND = 'wshaHistoryAppend';

/** The stream's caps as nodes publish them. */
export interface HistoryCaps { maxCount: number; maxAgeMs: number }

/** What the script answered for one event. */
export type AppendResult = 'written' | 'duplicate' | 'unchanged';

const RESULTS: Readonly<Record<number, AppendResult>> = { 0: 'duplicate', 1: 'written', 2: 'unchanged' };

/** Defines the append script on a connection (idempotent); returns the connection. */
export function withAppendScript(redis: Redis): Redis {
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: scriptSource('history-append') });
  return redis;
}

/** Keys and arguments of one append. `seq` is `{process}:{n}` of a recorder, for retries that must not write twice. */
export function appendArgs(keys: RedisKeys, json: string, opts: { writer?: string; seq?: string; once?: OnceRule } = {}): string[] {
  const o = opts.once;
  // `change` is `unless` with no other states: the script knows three modes.
  const mode = !o || o.mode === undefined || o.mode === 'change' ? 'unless' : o.mode;
  return [
    keys.history(), keys.historyCaps(), keys.historyLast(),
    json, opts.writer ?? '', opts.seq ?? '', o?.subject ?? '', o?.state ?? '', mode, (o?.states ?? []).join(','),
  ];
}

/** The result code of the script as a word. */
export function appendResult(code: unknown): AppendResult {
  return RESULTS[Number(code)] ?? 'written';
}

/** Adds one append to a pipeline or MULTI of a connection that has the script (withAppendScript). */
export function queueAppend(chain: ChainableCommander, args: string[]): void {
  (chain as unknown as Record<string, (...a: string[]) => void>)[COMMAND]!(...args);
}

/** A complete event from what a writer gives. */
export function completeEvent(e: HistoryInput, node: string | null, nowWallMs: number): HistoryEvent {
  return { ...e, v: HISTORY_VERSION, at: e.at ?? nowWallMs, node: e.node === undefined ? node : e.node } as HistoryEvent;
}

/** Appends one event now (CLI, admin API). Throws the Redis error. */
export async function appendEvent(redis: Redis, keys: RedisKeys, e: HistoryInput, node: string | null = null): Promise<AppendResult> {
  const args = appendArgs(keys, JSON.stringify(completeEvent(e, node, Date.now())));
  const out = await (withAppendScript(redis) as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[COMMAND]!(...args);
  return appendResult(out);
}

/** Publishes this node's caps; every writer trims by them from then on. */
export async function publishCaps(redis: Redis, keys: RedisKeys, caps: HistoryCaps): Promise<void> {
  await redis.hset(keys.historyCaps(), 'maxCount', String(caps.maxCount), 'maxAgeMs', String(caps.maxAgeMs));
}
