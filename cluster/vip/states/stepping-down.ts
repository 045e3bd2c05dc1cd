/**
 * stepping-down: leaving the VIP, the address first. In order:
 *
 *   1. fence revoked: the data plane forwards no request on the VIP from now
 *      on (the next one gets 503 and keep-alive connections close);
 *   2. linux / exec: the address is taken down (ip addr del, the down script),
 *      then the listeners close; bind: the listeners (the VIP itself) close;
 *   3. the guard is disarmed, the lease released (graceful stop only), and a
 *      planned handover's target told to commit: it brings the VIP up only now;
 *   4. the WebSocket clients are closed with 1012, paced over the close
 *      window, in the background, while the node is a standby again.
 */
import type { LeaseValue } from '../lease';
import type { Office } from '../office';
import { StateHandler, type MachineApi } from './state';
import { StandbyState } from './standby';
import { StoppedState } from './stopped';

/** How the VIP is left. */
export interface StepDownPlan {
  reason: string;
  /** Release the lease in Redis (graceful): standbys may acquire at once. */
  release: boolean;
  /** The claim being ended (null when nothing was claimed yet: an aborted receive). */
  office: Office | null;
  /** Whether this node claimed the VIP until now (an ownership change is logged). */
  claimed: boolean;
  /** Planned handover: the new owner, and the epoch it holds. */
  to?: string;
  commitEpoch?: number;
}

/** After a planned handover closed the listeners, how long heads of just-accepted connections may still arrive. */
const PLANNED_HEAD_GRACE_MS = 50;

export class SteppingDownState extends StateHandler {
  readonly name = 'stepping-down' as const;
  readonly #plan: StepDownPlan;
  #accepting!: () => void;
  #committed!: (ok: boolean) => void;
  #finished!: () => void;
  /** Resolves once this node no longer accepts on the VIP (make-before-break ends here). */
  readonly stoppedAccepting = new Promise<void>((r) => { this.#accepting = r; });
  /** Resolves with whether the handover target acknowledged the commit (false without a handover). */
  readonly committed = new Promise<boolean>((r) => { this.#committed = r; });
  /** Resolves once the machine has left this state. */
  readonly done = new Promise<void>((r) => { this.#finished = r; });

  constructor(m: MachineApi, plan: StepDownPlan) {
    super(m);
    this.#plan = plan;
  }

  override enter(): void {
    const { d } = this.m;
    const p = this.#plan;
    p.office?.close();
    d.metrics.vipOwner.set({ vip: this.m.name }, 0);
    for (const s of ['redis', 'peers', 'both'] as const) d.metrics.vipAuthority.set({ vip: this.m.name, source: s }, 0);
    if (p.claimed && p.office) {
      d.metrics.ownershipChangesTotal.inc({ vip: this.m.name, reason: p.reason });
      this.m.log.info({ vip: this.m.name, from: d.nodeId, to: p.to ?? null, epoch: p.office.lease.epoch, reason: p.reason }, 'ownership change');
    }
    d.onChange();
    void this.#run();
  }

  async #run(): Promise<void> {
    const { d } = this.m;
    const p = this.#plan;
    const held: LeaseValue | null = p.office?.lease ?? null;
    const ctx = { vip: this.m.name, address: d.vip.address, nodeId: d.nodeId, epoch: held?.epoch ?? 0 };
    // A planned handover on a shared port (bind): the target already listens, so the listeners close first and the
    // fence goes after, within the bounded overlap; a connection the workers accepted meanwhile is then still served
    // instead of refused. Every other step-down revokes the fence first: nothing is forwarded past the deadline.
    const planned = p.to !== undefined && d.driver.reusePort;
    if (planned) {
      try { await d.host.stopAccepting(this.m.name); } catch (err) { this.m.log.error({ err }, 'stop accepting failed'); }
      // Request heads of connections accepted just before arrive within a few ms; they are served, not refused.
      await new Promise((r) => setTimeout(r, Math.min(PLANNED_HEAD_GRACE_MS, d.handover.maxOverlapMs)));
    }
    d.host.fence(this.m.name, null);
    if (!d.driver.reusePort) {
      try { await d.driver.down(ctx); } catch (err) { this.m.log.error({ err }, 'VIP driver down failed'); }
    }
    if (!planned) {
      try { await d.host.stopAccepting(this.m.name); } catch (err) { this.m.log.error({ err }, 'stop accepting failed'); }
    }
    d.guard.disarm(this.m.name);
    this.#accepting();
    if (p.release && held) await d.lease.release(this.m.name, held, p.reason).then(() => d.onRedis(true), (err) => d.onRedis(false, err));
    if (p.to && p.commitEpoch !== undefined) {
      const to = p.to;
      d.send(to, { op: 'commit', vip: this.m.name, from: d.nodeId, epoch: p.commitEpoch }, d.handover.maxOverlapMs)
        .then(() => this.#committed(true), (err) => { this.m.log.warn({ err: (err as Error).message, to }, 'commit not acknowledged; the target finds the lease by polling'); this.#committed(false); });
    } else this.#committed(false);
    const h = d.handover;
    const closing = d.host.closeClients(this.m.name, { code: 1012, reason: 'service restart', ratePerSec: h.closeRatePerSec, windowMs: h.closeWindowMs })
      .catch((err) => { this.m.log.error({ err }, 'closing clients failed'); return 0; });
    if (this.m.stopping) await closing;
    if (!this.active) return;
    this.m.go(this.m.stopping ? new StoppedState(this.m) : new StandbyState(this.m), this.m.stopping ? 'shutdown' : 'left the VIP');
  }

  override exit(): void {
    super.exit();
    this.#finished();
  }

  /** A stop while leaving: the sequence ends in `stopped` (the machine is stopping). */
  override stop(): Promise<void> { return this.done; }
}
