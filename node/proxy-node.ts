/**
 * One proxy node: composes listeners, router, pools, tunnels and limits,
 * and answers the control plane (VipHost) and the admin API (snapshot,
 * drain). Plain-address listeners open at start(); `vip:` listeners open
 * only through openVip(). Reload swaps routes, pools, limits and
 * certificates in process and never closes an established tunnel.
 */
import type { Logger } from 'pino';
import type { Config, ListenerConfig, PoolConfig } from '../shared/config/schema';
import type { Metrics } from '../shared/metrics';
import type { ClusterView } from '../shared/cluster-view';
import { NotFoundError, NotOwnerError, ShutdownError } from '../shared/errors';
import type { VipHost, CloseClientsOptions, OpenVipOptions } from '../shared/ports/vip-host';
import type { PemPair } from '../shared/tls/self-signed-pem';
import { VipFences } from './vip-fence';
import { createNodeState, type NodeState } from './node-state';
import type { StateMachine } from '../shared/state-machine';
import { TimerWheel } from './timer-wheel';
import { ConnectionLimiter } from './limits';
import { Router } from './route/router';
import { BackendPool } from './pool/backend-pool';
import type { Backend } from './pool/backend';
import { TunnelRegistry } from './upgrade/tunnel-registry';
import { handleUpgrade } from './upgrade/upgrade-handler';
import { handleRequest, dropAgent } from './http/http-proxy';
import { Listener, type ListenerDeps } from './listen/listener';
import { loadTlsMaterial, type TlsMaterial } from './tls/secure-contexts';
import { resolveBackendTls, type BackendTls } from '../shared/tls/backend-tls';
import { countRefusal, type NodeRuntime } from './runtime';
import { registerNodeMetrics } from './node-metrics';
import { buildSnapshot, type NodeSnapshot } from './snapshot';
import { EdgePolicies } from './access/edge-policies';
import { DeniedLog } from './access/denied-log';
import { edgeReport, type EdgeReport } from './access/edge-report';

/** Tick of the coarse timer wheel (idle, close and connect timeouts). */
export const WHEEL_TICK_MS = 50;
/** Default grace before tunnels of a backend removed by a live pool change get 1012. */
export const REMOVED_BACKEND_GRACE_MS = 5000;

/** What a ProxyNode is built from. */
export interface ProxyNodeOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  view: ClusterView;
  /** Bind every listener with SO_REUSEPORT (a node with several worker processes: they all accept on every listener). @default false */
  reusePort?: boolean;
  /** Self-signed certificates by listener name, made by the control process so that every worker serves the same one; generated here when absent. */
  selfSigned?: Readonly<Record<string, PemPair>>;
  /** This process's share of per-node rate limits and admission rates (1/N for one of N worker processes). @default 1 */
  share?: number;
}

/** The data plane of one node. */
export class ProxyNode implements VipHost {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly state: StateMachine<NodeState>;
  readonly rt: NodeRuntime;
  readonly wheel = new TimerWheel(WHEEL_TICK_MS);
  readonly limiter: ConnectionLimiter;
  #config: Config;
  /** Listeners by name (plain and open VIP listeners). */
  readonly listeners = new Map<string, Listener>();
  /** VIP listeners replaced by a later openVip: no longer accepting, but their connections still count for drain and destroy. */
  readonly #retired = new Set<Listener>();
  /** Bumped by stopAccepting(vip): an opening that still waits for its address (#listenOnceLocal) ends. */
  readonly #openings = new Map<string, number>();
  /** TLS material by listener name, made once (self-signed generation is slow) and swapped on reload. */
  #tls = new Map<string, TlsMaterial>();
  readonly #deps: ListenerDeps;
  /** Requests on VIP listeners are forwarded only inside the control plane's deadline. */
  readonly fences: VipFences;
  #drainPromise: Promise<void> | null = null;
  readonly #reusePort: boolean;
  #selfSigned: Readonly<Record<string, PemPair>>;
  /** Listener name -> port to bind instead of the config's (port 0 resolved by a sibling worker). */
  readonly #ports = new Map<string, number>();
  readonly #share: number;

