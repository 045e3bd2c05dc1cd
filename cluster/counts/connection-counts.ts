/**
 * Cluster-wide connection counts per backend, for `least-conn` across
 * nodes. Each node writes its own open connections per backend into the
 * hash `conns:{pool}` (field `{nodeId}|{backendId}`) together with a stamp
 * field `{nodeId}|@` (wall-clock ms of the write; `@` is never part of a
 * backend id), and reads the other nodes' fields back on the same period.
 * A node whose stamp is older than `staleMs` (or that the membership says is
 * dead) is ignored, and its fields are removed once long stale. Routing
 * reads the in-memory sums only (`remote`).
 */
import type Redis from 'ioredis';
import type { ConnectionCounts } from '../../shared/cluster-view';
import type { RedisKeys } from '../../shared/redis/keys';
import { ArrivalAges } from '../membership/arrival-ages';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';

/** One local count: open connections of this node to a backend. */
export interface LocalCount { pool: string; backendId: string; count: number }

/** Where the local counts come from (the proxy node's pools). */
export type LocalCountSource = () => Iterable<LocalCount>;

/** Field of a node's write stamp in `conns:{pool}`. */
export const STAMP_FIELD_SUFFIX = '|@';
/** Fields of a node silent this many times `staleMs` are deleted by whoever sees them. */
const PURGE_STALE_FACTOR = 60;

/**
 * Sums of other live nodes' counts, from the fields of one `conns:{pool}`
 * hash. `ageOf(node)` is how long that node's write stamp has been
 * unchanged, on this node's own clock (arrival-ages.ts). Pure.
 */
export function sumRemote(fields: Record<string, string>, selfId: string, ageOf: (node: string) => number, staleMs: number, isNodeAlive?: (id: string) => boolean): { sums: Map<string, number>; purge: string[] } {
  const sums = new Map<string, number>();
  const purge: string[] = [];
  for (const [f, v] of Object.entries(fields)) {
    const bar = f.lastIndexOf('|');
    if (bar <= 0) continue;
    const node = f.slice(0, bar);
    if (node === selfId) continue;
    const age = ageOf(node);
    if (age > staleMs * PURGE_STALE_FACTOR) { purge.push(f); continue; }
    if (age > staleMs || (isNodeAlive && !isNodeAlive(node))) continue;
    const backend = f.slice(bar + 1);
    if (backend === '@') continue;
    sums.set(backend, (sums.get(backend) ?? 0) + (Number(v) || 0));
  }
  return { sums, purge };
}

/** Connection counts of the other nodes, synced through Redis. */
export class ConnectionCountsSync implements ConnectionCounts {
  /** pool -> backend -> connections held by other live nodes. */
  #remote = new Map<string, Map<string, number>>();
  #pools: string[] = [];
  #source: LocalCountSource = () => [];
  /** When each node's write stamp last changed, per pool, on this node's clock. */
  readonly #stampAges = new ArrivalAges();
  /** Own fields written last round, so that ones that disappear are deleted. */
  #written = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | null = null;
  #failing = false;
  /** Membership liveness; counts of nodes it calls dead are ignored at once. */
  isNodeAlive: ((id: string) => boolean) | undefined;

  constructor(readonly opts: {
    redis: Redis; keys: RedisKeys; nodeId: string; intervalMs: number; staleMs: number;
    clock: Clock; log: Logger; metrics?: Metrics;
  }) {}

  remote(pool: string, backendId: string): number {
    return this.#remote.get(pool)?.get(backendId) ?? 0;
  }

  /** Where this node's counts come from. */
  setSource(fn: LocalCountSource): void { this.#source = fn; }

  /** Pools whose counts are synced. */
  setPools(names: readonly string[]): void { this.#pools = [...names]; }

  start(): void {
    if (this.#timer) return;
    const tick = (): void => {
      void this.sync().finally(() => { if (this.#timer) { this.#timer = setTimeout(tick, this.opts.intervalMs); this.#timer.unref(); } });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  /** Stops syncing and removes this node's fields (best effort), so peers stop counting them at once. */
  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      const m = this.opts.redis.multi();
      for (const [pool, fields] of this.#written) m.hdel(this.opts.keys.conns(pool), ...fields, `${this.opts.nodeId}${STAMP_FIELD_SUFFIX}`);
      await m.exec();
    } catch { /* the stamp ages out anyway */ }
    this.#written.clear();
  }

  /** One round: write own counts, read everyone's. Never throws. */
  async sync(): Promise<void> {
    const { redis, keys, nodeId, clock } = this.opts;
    const now = clock.wallMs();
    const own = new Map<string, Map<string, number>>();
    for (const p of this.#pools) own.set(p, new Map());
    for (const c of this.#source()) own.get(c.pool)?.set(c.backendId, c.count);
    try {
      const started = performance.now();
      const m = redis.multi();
      /** Position of each pool's HGETALL answer in the transaction. */
      const readAt: Array<[string, number]> = [];
      let n = 0;
      for (const [pool, counts] of own) {
        const key = keys.conns(pool);
        const fields = new Set<string>();
        const args: Array<string | number> = [`${nodeId}${STAMP_FIELD_SUFFIX}`, now];
        for (const [b, c] of counts) { const f = `${nodeId}|${b}`; fields.add(f); args.push(f, c); }
        const gone = [...(this.#written.get(pool) ?? [])].filter((f) => !fields.has(f));
        if (gone.length) { m.hdel(key, ...gone); n++; }
        m.hset(key, ...args);
        m.hgetall(key);
        readAt.push([pool, n + 1]);
        n += 2;
        this.#written.set(pool, fields);
      }
      const res = (await m.exec()) ?? [];
      this.opts.metrics?.redisRoundTripSeconds.observe({ purpose: 'counts' }, (performance.now() - started) / 1000);
      const next = new Map<string, Map<string, number>>();
      const purge = redis.pipeline();
      let purging = 0;
      for (const [pool, i] of readAt) {
        const [err, val] = res[i] ?? [null, null];
        if (err || !val) continue;
        const fields = val as Record<string, string>;
        const mono = clock.nowMs();
        for (const [f, v] of Object.entries(fields)) if (f.endsWith(STAMP_FIELD_SUFFIX)) this.#stampAges.seen(`${pool}\0${f}`, v, mono);
        const r = sumRemote(fields, nodeId, (node) => this.#stampAges.ageMs(`${pool}\0${node}${STAMP_FIELD_SUFFIX}`, mono), this.opts.staleMs, this.isNodeAlive);
        next.set(pool, r.sums);
        if (r.purge.length) { purge.hdel(keys.conns(pool), ...r.purge); purging++; }
      }
      this.#remote = next;
      if (purging) await purge.exec();
      this.#ok();
    } catch (err) { this.#error(err); }
  }

  #ok(): void {
    if (this.#failing) { this.#failing = false; this.opts.log.info('connection counts reach redis again'); }
  }

  #error(err: unknown): void {
    this.opts.metrics?.redisErrorsTotal.inc({ purpose: 'counts' });
    if (this.#failing) return;
    this.#failing = true;
    this.opts.log.warn({ err: (err as Error)?.message }, 'connection counts cannot reach redis; using last known counts');
  }
}
