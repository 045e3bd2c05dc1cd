/**
 * standby: this node does not hold the VIP. It looks at the lease (every
 * acquirePollMs, at once when the evidence about the holder changes: a
 * death proof, a kernel verdict, a beat, an ownership event), gathers what
 * it knows about the last holder, and lets ownership.ts decideStandby say
 * whether to take the VIP, take it over, or wait, and why. Every change of
 * that answer is logged with its evidence. Planned handovers enter
 * `receiving` from here.
 */
import { HandoverError } from '../../../shared/errors';
import { decideStandby, jittered, type HolderEvidence, type StandbyDecision, type StandbyView } from '../ownership';
import { isEligible, rankOf, whyIneligible } from '../preemption';
import type { LeaseValue } from '../lease';
import { StateHandler } from './state';
import { AcquiringState } from './acquiring';
import { ReceivingState } from './receiving';
import { StoppedState } from './stopped';

/** A beat is fresh for this many beat intervals. */
const FRESH_BEATS = 3;

export class StandbyState extends StateHandler {
  readonly name = 'standby' as const;
  #timer: NodeJS.Timeout | undefined;
  #looking = false;
  #again = false;
  #lastWhy = '';
  /** The next look may decide on the last reading, if it is fresh: new evidence (a death proof) is acted on at once. */
  #cachedOk = false;

  override enter(): void { this.#schedule(0); }

  override evidence(): void {
    this.#cachedOk = true;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (!this.active) return;
    this.cancel(this.#timer);
    this.#timer = this.after(ms, () => void this.#look());
  }

  async #look(): Promise<void> {
    if (this.#looking) { this.#again = true; return; }
    this.#looking = true;
    try { await this.#lookOnce(); } finally {
      this.#looking = false;
      if (this.#again && this.active) { this.#again = false; this.#schedule(0); }
    }
  }

  async #lookOnce(): Promise<void> {
    const { d, facts } = this.m;
    const cached = this.#cachedOk && facts.reading !== null && d.clock.nowMs() - facts.readAtMs < 2 * d.timings.acquirePollMs;
    this.#cachedOk = false;
    let reading = facts.reading!;
    if (!cached) {
      try {
        reading = await d.lease.read(this.m.name);
        d.onRedis(true);
      } catch (err) {
        d.onRedis(false, err);
        return this.#schedule(jittered(d.timings.acquirePollMs));
      }
      if (!this.active) return;
      facts.observe(reading, d.clock.nowMs());
    }
    const now = d.clock.nowMs();
    if (reading.holder) d.metrics.vipEpoch.set({ vip: this.m.name }, reading.holder.epoch);
    const view = this.#view(now);
    const decision = decideStandby(view, d.timings);
    this.#explain(decision, view);
    switch (decision.action) {
      case 'release-own':
        await d.lease.release(this.m.name, reading.holder!, 'stale lease of this node').catch(() => {});
        return this.#schedule(jittered(d.timings.acquirePollMs));
      case 'takeover':
        return this.m.go(new AcquiringState(this.m, { kind: 'takeover', dead: reading.holder!, reason: 'peer-dead', previous: reading.holder!.nodeId }), decision.why);
      case 'acquire':
        return this.m.go(new AcquiringState(this.m, { kind: 'acquire', dead: null, reason: decision.why, previous: view.lastHolder?.nodeId ?? null }), decision.why);
      case 'wait': {
        // Jitter the plain polls so that standbys do not poll in lockstep; a look timed to an expiry stays exact.
        const plainPoll = decision.retryInMs >= d.timings.acquirePollMs && (decision.why === 'held' || decision.why === 'ineligible');
        return this.#schedule(plainPoll ? jittered(decision.retryInMs) : decision.retryInMs);
      }
    }
  }

  #view(now: number): StandbyView {
    const { d, facts } = this.m;
    const reading = facts.reading!;
    const { holder: lastHolder, released } = reading.holder ? { holder: reading.holder, released: false } : facts.lastHolder();
    const about = reading.holder ?? lastHolder;
    // The node that let the lease go is no contender this round, even while its heartbeat still looks fresh.
    const exclude = about && about.nodeId !== d.nodeId ? new Set([about.nodeId]) : undefined;
    const promise = facts.promise && facts.promise.untilMs > now ? facts.promise : null;
    const claimants = d.peers.claimants(this.m.name).filter((p) => p !== d.nodeId);
    return {
      nowMs: now, selfId: d.nodeId, rank: rankOf(d.self(), d.members(), exclude),
      holder: reading.holder, holderTtlMs: Math.max(0, reading.ttlMs - (now - facts.readAtMs)), lastHolder, released, freeSinceMs: facts.freeSinceMs, promise,
      quietUntilMs: facts.quietUntilMs, claimedByPeer: reading.holder ? null : claimants[0] ?? null,
      evidence: this.#evidence(about, now),
    };
  }

  /** What this node knows about `h`, the holder or last holder. */
  #evidence(h: LeaseValue | null, now: number): HolderEvidence {
    const { d, facts } = this.m;
    const none: HolderEvidence = { provenDeadAtMs: null, lostAtMs: null, saysNotClaiming: false, kernel: 'unknown', lastSignMs: null, knowsMe: false, heartbeatAgeMs: null };
    if (!h || h.nodeId === d.nodeId) return none;
    const ev = d.peers.evidence(h.nodeId);
    const hb = d.member(h.nodeId);
    const dead = ev && ev.deadInc !== null && ev.deadInc === ev.inc ? facts.deathOf(h.nodeId) : null;
    const claim = ev?.claims.get(this.m.name);
    const fresh = ev?.claimsAtMs !== null && ev?.claimsAtMs !== undefined && ev.claimsAtMs > facts.heldSeenAtMs && now - ev.claimsAtMs <= FRESH_BEATS * d.timings.beatIntervalMs;
    // Only a holder that has finished stepping down says it does not claim: while stepping down it may still hold the address.
    const notClaiming = (fresh && claim !== undefined && !claim.claims && (claim.state === 'standby' || claim.state === 'stopped')) || (fresh && claim === undefined) || ev?.leftGracefully === true;
    return {
      provenDeadAtMs: dead?.atMs ?? null,
      lostAtMs: dead?.lostAtMs ?? null,
      saysNotClaiming: notClaiming,
      kernel: ev?.kernel ?? 'unknown',
      lastSignMs: ev?.lastSignMs ?? null,
      knowsMe: (hb?.record.peers.includes(d.nodeId) ?? false) || ev?.everUp === true || ev?.inboundUp === true || this.#noOtherGranter(h.nodeId, hb?.record.peers),
      heartbeatAgeMs: hb ? hb.ageMs : null,
    };
  }

