/**
 * A node's writer of the cluster history. `record()` only queues; a single
 * background flusher writes the queue in order, in pipelined batches of the
 * append script, whenever the connection is ready:
 *
 *   record(e) -> queue (bounded: bufferCount) -> flush: [append e1, append e2, ...] -> Redis
 *                  ^                                   |
 *                  +---- not written (error, timeout) -+  retried with backoff, and on 'ready'
 *
 * While Redis is unreachable events wait in the queue with their original
 * times. When it is full the oldest are dropped, counted
 * (`wsha_history_events_total{result="dropped"}`) and summed up in one
 * `history-dropped` event written ahead of what is left, so the history says
 * where it has a hole. Every event carries `{process}:{n}`, so a batch that
 * Redis ran but whose answer was lost is not written twice when it is sent
 * again (numbers are given at the first send, in the order of the writes).
 * Events older than the stream keeps (maxAgeMs) are not written.
 */
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock';
import type { Metrics } from '../../shared/metrics';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HistoryConfig } from '../../shared/config/schema';
import type { HistoryEvent, HistoryInput } from '../../shared/history-event';
import type { HistoryPort, OnceRule } from './history-port';
import { appendArgs, appendResult, completeEvent, publishCaps, queueAppend, withAppendScript } from './history-append';

/** Events per pipelined batch. */
const BATCH = 100;
/** Retry delays after a failed write. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;
/** Most batches of one flush (then the next flush goes on): bounds every loop. */
const MAX_ROUNDS_PER_FLUSH = 1000;

/** One queued event; `seq` is given when it is first sent, so that sequence numbers follow the order of the writes. */
interface Item { event: HistoryEvent; once?: OnceRule; seq?: number }

/** What the recorder is built from. */
export interface HistoryRecorderOptions {
  redis: Redis;
  keys: RedisKeys;
  nodeId: string;
  history: HistoryConfig;
  clock: Clock;
  log: Logger;
  metrics?: Metrics;
}

/** The node's history writer (see the file comment). */
export class HistoryRecorder implements HistoryPort {
  readonly #o: HistoryRecorderOptions;
  /** This process's id in the sequence numbers (a restarted node is a new writer). */
  readonly #proc = randomBytes(6).toString('hex');
  #queue: Item[] = [];
  #seq = 0;
  #inFlight = 0;
  #dropped: { count: number; firstAt: number; lastAt: number } | null = null;
  #flushing: Promise<void> | null = null;
  #again = false;
  #retryTimer: NodeJS.Timeout | null = null;
  #retryMs = RETRY_MIN_MS;
  #capsPublished = false;
  /** Set while writes fail: the outage is logged once, and the catch-up once. */
  #failingSince: number | null = null;
  #started = false;
  #stopped = false;
  readonly #onReady = () => { this.#capsPublished = false; this.#kick(); };

