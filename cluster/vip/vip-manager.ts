/**
 * Drives one VIP on one node: the standby poll, acquisition and instant
 * takeover, the owner's renewal loop with its step-down deadline on the
 * monotonic clock, and leaving (stop accepting, close clients with 1012,
 * driver down). Planned handover lives in handover.ts and uses the hooks
 * marked "for handover.ts". Decisions come from the pure modules
 * ownership.ts and preemption.ts.
 *
 * Safety rule: the owner counts its lease from the START of its last
 * successful renewal and lets go at start + ttl - margin, whatever Redis
 * says or fails to say; a standby can only get in after Redis expired the
 * lease, which is later. So at no instant do two nodes both claim the VIP.
 */
import type { Logger } from 'pino';
import { StateMachine } from '../../shared/state-machine';
import { NotOwnerError } from '../../shared/errors';
import type { VipContext } from './drivers/driver';
import type { LeaseValue } from './lease';
import { VIP_TRANSITIONS, claimsOwnership, decideStandby, jittered, mustStepDown, stepDownAtMs, type VipState } from './ownership';
import { preemptionTarget, rankOf } from './preemption';
import { handOver, prepareReceive, commitReceive, abortReceive, type HandoverResult } from './handover';
import type { VipManagerDeps, VipSnapshot } from './vip-types';

export type { HandoverTimings, VipManagerDeps, VipSnapshot } from './vip-types';

/** High-resolution wall clock for cross-process interval checks in tests. */
const hrWallMs = (): number => performance.timeOrigin + performance.now();

/** One VIP on one node, as an explicit state machine (ownership.ts) driven by timers and lease scripts. */
export class VipManager {
  readonly name: string;
  readonly d: VipManagerDeps;
  readonly log: Logger;
  readonly sm: StateMachine<VipState>;
  /** The lease held while acquiring/owner/handing-over (and the expected one while receiving). */
  lease: LeaseValue | null = null;
  /** Last holder seen by the standby poll or a failed script. */
  lastHolder: LeaseValue | null = null;
  /** Highest epoch this node has seen for the VIP: floor of the next one, even if Redis lost its data. */
  maxEpochSeen = 0;
  /** Bumped at every phase change; async continuations of an older phase do nothing. */
  term = 0;
  /** Set while handover.ts runs the handover script (a refused renewal then is expected). */
  handingOff = false;
  stopping = false;
  /** Timers of the receiving phase (handover.ts). */
  overlapTimer: NodeJS.Timeout | undefined;
  commitPollTimer: NodeJS.Timeout | undefined;
  receivingFrom: string | null = null;
  #freeSinceMs: number | null = null;
  #sawHolder: string | null = null;
  #lastRenewStartMs = 0;
  #pollTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #leaving: Promise<void> | undefined;
  #claimChangedAt = hrWallMs();
  #preemptNotBefore = 0;
  /** No acquisition of a free lease before this monotonic instant (after a Redis reconnect). */
  #quietUntilMs = 0;

  constructor(d: VipManagerDeps) {
    this.d = d;
    this.name = d.vip.name;
    this.log = d.logger.child({ component: 'vip', vip: d.vip.name });
    this.sm = new StateMachine<VipState>(`vip ${d.vip.name}`, 'standby', VIP_TRANSITIONS, this.log);
    this.sm.onTransition((e) => {
      if (claimsOwnership(e.from) !== claimsOwnership(e.to)) this.#claimChangedAt = hrWallMs();
    });
    d.metrics.vipOwner.set({ vip: this.name }, 0);
  }

  get state(): VipState { return this.sm.state; }

  /** Starts the standby poll (first poll at once). */
  start(): void { this.schedulePoll(0); }

