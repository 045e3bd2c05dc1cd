/**
 * The `bind` VIP driver: there is no address to move. The address already
 * exists on every node (any 127.0.0.0/8 address on one machine, or an
 * address every node may bind), and owning the VIP simply means the owner
 * alone listens on it. Listeners use SO_REUSEPORT so that a planned
 * handover can open the target's listeners before the old owner closes its
 * own (make-before-break, bounded by cluster.handover.maxOverlapMs).
 */
import type { GuardAction, VipContext, VipDriver } from './driver';

/** The bind driver; every method is a no-op by design (see the file comment). */
export class BindDriver implements VipDriver {
  readonly kind = 'bind' as const;
  readonly reusePort = true;
  readonly listenDuringUp = false;
  async up(_ctx: VipContext): Promise<void> { /* the listeners are the VIP */ }
  async down(_ctx: VipContext): Promise<void> { /* closing the listeners is enough */ }
  async announce(_ctx: VipContext): Promise<void> { /* nothing to announce: no address moves */ }
  async cleanup(_ctx: Omit<VipContext, 'epoch'>): Promise<void> { /* a killed owner's listeners died with it */ }
  /** Nothing to move: the guard kills a stalled owner's listeners itself (the node adds them, it knows the ports). */
  guardActions(_ctx: VipContext): GuardAction[] { return []; }
}
