/** `wsha config check FILE`: validates a config file without starting anything. */
import type { Command } from 'commander';
import { loadConfig } from '../../../shared/config/load';
import { configWarnings } from '../../../shared/config/warnings';
import { ConfigError, WshaError } from '../../../shared/errors';
import { loadClusterSecret } from '../../peer/peer-secret';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('work with config files');
  config
    .command('check')
    .description('validate a config file; prints every problem with the key it concerns')
    .argument('<file>', 'YAML config file')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  wsha config check deploy/examples/pair-a.yaml\n\nWarnings (a loopback peer address, a cluster secret this environment cannot load) go to stderr and do not change the exit code.\nExit codes: 0 valid, 2 invalid.')
    .action((file: string, opts: { json?: boolean }) => {
      try {
        const c = loadConfig(file);
        const warnings = configWarnings(c, {
          secretProblem: () => {
            try { loadClusterSecret(c.cluster.secretFile); return null; } catch (err) {
              return err instanceof ConfigError ? err.problems.join('; ') || err.message : String(err);
            }
          },
        });
        if (opts.json) process.stdout.write(JSON.stringify({ ok: true, file, node: c.node.id, cluster: c.cluster.name, warnings }) + '\n');
        else {
          process.stdout.write(`${file}: ok (cluster ${c.cluster.name}, node ${c.node.id}, ${c.listeners.length} listener(s), ${Object.keys(c.pools).length} pool(s))\n`);
          for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
        }
      } catch (err) {
        if (!(err instanceof WshaError)) throw err;
        const problems = (err as { problems?: readonly string[] }).problems ?? [];
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, file, code: err.code, error: err.message.split('\n')[0], problems }) + '\n');
        else process.stderr.write(`${err.message}\n`);
        process.exitCode = 2;
      }
    });
}
