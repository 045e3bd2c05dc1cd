/**
 * The port between the planes for everything that is not one VIP: what the
 * control process asks of its data plane (the worker processes of a node:
 * cluster/workers/worker-fleet.ts) and what it reads back. The VIP side of it is
 * VipHost (vip-host.ts); the shapes here are plain data so that they cross a
 * process boundary unchanged.
 */
import type { Config, LimitsConfig, PoolConfig } from '../config/schema';
import type { VipHost } from './vip-host';
import type { EdgeReport } from './edge-report';
import type { WorkerSummary } from '../records';

/** Lifecycle states of a data-plane process (node/node-state.ts has the machine). */
export type DataPlaneState = 'created' | 'running' | 'draining' | 'closed';

/** One listener as the admin API shows it. */
export interface ListenerSnapshot {
  name: string;
  vip: string | null;
  address: string;
  port: number;
  tls: boolean;
  proxyProtocol: boolean;
  serving: boolean;
}

/** One backend as the admin API shows it. */
export interface BackendSnapshot {
  id: string;
  url: string;
  weight: number;
  tunnels: number;
  inFlight: number;
  tunnelsTotal: number;
  removed: boolean;
  up: boolean;
}

/** One pool as the admin API shows it. */
export interface PoolSnapshot {
  name: string;
  balance: string;
  backends: BackendSnapshot[];
}

/** One worker process of a node, as `wsha status` and the admin API show it. */
export interface WorkerSnapshot extends WorkerSummary {
  /** Open WebSocket tunnels of this worker. */
  tunnels: number;
}

/** The JSON-able state of a node's data plane for the admin API (`GET /api/state`). A type alias so that it fits `Record<string, unknown>`. */
export type NodeSnapshot = {
  nodeId: string;
  state: DataPlaneState;
  draining: boolean;
  connections: number;
  tunnels: number;
  listeners: ListenerSnapshot[];
  pools: PoolSnapshot[];
  /** Open tunnels by pool, then backend id. */
  tunnelsByPool: Record<string, Record<string, number>>;
  limits: LimitsConfig;
  bytes: { in: number; out: number };
  refusals: Record<string, number>;
  /** Edge refusals, policy closes, alerts, JWKS sources and admission queues (issue 12). */
  edge?: EdgeReport;
  /** The worker processes (absent for a data plane that runs in the control process, as in tests). */
  workers?: WorkerSnapshot[];
};

/** Open connections on one backend (tunnels + HTTP requests in flight), for least-conn across the cluster. */
export interface LocalCount {
  pool: string;
  backendId: string;
  count: number;
}

/** Drain timings (node.drain). */
export interface DrainOptions {
  graceMs: number;
  deadlineMs: number;
}

/** What the control process drives and reads, besides the VIPs. */
export interface DataPlane extends VipHost {
  /** Applies live pool changes; tunnels of a backend that left are closed with 1012 after `graceMs`. */
  updatePools(pools: Readonly<Record<string, PoolConfig>>, opts?: { graceMs?: number }): void;
  /** Closes every tunnel to one backend with `code`; resolves with how many were closed. */
  closeBackendTunnels(pool: string, backendId: string, code: number): Promise<number>;
  /** This node's open connections per backend. */
  localCounts(): Iterable<LocalCount>;
  /** Open client connections of the whole node. */
  connectionCount(): number;
  /** Lifecycle without asking any worker (for /readyz). */
  status(): { state: DataPlaneState; draining: boolean };
  /** Applies a reloaded config (routes, pools, limits, certificates); throws ConfigError and keeps the running one when it cannot. */
  reload(next: Config): Promise<void>;
  /** Graceful drain of every connection; resolves when nothing is left. */
  drain(opts?: DrainOptions): Promise<void>;
  /** State for the admin API. */
  snapshot(): Promise<NodeSnapshot>;
}
