/**
 * Which fence changes the control process sends to its workers. The VIP
 * office publishes its deadline on every renewal and every peer grant,
 * tens of times a second, and each send goes to every worker. A fence
 * moved forward by less than FENCE_PUSH_MIN_MS is not sent: a worker whose
 * fence lags the control process's by less than that stops serving that
 * much sooner if the renewals stop, never later. A fence moved back,
 * revoked, or set for a VIP the workers have no fence for is always sent.
 */

/** Smallest forward move of a fence that is sent. */
export const FENCE_PUSH_MIN_MS = 20;

/** Whether `next` must reach the workers, given the fence they have (`undefined`: none yet; `null`: revoked). */
export function fenceWorthSending(sent: number | null | undefined, next: number | null): boolean {
  if (next === null || sent === undefined || sent === null) return true;
  return next < sent || next - sent >= FENCE_PUSH_MIN_MS;
}
