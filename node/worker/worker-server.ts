/**
 * The data plane inside one worker process: a ProxyNode built from what the
 * control process sends at `start`, serving the worker ops of the protocol
 * (shared/ports/worker-protocol.ts) and reporting its load. Everything that
 * talks to Redis, probes backends or owns a VIP stays in the control
 * process; this side only routes, splices and answers.
 *
 *   control                         worker
 *     |  start {config, ports, ...}   |  ProxyNode.start() (plain listeners)
 *     |------------------------------>|
 *     |<------------ {ports} ---------|
 *     |  fence / health / counts / pools (notes, any time)
 *     |------------------------------>|
 *     |  openVip {vip, ports}         |  listeners of vip:NAME (SO_REUSEPORT)
 *     |------------------------------>|
 *     |<------------ {ports} ---------|
 *     |<-- load (every LOAD_REPORT_MS), passive, affinityRecord/Release
 */
import { createLogger, type Logger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import { monotonicMs, systemClock } from '../../shared/clock';
import { ShutdownError } from '../../shared/errors';
import type { RpcEndpoint } from '../../shared/ipc/rpc-endpoint';
import { LOAD_REPORT_MS, type ControlNotes, type ControlOps, type WorkerLoad, type WorkerNotes, type WorkerOps, type WorkerStart } from '../../shared/ports/worker-protocol';
import { ProxyNode } from '../proxy-node';
import { pushedClusterView, type ControlChannel, type PushedClusterView } from './pushed-view';
import { workerConfig } from './worker-config';
import { warmUpDataPath } from './warm-up';

/** The worker's end of its channel. */
export type WorkerEnd = RpcEndpoint<WorkerOps, ControlOps, WorkerNotes, ControlNotes>;

/** Extra time an affinity call may stay pending after the route's lookup timeout gave up on it. */
const LOOKUP_RPC_SLACK_MS = 250;
/** Longest wait for a cluster-wide rate token through the control process (the data plane gives up sooner on its own timeout). */
const RATE_RPC_TIMEOUT_MS = 1000;

/** One worker's data plane, built on `start`. */
export class WorkerServer {
  readonly #rpc: WorkerEnd;
  #node: ProxyNode | null = null;
  #view: PushedClusterView | null = null;
  #start: WorkerStart | null = null;
  #metrics: Metrics | null = null;
  #loadTimer: NodeJS.Timeout | null = null;
  #log: Logger | null = null;
  #lastLoad = '';

  constructor(rpc: WorkerEnd) {
    this.#rpc = rpc;
    rpc.serve('start', (a) => this.#startNode(a));
    rpc.serve('openVip', async ({ vip, address, reusePort, ports, addressWaitMs }) => {
      const node = this.#need();
      node.usePorts(ports);
      await node.openVip(vip, address, { reusePort, addressWaitMs });
      return { ports: node.boundPorts(vip) };
    });
    rpc.serve('stopAccepting', async ({ vip }) => { await this.#need().stopAccepting(vip); return null; });
    rpc.serve('closeClients', ({ vip, opts }) => this.#need().closeClients(vip, opts));
    rpc.serve('closeBackendTunnels', ({ pool, backendId, code }) => this.#need().closeBackendTunnels(pool, backendId, code));
    rpc.serve('reload', ({ config, selfSigned }) => {
      const s = this.#start!;
      this.#need().reload(workerConfig(config, s.count), { selfSigned });
      return null;
    });
    rpc.serve('drain', async (opts) => { await this.#need().drain(opts); return null; });
    rpc.serve('snapshot', () => this.#need().snapshot());
    rpc.serve('metrics', (a) => this.#metrics ? this.#metrics.json(a?.names) : []);
    rpc.on('fence', ({ vip, untilMs }) => {
      this.#node?.fence(vip, untilMs);
      // A revoked fence refuses every request on the VIP, so its listeners stop accepting in the same turn: new
      // connections go to the other owner's sockets instead of getting 503 (the stopAccepting call that follows
      // over IPC would leave a window of a few ms).
      if (untilMs === null) void this.#node?.stopAccepting(vip);
    });
    rpc.on('health', ({ entries }) => this.#view?.setHealth(entries));
    rpc.on('counts', ({ remote }) => this.#view?.setCounts(remote));
    rpc.on('pools', ({ pools, graceMs }) => {
      this.#node?.updatePools(pools, graceMs === null ? {} : { graceMs });
    });
  }

  /** The node, once started (tests, the exit path). */
  get node(): ProxyNode | null { return this.#node; }

  /** Destroys every socket at once (the control process is gone), then says so. */
  destroy(why: string): void {
    if (this.#loadTimer) clearInterval(this.#loadTimer);
    const tunnels = this.#node?.rt.registry.size ?? 0;
    this.#node?.destroy();
    this.#log?.warn({ why, tunnels, monotonicMs: monotonicMs() }, 'control process gone: listeners and tunnels destroyed, exiting');
  }

  #need(): ProxyNode {
    if (!this.#node) throw new ShutdownError();
    return this.#node;
  }

  async #startNode(a: WorkerStart): Promise<{ ports: Record<string, number> }> {
    if (this.#node) throw new Error('worker already started');
    this.#start = a;
    const log = createLogger({ level: a.config.logging.level, nodeId: a.config.node.id, sync: true }).child({ worker: a.index });
    this.#log = log;
    this.#metrics = new Metrics({ nodeId: a.config.node.id });
    const channel = this.#channel();
    const view = pushedClusterView(channel, systemClock, () => this.#node?.rt.affinityLookupTimeoutMs ?? a.config.cluster.affinity.lookupTimeoutMs);
    view.setHealth(a.health);
    this.#view = view;
    const node = new ProxyNode({ config: workerConfig(a.config, a.count, a.pools), logger: log, metrics: this.#metrics, view, reusePort: a.reusePort, selfSigned: a.selfSigned, share: 1 / a.count });
    node.usePorts(a.ports);
    await node.start();
    this.#node = node;
    this.#loadTimer = setInterval(() => this.#reportLoad(), LOAD_REPORT_MS);
    this.#loadTimer.unref();
    this.#reportLoad();
    // After the start is answered, not before: a worker that must serve at once is not held up by its warm-up.
    setImmediate(() => {
      warmUpDataPath(a.config).then(
        (ms) => log.debug({ ms }, 'data path warmed up'),
        (err: Error) => log.warn({ err: err.message }, 'data path warm-up failed; the first upgrade runs cold'));
    });
    return { ports: node.boundPorts(null) };
  }

  #channel(): ControlChannel {
    const rpc = this.#rpc;
    return {
      lookup: (pool, key, timeoutMs) => rpc.call('affinityLookup', { pool, key }, timeoutMs + LOOKUP_RPC_SLACK_MS),
      rateTake: (key, ratePerSec, burst) => rpc.call('rateTake', { key, ratePerSec, burst }, RATE_RPC_TIMEOUT_MS),
      tellPassive: (pool, backendId, ok, reason) => rpc.notify('passive', { pool, backendId, ok, reason }),
      tellRecord: (pool, key, backendId, movedFrom) => rpc.notify('affinityRecord', { pool, key, backendId, movedFrom }),
      tellRelease: (pool, key) => rpc.notify('affinityRelease', { pool, key }),
    };
  }

  /** Sends the load when it changed since the last report (an idle worker sends nothing). */
  #reportLoad(): void {
    const node = this.#node;
    if (!node) return;
    const load = workerLoad(node);
    const text = JSON.stringify(load);
    if (text === this.#lastLoad) return;
    this.#lastLoad = text;
    this.#rpc.notify('load', load);
  }
}

/** What one worker holds right now. */
export function workerLoad(node: ProxyNode): WorkerLoad {
  const counts: WorkerLoad['counts'] = [];
  for (const p of node.rt.pools.values()) for (const b of p.backends) if (b.load > 0) counts.push([p.name, b.id, b.load]);
  const vipTunnels: Record<string, number> = {};
  for (const [vip, n] of node.rt.registry.byVip) vipTunnels[vip] = n;
  const edge = node.edgeReport();
  return { connections: node.connectionCount(), tunnels: node.rt.registry.size, counts, vipTunnels, edge: { denied: edge.denied, alerts: edge.alerts } };
}
