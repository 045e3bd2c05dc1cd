/** Process figures read from /proc for the benchmark (Linux only). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

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

/** Median of a list (NaN entries ignored; NaN when none is left). */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Parent PID of `pid` from /proc/PID/stat (the comm field may hold spaces and parentheses), or -1. */
function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/**
 * `root` and all its descendants (nginx's master and workers, a node and
 * any children), found through the parent PIDs in /proc.
 */
export function processTree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const ppid = parentOf(pid);
    if (ppid < 0) continue;
    let kids = parents.get(ppid);
    if (!kids) parents.set(ppid, (kids = []));
    kids.push(pid);
  }
  const out: number[] = [];
  const todo = [root];
  for (let guard = 0; todo.length && guard < 10_000; guard++) {
    const pid = todo.pop()!;
    out.push(pid);
    for (const k of parents.get(pid) ?? []) todo.push(k);
  }
  return out;
}

const CLOCK_TICK_NS = 1e9 / 100; // USER_HZ is 100 on Linux
const HAS_SCHEDSTAT = existsSync('/proc/self/schedstat');

/**
 * CPU time (user + system) of one process in ns. With schedstat, the sum of
 * its threads' run time (ns resolution); otherwise utime + stime from
 * /proc/PID/stat (10 ms ticks). NaN when the process is gone.
 */
export function processCpuNs(pid: number): number {
  if (HAS_SCHEDSTAT) {
    try {
      let sum = 0;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      }
      return sum;
    } catch { /* fall through to stat */ }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the comm field: state(0) ppid(1) ... utime(11) stime(12).
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_NS;
  } catch {
    return Number.NaN;
  }
}

/** CPU ns summed over `pids`. */
export function cpuNsOf(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) sum += processCpuNs(p);
  return sum;
}

/** RSS KiB summed over `pids`. */
export function rssKibOf(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) sum += rssKib(p);
  return sum;
}

/** I/O counters of a process from /proc/PID/io (all its threads): read and write syscalls and bytes. */
export interface IoCounters { syscr: number; syscw: number; rchar: number; wchar: number }

/** I/O counters summed over `pids` (a process that is gone counts 0). */
export function ioOf(pids: readonly number[]): IoCounters {
  const sum: IoCounters = { syscr: 0, syscw: 0, rchar: 0, wchar: 0 };
  for (const pid of pids) {
    try {
      for (const line of readFileSync(`/proc/${pid}/io`, 'utf8').split('\n')) {
        const [k, v] = line.split(': ');
        if (k === 'syscr' || k === 'syscw' || k === 'rchar' || k === 'wchar') sum[k] += Number(v);
      }
    } catch { /* gone */ }
  }
  return sum;
}

/** TcpExt counters of the kernel whose change tells why established connections died (aborts, memory pruning, keepalive). */
const TCP_EXT_WATCHED = /^(TCPAbortOn\w+|PruneCalled|RcvPruned|OfoPruned|TCPKeepAlive|ListenOverflows|ListenDrops|SyncookiesSent|TCPTimeWaitOverflow)$/;

/**
 * The watched TcpExt counters of /proc/net/netstat (the whole network
 * namespace, other users' sockets included), and `BacklogDrops`: packets
 * the kernel dropped because a CPU's input backlog was full (second column
 * of /proc/net/softnet_stat, summed over CPUs, machine-wide). On loopback
 * every packet passes that backlog (net.core.netdev_max_backlog long): the
 * keepalive probes of thousands of sockets whose timers expire in the same
 * tick overflow it, and a socket whose probes are all dropped is aborted
 * (TCPAbortOnTimeout). Empty when unreadable.
 */
export function tcpExtCounters(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    let drops = 0;
    for (const line of readFileSync('/proc/net/softnet_stat', 'utf8').split('\n')) {
      const col = line.trim().split(/\s+/)[1];
      if (col) drops += Number.parseInt(col, 16);
    }
    out.set('BacklogDrops', drops);
  } catch { /* not Linux */ }
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(' ');
      const values = lines[i + 1]!.split(' ');
      if (names[0] !== 'TcpExt:') continue;
      for (let k = 1; k < names.length; k++) if (TCP_EXT_WATCHED.test(names[k]!)) out.set(names[k]!, Number(values[k]));
    }
  } catch { /* not Linux */ }
  return out;
}

/** `name +delta` for every counter that changed from `a` to `b`. */
export function counterDeltas(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): string {
  return [...b].filter(([k, v]) => v !== (a.get(k) ?? 0)).map(([k, v]) => `${k} +${v - (a.get(k) ?? 0)}`).join(', ') || 'none changed';
}
