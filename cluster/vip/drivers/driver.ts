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

/**
 * What the VIP guard (cluster/vip/guard/) does for a VIP on its own when the
 * node's process dies, or stalls past its guard deadline: the address goes
 * first, before any standby may bring it up elsewhere. `ip-del` removes an
 * address (through a warm `ip` batch process, else `ip addr del`); `run`
 * executes a command (the exec driver's down script); `kill-listeners`
 * destroys the listening sockets on ADDRESS:PORT (ss -K), for the bind
 * driver, whose listeners are the VIP. `onDeath` false: only on a stall (a
 * dead process's sockets are already gone).
 */
export type GuardAction =
  | { kind: 'run'; file: string; args: string[]; env?: Record<string, string>; timeoutMs: number; onDeath: boolean }
  | { kind: 'ip-del'; address: string; prefix: number; dev: string; timeoutMs: number; onDeath: boolean }
  | { kind: 'kill-listeners'; address: string; ports: number[]; onDeath: boolean };

export interface VipDriver {
  readonly kind: 'bind' | 'linux' | 'exec';
  /** Whether the node's VIP listeners must be opened with SO_REUSEPORT (make-before-break on one address). */
  readonly reusePort: boolean;
  /**
   * Whether the listeners may be opened while up() runs, their binds waiting for the address to become local
   * (linux: the add is one netlink change, and the gratuitous ARP leaves with it, so listeners opened only after
   * up() resolved came late for the first repointed clients). False: listeners after up() (an exec script may
   * do anything, bind has nothing to wait for).
   */
  readonly listenDuringUp: boolean;
  /** Brings the address up on this node. Throws VipDriverError. */
  up(ctx: VipContext): Promise<void>;
  /** Takes the address down on this node. Throws VipDriverError. */
  down(ctx: VipContext): Promise<void>;
  /** Re-announces the address (GARP/NA) after a partition heals or a rival claim is resolved. */
  announce(ctx: VipContext): Promise<void>;
  /** The guard's actions while this node holds the VIP (see GuardAction). */
  guardActions(ctx: VipContext): GuardAction[];
  /** Removes a leftover address at start (a killed node may have left it). */
  cleanup(ctx: Omit<VipContext, 'epoch'>): Promise<void>;
}
