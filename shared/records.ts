/**
 * Shapes of the JSON values that nodes write to Redis and the CLI reads
 * (keys in shared/redis/keys.ts). Writers and readers import these types,
 * so the two sides cannot drift apart.
 */

/** Lifecycle state of a node as shown in heartbeats and `wsha status`. */
export type NodeRunState = 'starting' | 'ready' | 'draining' | 'maintenance' | 'stopping';

/** Value of `node:{id}` (and the payload of membership events). */
export interface HeartbeatRecord {
  id: string;
  /** Address other nodes and the CLI reach this node at. */
  address: string;
  /** HOST:PORT of the admin API. */
  admin: string;
  /** HOST:PORT of the peer link, as other nodes must dial it (node.peer.advertise or the bound address). */
  peer: string;
  /** Random id of this node's process, new at every start: a peer link, a grant and a death proof are about one incarnation. */
  incarnation: string;
  /**
   * The other nodes this node counts on for peer grants (its membership view): a node that is not listed here
   * joined after this node last read the membership, and waits before taking an expired lease of this node's.
   */
  peers: string[];
  priority: number;
  /** Per-VIP priorities where they differ from `priority` (node.vipPriorities); absent in records of older versions. */
  vipPriorities?: Record<string, number>;
  /** `owner` when it owns at least one VIP. */
  role: 'owner' | 'standby';
  state: NodeRunState;
  /** Passed the readiness gate: config loaded, listeners bindable, shared state read. */
  ready: boolean;
  /** Set while the node serves with a peer address the other nodes cannot reach (cluster/peer/reachability-check.ts); absent otherwise. */
  peerProblem?: string;
  /** In maintenance (`wsha drain`): never acquires a VIP. */
  drained: boolean;
  version: string;
  /** Wall-clock ms. */
  startedAt: number;
  /** Wall-clock ms when this heartbeat was written (display only: ages are measured on Redis's clock). */
  sentAt: number;
  /** Open client connections (tunnels + HTTP sockets). */
  connections: number;
  /** VIPs this node owns, with the epoch it holds. */
  vips: Array<{ name: string; epoch: number }>;
  /** Backends this node sees down, as `pool/backend`. */
  backendsDown: string[];
  /** The node's data-plane worker processes (absent in records of older versions). */
  workers?: WorkerSummary[];
  /** Edge refusals of this node (issue 12); absent from nodes that predate it. */
  edge?: EdgeSummary;
}

/** One data-plane worker process of a node, as its heartbeat shows it. */
export interface WorkerSummary {
  /** 0-based slot; a restarted worker keeps its slot. */
  index: number;
  pid: number | null;
  state: 'starting' | 'running' | 'stopping' | 'exited';
  /** Open client connections of this worker. */
  connections: number;
  /** Times this slot's process was restarted after it died. */
  restarts: number;
}

/** What a heartbeat says about the edge: refusals since start and what was refused in the last minute. */
export interface EdgeSummary {
  /** `[route, reason, count]` since start (route `-` for the per-client connection cap). */
  denied: Array<[string, string, number]>;
  alerts: Array<{ route: string; reason: string; count: number; lastAddress: string; message: string; lastAt: number }>;
}

/** Value of the hash `vip:{name}`: the last ownership change. */
export interface VipRecord {
  vip: string;
  owner: string | null;
  epoch: number;
  /** Wall-clock ms of the change. */
  since: number;
  reason: string;
  previousOwner: string | null;
}

/** One node's observation of one backend (field nodeId of `health:{pool}:{backend}`). */
export interface HealthObservation {
  nodeId: string;
  up: boolean;
  /** Wall-clock ms of the observation. */
  at: number;
  /** Latency of the last check in ms, or null when it failed. */
  latencyMs: number | null;
  /** Why it is down, when it is. */
  reason?: string;
}

/** A live pool change (`wsha backends ...`), stored per pool and pushed as an event. */
export interface PoolChange {
  version: number;
  pool: string;
  op: 'add' | 'remove' | 'disable' | 'enable';
  backendId: string;
  url?: string;
  at: number;
  by: string;
}

/** Messages on the `events` channel. */
export type ClusterEvent =
  | { type: 'verdict'; pool: string; backend: string; up: boolean; by: string; at: number }
  | { type: 'pools'; version: number; change: PoolChange }
  | { type: 'ownership'; vip: string; owner: string | null; epoch: number; previousOwner: string | null; reason: string; at: number }
  | { type: 'handover'; vip: string; phase: string; from: string; to: string; epoch?: number; at: number; detail?: string };
