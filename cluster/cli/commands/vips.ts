/** `wsha vips`: each VIP with its owner, fencing epoch and last change. */
import type { Command } from 'commander';
import { collectStatus } from '../../status/collect';
import { renderVips } from '../../status/render';
import { action } from '../exit';
import { printJson } from '../format';
import { addTargetOptions, withTarget, type TargetOptions } from '../redis-target';

/** Registers `wsha vips` on the program. */
export function registerVipsCommand(program: Command): void {
  const cmd = program
    .command('vips')
    .description('list the VIPs: owner, epoch, since, reason, preempt, driver')
    .option('--json', 'print a JSON array (the "vips" of `wsha status --json`)');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExample:\n  wsha vips --config /etc/wsha/node-a.yaml --json\n\nExit codes: 0 every VIP has an owner, 2 some VIP has none, 3 Redis unreachable.')
    .action(action(async (opts: TargetOptions & { json?: boolean }) => {
      await withTarget(opts, async (t) => {
        const doc = await collectStatus({ redis: t.redis, keys: t.keys, address: t.address, config: t.config });
        if (opts.json) printJson(doc.vips);
        else process.stdout.write(renderVips(doc.vips));
        process.exitCode = doc.vips.every((v) => v.owner) ? 0 : 2;
      });
    }));
}
