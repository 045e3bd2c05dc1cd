/**
 * What the data plane reads from the control plane, as small interfaces.
 * The node works alone with the local implementations below (no Redis);
 * cluster/ supplies Redis-backed ones (merged health verdicts, session
 * affinity, cluster-wide connection counts). Lookups on the hot path are
 * synchronous reads of in-memory state; only the affinity lookup, done once
 * per new connection before the upgrade, may go to Redis.
 */

import type { SharedRateLimit } from './ports/shared-rate-limit';

/** Merged health verdict of each backend, as routing uses it. */
export interface HealthView {
  /** True when the backend may take new connections (unknown backends count as up). */
  isUp(pool: string, backendId: string): boolean;
  /** Weight factor 0..1 while a backend ramps up after coming back (slow start); 1 otherwise. */
  rampFactor(pool: string, backendId: string): number;
}

/** Failures and successes seen on live traffic (passive health). */
export interface PassiveHealthSink {
  connectFailed(pool: string, backendId: string, reason: string): void;
  connectSucceeded(pool: string, backendId: string): void;
}

/** Session key -> backend, shared across nodes with a TTL. */
export interface AffinityStore {
  /** The backend this session was last sent to, or null. May take one Redis round trip. */
  lookup(pool: string, sessionKey: string): Promise<string | null>;
  /** Records (or refreshes) the mapping; fire-and-forget. `movedFrom` is set when a session had to move. */
  record(pool: string, sessionKey: string, backendId: string, movedFrom?: string): void;
  /** Optional: one connection recorded for this session closed (stores refresh the TTL of sessions still open). */
  release?(pool: string, sessionKey: string): void;
}

/** Connections held on each backend by the other nodes of the cluster (for least-conn). */
export interface ConnectionCounts {
  remote(pool: string, backendId: string): number;
}

/** Everything above, handed to the node at construction. */
export interface ClusterView {
  health: HealthView;
  passive: PassiveHealthSink;
  affinity: AffinityStore;
  counts: ConnectionCounts;
  /** Cluster-wide rate buckets for routes with `rateLimit.cluster` (absent: those routes count on this node only). */
  rateLimit?: SharedRateLimit;
}

/** Local view: every backend up, no remote counts, affinity in process memory (bounded). */
export function localClusterView(maxSessions = 100_000): ClusterView {
  const sessions = new Map<string, string>();
  return {
    health: { isUp: () => true, rampFactor: () => 1 },
    passive: { connectFailed: () => {}, connectSucceeded: () => {} },
    affinity: {
      lookup: async (pool, key) => sessions.get(`${pool}\u0000${key}`) ?? null,
      record: (pool, key, backendId) => {
        const k = `${pool}\u0000${key}`;
        sessions.delete(k);
        sessions.set(k, backendId);
        if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value as string);
      },
    },
    counts: { remote: () => 0 },
  };
}
