/**
 * What a data plane reports about its edge (issue 12): plain data, so that
 * it crosses the worker IPC unchanged and merges across workers
 * (cluster/workers/merge-edge.ts). node/access/edge-report.ts builds it.
 */

/** One refusal alert: what a route refused in the last minute. */
export interface EdgeAlertData {
  route: string;
  reason: string;
  count: number;
  lastAddress: string;
  message: string;
  /** Wall-clock ms of the last refusal. */
  lastAt: number;
}

/** JSON-able edge state of one node. */
export type EdgeReport = {
  /** `[route, reason, count]` since start. */
  denied: Array<[string, string, number]>;
  /** `[route, reason, count]` of tunnels closed by policy since start. */
  policyCloses: Array<[string, string, number]>;
  alerts: EdgeAlertData[];
  jwks: Array<{ route: string; url: string; keys: number; fetches: number; failures: number; lastGoodAt: number }>;
  admission: Array<{ pool: string; waiting: number; admitted: number; queued: number; refused: number }>;
};
