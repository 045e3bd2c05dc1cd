/**
 * The duties of a node that holds a VIP, carried from state to state while
 * it claims it (owner, handing-off) or re-asserts it (reasserting): the
 * renewal loop (lease-assert every renewIntervalMs), the authority it holds
 * the VIP on (Redis and peer grants, authority.ts), the deadline at which
 * that authority runs out, the data-plane fence and the VIP guard's
 * deadline, all pushed forward together after every acknowledged renewal or
 * grant. The state that holds the office hears what happens through
 * OfficeListener; its timers die when it is closed.
 *
 *   owner                                      Redis              peer
 *     |-- lease-assert "me:E" (+ WAIT 1) --------->|                 |
 *     |<------ {1} (renewed) ----------------------|                 |
 *     |-- beat {ask: [vip]} (peer link, every beat) ---------------->|  promise: no acquire for grantTtl
 *     |<----------------------------------------- grants {ok} -------|
 *   until = max(renewStart + ttl, beatSent + grantTtl) - margin
 *   fence(until) -> data plane; guard(lastSeen + stallBudget) -> VIP guard
 */
import { Authority, type AuthoritySource } from './authority';
import type { LeaseValue } from './lease';
import type { GuardAction } from './drivers/driver';
import type { GrantResult } from '../peer/peer-messages';
import type { MachineApi } from './states/state';

/** What the office tells the state that holds it. */
export interface OfficeListener {
  /** The authority ran out; `stalled` when this process did not run its renewals on time (a stall, not a lost network). */
  lapsed(stalled: boolean, evidence: Record<string, unknown>): void;
  /** Redis says the lease is not ours (someone else holds it, or took the VIP since); or a peer refused the grant. */
  lost(why: string, holder: LeaseValue | null): void;
  /** A renewal was acknowledged (`reasserted`: the key had expired or Redis lost it, and it is back). */
  renewed(reasserted: boolean): void;
  /** A peer granted the beat sent at `sentAtMs`. */
  granted(sentAtMs: number): void;
}

/**
 * Renewals that may be in flight at once. A slow answer is still a good one
 * (its authority counts from when it was sent), so a Redis that takes longer
 * than a renew interval to answer does not stop the renewals behind it; the
 * cap keeps a hung Redis from piling them up.
 */
const MAX_RENEWALS_IN_FLIGHT = 4;
/** Longest single wait of the deadline timer (setTimeout cannot wait for ever). */
const MAX_DEADLINE_WAIT_MS = 60_000;
/** A guard push is skipped when the deadline moved by less than this. */
const GUARD_PUSH_MIN_MS = 20;

/** The office of one claim (see the file comment). */
export class Office {
  readonly lease: LeaseValue;
  readonly authority: Authority;
  readonly #m: MachineApi;
  #listener: OfficeListener | null = null;
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Renewals sent and not answered yet, by send time (monotonic). */
  readonly #inFlight = new Set<number>();
  #closed = false;
  /** When the renewal loop last ran (alive or not, successful or not). */
  #lastTickMs: number;
  #guardSentMs = -Infinity;
  /** Since when renewals have been failing (monotonic), for the step-down log. */
  #failingSinceMs: number | null = null;
  #lastError: string | null = null;

  constructor(m: MachineApi, lease: LeaseValue, renewStartMs: number) {
    this.#m = m;
    this.lease = lease;
    const t = m.d.timings;
    this.authority = new Authority({ ttlMs: t.ttlMs, stepDownMarginMs: t.stepDownMarginMs, grantTtlMs: t.grantTtlMs, stallBudgetMs: t.stallBudgetMs }, renewStartMs);
    this.#lastTickMs = m.d.clock.nowMs();
  }

