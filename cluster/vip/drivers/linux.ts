/**
 * `linux` VIP driver: the owner adds the VIP to a real interface with
 * `ip addr add ADDRESS/PREFIX dev IFACE` and tells the segment at once, so
 * that clients and switches stop sending to the host that lost it:
 *
 *   IPv4  gratuitous ARP, sent `garpCount` times `garpIntervalMs` apart (all
 *         in the background: the first at once), and again on every
 *         announce() (partition healed, rival claim resolved). In a node the
 *         VIP guard sends them from a raw sender it keeps open
 *         (guard/garp-sender.ts), the first one straight after its `ip` add;
 *         otherwise, and as the fallback, `arping -U -c 1 -I IFACE ADDRESS`.
 *   IPv6  unsolicited neighbour advertisement (override flag): up() sets
 *         net.ipv6.conf.IFACE.ndisc_notify=1 and accept_dad=0, so the address
 *         is usable at once (a tentative address cannot be bound) and the
 *         kernel advertises it when it is added; then, as for IPv4, a series
 *         of `na6 -i IFACE -s ADDRESS -d ff02::1 -t ADDRESS -o -e` (ipv6toolkit)
 *         on up() and every announce(). Without na6 on the PATH only the
 *         kernel's one NA at up() goes out (logged once).
 *
 * down() removes the address; cleanup() is down() at start, for the address a
 * killed node left behind. Every method is idempotent: when `ip` fails, the
 * driver looks at the interface and accepts the state it wanted.
 * `reusePort` is false, `listenDuringUp` true: the node opens its VIP
 * listeners while up() adds the address, each bind tried again until the
 * address is local (binding needs that).
 */
import { isIP } from 'node:net';
import type { Logger } from '../../../shared/logger';
import type { VipConfig } from '../../../shared/config/schema';
import { DEFAULTS } from '../../../shared/config/defaults';
import { VipDriverError } from '../../../shared/errors';
import type { GuardAction, VipContext, VipDriver } from './driver';
import { SerialQueue } from './serial';
import { describeFailure, runCommand, succeeded, type CommandResult, type RunOptions } from './commands';
import { listsAddress } from './address-text';
import { IpBatch } from './ip-batch';

/** Timeout of one `ip` or `arping` run. */
const TOOL_TIMEOUT_MS = 3000;

/** Runs a command; injectable so that unit tests can record argument lists (the node runs them in its VIP guard). */
export type CommandRunner = (file: string, args: readonly string[], opts: RunOptions) => Promise<CommandResult>;

/** Keeps a command spawned ahead of need in the VIP guard, so that a run with `warm` costs an exec (the announcement). */
export type PrepareCommand = (file: string, args: readonly string[], env?: Record<string, string>) => void;

/**
 * Adds or removes an address quickly (a warm `ip` batch, in the VIP guard); resolves with whether it is present.
 * `announce`: after an add, send the first gratuitous ARP at once where the change ran; `announced` says whether it went.
 */
export type IpChange = (action: 'add' | 'del', address: string, prefix: number, dev: string, announce?: boolean) => Promise<{ present: boolean; announced?: boolean }>;

/** Gratuitous ARPs from a raw sender kept open (the VIP guard's); `send` is false when there is none ready. */
export interface GarpPort {
  prepare(dev: string): void;
  send(dev: string, address: string): Promise<boolean>;
}

export { canonicalAddress, listsAddress } from './address-text';

/** `ip` arguments to add or delete the VIP. */
export function ipAddrArgs(action: 'add' | 'del', address: string, prefix: number, iface: string): string[] {
  const family = isIP(address) === 6 ? '-6' : '-4';
  return [family, 'addr', action, `${address}/${prefix}`, 'dev', iface];
}

/** `ip` arguments that list the interface's addresses of the VIP's family, one per line. */
export function ipShowArgs(address: string, iface: string): string[] {
  return [isIP(address) === 6 ? '-6' : '-4', '-o', 'addr', 'show', 'dev', iface];
}

/** `arping` arguments for one gratuitous (unsolicited) ARP announcing the address. */
export function arpingArgs(address: string, iface: string): string[] {
  return ['-U', '-c', '1', '-w', '1', '-I', iface, address];
}

/**
 * `sysctl` arguments for an IPv6 VIP interface: unsolicited NA when an address
 * is added (ndisc_notify), and no DAD, which would keep the address tentative
 * (unbindable) for a second and suppress that NA. Slash-separated keys, so an
 * interface name with a dot (eth0.100) stays one path element.
 */
