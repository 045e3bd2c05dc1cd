/**
 * The parent's side of the three measuring processes of a run: the owner
 * sampler (hub namespace), the connect prober and the load clients (client
 * namespace). Each is started through the FaultLab, parsed line by line,
 * and stopped by a `stop` line on its stdin (its PID is killed by the lab
 * if it does not exit in time).
 */
import { join, resolve } from 'node:path';
import { sleep, waitFor } from '../harness/ports';
import { ADMIN_TOKEN, FAULT_PORTS } from './fault-config';
import type { FaultLab, LabProc } from './fault-lab';
import type { Attempt, Span } from './timeline';

const HERE = resolve(__dirname);
/** How often the sampler asks each node. */
export const SAMPLE_EVERY_MS = 20;

async function stopProc(p: LabProc, waitMs: number): Promise<void> {
  try { p.proc.stdin?.write('stop\n'); } catch { /* exited */ }
  const r = await Promise.race([p.exited.then(() => true), sleep(waitMs).then(() => false)]);
  if (!r && p.proc.exitCode === null) p.proc.kill('SIGKILL');
}

/** A claim start or end, as the sampler reported it. */
export interface ClaimEvent { node: string; pid: number; claims: boolean; changedAt: number; epoch: number | null; at: number }

/** The running owner sampler. */
export class SamplerHandle {
  readonly claimEvents: ClaimEvent[] = [];
  /** Peer-link address each node reports (its advertised `peer`). */
  readonly peers = new Map<string, string>();
  readonly #claims = new Map<string, boolean>();
  readonly #ready = new Map<string, boolean>();
  #final: { spans: Span[]; polls: Record<string, { ok: number; fail: number }> } | null = null;
  readonly p: LabProc;

  constructor(fl: FaultLab) {
    const targets = fl.proxies.map((id) => ({ id, address: fl.addr(id) }));
    this.p = fl.spawn('sampler', 'hub', process.execPath, [join(HERE, 'owner-sampler.js'), JSON.stringify(targets), String(FAULT_PORTS.admin), ADMIN_TOKEN, String(SAMPLE_EVERY_MS)], {
      onLine: (line) => this.#onLine(line),
    });
  }

  #onLine(line: string): void {
    let o: { type?: string } & Record<string, unknown>;
    try { o = JSON.parse(line) as typeof o; } catch { return; }
    if (o.type === 'claim') { const e = o as unknown as ClaimEvent; this.claimEvents.push(e); this.#claims.set(e.node, e.claims); }
    else if (o.type === 'ready') { this.#ready.set(o.node as string, o.ready as boolean); if (typeof o.peer === 'string') this.peers.set(o.node as string, o.peer); }
    else if (o.type === 'final') this.#final = o as unknown as NonNullable<SamplerHandle['final']>;
  }

  /** Nodes claiming the VIP as last seen. */
  claimants(): string[] { return [...this.#claims].filter(([, c]) => c).map(([n]) => n).sort(); }

  /** Whether the node was last seen ready. */
  ready(node: string): boolean { return this.#ready.get(node) === true; }

  /** Resolves with the only claimant once there is exactly one (and it is `who`, if given). */
  waitForOwner(timeoutMs: number, who?: string): Promise<string> {
    return waitFor(() => { const c = this.claimants(); return c.length === 1 && (!who || c[0] === who) ? c[0] : null; }, `a single owner${who ? ` (${who})` : ''}`, timeoutMs, 20);
  }

  get final() { return this.#final; }

  async stop(): Promise<void> { await stopProc(this.p, 3000); }
}

/** The running connect prober. */
export class ProberHandle {
  readonly attempts: Attempt[] = [];
  readonly p: LabProc;
  constructor(fl: FaultLab, url: string, everyMs: number) {
    this.p = fl.spawn('prober', 'c', process.execPath, [join(HERE, 'connect-prober.js'), url, String(everyMs)], {
      log: false,
      onLine: (line) => { try { this.attempts.push(JSON.parse(line) as Attempt); } catch { /* not a report */ } },
    });
  }

  /** The host that answered the last answered attempt. */
  lastWho(): string | undefined {
    for (let i = this.attempts.length - 1; i >= 0; i--) { const w = this.attempts[i]?.who; if (w) return w; }
    return undefined;
  }

  async stop(): Promise<void> { await stopProc(this.p, 3000); }
}

/** A dropped client connection, as the load reported it. */
export interface DropEvent { at: number; how: string; lost: number; host: string }

/** The load clients' closing counters. */
export interface LoadFinal {
  clients: number; sent: number; echoed: number; lost: number; drops: number; connects: number; connectFailures: number; mismatched: number;
  unansweredAtEnd: number; dropsBy: Record<string, number>; connectFailuresBy: Record<string, number>; openAtEnd: number; hostsAtEnd: Record<string, number>;
}

/** The running load clients. */
export class LoadHandle {
  readonly drops: DropEvent[] = [];
  connectedAt: number | null = null;
  final: LoadFinal | null = null;
  readonly p: LabProc;
  constructor(fl: FaultLab, url: string, count: number, messageMs: number) {
    this.p = fl.spawn('load', 'c', process.execPath, [join(HERE, 'load-clients.js'), url, String(count), String(messageMs)], {
      log: false,
      onLine: (line) => {
        let o: { type?: string } & Record<string, unknown>;
        try { o = JSON.parse(line) as typeof o; } catch { return; }
        if (o.type === 'drop') this.drops.push(o as unknown as DropEvent);
        else if (o.type === 'connected') this.connectedAt = o.at as number;
        else if (o.type === 'final') this.final = o as unknown as LoadFinal;
      },
    });
  }

  waitConnected(timeoutMs: number): Promise<number> { return waitFor(() => this.connectedAt, 'every load client connected', timeoutMs, 50); }

  /** Stops sending, lets in-flight echoes arrive, and waits for the counters. */
  async stop(): Promise<void> { await stopProc(this.p, 6000); }
}
