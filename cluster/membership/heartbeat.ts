/**
 * Publishes this node's heartbeat every cluster.heartbeat.intervalMs
 * (shared/redis/scripts/heartbeat.lua: the record, kept for
 * cluster.heartbeat.forgetAfterMs, stamped with Redis's own TIME in the
 * `nodes` zset) and reads everyone's in the same tick, handing the fresh
 * membership view to the agent. Runs on the `state` connection.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HeartbeatRecord } from '../../shared/records';
import { scriptSource } from '../../shared/redis/script-source';
import { readMembers, type Member } from './members';

/** What the heartbeat loop needs. */
export interface HeartbeatOptions {
  redis: Redis;
  keys: RedisKeys;
  intervalMs: number;
  timeoutMs: number;
  /** How long the record outlives its last write (cluster.heartbeat.forgetAfterMs). */
  keepMs: number;
  /** Builds the current record (sentAt is filled in here). */
  record: () => Omit<HeartbeatRecord, 'sentAt'>;
  /** Called after every successful tick with the fresh view. */
  onMembers: (members: Member[]) => void;
  /** Called after every successful Redis round trip, and on every error. */
  onRedis: (ok: boolean, err?: unknown) => void;
  logger: Logger;
}

const COMMAND = 'wshaHeartbeat';

/** The heartbeat loop of one node. */
export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #inFlight: Promise<void> | undefined;

  constructor(o: HeartbeatOptions) {
    this.#o = o;
    if (!(COMMAND in o.redis)) o.redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: scriptSource('heartbeat') });
  }

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
    await (redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>)[COMMAND]!(keys.node(rec.id), keys.nodes(), rec.id, JSON.stringify(rec), this.#o.keepMs);
  }

  async #beat(): Promise<void> {
    const o = this.#o;
    try {
      await this.#write({ ...o.record(), sentAt: Date.now() });
      const members = await readMembers(o.redis, o.keys, o.timeoutMs);
      o.onRedis(true);
      o.onMembers(members);
    } catch (err) {
      o.onRedis(false, err);
    }
  }
}