export function ipv6SysctlArgs(iface: string): string[] {
  return ['-q', '-w', `net/ipv6/conf/${iface}/ndisc_notify=1`, `net/ipv6/conf/${iface}/accept_dad=0`];
}

/** `na6` arguments for one unsolicited NA (override flag, own link-layer address) to all nodes. */
export function na6Args(address: string, iface: string): string[] {
  return ['-i', iface, '-s', address, '-d', 'ff02::1', '-t', address, '-o', '-e'];
}


/** The Linux VIP driver; see the file comment. */
export class LinuxDriver implements VipDriver {
  readonly kind = 'linux' as const;
  readonly reusePort = false;
  readonly listenDuringUp = true;
  readonly #vip: VipConfig;
  readonly #iface: string;
  readonly #prefix: number;
  readonly #v6: boolean;
  readonly #log: Logger;
  readonly #run: CommandRunner;
  /** up/down/cleanup run one at a time, in call order. */
  readonly #serial = new SerialQueue();
  /** Pending repetitions of the current GARP series; cleared by down() and by a new series. */
  #garpTimers: NodeJS.Timeout[] = [];
  /** Set once `na6` turned out not to be installed; IPv6 then relies on the kernel's NA at add. */
  #na6Missing = false;

  /** Fast add/del (the takeover's critical path); null with an injected runner and no ipChange (tests). */
  readonly #ipChange: IpChange | null;
  /** A batch process of this driver's own, when no ipChange was given (the CLI's `vip cleanup`). */
  readonly #batch: IpBatch | null;
  /** The raw GARP sender (IPv4, in a node); null: every announcement runs arping. */
  readonly #garp: GarpPort | null;

  constructor(vip: VipConfig, logger: Logger, run: CommandRunner = runCommand, ipChange?: IpChange, prepare?: PrepareCommand, garp?: GarpPort) {
    if (!vip.interface) throw new VipDriverError(vip.name, 'linux', 'no interface configured');
    this.#vip = vip;
    this.#iface = vip.interface;
    this.#v6 = isIP(vip.address) === 6;
    this.#prefix = vip.prefix ?? (this.#v6 ? DEFAULTS.vip.prefixV6 : DEFAULTS.vip.prefixV4);
    this.#log = logger.child({ component: 'vip-driver', driver: 'linux', vip: vip.name });
    this.#run = run;
    this.#batch = !ipChange && run === runCommand ? new IpBatch() : null;
    this.#batch?.warm();
    const batch = this.#batch;
    this.#ipChange = ipChange ?? (batch ? (a, addr, p, d) => batch.change(a, addr, p, d) : null);
    this.#garp = !this.#v6 && garp ? garp : null;
    // The first announcement after a takeover is on the critical path: have it waiting in the guard
    // (arping too, for when the raw sender is not there).
    if (vip.garpCount > 0) {
      this.#garp?.prepare(this.#iface);
      prepare?.(...this.#announcement());
    }
  }

  /** The announcement command: a gratuitous ARP (IPv4) or an unsolicited NA (IPv6). */
  #announcement(): [string, string[]] {
    return this.#v6 ? ['na6', na6Args(this.#vip.address, this.#iface)] : ['arping', arpingArgs(this.#vip.address, this.#iface)];
  }