  constructor(o: HistoryRecorderOptions) {
    this.#o = o;
    withAppendScript(o.redis);
    o.metrics?.addCollector(() => o.metrics!.historyBuffered.set(this.#queue.length));
  }

  /** Events waiting to be written (queued or in a batch Redis has not answered yet). */
  get buffered(): number { return this.#queue.length + this.#inFlight; }

  /** Starts writing (and re-publishing the caps after every reconnect: Redis may have restarted empty). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#o.redis.on('ready', this.#onReady);
    this.#kick();
  }

  record(e: HistoryInput, once?: OnceRule): void {
    if (this.#stopped) return;
    const event = completeEvent(e, this.#o.nodeId, this.#o.clock.wallMs());
    this.#queue.push({ event, once });
    this.#bound();
    this.#kick();
  }

  /** Writes what is queued (for at most `deadlineMs`), then stops; what is left is lost with the process. */
  async stop(deadlineMs = 1000): Promise<void> {
    if (this.#stopped) return;
    this.#kick();
    await Promise.race([this.#idle(), new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#o.redis.off('ready', this.#onReady);
  }

  /** Resolves once the queue is empty or a write failed (tests, stop). */
  async #idle(): Promise<void> {
    for (let i = 0; i < MAX_ROUNDS_PER_FLUSH && this.#queue.length && this.#failingSince === null; i++) {
      await (this.#flushing ?? new Promise((r) => setImmediate(r)));
    }
  }

  /** Drops the oldest events beyond the bound, and remembers what was dropped. */
  #bound(): void {
    const max = this.#o.history.bufferCount;
    if (this.#queue.length <= max) return;
    const gone = this.#queue.splice(0, this.#queue.length - max);
    const d = this.#dropped ?? { count: 0, firstAt: gone[0]!.event.at, lastAt: gone[0]!.event.at };
    d.count += gone.length;
    d.lastAt = gone[gone.length - 1]!.event.at;
    this.#dropped = d;
    this.#o.metrics?.historyEventsTotal.inc({ result: 'dropped' }, gone.length);
  }

  #kick(): void {
    if (!this.#started || this.#stopped) return;
    if (this.#flushing) { this.#again = true; return; }
    this.#flushing = this.#flush().finally(() => {
      this.#flushing = null;
      if (this.#again) { this.#again = false; this.#kick(); }
    });
  }

  async #flush(): Promise<void> {
    const { redis } = this.#o;
    for (let round = 0; round < MAX_ROUNDS_PER_FLUSH && redis.status === 'ready' && !this.#stopped; round++) {
      if (!this.#capsPublished) {
        try { await publishCaps(redis, this.#o.keys, this.#o.history); this.#capsPublished = true; } catch (err) { return this.#failed(err); }
      }
      if (this.#queue.length === 0) return;
      // The summary of what was dropped goes before the events never sent (those sent once keep their place and numbers).
      if (this.#dropped) { const at = this.#queue.findIndex((i) => i.seq === undefined); this.#queue.splice(at < 0 ? this.#queue.length : at, 0, this.#droppedItem()); }
      const batch = this.#queue.splice(0, BATCH);
      for (const item of batch) item.seq ??= ++this.#seq;
      this.#inFlight = batch.length;
      const written = await this.#write(batch).finally(() => { this.#inFlight = 0; });
      if (written < batch.length) {
        this.#queue.unshift(...batch.slice(written));
        this.#bound();
        return this.#failed(new Error('history write failed'));
      }
      this.#succeeded();
    }
  }

  /** Writes one batch; returns how many of its first events Redis took. */
  async #write(batch: Item[]): Promise<number> {
    const { redis, keys, nodeId, history, clock, metrics } = this.#o;
    const oldest = clock.wallMs() - history.maxAgeMs;
    const p = redis.pipeline();
    const sent: Item[] = [];
    for (const item of batch) {
      // Older than the stream keeps: it would be trimmed at once.
      if (item.event.at < oldest) { metrics?.historyEventsTotal.inc({ result: 'stale' }); continue; }
      queueAppend(p, appendArgs(keys, JSON.stringify(item.event), { writer: nodeId, seq: `${this.#proc}:${item.seq}`, once: item.once }));
      sent.push(item);
    }
    if (sent.length === 0) return batch.length;
    let res: Array<[Error | null, unknown]> | null;
    try { res = await p.exec(); } catch { return 0; }
    let ok = 0;
    for (const [err, code] of res ?? []) {
      if (err) break;
      metrics?.historyEventsTotal.inc({ result: appendResult(code) });
      ok++;
    }
    // Everything before the first event Redis did not take is done (stale ones included).
    return ok === sent.length ? batch.length : batch.indexOf(sent[ok]!);
  }

  #droppedItem(): Item {
    const d = this.#dropped!;
    this.#dropped = null;
    const event = completeEvent({ kind: 'history-dropped', count: d.count, firstAt: d.firstAt, lastAt: d.lastAt, at: d.lastAt }, this.#o.nodeId, d.lastAt);
    return { event };
  }

  #failed(err: unknown): void {
    if (this.#failingSince === null) {
      this.#failingSince = this.#o.clock.nowMs();
      this.#o.log.warn({ err: (err as Error)?.message, buffered: this.#queue.length }, 'history: cannot write to redis; buffering events');
    }
    if (this.#retryTimer || this.#stopped) return;
    this.#retryTimer = setTimeout(() => { this.#retryTimer = null; this.#kick(); }, this.#retryMs);
    this.#retryTimer.unref();
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  #succeeded(): void {
    this.#retryMs = RETRY_MIN_MS;
    if (this.#failingSince === null || this.#queue.length > 0) return;
    this.#o.log.info({ outageMs: Math.round(this.#o.clock.nowMs() - this.#failingSince) }, 'history: buffered events written');
    this.#failingSince = null;
  }
}
