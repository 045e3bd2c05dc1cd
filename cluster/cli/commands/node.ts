/** `wsha node start --config FILE`: runs one proxy node in the foreground. */
import type { Command } from 'commander';
import { runNode } from '../../node-process/run-node';

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('run a proxy node');
  node
    .command('start')
    .description('start one proxy node in the foreground (SIGHUP reloads the config, SIGTERM drains and exits)')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .addHelpText('after', '\nExample:\n  wsha node start --config deploy/examples/pair-a.yaml')
    .action(async (opts: { config: string }) => {
      await runNode(opts.config);
    });
}
