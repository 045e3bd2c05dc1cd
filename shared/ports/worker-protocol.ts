/**
 * The messages between a node's control process and its data-plane worker
 * processes: the ports between the two planes, typed once for both ends
 * (shared/ipc/rpc-endpoint.ts carries them). Calls are what must be
 * acknowledged (a VIP is up only when every worker listens on it);
 * notifications are state pushed one way (fences, verdicts, counts) or
 * reports (passive failures, load).
 */
import type { EdgeSummary } from '../records';
import type { Config, PoolConfig } from '../config/schema';
import type { CloseClientsOptions } from './vip-host';
import type { DrainOptions, NodeSnapshot } from './data-plane';
import type { PemPair } from '../tls/self-signed-pem';

/** PEM of a generated certificate, made once by the control process so that every worker serves the same one. */
export type { PemPair };

/** A backend's merged verdict as routing reads it. */
export interface HealthEntry {
  pool: string;
  backendId: string;
  /** Merged verdict not down and no local passive failure. */
  up: boolean;
  /** Host monotonic ms since when it is up (slow start ramps from it), or null. */
  upSinceMs: number | null;
  slowStartMs: number;
}

/** Listener name -> port it is bound to (port 0 in the config is resolved by the first worker). */
export type ListenerPorts = Record<string, number>;

/** What a worker is started with. */
export interface WorkerStart {
  config: Config;
  /** This worker's slot, 0-based. */
  index: number;
  /** Workers of the node. */
  count: number;
  /** Ports already chosen for listeners whose config says port 0. */
  ports: ListenerPorts;
  /** Self-signed certificates by listener name. */
  selfSigned: Record<string, PemPair>;
  /** Bind every listener with SO_REUSEPORT (more than one worker). */
  reusePort: boolean;
  /** Live pools in force (they may differ from the file's). */
  pools: Readonly<Record<string, PoolConfig>>;
  health: HealthEntry[];
}

/** Ops a worker serves. */
export type WorkerOps = {
  start: { args: WorkerStart; result: { ports: ListenerPorts } };
  openVip: { args: { vip: string; address: string; reusePort: boolean; ports: ListenerPorts; addressWaitMs?: number }; result: { ports: ListenerPorts } };
  stopAccepting: { args: { vip: string }; result: null };
  closeClients: { args: { vip: string; opts: CloseClientsOptions }; result: number };
  closeBackendTunnels: { args: { pool: string; backendId: string; code: number }; result: number };
  reload: { args: { config: Config; selfSigned: Record<string, PemPair> }; result: null };
  drain: { args: DrainOptions; result: null };
  snapshot: { args: null; result: NodeSnapshot };
  /** prom-client `getMetricsAsJSON()` of the worker's registry; with `names`, only those metrics (and only the collectors they need). */
  metrics: { args: null | { names: string[] }; result: unknown[] };
};

/** Ops the control process serves for its workers. */
export type ControlOps = {
  /** Sticky session lookup (one per new sticky connection). */
  affinityLookup: { args: { pool: string; key: string }; result: string | null };
  /** One token from a cluster-wide rate bucket (routes[].rateLimit.cluster): 0 when taken, else ms until one is there. */
  rateTake: { args: { key: string; ratePerSec: number; burst: number }; result: number };
};

/** Pushed to workers. */
export type WorkerNotes = {
  fence: { vip: string; untilMs: number | null };
  health: { entries: HealthEntry[] };
  /** Connections on each backend held elsewhere: other nodes and this node's other workers. */
  counts: { remote: Array<[pool: string, backendId: string, count: number]> };
  pools: { pools: Readonly<Record<string, PoolConfig>>; graceMs: number | null };
};

/** What one worker holds right now, reported every LOAD_REPORT_MS. */
export interface WorkerLoad {
  connections: number;
  tunnels: number;
  counts: Array<[pool: string, backendId: string, count: number]>;
  /** Tunnels per VIP that came in through it. */
  vipTunnels: Record<string, number>;
  /** Edge refusals since start and the alerts of the last minute (summed over workers for heartbeats). */
  edge: EdgeSummary;
}

/** Reported by workers. */
export type ControlNotes = {
  passive: { pool: string; backendId: string; ok: boolean; reason?: string };
  affinityRecord: { pool: string; key: string; backendId: string; movedFrom?: string };
  affinityRelease: { pool: string; key: string };
  load: WorkerLoad;
};

/** How often a worker reports its load (counts for least-conn across workers, tunnels for status). */
export const LOAD_REPORT_MS = 200;
