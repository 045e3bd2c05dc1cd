/**
 * The targets of issues 9 and 13 ("How it is checked"), as a verdict per
 * row: the list of targets a row misses, empty when it meets them all.
 * Figures are medians over the row's runs, except owners and address
 * holders, where one run with two is a miss.
 */
import type { RowRuns } from './report';
import { DEFAULTS } from '../../shared/config/defaults';
import { median } from './timeline';

/** Stall budget of issue 13 (default 2 s): a stop shorter than this must not move the VIP. */
export const STALL_BUDGET_MS = DEFAULTS.lease.stallBudgetMs;

const REDIS_OUTAGES = new Set(['redis-kill-5s', 'redis-kill-60s', 'redis-stop-5s', 'sentinel-master-kill']);
const KEEP_OWNER = new Set([...REDIS_OUTAGES, 'peer-reset', 'proxy-partition', 'owner-redis-cut', 'standby-kill', 'loopback-peer', 'loopback-peer-blip']);
const GAP_LIMIT_MS: Record<string, number> = { 'owner-kill': 100, 'owner-link-down': 300, 'owner-partition': 300, 'owner-stop-5s': STALL_BUDGET_MS + 300 };

function med(r: RowRuns, f: (m: RowRuns['runs'][number]) => number | null): number | null {
  return median(r.runs.map(f).filter((x): x is number => x !== null));
}

/** Stop length of an `owner-stop-*` id in ms, or null. */
export function stopMsOf(id: string): number | null {
  const m = /^owner-stop-([\d.]+)s$/.exec(id);
  return m ? Math.round(Number(m[1]) * 1000) : null;
}

/** Targets the row misses. */
export function missedTargets(r: RowRuns): string[] {
  if (r.runs.length === 0) return ['no run completed'];
  const miss: string[] = [];
  if (r.runs.some((m) => m.maxOwners > 1)) miss.push('two owners');
  if (r.runs.some((m) => m.maxAddressHolders > 1)) miss.push('two address holders');
  const stopMs = stopMsOf(r.id);
  const ridesOut = REDIS_OUTAGES.has(r.id) || (stopMs !== null && stopMs < STALL_BUDGET_MS) || r.id.startsWith('soak-');
  if (ridesOut && (med(r, (m) => m.dropped) ?? 0) > 0) miss.push('connections dropped');
  if (REDIS_OUTAGES.has(r.id) && (med(r, (m) => m.refused) ?? 0) > 0) miss.push('new connections refused');
  const keeps = KEEP_OWNER.has(r.id) || (stopMs !== null && stopMs < STALL_BUDGET_MS) || r.id.startsWith('soak-');
  if (keeps && (med(r, (m) => m.takeovers) ?? 0) > 0) miss.push('VIP moved');
  // Issue 9: `wsha node start` refuses a loopback peer address when the other nodes are on other hosts.
  if (r.id.startsWith('loopback-peer') && r.runs.some((m) => m.startRefusals === 0)) miss.push('started with a loopback peer address');
  const limit = GAP_LIMIT_MS[r.id];
  if (limit !== undefined) {
    const gap = med(r, (m) => m.gapMs);
    if (gap === null) miss.push('no takeover');
    else if (gap > limit) miss.push(`gap ${Math.round(gap)} ms > ${limit} ms`);
  }
  return miss;
}
