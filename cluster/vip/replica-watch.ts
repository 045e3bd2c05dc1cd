/**
 * When lease writes must wait for a replica (cluster.redis.replicaAck):
 * `always`, `never`, or `auto`: from the moment this node has seen the
 * master (by its run id) with a replica in sync, for as long as that master
 * lives. Sticky on purpose: a master that lost its replicas is either cut
 * off together with some nodes (while Sentinel promotes a replica elsewhere)
 * or its replica died; in both cases an acknowledged write is the only safe
 * one, and an owner holds its VIP on peer grants until a replica is back.
 * A promoted replica is a new master (a new run id) and starts unsticky.
 */
import type Redis from 'ioredis';
import type { Logger } from 'pino';

/** How often the master's replication state is read. */
const REFRESH_MS = 1000;

/** Replicas in sync (`state=online`) in an INFO replication reply. */
export function onlineReplicas(info: string): number {
  return info.split('\n').filter((l) => /^slave\d+:.*state=online/.test(l.trim())).length;
}

/** Tracks whether lease writes must be acknowledged by a replica. */
export class ReplicaWatch {
  readonly #mode: 'auto' | 'always' | 'never';
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #sticky = new Set<string>();
  #runId = '';
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, mode: 'auto' | 'always' | 'never', logger: Logger) {
    this.#redis = redis;
    this.#mode = mode;
    this.#log = logger;
  }

  /** Whether the next lease write must wait for a replica. */
  required(): boolean {
    if (this.#mode !== 'auto') return this.#mode === 'always';
    return this.#sticky.has(this.#runId);
  }

  /** Starts reading the master's replication state (at once, on every reconnect, then every second). */
  start(): void {
    if (this.#mode !== 'auto') return;
    this.#redis.on('ready', () => void this.refresh());
    const tick = () => { void this.refresh().finally(() => { this.#timer = setTimeout(tick, REFRESH_MS); this.#timer.unref(); }); };
    tick();
  }

  stop(): void { clearTimeout(this.#timer); }

  /** Reads run id and replicas once. */
  async refresh(): Promise<void> {
    if (this.#redis.status !== 'ready') return;
    try {
      const [server, repl] = await Promise.all([this.#redis.info('server'), this.#redis.info('replication')]);
      const runId = /run_id:(\w+)/.exec(server)?.[1] ?? '';
      if (runId !== this.#runId) this.#runId = runId;
      if (onlineReplicas(repl) > 0 && !this.#sticky.has(runId)) {
        this.#sticky.add(runId);
        this.#log.info({ runId }, 'the Redis master has a replica: lease writes count only once a replica acknowledged them');
      }
    } catch { /* a failed read changes nothing; the lease commands report the outage */ }
  }
}
