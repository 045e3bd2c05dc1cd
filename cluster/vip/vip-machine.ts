/**
 * One VIP on one node, as one explicit machine: a handler per state
 * (states/*.ts), every move through the table of ownership.ts at the single
 * choke point go(), which leaves the old state (its timers die with it),
 * logs `from -> to` with the reason, and enters the new one. Everything from
 * outside (peer evidence, ownership events, grant requests, handover
 * commands, stop) arrives here and goes to the current state.
 *
 * Safety rule: a node serves the VIP only while its authority holds (the
 * start of its last acknowledged renewal + ttl - margin, or every peer's
 * grant, whichever is later); a standby takes a VIP only when Redis lets it
 * (the lease is free, or the holder is proven dead) and its own evidence
 * says the holder cannot be serving. So at no instant do two nodes claim
 * the VIP. deploy/docs/ownership.md has the rules and the argument.
 */
import type { Logger } from 'pino';
import { StateMachine } from '../../shared/state-machine';
import type { VipContext } from './drivers/driver';
import type { GrantResult, VipClaim } from '../peer/peer-messages';
import { VIP_TRANSITIONS, claimsOwnership, refusesGrants, type VipState } from './ownership';
import type { VipDeps, VipSnapshot } from './vip-deps';
import { VipFacts } from './vip-facts';
import type { MachineApi, StateHandler } from './states/state';
import { StandbyState } from './states/standby';
import type { HandoverResult } from './states/handing-off';

/** High-resolution wall clock for cross-process interval checks in tests (the sampler compares claim periods). */
const hrWallMs = (): number => performance.timeOrigin + performance.now();

/** One VIP on one node (see the file comment). */
export class VipMachine implements MachineApi {
  readonly name: string;
  readonly d: VipDeps;
  readonly log: Logger;
  readonly facts = new VipFacts();
  readonly #sm: StateMachine<VipState>;
  #current: StateHandler;
  #stopping = false;
  #claimChangedAt = hrWallMs();
  /** Rate limit of the assert a granter runs on behalf of an owner cut off from Redis. */
  #maintainedAtMs = -Infinity;

  constructor(d: VipDeps) {
    this.d = d;
    this.name = d.vip.name;
    this.log = d.logger.child({ component: 'vip', vip: d.vip.name });
    this.#sm = new StateMachine<VipState>(`vip ${d.vip.name}`, 'standby', VIP_TRANSITIONS, this.log);
    if (d.onTransition) this.#sm.onTransition((e) => d.onTransition!(this.name, e));
    this.#current = new StandbyState(this);
    d.metrics.vipOwner.set({ vip: this.name }, 0);
    // A process that just started may not acquire before any grant an earlier process of this node gave has run out.
    this.facts.quietFor(d.clock.nowMs(), Math.max(d.timings.ttlMs, d.timings.grantTtlMs));
  }

