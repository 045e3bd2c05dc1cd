/**
 * handing-off: a planned handover (`wsha failover`, `wsha drain`,
 * preemption, SIGTERM), old owner side, make-before-break. The office keeps
 * renewing until the lease moves.
 *
 *   old owner A                      Redis                      target B
 *   owner -> handing-off                                            |
 *      |---- prepare {vip, epoch} (command bus) ------------------->|
 *      |                                   standby -> receiving      |
 *      |                                   bind: driver up, listen   |  <- overlap starts (bind)
 *      |<------------------------------------------- prepared -------|
 *      |-- lease-handover("A:E" -> B) (+ WAIT 1) -->|                |
 *      |<------- {1, "B:E+1"} ----------------------|                |
 *   handing-off -> stepping-down                                     |
 *      fence revoked; linux/exec: address down; listeners closed    |  <- overlap ends (bind)
 *      |---- commit {epoch E+1} ----------------------------------->|
 *      |                                 |<-- lease-assert "B:E+1" --|  linux/exec: address up now
 *   close clients with 1012, paced       |          receiving -> owner
 *   -> standby                           |   clients reconnect to B   |
 *
 * If B cannot prepare, nothing moves (A is owner again). If B hears no
 * commit within maxOverlapMs (and does not find the lease its own by
 * polling), it closes what it opened. With bind, both nodes listen (SO_REUSEPORT)
 * only between B's prepare and A's stop-accepting: bounded by maxOverlapMs,
 * logged as `make-before-break overlap ended`.
 */
import { HandoverError } from '../../../shared/errors';
import type { Office, OfficeListener } from '../office';
import type { LeaseValue } from '../lease';
import { StateHandler, type MachineApi } from './state';
import { OwnerState } from './owner';
import { SteppingDownState } from './stepping-down';

/** What a planned handover reports. */
export interface HandoverResult {
  vip: string;
  oldOwner: string;
  newOwner: string;
  epoch: number;
  tookMs: number;
  /** How long both nodes listened (upper bound, measured on the old owner). */
  overlapMs: number;
  /** WebSocket clients that the old owner is now closing with 1012. */
  closing: number;
}

export class HandingOffState extends StateHandler implements OfficeListener {
  readonly name = 'handing-off' as const;
  readonly #office: Office;
  readonly #to: string;
  readonly #reason: string;
  #resolve!: (r: HandoverResult) => void;
  #reject!: (e: Error) => void;
  /** Settles with the handover's outcome. */
  readonly result = new Promise<HandoverResult>((res, rej) => { this.#resolve = res; this.#reject = rej; });

  constructor(m: MachineApi, office: Office, to: string, reason: string) {
    super(m);
    this.#office = office;
    this.#to = to;
    this.#reason = reason;
  }

  override office(): Office { return this.#office; }

  override enter(): void {
    this.#office.bind(this);
    void this.#run();
  }

  #event(phase: string, extra: { epoch?: number; detail?: string } = {}): void {
    const d = this.m.d;
    d.publish({ type: 'handover', vip: this.m.name, phase, from: d.nodeId, to: this.#to, at: Date.now(), ...extra });
  }

  #abortTarget(): void {
    const d = this.m.d;
    this.#event('aborted');
    d.send(this.#to, { op: 'abort', vip: this.m.name, from: d.nodeId }, d.handover.maxOverlapMs).catch(() => {});
  }

  /** Nothing moved: owner again (if still in this state), and the caller hears why. */
  #fail(message: string): void {
    this.#abortTarget();
    if (this.active) this.m.go(new OwnerState(this.m, { office: this.#office, reason: 'handover aborted' }), 'handover aborted');
    this.#reject(new HandoverError(message));
  }

  async #run(): Promise<void> {
    const d = this.m.d;
    const to = this.#to;
    const held = this.#office.lease;
    if (to === d.nodeId) return this.#fail(`VIP ${this.m.name}: node ${to} already owns it`);
    const t0 = d.clock.nowMs();
    this.#event('started', { epoch: held.epoch, detail: this.#reason });
    try {
      await d.send(to, { op: 'prepare', vip: this.m.name, from: d.nodeId, epoch: held.epoch, reason: this.#reason }, d.handover.timeoutMs);
    } catch (err) {
      return this.#fail(`VIP ${this.m.name}: target ${to} did not prepare (${(err as Error).message}); nothing moved`);
    }
    const preparedAt = d.clock.nowMs();
    this.#event('prepared');
    if (!this.active) {
      this.#abortTarget();
      return this.#reject(new HandoverError(`VIP ${this.m.name}: this node lost the lease while ${to} prepared`));
    }
    let r;
    try {
      r = await d.lease.handover(this.m.name, held, to, d.timings.ttlMs, this.#reason);
      d.onRedis(true);
    } catch (err) {
      d.onRedis(false, err);
      return this.#fail(`VIP ${this.m.name}: Redis did not take the handover (${(err as Error).message}); nothing moved`);
    }
    if (!r.ok && r.why === 'held') {
      this.#abortTarget();
      if (this.active) this.m.go(new SteppingDownState(this.m, { reason: 'lease-lost', release: false, office: this.#office, claimed: true }), 'lease lost during handover');
      return this.#reject(new HandoverError(`VIP ${this.m.name}: the lease was no longer this node's (holder ${r.holder ? `${r.holder.nodeId}:${r.holder.epoch}` : 'none'})`));
    }
    // Moved (or written without a replica's acknowledgement: the target's confirming assert decides).
    const epoch = r.ok ? r.lease.epoch : (r.written?.epoch ?? held.epoch + 1);
    const closing = d.host.tunnelCount(this.m.name);
    const leaving = new SteppingDownState(this.m, { reason: this.#reason, release: false, office: this.#office, claimed: true, to, commitEpoch: epoch });
    this.m.go(leaving, this.#reason, { to, epoch });
    await leaving.stoppedAccepting;
    const overlapMs = Math.round(d.clock.nowMs() - preparedAt);
    this.m.log.info({ vip: this.m.name, to, epoch, overlapMs, maxOverlapMs: d.handover.maxOverlapMs }, 'make-before-break overlap ended');
    this.#event('moved', { epoch, detail: `overlap ${overlapMs} ms, closing ${closing} clients` });
    await leaving.committed;
    this.#resolve({ vip: this.m.name, oldOwner: d.nodeId, newOwner: to, epoch, tookMs: Math.round(d.clock.nowMs() - t0), overlapMs, closing });
  }

  // ---- office events while the handover runs ------------------------------

  lapsed(): void { this.#leave('authority-expired'); }
  lost(why: string, _holder: LeaseValue | null): void { this.#leave(why.startsWith('peer') ? 'peer-refused' : 'lease-lost'); }
  renewed(): void {}
  granted(): void {}

  #leave(reason: string): void {
    this.#abortTarget();
    this.m.go(new SteppingDownState(this.m, { reason, release: false, office: this.#office, claimed: true }), reason);
    this.#reject(new HandoverError(`VIP ${this.m.name}: the claim ended during the handover (${reason})`));
  }

  override stop(): Promise<void> {
    // A stop during a handover lets the handover finish; the machine stops from whatever state follows.
    return this.result.then(() => undefined, () => undefined);
  }
}
