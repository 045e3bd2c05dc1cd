/**
 * Applies live pool changes on a node. At start it reads every overlay from
 * Redis (so changes survive a restart) and applies them over the file
 * config; afterwards a `pools` event on the events channel triggers a
 * re-read at once, and a cheap poll of `pools:version` catches any event
 * missed while the subscriber reconnected. Each new effective pool set is
 * handed to the listeners (ProxyNode.updatePools, the prober, health sync).
 * When Redis is unreachable the last applied pools stay in force.
 */
import type Redis from 'ioredis';
import type { PoolConfig } from '../../shared/config/schema';
import type { ClusterEvent } from '../../shared/records';
import type { RedisKeys } from '../../shared/redis/keys';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { applyOverlays, type PoolOverlay } from './pool-overlay';
import { readPoolChanges } from './pool-store';

/** Receives the effective pools after a change. */
export type PoolsListener = (pools: Readonly<Record<string, PoolConfig>>, version: number) => void;

/** Keeps this node's pools in step with the live changes in Redis. */
export class ConfigSync {
  #base: Readonly<Record<string, PoolConfig>>;
  #overlays: Record<string, PoolOverlay> = {};
  #version = -1;
  #effective: Readonly<Record<string, PoolConfig>>;
  readonly #listeners: PoolsListener[] = [];
  #timer: NodeJS.Timeout | null = null;
  #loading: Promise<boolean> | null = null;
  #failing = false;

  constructor(readonly opts: { redis: Redis; keys: RedisKeys; base: Readonly<Record<string, PoolConfig>>; pollMs: number; log: Logger; metrics?: Metrics }) {
    this.#base = opts.base;
    this.#effective = opts.base;
  }

  /** The effective pools (file config plus live changes). */
  get pools(): Readonly<Record<string, PoolConfig>> { return this.#effective; }
  /** Version of the live changes applied (-1 before the first read). */
  get version(): number { return this.#version; }
  /** The overlays applied, by pool. */
  get overlays(): Readonly<Record<string, PoolOverlay>> { return this.#overlays; }

  onPools(fn: PoolsListener): void { this.#listeners.push(fn); }

  /** The effective pools a new file config would give, without applying anything (reload validation). */
  preview(base: Readonly<Record<string, PoolConfig>>): Readonly<Record<string, PoolConfig>> {
    return applyOverlays(base, this.#overlays);
  }

  /** A new file config (reload): live changes are re-applied over it. */
  setBase(base: Readonly<Record<string, PoolConfig>>): void {
    this.#base = base;
    this.#apply(this.#version);
  }

  /** Reads all overlays and applies them when the version moved. Resolves false when Redis failed. Coalesces concurrent calls. */
  load(): Promise<boolean> {
    this.#loading ??= this.#load().finally(() => { this.#loading = null; });
    return this.#loading;
  }

  async #load(): Promise<boolean> {
    try {
      const { version, pools } = await readPoolChanges(this.opts.redis, this.opts.keys);
      this.#ok();
      if (version === this.#version) return true;
      this.#overlays = pools;
      this.#apply(version);
      return true;
    } catch (err) {
      this.#error(err);
      return false;
    }
  }

  #apply(version: number): void {
    const from = this.#version;
    this.#version = version;
    this.#effective = applyOverlays(this.#base, this.#overlays);
    if (from !== version) this.opts.log.info({ from, to: version, pools: Object.keys(this.#overlays) }, 'live pool changes applied');
    for (const l of this.#listeners) {
      try { l(this.#effective, version); } catch (err) { this.opts.log.error({ err }, 'pools listener failed'); }
    }
  }

  /** A pushed event: re-read when it carries a newer version. */
  onEvent(ev: ClusterEvent): void {
    if (ev.type === 'pools' && ev.version > this.#version) void this.load();
  }

  /** Starts the fallback poll of `pools:version`. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => { void this.#poll(); }, this.opts.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #poll(): Promise<void> {
    try {
      const v = Number(await this.opts.redis.get(this.opts.keys.poolsVersion())) || 0;
      this.#ok();
      if (v !== this.#version) await this.load();
    } catch (err) { this.#error(err); }
  }

  #ok(): void {
    if (this.#failing) { this.#failing = false; this.opts.log.info('pool sync reaches redis again'); }
  }

  #error(err: unknown): void {
    this.opts.metrics?.redisErrorsTotal.inc({ purpose: 'pools' });
    if (this.#failing) return;
    this.#failing = true;
    this.opts.log.warn({ err: (err as Error)?.message }, 'pool sync cannot reach redis; keeping the last applied pools');
  }
}
