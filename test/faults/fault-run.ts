/**
 * One run of one fault: a fresh lab, Redis, backends and nodes; the
 * sampler, holder watch, prober and load clients; a steady phase; the
 * fault; an observation phase; the figures (measure.ts). The lab is
 * destroyed whatever happens, and every wait is bounded.
 *
 *   setup ──> p1 owns ──> others ready ──> load connected ──settle──> fault ──observe──> stop, measure
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, waitFor } from '../harness/ports';
import { watchHolders, type HolderWatch } from './address-watch';
import { FAULT_PORTS } from './fault-config';
import { FaultLab, VIP } from './fault-lab';
import type { FaultSpec } from './fault-catalog';
import { LoadHandle, ProberHandle, SamplerHandle } from './instruments';
import { measureRun, type RunData, type RunMetrics } from './measure';
import { NftFaults } from './nft';

/** Knobs of a run (flags of run-faults.ts). */
export interface RunOptions {
  clients: number;
  messageMs: number;
  probeEveryMs: number;
  /** Steady time between "all connected" and the fault. */
  settleMs: number;
  /** Copy each run's log folder here. */
  keepLogs?: string;
}

/** Longest wait for a setup step (a node to own or be ready, clients to connect). */
const SETUP_TIMEOUT_MS = 30_000;

/** The last log message of a node's output (its `msg`, and `err` if any). */
export function lastMessage(tail: readonly string[]): string {
  for (let i = tail.length - 1; i >= 0; i--) {
    const line = tail[i] as string;
    try {
      const o = JSON.parse(line) as { msg?: string; err?: unknown; level?: number };
      if (o.msg && (o.level ?? 30) >= 40) return [o.msg, typeof o.err === 'string' ? o.err : (o.err as { message?: string } | undefined)?.message].filter(Boolean).join(': ');
    } catch { if (line.trim()) return line.trim(); }
  }
  return tail[tail.length - 1] ?? '(no output)';
}

/** Runs `spec` once on a cluster of `nodes`; returns its figures. */
export async function runFault(spec: FaultSpec, nodes: 2 | 3, o: RunOptions): Promise<RunMetrics> {
  const fl = new FaultLab({ nodes, redis: spec.redis ?? 'single', peerListen: spec.peerListen });
  const nft = new NftFaults(fl.lab);
  const notes: string[] = [];
  let watch: HolderWatch | undefined;
  fl.note(`fault ${spec.id}, ${nodes} nodes`);
  try {
    await fl.startRedis();
    await fl.startBackends();
    const watchFrom = Date.now();
    const sampler = new SamplerHandle(fl);
    watch = watchHolders(fl.lab, fl.proxies, VIP, FAULT_PORTS.vip, (h) => fl.backends.get(h)?.proc.pid);
    fl.startNode('p1');
    await sampler.waitForOwner(SETUP_TIMEOUT_MS, 'p1').catch((e: Error) => { throw new Error(`${e.message}; p1: ${lastMessage(fl.nodes.get('p1')!.tail)}`); });
    for (const h of fl.proxies.slice(1)) fl.startNode(h);
    await waitFor(() => fl.proxies.every((h) => sampler.ready(h) || !fl.nodeAlive(h)), 'every node ready', SETUP_TIMEOUT_MS, 50);
    const startRefusals = fl.proxies.filter((h) => !fl.nodeAlive(h)).map((h) => `${h} refused to start: ${lastMessage(fl.nodes.get(h)!.tail)}`);
    if (spec.peerListen === 'default') {
      const started = fl.proxies.filter((h) => fl.nodeAlive(h));
      notes.push(`${started.length} of ${fl.proxies.length} nodes started (peer links ${started.map((h) => `${h} ${sampler.peers.get(h) ?? '?'}`).join(', ')})`);
    }
    const url = `ws://${VIP}:${FAULT_PORTS.vip}/`;
    const prober = new ProberHandle(fl, url, o.probeEveryMs);
    const load = new LoadHandle(fl, url, o.clients, o.messageMs);
    await load.waitConnected(SETUP_TIMEOUT_MS);
    await sleep(o.settleMs);
    const claimants = sampler.claimants();
    if (claimants.length !== 1) notes.push(`before the fault: ${claimants.length} claimants (${claimants.join(', ')})`);
    const owner = claimants[0] ?? 'p1';
    const standbys = fl.proxies.filter((h) => h !== owner && fl.nodeAlive(h));
    fl.note(`injecting ${spec.id}: owner ${owner}, standbys ${standbys.join(',')}`);
    const currentOwner = () => { const c = sampler.claimants(); return c.length === 1 ? c[0] : undefined; };
    const outcome = await spec.run({ fl, nft, owner, standbys, currentOwner });
    nft.heal();
    await sleep(spec.observeMs ?? 5000);
    const endAt = Date.now();
    await load.stop();
    await prober.stop();
    await sampler.stop();
    const seen = watch.stop();
    watch = undefined;
    if (!load.final) notes.push('load clients gave no final report');
    if (!sampler.final) notes.push('sampler gave no final report');
    const data: RunData = {
      at: outcome.at, victim: outcome.victim, gap: spec.gap ?? false, ownerBefore: owner, watchFrom, endAt,
      attempts: prober.attempts.filter((a) => a.t0 <= endAt), drops: load.drops.filter((d) => d.at <= endAt), load: load.final,
      claims: sampler.final?.spans ?? [], address: seen.address, offSegment: fl.offSegmentSpans(), listener: seen.listener, startRefusals, notes,
    };
    if (o.keepLogs) writeFileSync(join(fl.dir, 'data.json'), JSON.stringify({ fault: spec.id, nodes, claimEvents: sampler.claimEvents, ...data }));
    return measureRun(data);
  } catch (err) {
    for (const [h, p] of fl.nodes) process.stderr.write(`--- node ${h} (last lines) ---\n${p.tail.slice(-15).join('\n')}\n`);
    throw err;
  } finally {
    watch?.stop();
    try { nft.heal(); } catch { /* lab gone */ }
    await fl.destroy(o.keepLogs ? join(o.keepLogs, `${spec.id}-${nodes}n-${new Date().toISOString().replace(/[:.]/g, '')}`) : undefined);
  }
}

/** Issue 13's soak: every `periodMs`, the owner is SIGSTOPped for 0.5-1.9 s, for `seconds` in all. */
export function soakSpec(seconds: number, periodMs = 30_000): FaultSpec {
  return {
    id: `soak-${seconds}s`, issue: 13, title: `soak: ${seconds} s, owner SIGSTOP 0.5-1.9 s every ${periodMs / 1000} s`, nodes: [2, 3],
    run: async ({ fl, owner, currentOwner }) => {
      const at = Date.now();
      const deadline = at + seconds * 1000;
      const stops: number[] = [];
      for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
        const stopMs = 500 + Math.round(Math.random() * 1400);
        const target = currentOwner() ?? owner;
        stops.push(stopMs);
        fl.signalNode(target, 'SIGSTOP');
        await sleep(stopMs);
        fl.signalNode(target, 'SIGCONT');
        await sleep(Math.max(0, Math.min(periodMs - stopMs, deadline - Date.now())));
      }
      fl.note(`soak stops (ms): ${stops.join(', ')}`);
      return { at, victim: owner };
    },
  };
}
