/**
 * The data plane of a node as N worker processes, driven from the control
 * process: it implements the DataPlane port (and through it VipHost) by
 * asking every worker and combining the answers. Each worker binds its own
 * listeners with SO_REUSEPORT when there is more than one, so the kernel
 * spreads new connections and no socket is handed between processes.
 *
 * Rules it keeps:
 * - A VIP is up only when every running worker listens on it; a failure in
 *   one worker undoes the others (the VIP machine then retries).
 * - A worker that dies is started again in its slot (backoff), with the
 *   config, live pools, verdicts, fences and VIPs of the moment; the other
 *   workers' tunnels and the VIP ownership are untouched.
 * - State the control process owns (fences, verdicts, counts, pools) is
 *   pushed to every worker and kept here for restarts.
 */
import type { SharedRateLimit } from '../../shared/ports/shared-rate-limit';
import { emptyEdgeReport, mergeEdgeReports } from '../../shared/ports/merge-edge-reports';
import type { EdgeSummary } from '../../shared/records';
import type { Config, PoolConfig } from '../../shared/config/schema';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import type { CloseClientsOptions, OpenVipOptions } from '../../shared/ports/vip-host';
import type { DataPlane, DrainOptions, LocalCount, NodeSnapshot, WorkerSnapshot } from '../../shared/ports/data-plane';
import type { DataPlaneState } from '../../shared/ports/data-plane';
import type { HealthEntry, ListenerPorts, PemPair, WorkerStart } from '../../shared/ports/worker-protocol';
import { LOAD_REPORT_MS } from '../../shared/ports/worker-protocol';
import type { AffinityStore, PassiveHealthSink } from '../../shared/cluster-view';
import { ShutdownError, WorkerError } from '../../shared/errors';
import { WorkerSlot, type ControlEnd, type WorkerExit } from './worker-slot';
import { mergeSnapshots } from './merge-snapshots';
import { remoteCountsFor } from './count-exchange';

/** Restart backoff of a slot whose process died: doubles from MIN to MAX, reset after a process ran STABLE_MS. */
export const RESTART_MIN_MS = 100;
export const RESTART_MAX_MS = 5000;
export const RESTART_STABLE_MS = 30_000;
/** Longest one worker may take to answer a VIP or pool call. */
export const WORKER_CALL_TIMEOUT_MS = 10_000;
/** Time a tunnel may take to close after its close frame (the registry's own close timeout, with slack). */
const CLOSE_SLACK_MS = 15_000;

/** What the fleet reads from the control process. */
export interface FleetSources {
  /** Live pools in force. */
  pools(): Readonly<Record<string, PoolConfig>>;
  /** What routing reads of every backend. */
  health(): HealthEntry[];
  /** Connections other nodes hold on a backend. */
  clusterRemote(pool: string, backendId: string): number;
  /** Sticky sessions (the node's one store). */
  affinity: AffinityStore;
  /** Passive failures seen by workers. */
  passive: PassiveHealthSink;
  /** Cluster-wide rate buckets (absent: routes with rateLimit.cluster count per node). */
  rateLimit?: SharedRateLimit;
  /** Self-signed certificates for the listeners of a config, made once per node. */
  selfSigned(config: Config): Record<string, PemPair>;
}

/** Construction options. */
export interface FleetOptions {
  config: Config;
  count: number;
  entry: string;
  log: Logger;
  metrics: Metrics;
  sources: FleetSources;
  execArgv?: string[];
  /** Runs each worker's fork (synchronous); run-node.ts forks them at the normal priority (control-priority.ts). */
  forkWith?: <T>(fork: () => T) => T;
}

interface VipOpen { address: string; reusePort: boolean; ports: ListenerPorts }

/** N worker processes as one data plane. */
export class WorkerFleet implements DataPlane {
  readonly #o: FleetOptions;
  readonly #log: Logger;
  readonly #slots: Array<WorkerSlot | null>;
  readonly #restarts: number[];
  readonly #startedAt: number[];
  readonly #backoff: number[];
  #config: Config;
  #ports: ListenerPorts = {};
  readonly #vips = new Map<string, VipOpen>();
  readonly #fences = new Map<string, number | null>();
  #selfSigned: Record<string, PemPair> = {};
  #stopping = false;
  #draining = false;
  #countsTimer: NodeJS.Timeout | null = null;
  #healthPushQueued = false;

