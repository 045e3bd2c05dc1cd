/**
 * reasserting: the authority ran out while this process was stalled (its
 * renewals did not run on time). A standby that saw this host's kernel
 * answer has not taken the VIP (it waits out the stall budget), so the node
 * keeps its address, listeners and clients, holds new requests at the
 * fence, and asks at once: lease-assert in Redis (renews, or re-asserts the
 * same epoch if nobody took the VIP since) and a fresh grant from every
 * peer. The first answer that gives the VIP back returns to `owner`; a
 * refusal, or no answer within a few renew intervals, steps down.
 */
import { Office, type OfficeListener } from '../office';
import type { LeaseValue } from '../lease';
import { StateHandler, type MachineApi } from './state';
import { OwnerState } from './owner';
import { SteppingDownState } from './stepping-down';

/** How many renew intervals a re-assert may take before the node steps down. */
const REASSERT_INTERVALS = 4;

export class ReassertingState extends StateHandler implements OfficeListener {
  readonly name = 'reasserting' as const;
  readonly #office: Office;
  #sinceMs = 0;

  constructor(m: MachineApi, office: Office) {
    super(m);
    this.#office = office;
  }

  override office(): Office { return this.#office; }

  override enter(): void {
    const d = this.m.d;
    this.#sinceMs = d.clock.nowMs();
    d.onChange();
    this.#office.bind(this);
    this.#office.renewNow();
    d.peers.beatNow();
    // Long enough for a Redis round trip or a beat's answer on a loaded host, short enough that a node which is not
    // only stalled but also cut off (its host silent to the standbys, who then go by the lease) lets go promptly.
    const limit = REASSERT_INTERVALS * d.timings.renewIntervalMs;
    this.after(limit, () => this.#stepDown('reassert-timeout', { waitedMs: limit }));
  }

  renewed(reasserted: boolean): void {
    this.m.log.info({ epoch: this.#office.lease.epoch, reasserted, tookMs: Math.round(this.m.d.clock.nowMs() - this.#sinceMs) }, 'kept the VIP after the stall: Redis confirmed the lease');
    this.m.go(new OwnerState(this.m, { office: this.#office, reason: 'reasserted' }), 'lease re-asserted');
  }

  granted(): void {
    const d = this.m.d;
    const required = d.peers.required();
    if (required.length === 0 || !this.#office.authority.allGrantedSince(required, this.#sinceMs)) return;
    this.m.log.info({ epoch: this.#office.lease.epoch, peers: required, tookMs: Math.round(d.clock.nowMs() - this.#sinceMs) }, 'kept the VIP after the stall: every peer granted it again');
    this.m.go(new OwnerState(this.m, { office: this.#office, reason: 'reasserted' }), 'peers granted again');
  }

  lapsed(): void { /* the re-assert timeout decides */ }

  lost(why: string, holder: LeaseValue | null): void {
    this.m.facts.lastSeenHolder = holder ?? this.m.facts.lastSeenHolder;
    this.#stepDown(why.startsWith('peer') ? 'peer-refused' : 'lease-lost', { holder });
  }

  #stepDown(reason: string, fields: Record<string, unknown>): void {
    this.m.log.warn({ epoch: this.#office.lease.epoch, reason, ...fields }, 'could not re-assert the VIP after the stall: stepping down');
    this.m.go(new SteppingDownState(this.m, { reason, release: false, office: this.#office, claimed: true }), reason);
  }

  override stop(): Promise<void> {
    const next = new SteppingDownState(this.m, { reason: 'shutdown', release: true, office: this.#office, claimed: true });
    this.m.go(next, 'shutdown');
    return next.done;
  }
}