  up(ctx: VipContext): Promise<void> { return this.#serial.run(() => this.#up(ctx)); }

  down(ctx: VipContext): Promise<void> { return this.#serial.run(() => this.#down(ctx)); }

  async #up(ctx: VipContext): Promise<void> {
    if (this.#v6) await this.#prepareIpv6();
    const announced = await this.#ensure('add', this.#garp !== null && this.#vip.garpCount > 0);
    this.#log.info({ address: this.#vip.address, iface: this.#iface, epoch: ctx.epoch, announced }, 'vip address added');
    this.#series(ctx, announced);
  }

  async #down(ctx: VipContext): Promise<void> {
    this.#cancelGarps();
    await this.#ensure('del');
    this.#log.info({ address: this.#vip.address, iface: this.#iface, epoch: ctx.epoch }, 'vip address removed');
  }

  announce(ctx: VipContext): Promise<void> {
    this.#series(ctx, false);
    return Promise.resolve();
  }

  /** A series of `garpCount` announcements; `firstSent`: the first already went out with the address add. */
  #series(ctx: VipContext, firstSent: boolean): void {
    this.#cancelGarps();
    const count = this.#vip.garpCount;
    if (count === 0 || (this.#v6 && this.#na6Missing)) return;
    // Not awaited: arping sends at once but then lingers for its one-second
    // reply window (iputils takes whole seconds only), which must not delay
    // the takeover. A failed announcement does not undo ownership either: the
    // address answers ARP/NS; neighbours just learn the new MAC later (logged).
    if (!firstSent) void this.#announceOnce(ctx.epoch);
    for (let i = 1; i < count; i++) {
      const t = setTimeout(() => { void this.#announceOnce(ctx.epoch); }, i * this.#vip.garpIntervalMs);
      t.unref();
      this.#garpTimers.push(t);
    }
  }

  cleanup(ctx: Omit<VipContext, 'epoch'>): Promise<void> { return this.down({ ...ctx, epoch: 0 }); }

  /** The guard removes the address itself if the process dies or stalls past its deadline. */
  guardActions(_ctx: VipContext): GuardAction[] {
    return [{ kind: 'ip-del', address: this.#vip.address, prefix: this.#prefix, dev: this.#iface, timeoutMs: TOOL_TIMEOUT_MS, onDeath: true }];
  }

  /** Stops a GARP series in flight and the ip batch process (tests, shutdown). */
  close(): void {
    this.#cancelGarps();
    this.#batch?.close();
  }

  #cancelGarps(): void {
    for (const t of this.#garpTimers) clearTimeout(t);
    this.#garpTimers = [];
  }

  /** One gratuitous ARP (IPv4) or unsolicited NA (IPv6). */
  async #announceOnce(epoch: number): Promise<boolean> {
    if (this.#v6 && this.#na6Missing) return false;
    if (this.#garp && await this.#garp.send(this.#iface, this.#vip.address)) return true;
    const [file, args] = this.#announcement();
    const r = await this.#run(file, args, { timeoutMs: TOOL_TIMEOUT_MS, logger: this.#log, quiet: true, warm: true });
    if (this.#v6 && (r.spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      this.#na6Missing = true;
      this.#log.warn({ epoch }, 'na6 (ipv6toolkit) not installed: only the kernel\'s NA at address add goes out; install it for repeated and re-announced NAs');
      return false;
    }
    if (!succeeded(r)) this.#log.warn({ epoch, tool: file, reason: describeFailure(r) }, 'announcement failed; neighbours learn the new owner only when their cache entry expires');
    return succeeded(r);
  }

  /**
   * Adds or deletes the address; a failure is accepted when the interface already is as wanted.
   * Resolves with whether the first announcement already went out with the add (`announce`).
   */
  async #ensure(action: 'add' | 'del', announce = false): Promise<boolean> {
    if (this.#ipChange) {
      try {
        const b = await this.#ipChange(action, this.#vip.address, this.#prefix, this.#iface, announce);
        if (b.present === (action === 'add')) return b.announced === true;
        throw new VipDriverError(this.#vip.name, 'linux', `ip addr ${action} ${this.#vip.address}/${this.#prefix} dev ${this.#iface}: no effect`);
      } catch (err) {
        if (err instanceof VipDriverError) throw err;
        this.#log.warn({ err: (err as Error).message }, 'ip batch process failed; running ip instead');
      }
    }
    const r = await this.#run('ip', ipAddrArgs(action, this.#vip.address, this.#prefix, this.#iface), { timeoutMs: TOOL_TIMEOUT_MS, logger: this.#log });
    if (succeeded(r)) return false;
    const present = await this.#present();
    if (present === (action === 'add')) return false;
    throw new VipDriverError(this.#vip.name, 'linux', `ip addr ${action} ${this.#vip.address}/${this.#prefix} dev ${this.#iface}: ${describeFailure(r)}`);
  }

  /** Whether the address is on the interface now; null (treated as unknown) when `ip` itself fails. */
  async #present(): Promise<boolean | null> {
    const r = await this.#run('ip', ipShowArgs(this.#vip.address, this.#iface), { timeoutMs: TOOL_TIMEOUT_MS, logger: this.#log, quiet: true });
    if (!succeeded(r)) return null;
    return listsAddress(r.stdout, this.#vip.address);
  }

  /** Sysctls through the runner, so they apply in the namespace the commands run in. */
  async #prepareIpv6(): Promise<void> {
    const r = await this.#run('sysctl', ipv6SysctlArgs(this.#iface), { timeoutMs: TOOL_TIMEOUT_MS, logger: this.#log });
    if (!succeeded(r)) throw new VipDriverError(this.#vip.name, 'linux', `cannot set ndisc_notify/accept_dad on ${this.#iface}: ${describeFailure(r)}`);
  }
}
