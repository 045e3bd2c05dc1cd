/**
 * The ClusterView of a worker process: routing reads a copy of what the
 * control process holds (merged verdicts, connections held elsewhere),
 * pushed to the worker whenever it changes, so the hot path stays a map
 * lookup. Passive failures and sticky sessions go the other way, to the one
 * place per node that talks to Redis. A sticky lookup is the only read that
 * waits for the control process (one IPC round trip per new sticky
 * connection, bounded by the route's lookup timeout).
 */
import type { AffinityStore, ClusterView, ConnectionCounts, HealthView, PassiveHealthSink } from '../../shared/cluster-view';
import type { HealthEntry, WorkerNotes } from '../../shared/ports/worker-protocol';
import { rampFactor } from '../../shared/health/slow-start';
import type { Clock } from '../../shared/clock';

/** What the view needs of the channel to the control process. */
export interface ControlChannel {
  lookup(pool: string, key: string, timeoutMs: number): Promise<string | null>;
  tellPassive(pool: string, backendId: string, ok: boolean, reason?: string): void;
  tellRecord(pool: string, key: string, backendId: string, movedFrom?: string): void;
  tellRelease(pool: string, key: string): void;
  /** One token from a cluster-wide rate bucket (issue 12); the limiter races it against its own timeout. */
  rateTake(key: string, ratePerSec: number, burst: number): Promise<number>;
}

/** Verdicts as last pushed; unknown backends count as up, as in one process. */
class PushedHealth implements HealthView {
  #table = new Map<string, Map<string, HealthEntry>>();
  constructor(private readonly clock: Clock) {}

  set(entries: readonly HealthEntry[]): void {
    const next = new Map<string, Map<string, HealthEntry>>();
    for (const e of entries) {
      let m = next.get(e.pool);
      if (!m) { m = new Map(); next.set(e.pool, m); }
      m.set(e.backendId, e);
    }
    this.#table = next;
  }

  isUp(pool: string, backendId: string): boolean { return this.#table.get(pool)?.get(backendId)?.up ?? true; }

  rampFactor(pool: string, backendId: string): number {
    const e = this.#table.get(pool)?.get(backendId);
    return e ? rampFactor(e.upSinceMs, this.clock.nowMs(), e.slowStartMs) : 1;
  }
}

/** Connections held by the node's other workers and by other nodes. */
class PushedCounts implements ConnectionCounts {
  #remote = new Map<string, Map<string, number>>();

  set(rows: WorkerNotes['counts']['remote']): void {
    const next = new Map<string, Map<string, number>>();
    for (const [pool, id, n] of rows) {
      let m = next.get(pool);
      if (!m) { m = new Map(); next.set(pool, m); }
      m.set(id, n);
    }
    this.#remote = next;
  }

  remote(pool: string, backendId: string): number { return this.#remote.get(pool)?.get(backendId) ?? 0; }
}

/**
 * Passive results go to the control process, which counts failures in a row
 * for the node; a success is only worth a message when this worker saw a
 * failure since its last success (a success per connection would cost an
 * IPC message per connection).
 */
class PassiveRelay implements PassiveHealthSink {
  readonly #failing = new Set<string>();
  constructor(private readonly channel: ControlChannel) {}

  connectFailed(pool: string, backendId: string, reason: string): void {
    this.#failing.add(`${pool}\u0000${backendId}`);
    this.channel.tellPassive(pool, backendId, false, reason);
  }

  connectSucceeded(pool: string, backendId: string): void {
    if (this.#failing.size === 0 || !this.#failing.delete(`${pool}\u0000${backendId}`)) return;
    this.channel.tellPassive(pool, backendId, true);
  }
}

/** Sticky sessions through the control process's store. */
class RelayedAffinity implements AffinityStore {
  constructor(private readonly channel: ControlChannel, private readonly timeoutMs: () => number) {}
  lookup(pool: string, sessionKey: string): Promise<string | null> { return this.channel.lookup(pool, sessionKey, this.timeoutMs()); }
  record(pool: string, sessionKey: string, backendId: string, movedFrom?: string): void { this.channel.tellRecord(pool, sessionKey, backendId, movedFrom); }
  release(pool: string, sessionKey: string): void { this.channel.tellRelease(pool, sessionKey); }
}

/** The view plus the setters the worker's channel calls when the control process pushes. */
export interface PushedClusterView extends ClusterView {
  setHealth(entries: readonly HealthEntry[]): void;
  setCounts(rows: WorkerNotes['counts']['remote']): void;
}

/** Builds the view; `lookupTimeoutMs` is read per lookup (reload may change it). */
export function pushedClusterView(channel: ControlChannel, clock: Clock, lookupTimeoutMs: () => number): PushedClusterView {
  const health = new PushedHealth(clock);
  const counts = new PushedCounts();
  return {
    health,
    counts,
    passive: new PassiveRelay(channel),
    affinity: new RelayedAffinity(channel, lookupTimeoutMs),
    rateLimit: { take: (key, ratePerSec, burst) => channel.rateTake(key, ratePerSec, burst) },
    setHealth: (entries) => health.set(entries),
    setCounts: (rows) => counts.set(rows),
  };
}
