/**
 * The status document: what `wsha status --json` prints, what the admin
 * page shows and what scripts may rely on. Its shape is stable within a
 * `version`; fields are only ever added. `validateStatusDocument` checks a
 * value against it (used by the tests and by anyone piping the JSON).
 *
 *   {
 *     "version": 1, "cluster": "demo", "generatedAt": 1764119000000,
 *     "health": "healthy" | "degraded" | "down",
 *     "redis": { "address": "127.0.0.1:6379", "latencyMs": 0.4 },
 *     "nodes":  [{ "id", "alive", "address", "admin", "role", "state", "priority",
 *                  "heartbeatAgeMs", "version", "uptimeMs", "connections", "ready",
 *                  "drained", "vips": [{ "name", "epoch" }], "denied": [[route, reason, n]], "peerProblem",
 *                  "workers": [{ "index", "pid", "state", "connections", "restarts" }] }],
 *     "vips":   [{ "name", "owner", "epoch", "since", "reason", "previousOwner",
 *                  "preempt", "driver", "address", "leaseTtlMs" }],
 *     "pools":  [{ "name", "sessions", "backends": [{ "id", "verdict", "connections",
 *                  "lastCheckLatencyMs", "live", "views": [{ "nodeId", "up", "ageMs",
 *                  "latencyMs", "reason", "fresh" }] }] }],
 *     "warnings": [{ "code", "message" }]
 *   }
 *
 * Unknown values are null (a node that stopped heartbeating has only an id,
 * `alive: false` and the age of its last heartbeat).
 */

import type { WorkerSummary } from '../../shared/records';

/** Version of the document's shape; bumped only on an incompatible change. */
export const STATUS_VERSION = 1 as const;

/** Overall verdict, mapped to the exit code of `wsha status`. */
export type ClusterHealth = 'healthy' | 'degraded' | 'down';

/** One node as seen through its heartbeat. */
export interface NodeStatus {
  id: string;
  /** Its heartbeat key still exists (not expired). */
  alive: boolean;
  address: string | null;
  admin: string | null;
  role: 'owner' | 'standby' | null;
  state: string;
  priority: number | null;
  /** Age of the last heartbeat (wall clock). */
  heartbeatAgeMs: number | null;
  version: string | null;
  uptimeMs: number | null;
  connections: number | null;
  ready: boolean | null;
  drained: boolean | null;
  vips: Array<{ name: string; epoch: number }>;
  /** Its data-plane worker processes, from its heartbeat (empty for a node not seen, or one of a version without workers). */
  workers: WorkerSummary[];
  /** Edge refusals since the node started, as `[route, reason, count]` (issue 12); empty when the node reports none. */
  denied?: Array<[string, string, number]>;
  /** Why its peer link address is unusable while it serves (see cluster/peer/reachability-check.ts); absent when it is not known to be. */
  peerProblem?: string;
}

/** One VIP: its lease holder and the last change. */
export interface VipStatus {
  name: string;
  /** Lease holder now, or null when nobody holds the lease. */
  owner: string | null;
  epoch: number | null;
  /** Wall-clock ms of the last ownership change. */
  since: number | null;
  reason: string | null;
  previousOwner: string | null;
  preempt: boolean | null;
  driver: string | null;
  address: string | null;
  /** Remaining TTL of the lease. */
  leaseTtlMs: number | null;
}

/** One node's latest observation of one backend. */
export interface BackendView {
  nodeId: string;
  up: boolean;
  ageMs: number;
  latencyMs: number | null;
  reason: string | null;
  /** Recent enough to count in the merged verdict. */
  fresh: boolean;
}

/** One backend of a pool: merged verdict, connections and every node's view. */
export interface BackendStatus {
  id: string;
  /** Merged verdict as routing uses it; `unknown` before any node published one. */
  verdict: 'up' | 'down' | 'unknown';
  /** Open connections summed over the nodes. */
  connections: number;
  /** Latency of the most recent check by any node. */
  lastCheckLatencyMs: number | null;
  /** Live pool change in force (`wsha backends add|disable|remove`), or null when the backend is as in the file config. */
  live: 'added' | 'disabled' | 'removed' | null;
  views: BackendView[];
}

