/** `wsha nodes`: the nodes of the cluster from their heartbeats. */
import type { Command } from 'commander';
import { collectStatus } from '../../status/collect';
import { renderNodes } from '../../status/render';
import { action } from '../exit';
import { printJson } from '../format';
import { addTargetOptions, withTarget, type TargetOptions } from '../redis-target';

/** Registers `wsha nodes` on the program. */
export function registerNodesCommand(program: Command): void {
  const cmd = program
    .command('nodes')
    .description('list the nodes: address, role, state, priority, heartbeat age, version, uptime, connections')
    .option('--json', 'print a JSON array (the "nodes" of `wsha status --json`)');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExample:\n  wsha nodes --redis redis://127.0.0.1:6379 --cluster demo\n\nExit codes: 0 every listed node alive, 1 some node not seen, 3 Redis unreachable.')
    .action(action(async (opts: TargetOptions & { json?: boolean }) => {
      await withTarget(opts, async (t) => {
        const doc = await collectStatus({ redis: t.redis, keys: t.keys, address: t.address, config: t.config });
        if (opts.json) printJson(doc.nodes);
        else process.stdout.write(renderNodes(doc.nodes));
        process.exitCode = doc.nodes.every((n) => n.alive) ? 0 : 1;
      });
    }));
}
