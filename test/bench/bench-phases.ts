/**
 * The measurements of one target, the same for every target:
 *
 * - round(): echo throughput at two message sizes (N connections x K in
 *   flight) with the proxy's CPU over the measured window, round trips at N
 *   connections with one message in flight each, and new WebSocket
 *   connections per second (batches opened together, then closed) with the
 *   proxy's CPU per handshake;
 * - idle(): RSS growth per idle connection on a freshly started proxy,
 *   holding as many connections as its file limits allow.
 *
 * Proxy CPU is read from /proc and summed over all the proxy's processes
 * (and threads); RSS likewise.
 */
import type WebSocket from 'ws';
import { closeAll, openClients, openWebSocket, runEchoLoad, runHandshakeLoad, sleep, type EchoLoadResult, type WindowHooks } from './ws-load';
import { cpuNsOf, percentile, rssKibOf } from './proc-stats';
import type { RunningTarget } from './bench-targets';

/** Phases accepted by --phases. */
export const PHASE_NAMES = ['small', 'large', 'latency', 'handshake', 'idle'] as const;
/** One phase name. */
export type PhaseName = (typeof PHASE_NAMES)[number];

/** Knobs of the measurements. */
export interface PhaseOptions {
  phases: ReadonlySet<PhaseName>;
  connections: number;
  inFlight: number;
  smallBytes: number;
  largeBytes: number;
  warmupMs: number;
  durationMs: number;
  handshakeBatch: number;
  handshakeMs: number;
  sourceAddresses: number;
  openConcurrency: number;
  /** Quiet time before the idle phase's first RSS reading and again before its second. */
  idleSettleMs: number;
}

/** Figures of one target in one round (NaN where not measured or not applicable). */
export interface RoundFigures {
  smallMsgsPerSec: number; smallCpuUsPerMsg: number;
  largeMsgsPerSec: number; largeCpuUsPerMsg: number;
  p50Us: number; p99Us: number;
  handshakesPerSec: number; cpuUsPerHandshake: number; handshakeFailures: number;
}

/** Records the proxy's CPU between the window's edges. */
class CpuWindow implements WindowHooks {
  #pids: readonly number[];
  #t0 = 0;
  ns = Number.NaN;
  constructor(pids: readonly number[]) { this.#pids = pids; }
  start(): void { this.#t0 = this.#pids.length ? cpuNsOf(this.#pids) : Number.NaN; }
  end(): void { this.ns = this.#pids.length ? cpuNsOf(this.#pids) - this.#t0 : Number.NaN; }
}

const rate = (r: EchoLoadResult) => (r.messages * 1000) / r.durationMs;

async function echo(t: RunningTarget, sockets: WebSocket[], o: PhaseOptions, payloadBytes: number): Promise<[number, number]> {
  const cpu = new CpuWindow(t.pids);
  const r = await runEchoLoad(sockets, { payloadBytes, inFlight: o.inFlight, warmupMs: o.warmupMs, durationMs: o.durationMs }, cpu);
  return [rate(r), cpu.ns / 1000 / r.messages];
}

/** One round of the throughput, latency and handshake measurements against `t`. */
export async function round(t: RunningTarget, o: PhaseOptions): Promise<RoundFigures> {
  const f: RoundFigures = {
    smallMsgsPerSec: NaN, smallCpuUsPerMsg: NaN, largeMsgsPerSec: NaN, largeCpuUsPerMsg: NaN,
    p50Us: NaN, p99Us: NaN, handshakesPerSec: NaN, cpuUsPerHandshake: NaN, handshakeFailures: 0,
  };
  const p = o.phases;
  if (p.has('small') || p.has('large') || p.has('latency')) {
    const sockets = await openClients(t.url, o.connections);
    try {
      if (p.has('small')) [f.smallMsgsPerSec, f.smallCpuUsPerMsg] = await echo(t, sockets, o, o.smallBytes);
      if (p.has('large')) [f.largeMsgsPerSec, f.largeCpuUsPerMsg] = await echo(t, sockets, o, o.largeBytes);
      if (p.has('latency')) {
        const r = await runEchoLoad(sockets, { payloadBytes: o.smallBytes, inFlight: 1, warmupMs: o.warmupMs, durationMs: o.durationMs });
        f.p50Us = percentile(r.latenciesMs, r.samples, 50) * 1000;
        f.p99Us = percentile(r.latenciesMs, r.samples, 99) * 1000;
      }
    } finally {
      await closeAll(sockets);
    }
  }
  if (p.has('handshake')) {
    await sleep(200);
    const cpu = new CpuWindow(t.pids);
    const r = await runHandshakeLoad(t.url, { batch: o.handshakeBatch, durationMs: o.handshakeMs, maxBatches: 10_000, sourceAddresses: o.sourceAddresses, timeoutMs: 5000 }, cpu);
    f.handshakesPerSec = (r.opened * 1000) / r.durationMs;
    f.cpuUsPerHandshake = cpu.ns / 1000 / r.opened;
    f.handshakeFailures = r.failed;
  }
  return f;
}

/** What holding idle connections cost. */
export interface IdleFigures { held: number; failures: number; echoed: number; sample: number; rssBeforeKib: number; rssAfterKib: number; kibPerConnection: number }

/** An idle phase gives up opening after this long. */
const IDLE_OPEN_DEADLINE_MS = 60_000;

/** Opens idle connections until `held` has `target`, `concurrency` at a time; stops early after repeated failures. */
async function openIdle(url: string, o: PhaseOptions, held: WebSocket[], target: number): Promise<number> {
  const deadline = Date.now() + IDLE_OPEN_DEADLINE_MS;
  let next = held.length;
  let failures = 0;
  const worker = async () => {
    while (next < target && Date.now() < deadline && failures < 20) {
      const i = next++;
      try {
        held.push(await openWebSocket(url, { localAddress: `127.0.0.${2 + (i % o.sourceAddresses)}`, timeoutMs: 5000 }));
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.openConcurrency, target - held.length)) }, worker));
  return failures;
}

/** One echo on each of up to `n` held tunnels: they still carry data. */
async function echoSample(held: WebSocket[], n: number): Promise<number> {
  const step = Math.max(1, Math.floor(held.length / n));
  const picks = held.filter((_, i) => i % step === 0).slice(0, n);
  const ok = await Promise.all(picks.map((ws) => new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    ws.once('message', () => { clearTimeout(timer); resolve(true); });
    ws.send('ping');
  })));
  return ok.filter(Boolean).length;
}

/** RSS growth per idle connection of `t` (a freshly started proxy), holding up to its capacity. */
export async function idle(t: RunningTarget, o: PhaseOptions): Promise<IdleFigures> {
  await sleep(o.idleSettleMs);
  const held: WebSocket[] = [];
  const rssBeforeKib = rssKibOf(t.pids);
  try {
    const failures = await openIdle(t.url, o, held, t.idleCapacity);
    await sleep(o.idleSettleMs);
    const sample = Math.min(100, held.length);
    const echoed = await echoSample(held, sample);
    const rssAfterKib = rssKibOf(t.pids);
    return { held: held.length, failures, echoed, sample, rssBeforeKib, rssAfterKib, kibPerConnection: held.length ? (rssAfterKib - rssBeforeKib) / held.length : NaN };
  } finally {
    await closeAll(held);
  }
}
