/**
 * Slow start: a backend that comes back up takes a growing share of new
 * connections, linearly from MIN_RAMP to 1 over `slowStartMs`, so that it is
 * not flooded the instant it rejoins. Pure; times are monotonic ms.
 */

/** Smallest share while ramping: never 0, or the backend would get nothing to prove itself with. */
export const MIN_RAMP = 0.05;

/** The weight factor `nowMs - upSinceMs` into a ramp of `slowStartMs`; 1 when off or done. */
export function rampFactor(upSinceMs: number | null, nowMs: number, slowStartMs: number): number {
  if (upSinceMs === null || slowStartMs <= 0) return 1;
  const f = (nowMs - upSinceMs) / slowStartMs;
  if (f >= 1) return 1;
  return f < MIN_RAMP ? MIN_RAMP : f;
}
