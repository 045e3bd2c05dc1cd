/**
 * acquiring: one lease script in flight, lease-acquire (a free lease) or
 * lease-takeover (the lease of a holder proven dead), with a replica's
 * acknowledgement when that is required. Success enters `owner`; a held
 * lease, an unacknowledged write or a Redis error goes back to `standby`.
 * A stop meanwhile gives back whatever the script won.
 */
import type { LeaseValue } from '../lease';
import { StateHandler } from './state';
import { OwnerState } from './owner';
import { StandbyState } from './standby';
import { StoppedState } from './stopped';

/** What to acquire. */
export interface AcquirePlan { kind: 'acquire' | 'takeover'; dead: LeaseValue | null; reason: string; previous: string | null }

export class AcquiringState extends StateHandler {
  readonly name = 'acquiring' as const;

  constructor(m: ConstructorParameters<typeof StateHandler>[0], readonly plan: AcquirePlan) { super(m); }

  override enter(): void { void this.#run(); }

  async #run(): Promise<void> {
    const { d, facts } = this.m;
    const { lease, nodeId, timings } = d;
    const start = d.clock.nowMs();
    const minEpoch = facts.maxEpochSeen;
    let r;
    try {
      r = this.plan.kind === 'takeover' && this.plan.dead
        ? await lease.takeover(this.m.name, this.plan.dead, nodeId, timings.ttlMs, this.plan.reason, minEpoch)
        : await lease.acquire(this.m.name, nodeId, timings.ttlMs, this.plan.reason, minEpoch);
      d.onRedis(true);
    } catch (err) {
      d.onRedis(false, err);
      if (this.active) this.#back('acquire failed', { err: (err as Error).message });
      return;
    }
    if (!this.active) {
      // Stopped (or moved on) while the script ran: what it won is not served, so give it back.
      if (r.ok) await lease.release(this.m.name, r.lease, 'stopped while acquiring').catch(() => {});
      return;
    }
    if (!r.ok && r.why === 'not-replicated') {
      this.m.log.warn({ written: r.written }, 'lease written but no replica acknowledged it in time: not counted, given back');
      if (r.written) await lease.release(this.m.name, r.written, 'not replicated').catch(() => {});
      if (this.active) this.#back('not replicated');
      return;
    }
    if (!r.ok) {
      facts.epochSeen(r.epoch);
      if (r.holder) facts.epochSeen(r.holder.epoch);
      return this.#back('lease held', { holder: r.holder });
    }
    this.m.go(new OwnerState(this.m, { lease: r.lease, renewStartMs: start, reason: this.plan.reason, previous: this.plan.previous }), this.plan.reason, { epoch: r.lease.epoch });
  }

  #back(why: string, fields?: Record<string, unknown>): void {
    this.m.go(new StandbyState(this.m), why, fields);
  }

  override stop(): Promise<void> {
    this.m.go(new StoppedState(this.m), 'shutdown');
    return Promise.resolve();
  }
}