  constructor(opts: ProxyNodeOptions) {
    this.#config = opts.config;
    this.#reusePort = opts.reusePort ?? false;
    this.#selfSigned = opts.selfSigned ?? {};
    this.log = opts.logger.child({ component: 'proxy' });
    this.metrics = opts.metrics;
    this.state = createNodeState(this.log);
    this.limiter = new ConnectionLimiter(opts.config.limits);
    const registry = new TunnelRegistry(this.wheel, opts.view, this.log);
    this.rt = {
      router: new Router(opts.config.routes),
      pools: new Map(Object.entries(opts.config.pools).map(([n, p]) => [n, new BackendPool(n, p, opts.view)])),
      limits: opts.config.limits,
      affinityLookupTimeoutMs: opts.config.cluster.affinity.lookupTimeoutMs,
      view: opts.view,
      registry,
      log: this.log,
      draining: false,
      refusals: new Map(),
      httpRequests: new Map(),
      // Key files are read in start() (a bad one refuses the start); until then no route has an edge policy.
      edge: new EdgePolicies({ routes: [], pools: {}, cluster: opts.config.cluster }, { log: this.log }),
      denied: new DeniedLog(this.log.child({ component: 'edge' })),
    };
    this.#share = opts.share ?? 1;
    const rt = this.rt;
    const h = opts.config.cluster.handover;
    this.fences = new VipFences(h.maxOverlapMs + opts.config.cluster.lease.stallBudgetMs);
    this.#deps = {
      limiter: this.limiter,
      wheel: this.wheel,
      log: this.log,
      handlers: {
        onRequest: this.fences.request((req, res) => handleRequest(rt, req, res)),
        onUpgrade: this.fences.upgrade((req, socket, head) => handleUpgrade(rt, req, socket, head)),
        onClientError: (reason) => countRefusal(rt, reason),
      },
    };
    registerNodeMetrics(this);
  }

  get config(): Config { return this.#config; }
  get nodeState(): NodeState { return this.state.state; }

  /** Loads TLS material and opens every plain-address listener. Throws (ConfigError, EADDRINUSE) without serving anything. */
  async start(): Promise<void> {
    this.#tls = this.#loadAllTls(this.#config);
    this.rt.edge = this.#buildEdge(this.#config, null);
    this.rt.edge.start();
    // A pool CA file that cannot be read is a config error at start (the pools fell back to the system CAs meanwhile).
    this.#applyPools(this.#config.pools, null, resolveAllBackendTls(this.#config.pools));
    const opened: Listener[] = [];
    try {
      for (const l of this.#config.listeners) {
        if (l.on.startsWith('vip:')) continue;
        const listener = this.#makeListener(l, l.on, null);
        await listener.listen(this.#reusePort);
        opened.push(listener);
        this.listeners.set(l.name, listener);
        this.log.info({ listener: l.name, address: l.on, port: listener.info.port, tls: !!l.tls, proxyProtocol: l.proxyProtocol }, 'listening');
      }
    } catch (err) {
      for (const l of opened) l.destroy();
      this.listeners.clear();
      throw err;
    }
    this.state.transition('running', 'started');
  }

  #loadAllTls(config: Config): Map<string, TlsMaterial> {
    const out = new Map<string, TlsMaterial>();
    config.listeners.forEach((l, i) => {
      if (!l.tls) return;
      const vip = l.on.startsWith('vip:') ? config.vips.find((v) => v.name === l.on.slice(4)) : undefined;
      const previous = this.#tls.get(l.name);
      // A self-signed certificate is kept across reloads: regenerating it would only change the key.
      if (previous && l.tls.selfSigned && !l.tls.certs?.length) { out.set(l.name, previous); return; }
      out.set(l.name, loadTlsMaterial(l, i, { nodeId: config.node.id, vipAddress: vip?.address, selfSigned: this.#selfSigned[l.name] }));
    });
    return out;
  }

  #makeListener(l: ListenerConfig, host: string, vip: string | null): Listener {
    const port = this.#ports.get(l.name);
    const cfg = port === undefined || port === l.port ? l : Object.freeze({ ...l, port });
    return new Listener(cfg, host, vip, this.rt.limits, this.#tls.get(l.name) ?? null, this.#deps);
  }

  /**
   * Binds the named listeners to these ports from now on instead of their
   * configured ones: a listener with port 0 takes the port its first worker
   * got, so that every worker of the node accepts on the same one.
   */
  usePorts(ports: Readonly<Record<string, number>>): void {
    for (const [name, port] of Object.entries(ports)) this.#ports.set(name, port);
  }

  /** Ports of the open listeners by name (after start or openVip). */
  boundPorts(vip: string | null = null): Record<string, number> {
    const out: Record<string, number> = {};
    for (const l of this.listeners.values()) if (l.info.vip === vip && l.serving) out[l.info.name] = l.info.port;
    return out;
  }

  /** Port a listener is bound to (useful with port 0), or undefined when it is not open. */
  portOf(listenerName: string): number | undefined { return this.listeners.get(listenerName)?.info.port; }

  // ---- VipHost -------------------------------------------------------------

  #vipListeners(vip: string): Listener[] {
    return [...this.listeners.values()].filter((l) => l.info.vip === vip);
  }

  async openVip(vip: string, address: string, opts: OpenVipOptions): Promise<void> {
    if (this.state.state !== 'running') throw new ShutdownError();
    const configs = this.#config.listeners.filter((l) => l.on === `vip:${vip}`);
    if (!configs.length) throw new NotFoundError(`listener on vip:${vip}`);
    const opening = this.#openings.get(vip) ?? 0;
    for (const l of configs) {
      const existing = this.listeners.get(l.name);
      if (existing?.serving && existing.info.host === address) continue;
      if (existing) { await existing.stopAccepting(); this.#retired.add(existing); }
      const listener = await this.#listenOnceLocal(l, address, vip, opts, opening);
      this.listeners.set(l.name, listener);
      this.log.info({ listener: l.name, vip, address, port: listener.info.port, reusePort: opts.reusePort || this.#reusePort }, 'listening on VIP');
    }
  }

  /**
   * One listener of an opening; with `addressWaitMs`, a bind that finds the address not local yet is tried again
   * (every millisecond at first, bounded by that time) until the driver's add lands; a stopAccepting() meanwhile ends the
   * opening with NotOwnerError (the VIP went elsewhere).
   */
  async #listenOnceLocal(l: ListenerConfig, address: string, vip: string, opts: OpenVipOptions, opening: number): Promise<Listener> {
    const giveUpAt = performance.now() + (opts.addressWaitMs ?? 0);
    for (let tries = 0; ; tries++) {
      if ((this.#openings.get(vip) ?? 0) !== opening) throw new NotOwnerError(vip, null);
      const listener = this.#makeListener(l, address, vip);
      try {
        await listener.listen(opts.reusePort || this.#reusePort);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL' || performance.now() >= giveUpAt) throw err;
        // 1 ms while the add is expected any moment, backing off to 10 ms if it is slow (a spawned `ip`).
        await new Promise((r) => setTimeout(r, Math.min(10, 1 << (tries >> 3))));
        continue;
      }
      if ((this.#openings.get(vip) ?? 0) === opening) return listener;
      await listener.stopAccepting();
      throw new NotOwnerError(vip, null);
    }
  }

  async stopAccepting(vip: string): Promise<void> {
    // Ends an opening still waiting for its address (#listenOnceLocal).
    this.#openings.set(vip, (this.#openings.get(vip) ?? 0) + 1);
    await Promise.all(this.#vipListeners(vip).map((l) => l.stopAccepting()));
  }

  closeClients(vip: string, opts: CloseClientsOptions): Promise<number> {
    const list = this.rt.registry.select((t) => t.origin.vip === vip);
    for (const l of this.#vipListeners(vip)) l.closeIdle();
    return this.rt.registry.closePaced(list, opts.code, opts.reason, opts.ratePerSec, opts.windowMs);
  }

  isServing(vip: string): boolean { return this.#vipListeners(vip).some((l) => l.serving); }

  listeningPorts(vip: string): number[] { return this.#vipListeners(vip).filter((l) => l.serving).map((l) => l.info.port); }

  fence(vip: string, untilMs: number | null): void { this.fences.set(vip, untilMs); }

  tunnelCount(vip: string): number { return this.rt.registry.byVip.get(vip) ?? 0; }

  // ---- reload and live pool changes ------------------------------------------

  /**
   * Applies routes, pools, limits and certificates of `next` in process.
   * Everything that can fail (certificates) is prepared before anything is
   * applied, so a failing reload leaves the running config whole. No tunnel
   * is closed, not even one to a backend that left its pool.
   */
  reload(next: Config, opts: { selfSigned?: Readonly<Record<string, PemPair>> } = {}): void {
    const keptSelfSigned = this.#selfSigned;
    if (opts.selfSigned) this.#selfSigned = opts.selfSigned;
    let tls: Map<string, TlsMaterial>;
    try { tls = this.#loadAllTls(next); } catch (err) { this.#selfSigned = keptSelfSigned; throw err; }
    const backendTls = resolveAllBackendTls(next.pools);
    const router = new Router(next.routes);
    const edge = this.#buildEdge(next, this.rt.edge);
    const changedListeners = listenerChanges(this.#config, next);
    if (changedListeners.length) this.log.warn({ listeners: changedListeners }, 'listener address, port, TLS mode or PROXY protocol changed: takes effect after a restart');
    this.#applyPools(next.pools, null, backendTls);
    this.rt.router = router;
    this.rt.edge.retire(edge);
    this.rt.edge = edge;
    edge.start();
    this.rt.limits = next.limits;
    this.rt.affinityLookupTimeoutMs = next.cluster.affinity.lookupTimeoutMs;
    this.limiter.setLimits(next.limits);
    this.#tls = tls;
    for (const l of this.listeners.values()) { l.setLimits(next.limits); l.setTls(tls.get(l.config.name) ?? null); }
    this.#config = next;
    this.log.info({ pools: Object.keys(next.pools), routes: next.routes.length }, 'config reloaded');
  }

  /**
   * Live pool changes (from Redis): same as reload for pools only, except
   * that a backend that left gets no new connections and its tunnels are
   * closed with 1012 after `graceMs`.
   */
  updatePools(pools: Readonly<Record<string, PoolConfig>>, opts: { graceMs?: number } = {}): void {
    this.#applyPools(pools, opts.graceMs ?? REMOVED_BACKEND_GRACE_MS);
    this.#config = Object.freeze({ ...this.#config, pools: Object.freeze({ ...pools }) }) as Config;
  }

  /** The edge policies of `config` (reads key files: throws ConfigError naming the route). */
  #buildEdge(config: Config, prev: EdgePolicies | null): EdgePolicies {
    return new EdgePolicies(config, { log: this.log.child({ component: 'edge' }), share: this.#share, shared: this.rt.view.rateLimit ?? null }, prev);
  }

  #applyPools(pools: Readonly<Record<string, PoolConfig>>, closeRemovedAfterMs: number | null, backendTls?: ReadonlyMap<string, BackendTls>): void {
    const removed: Backend[] = [];
    for (const [name, cfg] of Object.entries(pools)) {
      const pool = this.rt.pools.get(name);
      if (pool) removed.push(...pool.apply(cfg, backendTls?.get(name)));
      else this.rt.pools.set(name, new BackendPool(name, cfg, this.rt.view, backendTls?.get(name)));
    }
    for (const [name, pool] of this.rt.pools) {
      if (pools[name]) continue;
      removed.push(...pool.apply({ ...pool.config, backends: [] }));
      this.rt.pools.delete(name);
    }
    for (const b of removed) {
      dropAgent(b);
      this.log.info({ pool: b.pool, backend: b.id, tunnels: b.tunnels }, 'backend removed from pool');
      if (closeRemovedAfterMs !== null && b.tunnels > 0) {
        setTimeout(() => { void this.#closeTunnelsOf(b, 1012, 'backend removed'); }, closeRemovedAfterMs).unref();
      }
    }
  }

  #closeTunnelsOf(b: Backend, code: number, reason: string): Promise<number> {
    const list = this.rt.registry.select((t) => t.target === b);
    const h = this.#config.cluster.handover;
    return this.rt.registry.closePaced(list, code, reason, h.closeRatePerSec, 0);
  }

  /** Closes every tunnel to one backend with `code` (onBackendDown: close, admin). */
  closeBackendTunnels(pool: string, backendId: string, code: number): Promise<number> {
    const list = this.rt.registry.select((t) => t.target.pool === pool && t.target.id === backendId);
    const h = this.#config.cluster.handover;
    return this.rt.registry.closePaced(list, code, `backend ${backendId} closed`, h.closeRatePerSec, 0);
  }

  // ---- drain, close, destroy -------------------------------------------------

  /**
   * Graceful drain (SIGTERM): stop accepting everywhere, let HTTP requests
   * finish (keep-alive connections close after their response), send 1001
   * to WebSocket clients after `graceMs`, resolve when nothing is left or
   * destroy what remains at `deadlineMs`. Idempotent.
   */
  drain(opts: { graceMs: number; deadlineMs: number } = this.#config.node.drain): Promise<void> {
    if (this.#drainPromise) return this.#drainPromise;
    if (this.state.state === 'closed') return Promise.resolve();
    this.#drainPromise = this.#drain(opts);
    return this.#drainPromise;
  }

  async #drain(opts: { graceMs: number; deadlineMs: number }): Promise<void> {
    if (this.state.can('draining')) this.state.transition('draining', 'drain requested', { tunnels: this.rt.registry.size });
    this.rt.draining = true;
    const started = Date.now();
    await Promise.all([...this.listeners.values()].map((l) => l.stopAccepting()));
    for (const l of this.#everyListener()) l.closeIdle();
    const deadline = started + opts.deadlineMs;
    const empty = () => this.rt.registry.size === 0 && this.#openSockets() === 0;
    await waitUntil(empty, Math.min(opts.graceMs, opts.deadlineMs));
    if (!empty()) {
      const list = this.rt.registry.select(() => true);
      this.log.info({ tunnels: list.length }, 'drain grace over: closing WebSocket clients with 1001');
      const h = this.#config.cluster.handover;
      void this.rt.registry.closePaced(list, 1001, 'going away', h.closeRatePerSec, 0);
      for (let i = 0; i < 1_000_000 && !empty() && Date.now() < deadline; i++) {
        for (const l of this.#everyListener()) l.closeIdle();
        await sleep(25);
      }
    }
    if (!empty()) this.log.warn({ tunnels: this.rt.registry.size, sockets: this.#openSockets() }, 'drain deadline reached: destroying what is left');
    this.destroy();
  }

  /** Current and retired listeners. */
  #everyListener(): Listener[] {
    for (const l of this.#retired) if (l.sockets.size === 0) { l.dispose(); this.#retired.delete(l); }
    return [...this.listeners.values(), ...this.#retired];
  }

  #openSockets(): number {
    let n = 0;
    for (const l of this.#everyListener()) n += l.sockets.size;
    return n;
  }

  /** Graceful close: drain with the configured grace and deadline. */
  close(): Promise<void> { return this.drain(); }

  /** Immediate close: every socket destroyed, listeners closed. Idempotent. */
  destroy(): void {
    if (this.state.state === 'closed') return;
    this.rt.draining = true;
    this.rt.registry.destroyAll();
    this.rt.edge.retire(null);
    for (const l of this.#everyListener()) l.destroy();
    this.#retired.clear();
    for (const p of this.rt.pools.values()) for (const b of p.backends) dropAgent(b);
    this.wheel.stop();
    this.state.transition('closed', 'destroyed');
  }

  // ---- reads -----------------------------------------------------------------

  /** Lifecycle as the admin API's /readyz reads it. */
  status(): { state: NodeState; draining: boolean } { return { state: this.state.state, draining: this.rt.draining }; }

  /** Open client connections (for heartbeats): admitted sockets, tunnels included. */
  connectionCount(): number { return this.limiter.total; }

  /** Edge refusals and alerts (heartbeats, `wsha status`, admin state). */
  edgeReport(): EdgeReport { return edgeReport(this.rt); }

  /** JSON-able state for the admin API. */
  snapshot(): NodeSnapshot { return buildSnapshot(this); }
}

/** Listener names whose address, port, TLS mode or PROXY setting differ between two configs. */
export function listenerChanges(a: Config, b: Config): string[] {
  const key = (l: ListenerConfig) => JSON.stringify([l.on, l.port, !!l.tls, l.proxyProtocol]);
  const before = new Map(a.listeners.map((l) => [l.name, key(l)]));
  const after = new Map(b.listeners.map((l) => [l.name, key(l)]));
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n));
}

/** Every pool's TLS settings, read before anything is applied; throws ConfigError naming the first bad CA file. */
function resolveAllBackendTls(pools: Readonly<Record<string, PoolConfig>>): Map<string, BackendTls> {
  return new Map(Object.entries(pools).map(([n, p]) => [n, resolveBackendTls(n, p.tls)]));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil(fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000_000 && !fn() && Date.now() < deadline; i++) await sleep(25);
}