  /**
   * A holder that published no peers, in a cluster whose membership holds nobody but it and this node, can only
   * have kept its VIP on Redis: no grant could come from anyone (this node knows it granted none). Its expired
   * lease is then decided like any other, instead of waiting for it to be forgotten (a pair where one node had just
   * restarted when the other died).
   */
  #noOtherGranter(holder: string, published: readonly string[] | undefined): boolean {
    if (published === undefined || published.length > 0) return false;
    const self = this.m.d.nodeId;
    return this.m.d.members().every((c) => c.id === self || c.id === holder);
  }

  /** Logs the decision whenever its reason changes, with the evidence behind it. */
  #explain(decision: StandbyDecision, v: StandbyView): void {
    const why = decision.action === 'wait' ? `wait:${decision.why}` : decision.action;
    if (why === this.#lastWhy) return;
    this.#lastWhy = why;
    const e = v.evidence;
    const now = v.nowMs;
    const fields = {
      decision: why, holder: v.holder, lastHolder: v.lastHolder, released: v.released, rank: v.rank,
      freeForMs: v.freeSinceMs === null ? null : Math.round(now - v.freeSinceMs),
      promisedForMs: v.promise ? Math.round(v.promise.untilMs - now) : null, claimedByPeer: v.claimedByPeer,
      evidence: { ...e, provenDeadAtMs: undefined, provenDead: e.provenDeadAtMs !== null, lastSignAgeMs: e.lastSignMs === null ? null : Math.round(now - e.lastSignMs), lastSignMs: undefined },
    };
    if (decision.action === 'wait' && (decision.why === 'held' || decision.why === 'ineligible' || decision.why === 'rank-delay')) this.m.log.debug(fields, 'standby decision');
    else this.m.log.info(fields, 'standby decision');
  }

  override prepare(from: string, epoch: number): Promise<{ prepared: true }> {
    const d = this.m.d;
    if (this.m.stopping) return Promise.reject(new HandoverError(`node ${d.nodeId} is stopping`));
    const self = d.self();
    if (!isEligible(self)) return Promise.reject(new HandoverError(`node ${d.nodeId} is ${whyIneligible(self)}`));
    const next = new ReceivingState(this.m, from, epoch);
    this.m.go(next, 'handover prepare', { from, epoch });
    return next.prepared;
  }

  override stop(): Promise<void> {
    this.m.go(new StoppedState(this.m), 'shutdown');
    return Promise.resolve();
  }
}
