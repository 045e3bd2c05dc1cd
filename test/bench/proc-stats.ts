/** Process figures read from /proc for the benchmark (Linux only). */
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size of `pid` in KiB (VmRSS), or NaN when the process is gone. */
export function rssKib(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Open file descriptors of `pid` (entries in /proc/PID/fd), or NaN. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** p-th percentile (0..100) of the first `n` samples; sorts them in place. */
export function percentile(samples: Float64Array, n: number, p: number): number {
  if (n === 0) return Number.NaN;
  const view = samples.subarray(0, n);
  view.sort();
  const i = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
  return view[i]!;
}
