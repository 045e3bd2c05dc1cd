/**
 * `wsha drain NODE` and `wsha undrain NODE`: maintenance mode. Drain hands
 * every VIP of the node to another node and keeps it from acquiring any
 * (it survives restarts) until undrain.
 */
import type { Command } from 'commander';
import { drain, leasesOf, undrain } from '../../control/drain';
import { withBus } from '../../control/failover';
import { ProgressLine, clientsBefore, followClients, withTicker } from '../progress';
import { action } from '../exit';
import { cliActor } from '../../events/actor';
import { printJson } from '../format';
import { addTargetOptions, withTarget, type TargetOptions } from '../redis-target';

interface Flags extends TargetOptions { json?: boolean }

/** Registers `wsha drain` and `wsha undrain` on the program. */
export function registerDrainCommands(program: Command): void {
  const d = program
    .command('drain')
    .description('put a node in maintenance: hand its VIPs to other nodes and keep it from taking any until `wsha undrain`')
    .argument('<node>', 'node id')
    .option('--json', 'print the handovers as a JSON array of {vip, oldOwner, newOwner, epoch, tookMs}');
  addTargetOptions(d)
    .addHelpText('after', '\nExample:\n  wsha drain node-a --config /etc/wsha/node-b.yaml\n\nExit codes: 0 drained, 1 refused (no eligible target: nothing changed), 3 Redis unreachable, 4 unknown node.')
    .action(action(async (node: string, f: Flags) => {
      await withTarget(f, async (t) => {
        const line = new ProgressLine(!f.json);
        const results = await withBus(t.redis, t.keys, async (bus) => {
          const owned = line.on ? await leasesOf(t.redis, t.keys, node) : [];
          const before = new Map<string, number>();
          for (const { vip } of owned) before.set(vip, (await clientsBefore(bus, node, undefined, vip)).from);
          const moved = await withTicker(line, () => `draining ${node}: handing over ${owned.length ? owned.map((l) => l.vip).join(', ') : 'its VIPs'}`,
            drain(t.redis, t.keys, node, { timeoutMs: t.config?.cluster.handover.timeoutMs, heartbeatTimeoutMs: t.config?.cluster.heartbeat.timeoutMs, by: cliActor(), bus }));
          // Every VIP's clients were told to reconnect; they are followed one VIP after the other.
          for (const m of moved) await followClients(line, bus, { vip: m.vip, from: m.oldOwner, to: m.newOwner, before: { from: before.get(m.vip) ?? 0, to: 0 } });
          return moved;
        });
        if (f.json) return printJson(results);
        process.stdout.write(`node ${node} drained${results.length ? '' : ' (it owned no VIP)'}\n`);
        for (const r of results) process.stdout.write(`  VIP ${r.vip} moved ${r.oldOwner} -> ${r.newOwner} (epoch ${r.epoch}) in ${r.tookMs} ms\n`);
      });
    }));

  const u = program
    .command('undrain')
    .description('take a node out of maintenance: it may own VIPs again')
    .argument('<node>', 'node id')
    .option('--json', 'print the result as JSON');
  addTargetOptions(u)
    .addHelpText('after', '\nExample:\n  wsha undrain node-a --redis redis://127.0.0.1:6379 --cluster demo\n\nExit codes: 0 done, 3 Redis unreachable.')
    .action(action(async (node: string, f: Flags) => {
      await withTarget(f, async (t) => {
        const r = await undrain(t.redis, t.keys, node, cliActor());
        if (f.json) printJson(r);
        else process.stdout.write(`node ${node} ${r.wasDrained ? 'is no longer drained' : 'was not drained'}\n`);
      });
    }));
}
