/**
 * Samples this node's open connections into the `history:samples` stream
 * every cluster.history.sampleIntervalMs (the live page draws them per node
 * over time), trimmed by count and age. A trend, not a counter: a sample
 * that cannot be written (Redis away) is skipped, never buffered;
 * `wsha_connections_open` on /metrics is the exact value.
 */
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import type { HistoryConfig } from '../../shared/config/schema';
import type { Clock } from '../../shared/clock';
import type { ConnectionSample } from '../../shared/history-event';

/** What the sampler needs. */
export interface SamplerOptions {
  redis: Redis;
  keys: RedisKeys;
  nodeId: string;
  history: HistoryConfig;
  clock: Clock;
  /** Open client connections right now. */
  connections: () => number;
}

/** The sampling loop of one node. */
export class ConnectionSampler {
  #timer: NodeJS.Timeout | null = null;
  constructor(readonly o: SamplerOptions) {}

  /** Starts sampling (first sample at once); off when sampleIntervalMs is 0. */
  start(): void {
    if (this.#timer || this.o.history.sampleIntervalMs === 0) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.o.history.sampleIntervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Writes one sample now; resolves false when Redis did not take it. */
  async sample(): Promise<boolean> {
    const { redis, keys, history, clock } = this.o;
    if (redis.status !== 'ready') return false;
    const at = clock.wallMs();
    const s: ConnectionSample = { at, node: this.o.nodeId, connections: this.o.connections() };
    try {
      await redis.multi()
        .xadd(keys.historySamples(), 'MAXLEN', '=', String(history.sampleMaxCount), '*', 's', JSON.stringify(s))
        .xtrim(keys.historySamples(), 'MINID', '=', String(at - history.sampleMaxAgeMs))
        .exec();
      return true;
    } catch {
      return false;
    }
  }
}
