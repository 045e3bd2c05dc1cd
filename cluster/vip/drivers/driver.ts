/**
 * A VIP driver moves the virtual address to this node (up) and away (down).
 * `bind`: nothing to move, the owner alone listens on the address.
 * `linux`: ip addr add/del plus gratuitous ARP / unsolicited NA.
 * `exec`: the operator's own up/down commands (cloud floating IPs).
 * Every method is idempotent: up twice is up, down when down is fine.
 */
export interface VipContext {
  vip: string;
  address: string;
  nodeId: string;
  epoch: number;
}

export interface VipDriver {
  readonly kind: 'bind' | 'linux' | 'exec';
  /** Whether the node's VIP listeners must be opened with SO_REUSEPORT (make-before-break on one address). */
  readonly reusePort: boolean;
  /** Brings the address up on this node. Throws VipDriverError. */
  up(ctx: VipContext): Promise<void>;
  /** Takes the address down on this node. Throws VipDriverError. */
  down(ctx: VipContext): Promise<void>;
  /** Re-announces the address (GARP/NA) after a partition heals or a rival claim is resolved. */
  announce(ctx: VipContext): Promise<void>;
  /** Removes a leftover address at start (a killed node may have left it). */
  cleanup(ctx: Omit<VipContext, 'epoch'>): Promise<void>;
}