/** One pool with its backends and session count. */
export interface PoolStatus {
  name: string;
  /** Live session-affinity records. */
  sessions: number;
  backends: BackendStatus[];
}

/** Something an operator should look at; the code decides degraded or down (assess.ts). */
export interface StatusWarning {
  code: 'node-not-seen' | 'node-not-ready' | 'vip-without-owner' | 'backend-down' | 'pool-down' | 'redis-slow' | 'no-nodes' | 'client-limit' | 'edge-refusals' | 'peer-address-unusable';
  message: string;
}

/** The whole document (see the shape at the top of this file). */
export interface StatusDocument {
  version: typeof STATUS_VERSION;
  cluster: string;
  generatedAt: number;
  health: ClusterHealth;
  redis: { address: string; latencyMs: number };
  nodes: NodeStatus[];
  vips: VipStatus[];
  pools: PoolStatus[];
  warnings: StatusWarning[];
}

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Check = (v) => typeof v === 'boolean';
const orNull = (c: Check): Check => (v) => v === null || c(v);
const oneOf = (...xs: string[]): Check => (v) => typeof v === 'string' && xs.includes(v);

const NODE: Record<string, Check> = {
  id: str, alive: bool, address: orNull(str), admin: orNull(str), role: orNull(oneOf('owner', 'standby')), state: str,
  priority: orNull(num), heartbeatAgeMs: orNull(num), version: orNull(str), uptimeMs: orNull(num), connections: orNull(num),
  ready: orNull(bool), drained: orNull(bool), vips: Array.isArray, workers: Array.isArray, denied: (v) => v === undefined || Array.isArray(v),
  peerProblem: (v) => v === undefined || typeof v === 'string',
};
const VIP: Record<string, Check> = {
  name: str, owner: orNull(str), epoch: orNull(num), since: orNull(num), reason: orNull(str), previousOwner: orNull(str),
  preempt: orNull(bool), driver: orNull(str), address: orNull(str), leaseTtlMs: orNull(num),
};
const VIEW: Record<string, Check> = { nodeId: str, up: bool, ageMs: num, latencyMs: orNull(num), reason: orNull(str), fresh: bool };
const BACKEND: Record<string, Check> = { id: str, verdict: oneOf('up', 'down', 'unknown'), connections: num, lastCheckLatencyMs: orNull(num), live: orNull(oneOf('added', 'disabled', 'removed')), views: Array.isArray };

function checkObject(v: unknown, shape: Record<string, Check>, where: string, out: string[]): void {
  if (!v || typeof v !== 'object') { out.push(`${where}: expected an object`); return; }
  for (const [k, c] of Object.entries(shape)) if (!c((v as Record<string, unknown>)[k])) out.push(`${where}.${k}: bad value ${JSON.stringify((v as Record<string, unknown>)[k])}`);
}

/** Returns every way `doc` departs from the documented shape (empty when it conforms). */
export function validateStatusDocument(doc: unknown): string[] {
  const out: string[] = [];
  checkObject(doc, { version: (v) => v === STATUS_VERSION, cluster: str, generatedAt: num, health: oneOf('healthy', 'degraded', 'down'), nodes: Array.isArray, vips: Array.isArray, pools: Array.isArray, warnings: Array.isArray, redis: (v) => !!v && typeof v === 'object' }, '$', out);
  if (out.length) return out;
  const d = doc as StatusDocument;
  checkObject(d.redis, { address: str, latencyMs: num }, '$.redis', out);
  d.nodes.forEach((n, i) => checkObject(n, NODE, `$.nodes[${i}]`, out));
  d.vips.forEach((v, i) => checkObject(v, VIP, `$.vips[${i}]`, out));
  d.pools.forEach((p, i) => {
    checkObject(p, { name: str, sessions: num, backends: Array.isArray }, `$.pools[${i}]`, out);
    (p.backends ?? []).forEach((b, j) => {
      checkObject(b, BACKEND, `$.pools[${i}].backends[${j}]`, out);
      (b.views ?? []).forEach((w, k) => checkObject(w, VIEW, `$.pools[${i}].backends[${j}].views[${k}]`, out));
    });
  });
  d.warnings.forEach((w, i) => checkObject(w, { code: str, message: str }, `$.warnings[${i}]`, out));
  return out;
}
