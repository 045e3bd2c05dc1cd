/** `wsha secret generate`: a new cluster secret for the peer link, written to a 0600 file. */
import type { Command } from 'commander';
import { ConfigError, WshaError } from '../../../shared/errors';
import { generateSecret, writeSecretFile } from '../../peer/peer-secret';

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description('the cluster secret that authenticates the peer link');
  secret
    .command('generate')
    .description('write a new random cluster secret (32 bytes) to a file readable by its owner only')
    .requiredOption('--out <file>', 'where to write it (set cluster.secretFile to this path on every node)')
    .option('--force', 'replace an existing file')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  wsha secret generate --out /etc/wsha/cluster.secret\n  # then copy the same file to every node of the cluster\n\nThe secret itself is never printed.\nExit codes: 0 written, 2 the file exists (use --force) or cannot be written.')
    .action((opts: { out: string; force?: boolean; json?: boolean }) => {
      try {
        writeSecretFile(opts.out, generateSecret(), opts.force === true);
      } catch (err) {
        if (err instanceof WshaError) throw err;
        throw new ConfigError(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, file: opts.out, mode: '0600' })}\n`);
      else process.stdout.write(`cluster secret written to ${opts.out} (mode 0600); set cluster.secretFile to it on every node\n`);
    });
}
