/**
 * Watches a test cluster every few milliseconds, for the whole test:
 * - who claims the VIP: each node's own state over its peer link, as claim
 *   periods [claimChangedAt, last answer while claiming]; two periods of
 *   different nodes that intersect are two owners at one instant;
 * - who listens on it: the kernel's LISTEN sockets on VIP:port with their
 *   PIDs (ss over netlink; /proc/net/tcp as fallback); two at once are allowed
 *   only inside a planned handover's make-before-break overlap, bounded;
 * - the lease's epoch, which must never go down.
 */
import { readFile, readdirSync, readlinkSync } from 'node:fs';
import { execFile } from 'node:child_process';
import type { TestCluster } from './cluster';

/** A span with two or more processes listening on the VIP. */
export interface ListenerOverlap { startMs: number; endMs: number; durationMs: number; pids: number[] }

/** Two nodes claiming at one instant. */
export interface ClaimConflict { a: string; b: string; vip: string; aPeriod: [number, number]; bPeriod: [number, number] }

/** What the sampler saw. */
export interface SamplerReport {
  rounds: number;
  claimConflicts: ClaimConflict[];
  listenerOverlaps: ListenerOverlap[];
  epochWentDown: Array<{ from: number; to: number }>;
  maxEpoch: number;
}

function hexAddrPort(address: string, port: number): string {
  const hexIp = address.split('.').map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  return `${hexIp}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** Inodes of LISTEN sockets on exactly address:port (IPv4), from a /proc/net/tcp text. */
export function listeningInodes(address: string, port: number, table: string): string[] {
  const want = hexAddrPort(address, port);
  const out: string[] = [];
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (f[1] === want && f[3] === '0A') out.push(f[9]!);
  }
  return out;
}

/** PIDs of LISTEN sockets on exactly address:port, one entry per socket, from `ss -Hltnp` output. */
export function listeningPids(ssOutput: string): number[] {
  const out: number[] = [];
  for (const line of ssOutput.split('\n')) {
    if (!line.startsWith('LISTEN')) continue;
    const m = /pid=(\d+)/.exec(line);
    out.push(m ? Number(m[1]) : -1);
  }
  return out;
}

/**
 * Listening sockets on address:port with their PIDs. `ss` asks the kernel
 * through netlink with the filter applied there, which stays fast on a host
 * whose /proc/net/tcp holds tens of thousands of lines; /proc/net/tcp (the
 * same kernel table, as text) is the fallback where ss is missing.
 */
function listSockets(address: string, port: number, pids: readonly number[]): Promise<number[]> {
  return new Promise((resolve) => {
    execFile('ss', ['-Hltnp', `src ${address}:${port}`], { timeout: 2000 }, (err, stdout) => {
      if (!err) return resolve(listeningPids(stdout));
      readFile('/proc/net/tcp', 'latin1', (e2, table) => resolve(e2 ? [] : listeningInodes(address, port, table).map((ino) => pidOfInode(ino, pids))));
    });
  });
}

/** The PID (among `pids`) holding socket inode `inode`, via /proc/PID/fd; -1 when none does. */
export function pidOfInode(inode: string, pids: readonly number[]): number {
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid; } catch { /* closed meanwhile */ }
    }
  }
  return -1;
}

/** Starts sampling `c` every `everyMs` until stop(). */
export function startSampler(c: TestCluster, everyMs = 5) {
  let rounds = 0;
  let running = true;
  const inflight = new Set<string>();
  /** node \u0000 VIP -> claimChangedAt -> last `at` seen while claiming (claims of different VIPs never conflict) */
  const periods = new Map<string, Map<number, number>>();
  const overlaps: ListenerOverlap[] = [];
  let open: ListenerOverlap | null = null;
  const epochDown: Array<{ from: number; to: number }> = [];
  let maxEpoch = 0;
  let leaseBusy = false;

  const sampleStates = () => {
    for (const n of c.nodes) {
      if (!n.proc || inflight.has(n.id)) continue;
      inflight.add(n.id);
      void c.state(n.id, 1000).then((s) => {
        inflight.delete(n.id);
        if (!s) return;
        for (const v of s.vips) {
          if (!v.claims) continue;
          const key = `${n.id}\u0000${v.vip}`;
          let m = periods.get(key);
          if (!m) periods.set(key, (m = new Map()));
          m.set(v.claimChangedAt, Math.max(m.get(v.claimChangedAt) ?? 0, s.at));
        }
      });
    }
  };

  let ssBusy = false;
  const sampleListeners = () => {
    if (ssBusy) return;
    ssBusy = true;
    const nodePids = c.nodes.map((n) => n.proc?.pid).filter((p): p is number => typeof p === 'number');
    void listSockets(c.vip.address, c.vip.port, nodePids).then((pids) => {
      ssBusy = false;
      const now = performance.timeOrigin + performance.now();
      if (pids.length >= 2) {
        if (!open) { open = { startMs: now, endMs: now, durationMs: 0, pids: [...new Set(pids)] }; overlaps.push(open); }
        open.endMs = now;
        open.durationMs = open.endMs - open.startMs;
      } else open = null;
    });
  };

  const sampleLease = () => {
    if (leaseBusy) return;
    leaseBusy = true;
    void c.lease().then((l) => {
      leaseBusy = false;
      if (!l) return;
      if (l.epoch < maxEpoch) epochDown.push({ from: maxEpoch, to: l.epoch });
      maxEpoch = Math.max(maxEpoch, l.epoch);
    }, () => { leaseBusy = false; });
  };

  const timer = setInterval(() => {
    if (!running) return;
    rounds++;
    sampleStates();
    sampleListeners();
    sampleLease();
  }, everyMs);

  const conflicts = (): ClaimConflict[] => {
    const list: Array<{ node: string; vip: string; from: number; to: number }> = [];
    for (const [key, m] of periods) {
      const [node, vip] = key.split('\u0000') as [string, string];
      for (const [from, to] of m) list.push({ node, vip, from, to });
    }
    const out: ClaimConflict[] = [];
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!, b = list[j]!;
        if (a.node === b.node || a.vip !== b.vip) continue;
        if (Math.max(a.from, b.from) < Math.min(a.to, b.to)) out.push({ a: a.node, b: b.node, vip: a.vip, aPeriod: [a.from, a.to], bPeriod: [b.from, b.to] });
      }
    }
    return out;
  };

  return {
    /** Stops sampling and returns the report (waits for answers in flight). */
    async stop(): Promise<SamplerReport> {
      running = false;
      clearInterval(timer);
      for (let i = 0; i < 100 && inflight.size; i++) await new Promise((r) => setTimeout(r, 10));
      return { rounds, claimConflicts: conflicts(), listenerOverlaps: overlaps, epochWentDown: epochDown, maxEpoch };
    },
    /** Overlaps seen so far. */
    overlaps: () => overlaps.slice(),
  };
}

/** A running sampler. */
export type Sampler = ReturnType<typeof startSampler>;
