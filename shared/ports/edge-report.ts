/**
 * What a data plane says about its edge (issue 12): refusals by route and
 * reason, tunnels closed by policy, the alerts of the last minute, and the
 * state of JWKS sources and admission queues. Produced by node/access,
 * summed over worker processes and shown by the control plane.
 */

/** One kind of refusal that is happening now (the last minute). */
export interface EdgeAlert {
  route: string;
  reason: string;
  /** Refusals in the current window. */
  count: number;
  /** Last client address refused. */
  lastAddress: string;
  /** What was refused, e.g. the limit and its value. */
  message: string;
  /** Wall-clock ms of the last refusal. */
  lastAt: number;
}

/** JSON-able edge state of one data plane. */
export type EdgeReport = {
  /** `[route, reason, count]` since start. */
  denied: Array<[string, string, number]>;
  /** `[route, reason, count]` of tunnels closed by policy since start. */
  policyCloses: Array<[string, string, number]>;
  alerts: EdgeAlert[];
  jwks: Array<{ route: string; url: string; keys: number; fetches: number; failures: number; lastGoodAt: number }>;
  admission: Array<{ pool: string; waiting: number; admitted: number; queued: number; refused: number }>;
};
