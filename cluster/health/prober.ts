/**
 * Runs the active checks of every backend of every pool on a jittered
 * schedule, feeds the results through rise/fall, and hands each result (the
 * observation this node publishes) to a listener. One timer per backend, at
 * most one probe in flight per backend; `setPools` reconciles targets when
 * pools change live.
 */
import type { PoolConfig, HealthCheckConfig } from '../../shared/config/schema';
import type { HealthObservation } from '../../shared/records';
import type { Clock } from '../../shared/clock';
import type { Logger } from '../../shared/logger';
import type { Metrics } from '../../shared/metrics';
import { probe, probeTarget, type ProbeTarget } from './probes';
import { RiseFall, type LocalHealth } from './rise-fall';

/** A check result as published: the observation plus whether the local state changed. */
export interface ProbeReport {
  pool: string;
  backendId: string;
  observation: HealthObservation;
  state: LocalHealth;
  changed: boolean;
}

interface Target {
  pool: string;
  backendId: string;
  url: string;
  target: ProbeTarget;
  check: HealthCheckConfig;
  riseFall: RiseFall;
  timer: NodeJS.Timeout | null;
  inFlight: boolean;
  stopped: boolean;
  lastLatencyMs: number | null;
}

/** Jitter spreads probes of many backends (and nodes) apart: interval * [0.9, 1.1). */
export function jittered(intervalMs: number, random = Math.random): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** Active health checks for all pools of one node. */
export class HealthProber {
  /** pool -> backend -> target. */
  readonly #targets = new Map<string, Map<string, Target>>();
  #running = false;

  constructor(
    readonly nodeId: string,
    readonly onReport: (r: ProbeReport) => void,
    readonly opts: { clock: Clock; log: Logger; metrics?: Metrics },
  ) {}

  /** Starts probing (first probe of each backend within a short jitter). */
  start(): void {
    this.#running = true;
    for (const m of this.#targets.values()) for (const t of m.values()) this.#schedule(t, Math.random() * Math.min(50, t.check.intervalMs));
  }

  /** Stops every timer; in-flight probes finish but report nothing. */
  stop(): void {
    this.#running = false;
    for (const m of this.#targets.values()) for (const t of m.values()) this.#stopTarget(t);
  }

  /** Reconciles targets with the effective pools (added, removed, changed URL or check). */
  setPools(pools: Readonly<Record<string, PoolConfig>>): void {
    for (const [pool, m] of this.#targets) {
      for (const [id, t] of m) {
        const cfg = pools[pool]?.backends.find((b) => b.id === id);
        if (!cfg || cfg.url !== t.url || pools[pool].healthCheck !== t.check || pools[pool].tls !== t.target.tlsConfig) { this.#stopTarget(t); m.delete(id); }
      }
      if (m.size === 0) this.#targets.delete(pool);
    }
    for (const [pool, p] of Object.entries(pools)) {
      let m = this.#targets.get(pool);
      if (!m) { m = new Map(); this.#targets.set(pool, m); }
      for (const b of p.backends) {
        if (m.has(b.id)) continue;
        const t: Target = {
          pool, backendId: b.id, url: b.url, target: probeTarget(b.url, p.tls, pool), check: p.healthCheck,
          riseFall: new RiseFall(p.healthCheck.rise, p.healthCheck.fall, this.opts.log, `health ${pool}/${b.id}`),
          timer: null, inFlight: false, stopped: false, lastLatencyMs: null,
        };
        m.set(b.id, t);
        if (this.#running) this.#schedule(t, Math.random() * Math.min(50, p.healthCheck.intervalMs));
      }
    }
  }

  /** The local state of a backend, or undefined when it is not probed. */
  state(pool: string, backendId: string): LocalHealth | undefined {
    return this.#targets.get(pool)?.get(backendId)?.riseFall.state;
  }

  /** Marks a backend down from passive failures and reports it at once. */
  forceDown(pool: string, backendId: string, reason: string): void {
    const t = this.#targets.get(pool)?.get(backendId);
    if (!t) return;
    const changed = t.riseFall.forceDown(reason);
    this.#report(t, changed);
  }

  #schedule(t: Target, delayMs: number): void {
    if (t.stopped || !this.#running) return;
    t.timer = setTimeout(() => { t.timer = null; void this.#run(t); }, delayMs);
    t.timer.unref();
  }

  #stopTarget(t: Target): void {
    t.stopped = true;
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
  }

  async #run(t: Target): Promise<void> {
    if (t.inFlight || t.stopped) return;
    t.inFlight = true;
    const r = await probe(t.target, t.check);
    t.inFlight = false;
    if (t.stopped || !this.#running) return;
    this.opts.metrics?.healthCheckSeconds.observe({ pool: t.pool, backend: t.backendId, result: r.ok ? 'ok' : 'fail' }, r.latencyMs / 1000);
    t.lastLatencyMs = r.ok ? Math.round(r.latencyMs * 10) / 10 : null;
    const changed = t.riseFall.record(r.ok, r.reason);
    if (changed) this.opts.log.info({ pool: t.pool, backend: t.backendId, state: t.riseFall.state, reason: t.riseFall.reason }, 'local backend health changed');
    this.#report(t, changed);
    this.#schedule(t, jittered(t.check.intervalMs));
  }

  #report(t: Target, changed: boolean): void {
    const state = t.riseFall.state;
    if (state === 'unknown') return;
    const observation: HealthObservation = { nodeId: this.nodeId, up: state === 'up', at: this.opts.clock.wallMs(), latencyMs: state === 'up' ? t.lastLatencyMs : null };
    if (state === 'down' && t.riseFall.reason) observation.reason = t.riseFall.reason;
    this.onReport({ pool: t.pool, backendId: t.backendId, observation, state, changed });
  }
}
