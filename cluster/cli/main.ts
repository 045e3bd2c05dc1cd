#!/usr/bin/env node
/**
 * The `wsha` command. Each subcommand lives in cluster/cli/commands/ and
 * registers itself on the program; this file only assembles them.
 */
import { Command } from 'commander';
import { registerNodeCommands } from './commands/node';
import { registerConfigCommands } from './commands/config';
import { registerCertCommands } from './commands/cert';
import { registerStatusCommand } from './commands/status';
import { registerNodesCommand } from './commands/nodes';
import { registerVipsCommand } from './commands/vips';
import { registerVipCleanupCommand } from './commands/vip-cleanup';
import { registerDemoCommand } from './commands/demo';
import { registerFailoverCommand } from './commands/failover';
import { registerDrainCommands } from './commands/drain';
import { registerBackendsCommands } from './commands/backends';
import { registerSessionsCommand } from './commands/sessions';
import { registerSecretCommands } from './commands/secret';
import { registerEventsCommand } from './commands/events';
import { reportError } from './exit';

export function buildProgram(): Command {
  const program = new Command('wsha')
    .description('highly available WebSocket reverse-proxy cluster')
    .version(require('../../../package.json').version)
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerNodeCommands(program);
  registerConfigCommands(program);
  registerCertCommands(program);
  registerStatusCommand(program);
  registerNodesCommand(program);
  registerVipsCommand(program);
  registerVipCleanupCommand(program);
  registerDemoCommand(program);
  registerFailoverCommand(program);
  registerDrainCommands(program);
  registerBackendsCommands(program);
  registerSessionsCommand(program);
  registerSecretCommands(program);
  registerEventsCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err) => {
    reportError(err);
  });
}