  constructor(o: FleetOptions) {
    if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError(`worker count ${o.count}`);
    this.#o = o;
    this.#config = o.config;
    this.#log = o.log.child({ component: 'workers' });
    this.#slots = Array.from({ length: o.count }, () => null);
    this.#restarts = Array.from({ length: o.count }, () => 0);
    this.#startedAt = Array.from({ length: o.count }, () => 0);
    this.#backoff = Array.from({ length: o.count }, () => RESTART_MIN_MS);
  }

  get count(): number { return this.#o.count; }
  /** The config the workers run (the last one a reload applied). */
  get config(): Config { return this.#config; }
  get reusePort(): boolean { return this.#o.count > 1; }
  /** Ports the plain listeners took (port 0 resolved). */
  get ports(): Readonly<ListenerPorts> { return this.#ports; }

  /** Starts every worker: the first alone (it resolves port 0), then the rest. Throws the first worker's error and leaves nothing running. */
  async start(): Promise<void> {
    this.#selfSigned = this.#o.sources.selfSigned(this.#config);
    try {
      // Fork every process at once (loading the code is most of a worker's start-up), start the first alone (it resolves port 0), then the rest.
      const slots = this.#slots.map((_, i) => this.#spawnSlot(i));
      this.#ports = await slots[0]!.start(this.#startArgs(0));
      await Promise.all(slots.slice(1).map((s) => s.start(this.#startArgs(s.index))));
    } catch (err) {
      this.#stopping = true;
      await Promise.all(this.#slots.map((s) => s?.stop()));
      throw err;
    }
    this.#countsTimer = setInterval(() => this.#pushCounts(), LOAD_REPORT_MS);
    this.#countsTimer.unref();
    this.#o.metrics.workersRunning.set(this.#running().length);
    this.#log.info({ workers: this.count, reusePort: this.reusePort, pids: this.#slots.map((s) => s?.pid) }, 'workers started');
  }

  // ---- VipHost -------------------------------------------------------------

  async openVip(vip: string, address: string, opts: OpenVipOptions): Promise<void> {
    if (this.#stopping) throw new ShutdownError();
    const running = this.#running();
    if (!running.length) throw new WorkerError('no worker is running to listen on the VIP');
    const reusePort = this.reusePort || opts.reusePort;
    const previous = this.#vips.get(vip);
    // Port 0 in the config: the first worker picks the ports, the others bind the same ones. Known ports (the
    // config's, or the last opening's) let every worker listen at once: one IPC round on a takeover's path, not two.
    const known = previous && previous.address === address ? previous.ports : this.#configuredPorts(vip);
    let ports: ListenerPorts = known ?? {};
    const opened: WorkerSlot[] = [];
    try {
      const first = known ? undefined : running[0];
      const rest = first ? running.slice(1) : running;
      if (first) {
        ports = (await first.rpc.call('openVip', { vip, address, reusePort, ports, addressWaitMs: opts.addressWaitMs }, WORKER_CALL_TIMEOUT_MS)).ports;
        opened.push(first);
        first.openVips.add(vip);
      }
      await Promise.all(rest.map(async (s) => {
        await s.rpc.call('openVip', { vip, address, reusePort, ports, addressWaitMs: opts.addressWaitMs }, WORKER_CALL_TIMEOUT_MS);
        opened.push(s);
        s.openVips.add(vip);
      }));
    } catch (err) {
      await Promise.allSettled(opened.map((s) => { s.openVips.delete(vip); return s.rpc.call('stopAccepting', { vip }, WORKER_CALL_TIMEOUT_MS); }));
      throw err;
    }
    this.#vips.set(vip, { address, reusePort, ports });
  }

  /** The VIP's listener ports when the config fixes every one of them; null when one is 0 (a worker picks it). */
  #configuredPorts(vip: string): ListenerPorts | null {
    const ports: ListenerPorts = {};
    for (const l of this.#config.listeners) {
      if (l.on !== `vip:${vip}`) continue;
      if (!l.port) return null;
      ports[l.name] = l.port;
    }
    return ports;
  }

  async stopAccepting(vip: string): Promise<void> {
    this.#vips.delete(vip);
    await Promise.all(this.#running().map(async (s) => {
      s.openVips.delete(vip);
      await s.rpc.call('stopAccepting', { vip }, WORKER_CALL_TIMEOUT_MS).catch((err: Error) => this.#log.warn({ worker: s.index, vip, err: err.message }, 'worker did not stop accepting (its VIP listeners close when it exits)'));
    }));
  }

  async closeClients(vip: string, opts: CloseClientsOptions): Promise<number> {
    // Each worker paces its own share at rate/N over the same window, so the node as a whole closes at opts.ratePerSec.
    const running = this.#running();
    const perWorker: CloseClientsOptions = { ...opts, ratePerSec: Math.max(1, opts.ratePerSec / Math.max(1, running.length)) };
    const counts = await Promise.all(running.map((s) => {
      const paceMs = Math.ceil(((s.load.vipTunnels[vip] ?? 0) * 1000) / perWorker.ratePerSec);
      return s.rpc.call('closeClients', { vip, opts: perWorker }, opts.windowMs + paceMs + CLOSE_SLACK_MS + WORKER_CALL_TIMEOUT_MS).catch((err: Error) => {
        this.#log.warn({ worker: s.index, vip, err: err.message }, 'worker did not report its closed clients');
        return 0;
      });
    }));
    return counts.reduce((a, b) => a + b, 0);
  }

  isServing(vip: string): boolean { return this.#vips.has(vip) && this.#running().some((s) => s.openVips.has(vip)); }

  tunnelCount(vip: string): number {
    let n = 0;
    for (const s of this.#running()) n += s.load.vipTunnels[vip] ?? 0;
    return n;
  }

  listeningPorts(vip: string): number[] {
    const v = this.#vips.get(vip);
    return v ? [...new Set(Object.values(v.ports))] : [];
  }

  fence(vip: string, untilMs: number | null): void {
    this.#fences.set(vip, untilMs);
    // A revoke also stops the workers accepting on the VIP (worker-server.ts): they no longer serve it.
    if (untilMs === null) {
      this.#vips.delete(vip);
      for (const s of this.#slots) s?.openVips.delete(vip);
    }
    for (const s of this.#running()) s.rpc.notify('fence', { vip, untilMs });
  }

  // ---- DataPlane -------------------------------------------------------------

  updatePools(pools: Readonly<Record<string, PoolConfig>>, opts: { graceMs?: number } = {}): void {
    for (const s of this.#running()) s.rpc.notify('pools', { pools, graceMs: opts.graceMs ?? null });
  }

  /**
   * Pushes what routing reads of the verdicts to every worker, once per
   * turn of the event loop however many verdicts changed in it (the
   * control process calls it on every routing change).
   */
  pushHealth(): void {
    if (this.#healthPushQueued) return;
    this.#healthPushQueued = true;
    setImmediate(() => {
      this.#healthPushQueued = false;
      const entries = this.#o.sources.health();
      for (const s of this.#running()) s.rpc.notify('health', { entries });
    });
  }

  async closeBackendTunnels(pool: string, backendId: string, code: number): Promise<number> {
    const counts = await Promise.all(this.#running().map((s) => s.rpc.call('closeBackendTunnels', { pool, backendId, code }, WORKER_CALL_TIMEOUT_MS * 6).catch(() => 0)));
    return counts.reduce((a, b) => a + b, 0);
  }

  *localCounts(): Iterable<LocalCount> {
    const sum = new Map<string, LocalCount>();
    for (const s of this.#running()) {
      for (const [pool, backendId, count] of s.load.counts) {
        const k = `${pool}\u0000${backendId}`;
        const e = sum.get(k);
        if (e) e.count += count; else sum.set(k, { pool, backendId, count });
      }
    }
    yield* sum.values();
  }

  status(): { state: DataPlaneState; draining: boolean } {
    const state: DataPlaneState = this.#stopping ? 'closed' : this.#draining ? 'draining' : this.#running().length ? 'running' : 'created';
    return { state, draining: this.#draining };
  }

  connectionCount(): number {
    let n = 0;
    for (const s of this.#running()) n += s.load.connections;
    return n;
  }

  /**
   * Reloads the first worker alone: every worker reads the same files, so
   * when it refuses the config (ConfigError) nothing changed anywhere; then
   * the others.
   */
  async reload(next: Config): Promise<void> {
    const selfSigned = this.#o.sources.selfSigned(next);
    const [first, ...rest] = this.#running();
    if (first) await first.rpc.call('reload', { config: next, selfSigned }, WORKER_CALL_TIMEOUT_MS);
    const results = await Promise.allSettled(rest.map((s) => s.rpc.call('reload', { config: next, selfSigned }, WORKER_CALL_TIMEOUT_MS)));
    this.#config = next;
    this.#selfSigned = selfSigned;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      // The restarted process starts with the new config (it is in place before the restart delay runs out).
      this.#log.error({ worker: rest[i]!.index, err: (r.reason as Error).message }, 'a worker refused a config the first worker took: restarting it');
      rest[i]!.kill();
    });
  }

  async drain(opts: DrainOptions = this.#config.node.drain): Promise<void> {
    this.#draining = true;
    await Promise.all(this.#running().map((s) => s.rpc.call('drain', opts, opts.deadlineMs + WORKER_CALL_TIMEOUT_MS).catch((err: Error) => {
      this.#log.warn({ worker: s.index, err: err.message }, 'worker drain did not finish');
    })));
  }

  async snapshot(): Promise<NodeSnapshot> {
    const running = this.#running();
    const parts = (await Promise.all(running.map((s) => s.rpc.call('snapshot', null, WORKER_CALL_TIMEOUT_MS).catch(() => null)))).filter((x): x is NodeSnapshot => x !== null);
    return mergeSnapshots(this.#config, parts, this.workers(), this.#draining);
  }

  /** Edge refusals and alerts summed over the running workers' last load reports (for heartbeats). */
  edge(): EdgeSummary {
    const merged = mergeEdgeReports(this.#running().map((s) => ({ ...emptyEdgeReport(), denied: s.load.edge.denied, alerts: s.load.edge.alerts })));
    return { denied: merged.denied, alerts: merged.alerts };
  }

  /** The processes, for `wsha status`. */
  workers(): WorkerSnapshot[] {
    return this.#slots.map((s, index) => ({
      index, pid: s?.pid ?? null,
      state: s === null ? 'exited' : s.state.state === 'spawning' ? 'starting' : s.state.state,
      connections: s?.running ? s.load.connections : 0, tunnels: s?.running ? s.load.tunnels : 0, restarts: this.#restarts[index]!,
    }));
  }

  /** prom-client JSON of every running worker; with `names`, only those metrics (Metrics.json). */
  async metricsJson(names?: readonly string[]): Promise<unknown[][]> {
    const args = names ? { names: [...names] } : null;
    return (await Promise.all(this.#running().map((s) => s.rpc.call('metrics', args, WORKER_CALL_TIMEOUT_MS).catch(() => null)))).filter((x): x is unknown[] => x !== null);
  }

  /** Ends every worker process (after drain(), or at once). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#countsTimer) clearInterval(this.#countsTimer);
    this.#countsTimer = null;
    await Promise.all(this.#slots.map((s) => s?.stop()));
    this.#o.metrics.workersRunning.set(0);
  }

  /** SIGKILLs one worker (tests of the restart). */
  killWorker(index: number): void { this.#slots[index]?.kill(); }

  // ---- slots -----------------------------------------------------------------

  #running(): WorkerSlot[] {
    const out: WorkerSlot[] = [];
    for (const s of this.#slots) if (s?.running) out.push(s);
    return out;
  }

  #startArgs(index: number): WorkerStart {
    return {
      config: this.#config, index, count: this.count, ports: this.#ports, selfSigned: this.#selfSigned, reusePort: this.reusePort,
      pools: this.#o.sources.pools(), health: this.#o.sources.health(),
    };
  }

  async #startSlot(index: number): Promise<ListenerPorts> {
    return this.#spawnSlot(index).start(this.#startArgs(index));
  }

  #spawnSlot(index: number): WorkerSlot {
    const slot = new WorkerSlot({
      index, entry: this.#o.entry, log: this.#log, execArgv: this.#o.execArgv, ...(this.#o.forkWith ? { forkWith: this.#o.forkWith } : {}),
      wire: (rpc, s) => this.#wire(rpc, s),
      onExit: (s, exit) => this.#exited(s, exit),
    });
    this.#slots[index] = slot;
    this.#startedAt[index] = Date.now();
    return slot;
  }

  #wire(rpc: ControlEnd, slot: WorkerSlot): void {
    const { affinity, passive } = this.#o.sources;
    rpc.serve('affinityLookup', ({ pool, key }) => affinity.lookup(pool, key));
    // No cluster bucket: a rejection makes the worker decide on its local share, as when Redis is down.
    rpc.serve('rateTake', ({ key, ratePerSec, burst }) => this.#o.sources.rateLimit ? this.#o.sources.rateLimit.take(key, ratePerSec, burst) : Promise.reject(new Error('no cluster rate limit')));
    rpc.on('affinityRecord', ({ pool, key, backendId, movedFrom }) => affinity.record(pool, key, backendId, movedFrom));
    rpc.on('affinityRelease', ({ pool, key }) => affinity.release?.(pool, key));
    rpc.on('passive', ({ pool, backendId, ok, reason }) => { if (ok) passive.connectSucceeded(pool, backendId); else passive.connectFailed(pool, backendId, reason ?? 'connect failed'); });
    rpc.on('load', (load) => { slot.load = load; });
  }

  #exited(slot: WorkerSlot, exit: WorkerExit): void {
    this.#o.metrics.workersRunning.set(this.#running().length);
    // A draining node opens nothing new: a worker that dies during the drain stays down.
    if (exit.expected || this.#stopping || this.#draining) return;
    const index = slot.index;
    if (this.#slots[index] !== slot) return;
    const ranMs = Date.now() - this.#startedAt[index]!;
    if (ranMs >= RESTART_STABLE_MS) this.#backoff[index] = RESTART_MIN_MS;
    const delay = this.#backoff[index]!;
    this.#backoff[index] = Math.min(delay * 2, RESTART_MAX_MS);
    this.#log.error({ worker: index, pid: slot.pid, code: exit.code, signal: exit.signal, ranMs, restartInMs: delay, tunnelsLost: slot.load.tunnels }, 'worker process died: restarting it');
    setTimeout(() => void this.#restart(index), delay).unref();
  }

  async #restart(index: number): Promise<void> {
    if (this.#stopping || this.#draining) return;
    this.#restarts[index]!++;
    this.#o.metrics.workerRestartsTotal.inc({ worker: String(index) });
    let slot: WorkerSlot | null = null;
    try {
      await this.#startSlot(index);
      slot = this.#slots[index]!;
      for (const [vip, untilMs] of this.#fences) slot.rpc.notify('fence', { vip, untilMs });
      for (const [vip, v] of this.#vips) {
        await slot.rpc.call('openVip', { vip, address: v.address, reusePort: v.reusePort, ports: v.ports }, WORKER_CALL_TIMEOUT_MS);
        slot.openVips.add(vip);
      }
      this.#o.metrics.workersRunning.set(this.#running().length);
      this.#log.info({ worker: index, pid: slot.pid, vips: [...slot.openVips] }, 'worker restarted');
    } catch (err) {
      this.#log.error({ worker: index, err: (err as Error).message }, 'restarted worker failed to start');
      (slot ?? this.#slots[index])?.kill();
    }
  }

  /** Tells each worker what the others and the other nodes hold, for least-conn. */
  #pushCounts(): void {
    const running = this.#running();
    if (!running.length) return;
    const pools = this.#o.sources.pools();
    for (const s of running) {
      const remote = remoteCountsFor(s, running, pools, this.#o.sources.clusterRemote);
      const text = JSON.stringify(remote);
      if (text === s.countsSent) continue;
      s.countsSent = text;
      s.rpc.notify('counts', { remote });
    }
  }
}
