/**
 * `exec` VIP driver: the operator's own commands move the address (a cloud
 * floating IP, a router API), as keepalived's notify scripts do.
 *
 * Each configured command string is run by `/bin/sh -c`, with five
 * positional arguments appended, in this order:
 *
 *   $1 ACTION   up | down | announce | cleanup
 *   $2 VIP      the VIP name
 *   $3 ADDRESS  the VIP address
 *   $4 NODE     this node's id
 *   $5 EPOCH    the fencing epoch (0 for cleanup)
 *
 * and the same values in the environment, under two names each:
 *
 *   WSHA_VIP_ACTION  WSHA_ACTION
 *   WSHA_VIP_NAME    WSHA_VIP
 *   WSHA_VIP_ADDRESS WSHA_ADDRESS
 *   WSHA_VIP_NODE    WSHA_NODE
 *   WSHA_VIP_EPOCH   WSHA_EPOCH
 *
 * That, PATH, and the variables named in the VIP's `passEnv` (taken from
 * wsha's own environment, e.g. a cloud CLI's credentials) is the whole
 * environment: nothing else is inherited, so WSHA_ADMIN_TOKEN and
 * WSHA_REDIS_PASSWORD never reach a script (commands.ts).
 *
 *   up()       runs `up` with ACTION=up
 *   down()     runs `down` with ACTION=down
 *   announce() runs `up` again with ACTION=announce (re-assert that the
 *              address points here, after a partition healed)
 *   cleanup()  runs `down` with ACTION=cleanup at start; the script must only
 *              detach the address from THIS node, never from another one.
 *
 * A command that exits non-zero, is killed, or outlives `execTimeoutMs`
 * (its whole process group is then killed) fails with VipDriverError. Its
 * stdout and stderr are logged line by line. The commands should be
 * idempotent: wsha may run `up` when the address is already here.
 */
import type { Logger } from '../../../shared/logger';
import type { VipConfig } from '../../../shared/config/schema';
import { VipDriverError } from '../../../shared/errors';
import type { GuardAction, VipContext, VipDriver } from './driver';
import { SerialQueue } from './serial';
import { describeFailure, runCommand, succeeded } from './commands';
import type { CommandRunner } from './linux';

/** What the operator's command is asked to do. */
export type ExecAction = 'up' | 'down' | 'announce' | 'cleanup';

/** The shell invocation for one action: `/bin/sh -c 'CMD "$@"' wsha-vip ACTION VIP ADDRESS NODE EPOCH`. */
export function execInvocation(command: string, action: ExecAction, ctx: VipContext, passEnv: readonly string[] = [], from: NodeJS.ProcessEnv = process.env): { file: string; args: string[]; env: Record<string, string> } {
  const positional = [action, ctx.vip, ctx.address, ctx.nodeId, String(ctx.epoch)];
  const passed: Record<string, string> = {};
  for (const name of passEnv) { const v = from[name]; if (v !== undefined) passed[name] = v; }
  return {
    file: '/bin/sh',
    // `$0` is the label `wsha-vip`; `"$@"` expands to the five arguments,
    // each quoted, so an address or id never gets split or globbed.
    args: ['-c', `${command} "$@"`, 'wsha-vip', ...positional],
    env: {
      ...passed,
      WSHA_ACTION: action,
      WSHA_VIP: ctx.vip,
      WSHA_ADDRESS: ctx.address,
      WSHA_NODE: ctx.nodeId,
      WSHA_EPOCH: String(ctx.epoch),
      WSHA_VIP_ACTION: action,
      WSHA_VIP_NAME: ctx.vip,
      WSHA_VIP_ADDRESS: ctx.address,
      WSHA_VIP_NODE: ctx.nodeId,
      WSHA_VIP_EPOCH: String(ctx.epoch),
    },
  };
}

/** The exec VIP driver; see the file comment. */
export class ExecDriver implements VipDriver {
  readonly kind = 'exec' as const;
  readonly reusePort = false;
  readonly listenDuringUp = false;
  readonly #vip: VipConfig;
  readonly #up: string;
  readonly #down: string;
  readonly #log: Logger;
  readonly #run: CommandRunner;
  /** Commands run one at a time, in call order (cleanup at start never races up). */
  readonly #serial = new SerialQueue();

  constructor(vip: VipConfig, logger: Logger, run: CommandRunner = runCommand) {
    if (!vip.up || !vip.down) throw new VipDriverError(vip.name, 'exec', 'both up and down commands are required');
    this.#vip = vip;
    this.#up = vip.up;
    this.#down = vip.down;
    this.#log = logger.child({ component: 'vip-driver', driver: 'exec', vip: vip.name });
    this.#run = run;
  }

  up(ctx: VipContext): Promise<void> { return this.#exec(this.#up, 'up', ctx); }

  down(ctx: VipContext): Promise<void> { return this.#exec(this.#down, 'down', ctx); }

  announce(ctx: VipContext): Promise<void> { return this.#exec(this.#up, 'announce', ctx); }

  cleanup(ctx: Omit<VipContext, 'epoch'>): Promise<void> { return this.#exec(this.#down, 'cleanup', { ...ctx, epoch: 0 }); }

  /** The guard runs the down command itself if the process dies or stalls past its deadline. */
  guardActions(ctx: VipContext): GuardAction[] {
    const inv = execInvocation(this.#down, 'down', ctx);
    return [{ kind: 'run', file: inv.file, args: inv.args, env: inv.env, timeoutMs: this.#vip.execTimeoutMs, onDeath: true }];
  }

  #exec(command: string, action: ExecAction, ctx: VipContext): Promise<void> {
    return this.#serial.run(() => this.#execNow(command, action, ctx));
  }

  async #execNow(command: string, action: ExecAction, ctx: VipContext): Promise<void> {
    const inv = execInvocation(command, action, ctx, this.#vip.passEnv ?? []);
    const log = this.#log.child({ action, epoch: ctx.epoch });
    // The names of passed variables, never their values.
    log.info({ command, passEnv: this.#vip.passEnv ?? [] }, 'running vip command');
    const r = await this.#run(inv.file, inv.args, { timeoutMs: this.#vip.execTimeoutMs, logger: log, env: inv.env });
    if (!succeeded(r)) {
      log.error({ code: r.code, signal: r.signal, timedOut: r.timedOut, durationMs: r.durationMs }, 'vip command failed');
      throw new VipDriverError(this.#vip.name, 'exec', `${action} command failed: ${describeFailure(r)}`);
    }
    log.info({ durationMs: r.durationMs }, 'vip command done');
  }
}