  /** Hands the office to the state that holds it now, and (re)starts the loops. */
  bind(listener: OfficeListener): void {
    this.#listener = listener;
    if (this.#closed) return;
    this.#scheduleRenew(this.#m.d.timings.renewIntervalMs);
    this.publish();
  }

  /** Stops the loops (the claim is over); the fence and the guard are the stepping-down state's job. */
  close(): void {
    this.#closed = true;
    this.#listener = null;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#deadlineTimer);
  }

  /** Until when this node may serve the VIP. */
  untilMs(): number { return this.authority.untilMs(this.#m.d.peers.required()); }

  /** What backs the VIP now. */
  source(): AuthoritySource { return this.authority.source(this.#m.d.clock.nowMs(), this.#m.d.peers.required()); }

  /** Renews at once (a state that must re-assert does not wait for the next tick). */
  renewNow(): void { this.#scheduleRenew(0); }

  /** A peer answered a beat that asked for this VIP. */
  onGrant(peer: string, sentAtMs: number, g: GrantResult): void {
    if (this.#closed || g.epoch !== this.lease.epoch) return;
    this.authority.answered(peer, sentAtMs, g.ok);
    if (!g.ok) {
      // Only a newer epoch ends this claim: a peer still clinging to an older one (re-asserting after a stall) refuses
      // too, and is the one that must let go when it hears of this epoch.
      if (g.holder && g.holder.epoch > this.lease.epoch) {
        this.#m.log.warn({ peer, why: g.why, holder: g.holder, epoch: this.lease.epoch }, 'peer refused the grant: a newer epoch holds the VIP');
        this.#listener?.lost(`peer ${peer} refused the grant: ${g.why ?? 'refused'}`, g.holder);
      } else {
        this.#m.log.debug({ peer, why: g.why, holder: g.holder, epoch: this.lease.epoch }, 'peer refused the grant');
      }
      return;
    }
    this.publish();
    this.#listener?.granted(sentAtMs);
  }

  /** Pushes the deadline to the data plane, the guard and the deadline timer. */
  publish(): void {
    if (this.#closed) return;
    const d = this.#m.d;
    const required = d.peers.required();
    const until = this.authority.untilMs(required);
    d.host.fence(this.#m.name, until);
    const guardUntil = this.authority.guardUntilMs(required);
    if (guardUntil - this.#guardSentMs >= GUARD_PUSH_MIN_MS || guardUntil < this.#guardSentMs) {
      this.#guardSentMs = guardUntil;
      d.guard.arm(this.#m.name, guardUntil, this.guardActions());
    }
    const src = this.authority.source(d.clock.nowMs(), required);
    for (const s of ['redis', 'peers', 'both'] as const) d.metrics.vipAuthority.set({ vip: this.#m.name, source: s }, s === src ? 1 : 0);
    clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = setTimeout(() => this.#checkDeadline(until), Math.min(MAX_DEADLINE_WAIT_MS, Math.max(0, until - d.clock.nowMs())));
  }

  /** The guard's actions for this VIP: the driver's, plus killing the listeners where the listeners are the VIP (bind). */
  guardActions(): GuardAction[] {
    const d = this.#m.d;
    const ctx = { vip: this.#m.name, address: d.vip.address, nodeId: d.nodeId, epoch: this.lease.epoch };
    const actions = d.driver.guardActions(ctx);
    if (d.driver.reusePort) actions.push({ kind: 'kill-listeners', address: d.vip.address, ports: d.host.listeningPorts(this.#m.name), onDeath: false });
    return actions;
  }

  #scheduleRenew(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    if (this.#closed) return;
    const d = this.#m.d;
    this.#lastTickMs = d.clock.nowMs();
    this.#scheduleRenew(d.timings.renewIntervalMs);
    if (this.#inFlight.size < MAX_RENEWALS_IN_FLIGHT) void this.#renew();
  }

  async #renew(): Promise<void> {
    const d = this.#m.d;
    const start = d.clock.nowMs();
    this.#inFlight.add(start);
    let r;
    try {
      r = await d.lease.assert(this.#m.name, this.lease, d.timings.ttlMs);
      d.onRedis(true);
    } catch (err) {
      d.onRedis(false, err);
      this.#failing((err as Error).message ?? String(err), start);
      return;
    } finally {
      this.#inFlight.delete(start);
    }
    if (this.#closed) return;
    if (!r.ok && r.why === 'held') {
      this.#m.facts.epochSeen(r.epoch);
      this.#m.log.warn({ epoch: this.lease.epoch, holder: r.holder, current: r.epoch }, 'renewal refused: the lease is not ours any more');
      this.#listener?.lost('lease-lost', r.holder);
      return;
    }
    if (!r.ok) { this.#failing('no replica acknowledged the renewal', start); return; }
    d.metrics.redisRoundTripSeconds.observe({ purpose: 'lease' }, (d.clock.nowMs() - start) / 1000);
    if (r.reasserted) this.#m.log.warn({ epoch: this.lease.epoch }, 'lease re-asserted at the same epoch (it had expired, or Redis came back without it)');
    if (this.#failingSinceMs !== null) this.#m.log.info({ epoch: this.lease.epoch, failedForMs: Math.round(start - this.#failingSinceMs) }, 'renewals acknowledged again');
    this.#failingSinceMs = null;
    this.authority.renewed(start);
    this.publish();
    this.#listener?.renewed(r.reasserted);
  }

  #failing(why: string, atMs: number): void {
    if (this.#failingSinceMs === null) {
      this.#failingSinceMs = atMs;
      this.#m.log.warn({ epoch: this.lease.epoch, why, source: this.source() }, 'renewal failed; holding the VIP on what is left of the lease and on peer grants');
    }
    this.#lastError = why;
  }

  #checkDeadline(until: number): void {
    if (this.#closed) return;
    const d = this.#m.d;
    const now = d.clock.nowMs();
    const current = this.untilMs();
    if (now < current) { this.publish(); return; }
    const interval = d.timings.renewIntervalMs;
    // The loop runs every renewIntervalMs: a much longer gap, or a deadline timer that fired very late, is this
    // process having been stopped, not the network having gone.
    const stalled = now - this.#lastTickMs > 2 * interval || now - until > 2 * interval;
    const required = d.peers.required();
    const evidence = {
      epoch: this.lease.epoch, stalled, loopGapMs: Math.round(now - this.#lastTickMs), lateMs: Math.round(now - until),
      sinceRenewMs: Math.round(now - this.authority.lastRenewStartMs), renewError: this.#lastError,
      renewalsInFlight: this.#inFlight.size, oldestInFlightMs: this.#inFlight.size ? Math.round(now - Math.min(...this.#inFlight)) : null,
      peersRequired: required, peersUntilInMs: Math.round(this.authority.peersUntilMs(required) - now),
    };
    this.#listener?.lapsed(stalled, evidence);
  }
}
