/**
 * Publishes this node's heartbeat every cluster.heartbeat.intervalMs
 * (SET node:{id} PX a minute, so that a gone node still shows as down for a
 * while; ZADD nodes now) and reads everyone's in the same tick, handing the
 * fresh membership view to the agent. Runs on the `state` connection.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HeartbeatRecord } from '../../shared/records';
import { readMembers, type Member } from './members';

/** How long a heartbeat key outlives its last write: long enough for `wsha status` to show a gone node as down. */
const HEARTBEAT_KEEP_MS = 60_000;

/** What the heartbeat loop needs. */
export interface HeartbeatOptions {
  redis: Redis;
  keys: RedisKeys;
  intervalMs: number;
  timeoutMs: number;
  /** Builds the current record (sentAt is filled in here). */
  record: () => Omit<HeartbeatRecord, 'sentAt'>;
  /** Called after every successful tick with the fresh view. */
  onMembers: (members: Member[]) => void;
  /** Called after every successful Redis round trip, and on every error. */
  onRedis: (ok: boolean, err?: unknown) => void;
  logger: Logger;
}

/** The heartbeat loop of one node. */
export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> | undefined;

  constructor(o: HeartbeatOptions) { this.#o = o; }

  /** Starts beating (first beat at once). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#tick();
  }

  /** Writes a heartbeat now (e.g. after a state change) and refreshes the view. */
  beatNow(): Promise<void> {
    this.#inFlight ??= this.#beat().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  /** Stops the loop and writes a last heartbeat saying `stopping`, so peers stop counting on this node. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#inFlight?.catch(() => {});
    const rec: HeartbeatRecord = { ...this.#o.record(), state: 'stopping', sentAt: Date.now() };
    await this.#write(rec).catch(() => {});
  }

  #tick(): void {
    if (!this.#running) return;
    this.beatNow().finally(() => {
      if (this.#running) this.#timer = setTimeout(() => this.#tick(), this.#o.intervalMs);
    });
  }

  async #write(rec: HeartbeatRecord): Promise<void> {
    const { redis, keys } = this.#o;
    await redis.multi()
      .set(keys.node(rec.id), JSON.stringify(rec), 'PX', HEARTBEAT_KEEP_MS)
      .zadd(keys.nodes(), rec.sentAt, rec.id)
      .exec();
  }

  async #beat(): Promise<void> {
    const o = this.#o;
    try {
      const now = Date.now();
      await this.#write({ ...o.record(), sentAt: now });
      const members = await readMembers(o.redis, o.keys, Date.now(), o.timeoutMs);
      o.onRedis(true);
      o.onMembers(members);
    } catch (err) {
      o.onRedis(false, err);
    }
  }
}
