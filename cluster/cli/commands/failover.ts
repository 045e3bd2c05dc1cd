/**
 * `wsha failover`: planned handover of a VIP to another node (make before
 * break; the old owner then closes its clients with 1012 so they reconnect
 * to the new owner at once).
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../../../shared/config/defaults';
import { ConfigError } from '../../../shared/errors';
import { failover, withBus } from '../../control/failover';
import { parseLease } from '../../vip/lease';
import { ProgressLine, clientsBefore, followClients, withTicker } from '../progress';
import { discoverKeys } from '../../status/discover';
import { action } from '../exit';
import { cliActor } from '../../events/actor';
import { printJson } from '../format';
import { addTargetOptions, withTarget, type Target, type TargetOptions } from '../redis-target';

interface FailoverFlags extends TargetOptions { vip?: string; to?: string; json?: boolean; handoverTimeout?: string }

/** The VIP to move: the one named, or the only one the cluster has. */
async function pickVip(t: Target, named: string | undefined): Promise<string> {
  if (named) return named;
  const names = new Set((t.config?.vips ?? []).map((v) => v.name));
  for (const n of (await discoverKeys(t.redis, t.keys)).vips) names.add(n);
  if (names.size === 1) return [...names][0];
  throw new ConfigError(names.size ? `say which VIP with --vip (one of: ${[...names].sort().join(', ')})` : 'no VIP has an owner: nothing to fail over');
}

/** Registers `wsha failover` on the program. */
export function registerFailoverCommand(program: Command): void {
  const cmd = program
    .command('failover')
    .description('move a VIP to another node now (planned handover, no client refused); the old owner closes its clients with 1012')
    .option('--vip <name>', 'VIP to move (may be left out when the cluster has one VIP)')
    .option('--to <node>', 'target node (default: the best live standby by priority)')
    .option('--handover-timeout <ms>', 'give up after this long', String(DEFAULTS.handover.timeoutMs))
    .option('--json', 'print the result as JSON: {vip, oldOwner, newOwner, epoch, tookMs}');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExamples:\n  wsha failover --config /etc/wsha/node-a.yaml --vip front\n  wsha failover --redis redis://127.0.0.1:6379 --cluster demo --vip front --to node-b --json\n\nExit codes: 0 moved, 1 refused or failed (WSHA_ERR_HANDOVER: unknown or unfit target, VIP without owner; nothing moved unless said), 2 bad usage (several VIPs and no --vip), 3 Redis unreachable.')
    .action(action(async (f: FailoverFlags) => {
      await withTarget(f, async (t) => {
        const vip = await pickVip(t, f.vip);
        const line = new ProgressLine(!f.json);
        const r = await withBus(t.redis, t.keys, async (bus) => {
          const from = parseLease(await t.redis.get(t.keys.lease(vip)))?.nodeId;
          const before = line.on && from ? await clientsBefore(bus, from, f.to, vip) : { from: 0, to: 0 };
          const moved = await withTicker(line, () => `VIP ${vip}: handing over${from ? ` from ${from}` : ''}${f.to ? ` to ${f.to}` : ''}`, failover(t.redis, t.keys, {
            vip, to: f.to, timeoutMs: Number(f.handoverTimeout) || t.config?.cluster.handover.timeoutMs,
            heartbeatTimeoutMs: t.config?.cluster.heartbeat.timeoutMs, reason: 'failover (cli)', by: cliActor(),
          }, bus));
          // The clients of the old owner leave with 1012 and come back to the new one: shown while it lasts.
          await followClients(line, bus, { vip, from: moved.oldOwner, to: moved.newOwner, before: f.to ? before : { from: before.from, to: 0 } });
          return moved;
        });
        if (f.json) printJson(r);
        else process.stdout.write(`VIP ${r.vip} moved ${r.oldOwner} -> ${r.newOwner} (epoch ${r.epoch}) in ${r.tookMs} ms${r.closing !== undefined ? `; ${r.closing} client(s) told to reconnect` : ''}\n`);
      });
    }));
}
