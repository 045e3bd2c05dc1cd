/**
 * owner: this node holds the VIP and serves it. The office (office.ts)
 * renews the lease and collects peer grants; this state brings the VIP up
 * when it enters (driver, then listeners), hands over on request or for
 * preemption, and leaves when the office says so:
 *
 *   lease lost / peer refuses     -> stepping-down at once
 *   authority ran out, on time    -> stepping-down (the network is gone: safety wins)
 *   authority ran out, stalled    -> reasserting (a standby that saw this host
 *                                    answer waits out the stall budget)
 */
import { NotOwnerError } from '../../../shared/errors';
import { preemptionTarget } from '../preemption';
import { Office, type OfficeListener } from '../office';
import type { LeaseValue } from '../lease';
import { StateHandler, type MachineApi } from './state';
import { SteppingDownState } from './stepping-down';
import { ReassertingState } from './reasserting';
import { HandingOffState, type HandoverResult } from './handing-off';

/** How the owner state is entered: a fresh claim (lease + renewal start), or an office carried back from another claiming state. */
export type OwnerEntry =
  | { lease: LeaseValue; renewStartMs: number; reason: string; previous: string | null }
  | { office: Office; reason: string };

/** Backoff after a failed bring-up (doubling per failure in a row). */
const UP_RETRY_MIN_MS = 500;
const UP_RETRY_MAX_MS = 30_000;
/** How long listeners opened beside the driver's up() wait for the address (longer than one `ip` run may take). */
const LISTEN_DURING_UP_MS = 5000;

export class OwnerState extends StateHandler implements OfficeListener {
  readonly name = 'owner' as const;
  readonly #office: Office;
  readonly #fresh: { reason: string; previous: string | null } | null;
  #preemptNotBefore = 0;

  constructor(m: MachineApi, entry: OwnerEntry) {
    super(m);
    if ('office' in entry) {
      this.#office = entry.office;
      this.#fresh = null;
    } else {
      this.#office = new Office(m, entry.lease, entry.renewStartMs);
      this.#fresh = { reason: entry.reason, previous: entry.previous };
    }
  }

  override office(): Office { return this.#office; }

  override enter(): void {
    const { d, facts } = this.m;
    const lease = this.#office.lease;
    facts.epochSeen(lease.epoch);
    facts.lastSeenHolder = lease;
    this.#office.bind(this);
    d.metrics.vipOwner.set({ vip: this.m.name }, 1);
    d.metrics.vipEpoch.set({ vip: this.m.name }, lease.epoch);
    this.#preemptNotBefore = d.clock.nowMs() + d.timings.renewIntervalMs;
    if (this.#fresh) {
      d.metrics.ownershipChangesTotal.inc({ vip: this.m.name, reason: this.#fresh.reason });
      this.m.log.info({ vip: this.m.name, from: this.#fresh.previous, to: d.nodeId, epoch: lease.epoch, reason: this.#fresh.reason }, 'ownership change');
    }
    // The address first: its add leaves in this turn (drivers/serial.ts), before the beats that announce the change.
    void this.#bringUp();
    d.onChange();
  }

  /**
   * Driver up and the listeners (unless already open, as after a handover's prepare or a re-assert): one after
   * the other, or both at once where the driver allows it (listenDuringUp: the binds wait for the address).
   */
  async #bringUp(): Promise<void> {
    const d = this.m.d;
    const ctx = { vip: this.m.name, address: d.vip.address, nodeId: d.nodeId, epoch: this.#office.lease.epoch };
    const open = () => d.host.openVip(this.m.name, d.vip.address, { reusePort: d.driver.reusePort, addressWaitMs: d.driver.listenDuringUp ? LISTEN_DURING_UP_MS : 0 });
    try {
      if (d.driver.listenDuringUp && !d.host.isServing(this.m.name)) {
        const up = d.driver.up(ctx);
        const opening = open();
        // A failed up() steps down, and its stopAccepting() ends the opening: that rejection is not a second failure.
        opening.catch(() => {});
        await up;
        await opening;
      } else {
        await d.driver.up(ctx);
        if (this.active && !d.host.isServing(this.m.name)) await open();
      }
      // Left this state while the listeners opened: the state that followed has already closed what was open then.
      if (!this.active) { await d.host.stopAccepting(this.m.name); return; }
      this.m.facts.upFailures = 0;
      this.#office.publish();
    } catch (err) {
      // Back off before the next try, so that a broken driver or address does not spin through epochs.
      const facts = this.m.facts;
      const backoffMs = Math.min(UP_RETRY_MAX_MS, UP_RETRY_MIN_MS * 2 ** facts.upFailures++);
      facts.quietFor(d.clock.nowMs(), backoffMs);
      this.m.log.error({ err, epoch: ctx.epoch, retryInMs: backoffMs }, 'cannot bring the VIP up; giving the lease back');
      if (this.active) this.#stepDown('vip-up-failed', true);
    }
  }

  // ---- office events ---------------------------------------------------

  lapsed(stalled: boolean, evidence: Record<string, unknown>): void {
    if (stalled) {
      this.m.log.warn(evidence, 'authority lapsed while this process was stalled: re-asserting before letting go');
      this.m.go(new ReassertingState(this.m, this.#office), 'stalled past the deadline', evidence);
      return;
    }
    this.m.log.warn(evidence, 'no acknowledged renewal and no peer grants before the deadline: stepping down');
    this.#stepDown('authority-expired', false);
  }

  lost(why: string, holder: LeaseValue | null): void {
    this.m.facts.lastSeenHolder = holder ?? this.m.facts.lastSeenHolder;
    this.#stepDown(why.startsWith('peer') ? 'peer-refused' : 'lease-lost', false);
  }

  renewed(): void { this.#maybePreempt(); }

  granted(): void {}

  // ---- machine events ----------------------------------------------------

  override guardFired(): void {
    // The guard took the VIP away after a stall; the re-assert that brought us back found the lease still ours.
    this.m.log.warn({ epoch: this.#office.lease.epoch }, 'the VIP guard had taken the VIP away; bringing it up again');
    void this.#bringUp();
  }

  override handOver(to: string, reason: string): Promise<HandoverResult> {
    if (!this.active) return Promise.reject(new NotOwnerError(this.m.name, null));
    const next = new HandingOffState(this.m, this.#office, to, reason);
    this.m.go(next, reason, { to, epoch: this.#office.lease.epoch });
    return next.result;
  }

  #maybePreempt(): void {
    const d = this.m.d;
    if (!d.vip.preempt || !this.active) return;
    const now = d.clock.nowMs();
    if (now < this.#preemptNotBefore) return;
    const target = preemptionTarget(d.self(), d.members(), true, d.placement, this.m.name);
    if (!target) return;
    this.#preemptNotBefore = now + d.handover.timeoutMs;
    this.m.log.info({ to: target.id, priority: target.priority, placement: d.placement, load: target.load }, d.placement === 'spread' ? 'preempt: handing over to a less-loaded node' : 'preempt: handing over to a higher-priority node');
    this.handOver(target.id, 'preempt').catch((err) => this.m.log.warn({ err: (err as Error).message, to: target.id }, 'preemptive handover failed'));
  }

  #stepDown(reason: string, release: boolean): void {
    this.m.go(new SteppingDownState(this.m, { reason, release, office: this.#office, claimed: true }), reason, { epoch: this.#office.lease.epoch });
  }

  override stop(): Promise<void> {
    const next = new SteppingDownState(this.m, { reason: 'shutdown', release: true, office: this.#office, claimed: true });
    this.m.go(next, 'shutdown');
    return next.done;
  }
}