  get state(): VipState { return this.#sm.state; }
  get current(): StateHandler { return this.#current; }
  get stopping(): boolean { return this.#stopping; }

  /** Enters standby (the first look at once). */
  start(): void {
    this.#current.active = true;
    this.#current.enter();
  }

  go(next: StateHandler, reason: string, fields?: Record<string, unknown>): void {
    const before = this.#sm.state;
    const wasClaiming = claimsOwnership(before);
    this.#current.exit();
    this.#sm.transition(next.name, reason, fields);
    this.#current = next;
    if (wasClaiming !== claimsOwnership(next.name)) this.#claimChangedAt = hrWallMs();
    next.active = true;
    next.enter();
  }

  /**
   * Whether this node may believe it owns the VIP right now: a claiming
   * state AND its own clock still before its authority deadline. After a
   * freeze the process may answer I/O before its deadline timer runs;
   * evaluated against the clock, its belief has already expired.
   */
  claimsNow(): boolean {
    const office = this.#current.office();
    return claimsOwnership(this.#sm.state) && office !== null && this.d.clock.nowMs() < office.untilMs();
  }

  ctx(epoch = this.#current.office()?.lease.epoch ?? 0): VipContext {
    return { vip: this.name, address: this.d.vip.address, nodeId: this.d.nodeId, epoch };
  }

  snapshot(): VipSnapshot {
    const s = this.#sm.state;
    const office = this.#current.office();
    const claims = this.claimsNow();
    const now = this.d.clock.nowMs();
    const until = office ? office.untilMs() : null;
    return {
      vip: this.name, state: s, epoch: office?.lease.epoch ?? null, claims, claimChangedAt: this.#claimChangedAt,
      claimUntil: claims && until !== null ? hrWallMs() + Math.min(until - now, 3_600_000) : null,
      serving: this.d.host.isServing(this.name), holder: office?.lease ?? this.facts.lastSeenHolder,
      authority: office ? office.source() : null, authorityMs: office ? Math.round(Math.min(office.untilMs(), now + 3_600_000) - now) : null,
    };
  }

  /** This VIP as this node's beats describe it. */
  claim(): VipClaim {
    const office = this.#current.office();
    return { vip: this.name, epoch: office?.lease.epoch ?? 0, claims: this.claimsNow(), state: this.#sm.state };
  }

  /** The epoch this node asks peers to grant, while it claims or re-asserts; else null. */
  askEpoch(): number | null {
    const s = this.#sm.state;
    if (s !== 'owner' && s !== 'handing-off' && s !== 'reasserting') return null;
    return this.#current.office()?.lease.epoch ?? null;
  }

  // ---- inputs --------------------------------------------------------------

  /** Evidence about a peer changed (beat, kernel verdict, link). */
  evidenceChanged(): void { this.#current.evidence(); }

  /** A peer was proven dead (`detectMs` after its link closed): a promise to it is void; a standby looks again at once. */
  peerDead(id: string, detectMs: number): void {
    const now = this.d.clock.nowMs();
    this.facts.died(id, now, now - detectMs);
    this.#current.evidence();
  }

  /** An ownership event named `epoch` (raise the epoch floor at once: Redis may restart empty before the next look). */
  ownershipEvent(epoch: number, owner: string | null): void {
    this.facts.epochSeen(epoch);
    if (owner === null || owner !== this.d.nodeId) this.#current.evidence();
  }

  /** The lease connection came back (maybe to a promoted replica): no acquisition of a free lease for one TTL. */
  quietFor(ms: number): void { this.facts.quietFor(this.d.clock.nowMs(), ms); }

  /**
   * The VIP guard took the VIP away on its own (the address, or the bind
   * listeners it destroyed: Node cannot tell a destroyed listening socket
   * from a live one, so they are closed here and reopened if the claim holds).
   */
  guardFired(): void {
    void this.d.host.stopAccepting(this.name).catch(() => {}).then(() => this.#current.guardFired());
  }

  /** An owner's beat was answered by `peer`. */
  granted(peer: string, sentAtMs: number, g: GrantResult): void { this.#current.office()?.onGrant(peer, sentAtMs, g); }

  /**
   * A peer that claims this VIP at `epoch` asks for a peer lease. Granted
   * unless this node holds, wants or is taking the VIP itself, or knows of a
   * newer holder; the grant is a promise not to acquire before it runs out.
   * While the owner cannot reach Redis and this node can, this node keeps
   * the owner's lease alive there (lease-assert on its behalf), so that a
   * node that reaches Redis sees the VIP held.
   */
  grant(from: string, epoch: number, ownerReachesRedis: boolean, arrivedMs: number): GrantResult {
    const ttlMs = this.d.timings.grantTtlMs;
    const s = this.#sm.state;
    const refuse = (why: string, holder: { nodeId: string; epoch: number } | null): GrantResult => {
      this.d.metrics.peerGrantsTotal.inc({ vip: this.name, result: 'refused' });
      return { vip: this.name, epoch, ok: false, ttlMs: 0, why, holder };
    };
    if (refusesGrants(s)) return refuse(`${this.d.nodeId} is ${s} for ${this.name}`, this.#current.office()?.lease ?? null);
    const seen = this.facts.reading?.holder;
    if (seen && seen.nodeId !== from && seen.epoch > epoch) return refuse(`held by ${seen.nodeId}:${seen.epoch}`, seen);
    const ref = this.facts.refusal;
    if (ref && ref.epoch > epoch) return refuse(`epoch ${ref.epoch} was handed out after ${epoch}`, { nodeId: ref.holder?.nodeId ?? 'unknown', epoch: ref.epoch });
    this.facts.promiseTo(from, epoch, arrivedMs + ttlMs);
    this.d.metrics.peerGrantsTotal.inc({ vip: this.name, result: 'granted' });
    if (!ownerReachesRedis && this.d.redisOk()) this.#maintain(from, epoch, arrivedMs);
    return { vip: this.name, epoch, ok: true, ttlMs };
  }

  #maintain(holder: string, epoch: number, nowMs: number): void {
    if (nowMs - this.#maintainedAtMs < this.d.timings.renewIntervalMs) return;
    this.#maintainedAtMs = nowMs;
    this.d.lease.assert(this.name, { nodeId: holder, epoch }, this.d.timings.ttlMs).then((r) => {
      this.d.onRedis(true);
      if (r.ok) {
        if (r.reasserted) this.log.info({ holder, epoch }, 'kept the lease of an owner cut off from Redis (re-asserted on its behalf)');
        return;
      }
      if (r.why === 'held') {
        this.facts.epochSeen(r.epoch);
        this.facts.refusal = { epoch: Math.max(r.epoch, r.holder?.epoch ?? 0), holder: r.holder };
      }
    }, (err) => this.d.onRedis(false, err));
  }

  handOver(to: string, reason = 'failover'): Promise<HandoverResult> { return this.#current.handOver(to, reason); }
  prepare(from: string, epoch: number): Promise<{ prepared: true }> { return this.#current.prepare(from, epoch); }
  commit(epoch: number): Promise<{ epoch: number }> { return this.#current.commit(epoch); }
  abort(from: string): Promise<{ aborted: boolean }> { return this.#current.abort(from); }

  /** Graceful stop: a claim is given up and the lease released, so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (let i = 0; i < 10 && this.#sm.state !== 'stopped'; i++) await this.#current.stop();
  }
}
