/**
 * Who holds the VIP, per proxy host, for the whole run:
 * - the address: `ip -ts -o monitor address` inside each host's namespace
 *   (kernel timestamps of every add and delete), plus an `ip -o addr show`
 *   every CHECK_MS that records the state it finds, so that a missed or
 *   unparsed event cannot hide a holder for long;
 * - the listener: LISTEN sockets on VIP:port in the host's namespace, read
 *   from /proc/PID/net/tcp of a process that lives there for the whole run
 *   (its backend), so no process is spawned per sample.
 * Both become on/off observations (timeline.ts) per host.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs';
import { createInterface } from 'node:readline';
import type { NetnsLab } from '../harness/netns';
import { listeningInodes } from '../harness/ownership-sampler';
import type { Observation } from './timeline';

/** Period of the `ip addr show` cross-check. */
const CHECK_MS = 250;
/** Period of the listener sample. */
const LISTEN_SAMPLE_MS = 50;

/** Parses one `ip -ts -o monitor address` line; null unless it is about `address`. */
export function parseMonitorLine(line: string, address: string): { t: number; on: boolean } | null {
  const m = /^\[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})\d*\]\s+(Deleted\s+)?\d+:\s+\S+\s+inet6?\s+([0-9a-fA-F.:]+)\//.exec(line);
  if (!m || m[9] !== address) return null;
  // `ip -ts` prints local time, as Date's component constructor reads it.
  const t = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7])).getTime();
  return { t, on: !m[8] };
}

/** A running watch; `stop()` ends it and returns what it saw. */
export interface HolderWatch {
  /** Hosts that hold the address now, as last seen. */
  addressHolders(): string[];
  stop(): { address: Observation[]; listener: Observation[] };
}

/** Watches `hosts` (lab member names) for VIP `address` and listeners on `address:port`; `pidOf(host)` names a long-lived process in each. */
export function watchHolders(lab: NetnsLab, hosts: readonly string[], address: string, port: number, pidOf: (host: string) => number | undefined): HolderWatch {
  const addressObs: Observation[] = [];
  const listener: Observation[] = [];
  const now = new Map<string, boolean>();
  const listening = new Map<string, boolean>();
  const record = (who: string, t: number, on: boolean) => { addressObs.push({ who, t, on }); now.set(who, on); };
  // Monitor events per host: a cross-check whose answer was read after a newer event is stale (on a loaded machine
  // its callback can run hundreds of ms late), and recording it would invent a holder that the kernel never had.
  const events = new Map<string, number>();
  const monitors = hosts.map((h) => {
    const m = lab.member(h);
    const child = lab.spawnIn(m.ns, 'ip', ['-ts', '-o', 'monitor', 'address', 'dev', m.iface]);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const e = parseMonitorLine(line, address);
      if (e) { events.set(h, (events.get(h) ?? 0) + 1); record(h, e.t, e.on); }
    });
    return child;
  });
  const checkBusy = new Set<string>();
  const doubt = new Map<string, { on: boolean; t: number; events: number }>();
  const check = setInterval(() => {
    for (const h of hosts) {
      if (checkBusy.has(h)) continue;
      checkBusy.add(h);
      const m = lab.member(h);
      const seenEvents = events.get(h) ?? 0;
      const startedAt = Date.now();
      execFile('ip', ['-n', m.ns, '-o', 'addr', 'show', 'dev', m.iface], { timeout: 2000 }, (err, out) => {
        checkBusy.delete(h);
        if (err || (events.get(h) ?? 0) !== seenEvents) return;
        const on = out.split('\n').some((l) => l.includes(` ${address}/`));
        // A disagreement counts only when the next check, with no monitor event between, still finds it: a monitor
        // line can be read after a check that ran later in the kernel, and one late line must not invent a holder.
        const first = doubt.get(h);
        if (now.get(h) === on) doubt.delete(h);
        else if (first && first.on === on && first.events === seenEvents) { doubt.delete(h); record(h, first.t, on); }
        else doubt.set(h, { on, t: startedAt, events: seenEvents });
      });
    }
  }, CHECK_MS);
  const sample = setInterval(() => {
    for (const h of hosts) {
      const pid = pidOf(h);
      if (!pid) continue;
      readFile(`/proc/${pid}/net/tcp`, 'latin1', (err, table) => {
        if (err) return;
        const on = listeningInodes(address, port, table).length > 0;
        if (listening.get(h) !== on) { listening.set(h, on); listener.push({ who: h, t: Date.now(), on }); }
      });
    }
  }, LISTEN_SAMPLE_MS);
  return {
    addressHolders: () => hosts.filter((h) => now.get(h) === true),
    stop: () => {
      clearInterval(check);
      clearInterval(sample);
      for (const c of monitors) if (c.exitCode === null) c.kill('SIGKILL');
      return { address: addressObs, listener };
    },
  };
}