  /**
   * Whether this node may believe it owns the VIP right now: an owning state
   * AND its own clock still before the step-down deadline. After a freeze
   * (SIGSTOP, VM pause) the process may answer I/O before its deadline timer
   * runs; evaluated against the clock, its belief has already expired.
   */
  claimsNow(): boolean {
    return claimsOwnership(this.sm.state) && !mustStepDown(this.d.clock.nowMs(), this.#lastRenewStartMs, this.d.timings);
  }

  snapshot(): VipSnapshot {
    const s = this.sm.state;
    const holding = claimsOwnership(s) || s === 'receiving' || s === 'acquiring';
    return { vip: this.name, state: s, epoch: holding ? this.lease?.epoch ?? null : null, claims: this.claimsNow(), claimChangedAt: this.#claimChangedAt, serving: this.d.host.isServing(this.name), holder: this.lastHolder };
  }

  ctx(epoch = this.lease?.epoch ?? 0): VipContext {
    return { vip: this.name, address: this.d.vip.address, nodeId: this.d.nodeId, epoch };
  }

  // ---- standby ---------------------------------------------------------

  schedulePoll(ms: number): void {
    clearTimeout(this.#pollTimer);
    if (this.stopping) return;
    this.#pollTimer = setTimeout(() => void this.#poll(), ms);
  }

  /**
   * The lease connection reconnected (maybe to a new master after a Sentinel
   * failover, where a lease written just before may not have replicated):
   * do not take a free lease for one TTL. Any owner that could not renew on
   * the new master has stepped down by then (ttl - margin after its last
   * good renewal, which was before this reconnect).
   */
  quietFor(ms: number): void { this.#quietUntilMs = Math.max(this.#quietUntilMs, this.d.clock.nowMs() + ms); }

  /** A hint that the lease may be free now (ownership event with no owner). */
  leaseMayBeFree(): void { if (this.sm.state === 'standby') this.schedulePoll(0); }

  /** An ownership event named `epoch`: raise the epoch floor at once, not at the next poll (Redis may restart empty in between). */
  epochSeen(epoch: number): void { if (Number.isFinite(epoch)) this.maxEpochSeen = Math.max(this.maxEpochSeen, epoch); }

  async #poll(): Promise<void> {
    if (this.sm.state !== 'standby' || this.stopping) return;
    const t = this.d.timings;
    let holder: LeaseValue | null;
    try {
      holder = await this.d.lease.read(this.name);
      this.d.onRedis(true);
    } catch (err) {
      this.d.onRedis(false, err);
      return this.schedulePoll(jittered(t.acquirePollMs));
    }
    if (this.sm.state !== 'standby' || this.stopping) return;
    this.lastHolder = holder;
    if (holder) {
      this.maxEpochSeen = Math.max(this.maxEpochSeen, holder.epoch);
      this.#freeSinceMs = null;
      this.#sawHolder = holder.nodeId;
      this.d.metrics.vipEpoch.set({ vip: this.name }, holder.epoch);
      // Our own lease from an earlier life (a restart within the TTL, or a step-down
      // while Redis was slow): we are not serving, so free it instead of making everyone wait.
      if (holder.nodeId === this.d.nodeId) await this.d.lease.release(this.name, holder, 'stale lease of this node').catch(() => {});
      return this.schedulePoll(jittered(t.acquirePollMs));
    }
    const now = this.d.clock.nowMs();
    if (now < this.#quietUntilMs) return this.schedulePoll(Math.max(1, this.#quietUntilMs - now));
    this.#freeSinceMs ??= now;
    // The last holder let its lease go (expired or released): it is not a contender for this round, even while its
    // heartbeat still looks fresh, so that a pair's standby does not wait a rank delay behind a stalled owner.
    const lastHolder = this.#sawHolder && this.#sawHolder !== this.d.nodeId ? new Set([this.#sawHolder]) : undefined;
    const decision = decideStandby({ nowMs: now, leaseFree: true, freeSinceMs: this.#freeSinceMs, rank: rankOf(this.d.self(), this.d.members(), lastHolder) }, t);
    if (decision.action === 'acquire') return void this.acquire(null, this.#sawHolder ? 'lease-expired' : 'lease-free');
    this.schedulePoll(decision.why === 'rank-delay' ? decision.retryInMs : jittered(decision.retryInMs));
  }

  /** The peer link confirmed `nodeId` dead: if it held our VIP, the best-ranked standby takes over at once. */
  peerDead(nodeId: string): void {
    const holder = this.lastHolder;
    if (this.sm.state !== 'standby' || this.stopping || !holder || holder.nodeId !== nodeId) return;
    const rank = rankOf(this.d.self(), this.d.members(), new Set([nodeId]));
    if (rank < 0) return;
    const go = () => { if (this.sm.state === 'standby' && this.lastHolder === holder) void this.acquire(holder, 'peer-dead'); };
    clearTimeout(this.#pollTimer);
    if (rank === 0) go();
    else this.#pollTimer = setTimeout(go, rank * this.d.timings.rankDelayMs);
  }

  /** Acquires a free lease, or (with `dead`) takes over a confirmed-dead owner's lease. */
  async acquire(dead: LeaseValue | null, reason: string): Promise<void> {
    const term = ++this.term;
    clearTimeout(this.#pollTimer);
    this.sm.transition('acquiring', reason);
    const start = this.d.clock.nowMs();
    const { lease, nodeId, timings } = this.d;
    let r;
    try {
      r = dead ? await lease.takeover(this.name, dead, nodeId, timings.ttlMs, reason, this.maxEpochSeen) : await lease.acquire(this.name, nodeId, timings.ttlMs, reason, this.maxEpochSeen);
      this.d.onRedis(true);
    } catch (err) {
      this.d.onRedis(false, err);
      if (term === this.term && this.sm.state === 'acquiring') { this.sm.transition('standby', 'acquire failed'); this.schedulePoll(jittered(timings.acquirePollMs)); }
      return;
    }
    if (term !== this.term || this.sm.state !== 'acquiring') {
      if (r.ok) await lease.release(this.name, r.lease, 'stopped while acquiring').catch(() => {});
      return;
    }
    if (!r.ok) {
      this.lastHolder = r.holder;
      this.maxEpochSeen = Math.max(this.maxEpochSeen, r.holder?.epoch ?? 0);
      this.sm.transition('standby', 'lease held');
      return this.schedulePoll(jittered(timings.acquirePollMs));
    }
    await this.takeOffice(r.lease, start, reason, dead?.nodeId ?? this.#sawHolder, term);
  }

  // ---- owner -----------------------------------------------------------

  /**
   * For handover.ts too: holds `lease` from `renewStartMs`, brings the VIP up
   * (driver up, then listeners unless already open) and enters `owner`.
   */
  async takeOffice(lease: LeaseValue, renewStartMs: number, reason: string, previous: string | null, term: number): Promise<void> {
    this.lease = lease;
    this.lastHolder = lease;
    this.maxEpochSeen = Math.max(this.maxEpochSeen, lease.epoch);
    this.#lastRenewStartMs = renewStartMs;
    this.#armDeadline(term);
    this.#scheduleRenew(term);
    try {
      await this.d.driver.up(this.ctx());
      if (!this.d.host.isServing(this.name)) await this.d.host.openVip(this.name, this.d.vip.address, { reusePort: this.d.driver.reusePort });
    } catch (err) {
      this.log.error({ err, epoch: lease.epoch }, 'cannot bring the VIP up; giving the lease back');
      if (term === this.term) await this.stepDown('vip-up-failed', { release: true });
      return;
    }
    if (term !== this.term) {
      // Stepped down while the listeners were opening: close what just opened.
      await this.d.host.stopAccepting(this.name).catch(() => {});
      return;
    }
    this.sm.transition('owner', reason, { epoch: lease.epoch });
    const { metrics } = this.d;
    metrics.vipOwner.set({ vip: this.name }, 1);
    metrics.vipEpoch.set({ vip: this.name }, lease.epoch);
    metrics.ownershipChangesTotal.inc({ vip: this.name, reason });
    this.log.info({ vip: this.name, from: previous, to: this.d.nodeId, epoch: lease.epoch, reason }, 'ownership change');
    this.#preemptNotBefore = this.d.clock.nowMs() + this.d.timings.renewIntervalMs;
    this.d.onChange();
  }

  #scheduleRenew(term: number): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => void this.#renew(term), this.d.timings.renewIntervalMs);
  }

  async #renew(term: number): Promise<void> {
    const held = this.lease;
    if (term !== this.term || !held) return;
    const start = this.d.clock.nowMs();
    let r;
    try {
      r = await this.d.lease.renew(this.name, held, this.d.timings.ttlMs);
      this.d.onRedis(true);
    } catch (err) {
      this.d.onRedis(false, err);
      if (term === this.term && !this.#checkDeadline(term)) this.#scheduleRenew(term);
      return;
    }
    if (term !== this.term) return;
    if (!r.ok) {
      if (this.handingOff) return;
      this.lastHolder = r.holder;
      this.maxEpochSeen = Math.max(this.maxEpochSeen, r.holder?.epoch ?? 0);
      this.log.warn({ epoch: held.epoch, holder: r.holder }, 'renewal refused: lease lost');
      return void this.stepDown('lease-lost', { release: false });
    }
    this.d.metrics.redisRoundTripSeconds.observe({ purpose: 'lease' }, (this.d.clock.nowMs() - start) / 1000);
    if (start > this.#lastRenewStartMs) this.#lastRenewStartMs = start;
    if (this.#checkDeadline(term)) return;
    this.#armDeadline(term);
    this.#scheduleRenew(term);
    this.#maybePreempt();
  }

  #armDeadline(term: number): void {
    clearTimeout(this.#deadlineTimer);
    const inMs = stepDownAtMs(this.#lastRenewStartMs, this.d.timings) - this.d.clock.nowMs();
    this.#deadlineTimer = setTimeout(() => { if (!this.#checkDeadline(term)) this.#armDeadline(term); }, Math.max(0, inMs));
  }

  /** Steps down when the deadline has passed; true when it did (or the term is over). */
  #checkDeadline(term: number): boolean {
    if (term !== this.term) return true;
    if (!mustStepDown(this.d.clock.nowMs(), this.#lastRenewStartMs, this.d.timings)) return false;
    this.log.warn({ epoch: this.lease?.epoch, sinceRenewMs: Math.round(this.d.clock.nowMs() - this.#lastRenewStartMs) }, 'no confirmed renewal before the deadline: stepping down');
    void this.stepDown('renew-deadline', { release: false });
    return true;
  }

  #maybePreempt(): void {
    if (!this.d.vip.preempt || this.sm.state !== 'owner') return;
    const now = this.d.clock.nowMs();
    if (now < this.#preemptNotBefore) return;
    const target = preemptionTarget(this.d.self(), this.d.members(), true);
    if (!target) return;
    this.#preemptNotBefore = now + this.d.handover.timeoutMs;
    this.log.info({ to: target.id, priority: target.priority }, 'preempt: handing over to a higher-priority node');
    this.handOver(target.id, 'preempt').catch((err) => this.log.warn({ err: (err as Error).message, to: target.id }, 'preemptive handover failed'));
  }

  /** Re-announces the VIP (GARP/NA for `linux`) while owning it, e.g. after a partition healed. */
  announce(why: string): void {
    if (!claimsOwnership(this.sm.state) || !this.lease) return;
    this.log.info({ why, epoch: this.lease.epoch }, 're-announcing the VIP');
    this.d.driver.announce(this.ctx()).catch((err) => this.log.warn({ err: (err as Error).message }, 'VIP re-announce failed'));
  }

  /** Planned handover to `to` (see handover.ts). Throws NotOwnerError or HandoverError. */
  handOver(to: string, reason = 'failover'): Promise<HandoverResult> {
    if (this.sm.state !== 'owner' || !this.lease) return Promise.reject(new NotOwnerError(this.name, this.lastHolder?.nodeId ?? null));
    return handOver(this, to, reason);
  }

  /** Target side of a handover: open the VIP (make-before-break) and wait for the lease. */
  prepare(from: string, epoch: number): Promise<{ prepared: true }> { return prepareReceive(this, from, epoch); }

  /** Target side: the lease is ours with `epoch`; confirm it and become owner. */
  commit(epoch: number): Promise<{ epoch: number }> { return commitReceive(this, epoch); }

  /** Target side: the owner gave up; close what prepare opened. */
  abort(from: string): Promise<{ aborted: boolean }> { return abortReceive(this, from, 'aborted by the owner'); }

  // ---- leaving ---------------------------------------------------------

  /**
   * Ends a claim (or an acquisition or a receiving phase): enters `releasing`,
   * stops accepting, optionally releases the lease, then in the background
   * closes the VIP's clients with 1012 (paced over the handover window) and
   * takes the driver down. Resolves once the node no longer accepts.
   */
  async stepDown(reason: string, opts: { release: boolean; to?: string | null }): Promise<void> {
    const s = this.sm.state;
    if (s !== 'owner' && s !== 'handing-over' && s !== 'acquiring' && s !== 'receiving') return;
    const term = ++this.term;
    this.#clearOwnerTimers();
    const held = this.lease;
    this.lease = null;
    this.sm.transition('releasing', reason, { epoch: held?.epoch });
    this.d.metrics.vipOwner.set({ vip: this.name }, 0);
    if (claimsOwnership(s)) {
      this.d.metrics.ownershipChangesTotal.inc({ vip: this.name, reason });
      this.log.info({ vip: this.name, from: this.d.nodeId, to: opts.to ?? null, epoch: held?.epoch, reason }, 'ownership change');
    }
    try { await this.d.host.stopAccepting(this.name); } catch (err) { this.log.error({ err }, 'stop accepting failed'); }
    if (opts.release && held) await this.d.lease.release(this.name, held, reason).catch((err) => this.d.onRedis(false, err));
    this.#leaving = this.#finishLeaving(held, term);
    // With no address to move (bind), this node is a standby again at once,
    // while the old clients are still being closed in the background: it can
    // take the VIP back (or receive a handover) without waiting for the window.
    // An address-moving driver keeps it `releasing` until the address is down.
    if (this.d.driver.reusePort) this.#backToStandby(term);
    this.d.onChange();
  }

  async #finishLeaving(held: LeaseValue | null, term: number): Promise<void> {
    const h = this.d.handover;
    try {
      await this.d.host.closeClients(this.name, { code: 1012, reason: 'service restart', ratePerSec: h.closeRatePerSec, windowMs: h.closeWindowMs });
    } catch (err) { this.log.error({ err }, 'closing clients failed'); }
    // A new term means this node owns (or receives) the VIP again: its address must stay up.
    if (term === this.term) {
      try { await this.d.driver.down(this.ctx(held?.epoch ?? 0)); } catch (err) { this.log.error({ err }, 'VIP driver down failed'); }
    }
    this.#backToStandby(term);
    this.d.onChange();
  }

  #backToStandby(term: number): void {
    if (term !== this.term || this.sm.state !== 'releasing' || this.stopping) return;
    this.sm.transition('standby', 'left the VIP');
    this.#freeSinceMs = null;
    this.schedulePoll(jittered(this.d.timings.acquirePollMs));
  }

  #clearOwnerTimers(): void {
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#deadlineTimer);
    clearTimeout(this.#pollTimer);
    clearTimeout(this.overlapTimer);
    clearTimeout(this.commitPollTimer);
  }

  /** Graceful stop: a claim is given up and the lease released so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.#pollTimer);
    await this.stepDown('shutdown', { release: true });
    await this.#leaving;
    this.term++;
    this.#clearOwnerTimers();
    if (this.sm.state !== 'stopped') this.sm.transition('stopped', 'shutdown');
  }
}
