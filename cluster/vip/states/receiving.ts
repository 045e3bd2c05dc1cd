/**
 * receiving: the target of a planned handover (see handing-off.ts). With
 * bind it opens the VIP's listeners at once (make-before-break); with
 * linux/exec it opens nothing until the lease is its own. It becomes owner
 * on the old owner's commit, or by finding the lease its own when it looks
 * (every COMMIT_POLL_MS, in case the commit message is lost); it confirms
 * the lease with lease-assert first, which also starts its own clock. No
 * commit within maxOverlapMs: it closes what it opened.
 */
import { HandoverError } from '../../../shared/errors';
import { StateHandler, type MachineApi } from './state';
import { OwnerState } from './owner';
import { SteppingDownState } from './stepping-down';

/** How often the target looks for the lease itself. */
const COMMIT_POLL_MS = 25;

export class ReceivingState extends StateHandler {
  readonly name = 'receiving' as const;
  readonly #from: string;
  readonly #epoch: number;
  #committing: Promise<{ epoch: number }> | null = null;
  #prepared!: () => void;
  #notPrepared!: (e: Error) => void;
  /** Settles once the VIP is prepared here (or could not be). */
  readonly prepared: Promise<{ prepared: true }>;

  constructor(m: MachineApi, from: string, epoch: number) {
    super(m);
    this.#from = from;
    this.#epoch = epoch;
    this.prepared = new Promise<void>((res, rej) => { this.#prepared = res; this.#notPrepared = rej; }).then(() => ({ prepared: true as const }));
  }

  override enter(): void { void this.#prepare(); }

  async #prepare(): Promise<void> {
    const d = this.m.d;
    if (d.driver.reusePort) {
      try {
        await d.driver.up({ vip: this.m.name, address: d.vip.address, nodeId: d.nodeId, epoch: this.#epoch });
        // The make-before-break overlap: this node serves before the commit, for at most maxOverlapMs (it gives up
        // then). A fence left revoked by an earlier step-down here would otherwise answer those clients 503.
        d.host.fence(this.m.name, d.clock.nowMs() + d.handover.maxOverlapMs);
        await d.host.openVip(this.m.name, d.vip.address, { reusePort: true });
      } catch (err) {
        this.#giveUp('could not open the VIP');
        return this.#notPrepared(new HandoverError(`node ${d.nodeId} could not open VIP ${this.m.name}: ${(err as Error).message}`));
      }
    }
    if (!this.active) return this.#notPrepared(new HandoverError(`node ${d.nodeId}: handover of ${this.m.name} aborted while preparing`));
    this.after(d.handover.maxOverlapMs, () => this.#giveUp(`no commit within maxOverlapMs (${d.handover.maxOverlapMs} ms)`));
    this.after(COMMIT_POLL_MS, () => void this.#poll());
    this.#prepared();
  }

  async #poll(): Promise<void> {
    const d = this.m.d;
    const r = await d.lease.read(this.m.name).catch(() => null);
    if (!this.active) return;
    if (r?.holder?.nodeId === d.nodeId) { void this.commit(r.holder.epoch).catch(() => {}); return; }
    this.after(COMMIT_POLL_MS, () => void this.#poll());
  }

  override commit(epoch: number): Promise<{ epoch: number }> {
    this.#committing ??= this.#commit(epoch);
    return this.#committing;
  }

  async #commit(epoch: number): Promise<{ epoch: number }> {
    const d = this.m.d;
    const lease = { nodeId: d.nodeId, epoch };
    const start = d.clock.nowMs();
    let r;
    try {
      r = await d.lease.assert(this.m.name, lease, d.timings.ttlMs);
      d.onRedis(true);
    } catch (err) {
      d.onRedis(false, err);
      this.#giveUp('could not confirm the lease');
      throw new HandoverError(`node ${d.nodeId}: could not confirm the lease of ${this.m.name}: ${(err as Error).message}`);
    }
    if (!r.ok) {
      this.#giveUp(r.why === 'held' ? 'the lease is not ours' : 'no replica acknowledged the lease');
      throw new HandoverError(`node ${d.nodeId}: lease of ${this.m.name} is not ${d.nodeId}:${epoch}`);
    }
    if (!this.active) throw new HandoverError(`node ${d.nodeId}: handover of ${this.m.name} aborted`);
    this.m.go(new OwnerState(this.m, { lease, renewStartMs: start, reason: 'handover', previous: this.#from }), 'handover', { epoch });
    return { epoch };
  }

  override abort(from: string): Promise<{ aborted: boolean }> {
    if (from && from !== this.#from) return Promise.resolve({ aborted: false });
    this.#giveUp('aborted by the owner');
    return Promise.resolve({ aborted: true });
  }

  #giveUp(why: string): void {
    if (!this.active) return;
    this.m.log.warn({ from: this.#from, why }, 'handover not completed; closing the prepared VIP');
    this.m.go(new SteppingDownState(this.m, { reason: `handover-aborted: ${why}`, release: false, office: null, claimed: false }), why);
  }

  override stop(): Promise<void> {
    const next = new SteppingDownState(this.m, { reason: 'shutdown', release: false, office: null, claimed: false });
    this.m.go(next, 'shutdown');
    return next.done;
  }
}
