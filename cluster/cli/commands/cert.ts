/** `wsha cert generate`: writes a self-signed key and certificate (with SANs) for a TLS listener. */
import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { writeCertificate, CertFileExistsError } from '../../../shared/tls/cert-files';
import { DEFAULT_CERT_DAYS } from '../../../shared/tls/self-signed';
import { EXIT } from '../exit';

/** Longest validity accepted, about a hundred years; beyond that notAfter encodings get odd. */
const MAX_CERT_DAYS = 36500;
const DNS_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Exit codes of `wsha cert generate`, the CLI's usual ones: action failed 1, bad usage 2. */
export const CERT_EXIT = Object.freeze({ ok: EXIT.ok, cannotWrite: EXIT.degraded, badArguments: EXIT.down });

function parseDays(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_CERT_DAYS) throw new InvalidArgumentError(`expected a whole number of days from 1 to ${MAX_CERT_DAYS}`);
  return n;
}

function collectSan(v: string, prev: string[] = []): string[] {
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if (isIP(bare) === 0 && !DNS_NAME.test(v)) throw new InvalidArgumentError(`expected a DNS name (optionally *.name) or an IP address, got ${JSON.stringify(v)}`);
  return [...prev, v];
}

/** The SANs written: the --san values, plus the CN when it is a host name or address (clients check SANs, not the CN). */
export function sansFor(cn: string, sans: string[]): string[] {
  const all = [...sans];
  if ((isIP(cn) !== 0 || DNS_NAME.test(cn)) && !all.some((s) => s.toLowerCase() === cn.toLowerCase())) all.unshift(cn);
  return all;
}

/** Registers `wsha cert ...` on the program. */
export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('TLS certificates for listeners');
  cert
    .command('generate')
    .description('write a self-signed certificate and its key (DIR/cert.pem, DIR/key.pem mode 0600)')
    .requiredOption('--cn <name>', 'subject common name (also added as a SAN when it is a host name or address)')
    .option('--san <name>', 'subject alternative name: DNS name, *.wildcard or IP address (repeatable)', collectSan)
    .requiredOption('--out <dir>', 'directory to write cert.pem and key.pem into (created if missing)')
    .option('--days <n>', `validity in days (default ${DEFAULT_CERT_DAYS})`, parseDays)
    .option('--force', 'overwrite existing files')
    .option('--json', 'print the written paths as JSON')
    // Usage errors (missing --cn/--out, a bad --san or --days) exit 2 like other bad usage; commander's default is 1.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? CERT_EXIT.ok : CERT_EXIT.badArguments))
    .addHelpText('after', [
      '',
      'Example:',
      '  wsha cert generate --cn chat.example.com --san "*.chat.example.com" --san 127.0.0.1 --out ./certs',
      '',
      'Then point a listener at the files:',
      '  tls: { certs: [ { cert: ./certs/cert.pem, key: ./certs/key.pem } ] }',
      '',
      'Exit codes: 0 written, 1 cannot write (files exist without --force, permissions), 2 bad arguments.',
    ].join('\n'))
    .action((opts: { cn: string; san?: string[]; out: string; days?: number; force?: boolean; json?: boolean }) => {
      if (opts.cn.trim() === '') {
        process.stderr.write('wsha cert generate: --cn must not be empty\n');
        process.exitCode = CERT_EXIT.badArguments;
        return;
      }
      const altNames = sansFor(opts.cn, opts.san ?? []);
      try {
        const p = writeCertificate(opts.out, { commonName: opts.cn, altNames, days: opts.days, force: opts.force });
        if (opts.json) process.stdout.write(JSON.stringify({ ok: true, cert: p.certPath, key: p.keyPath, commonName: opts.cn, altNames }) + '\n');
        else process.stdout.write(`wrote ${p.certPath}\nwrote ${p.keyPath} (mode 0600)\nCN=${opts.cn} SANs: ${altNames.join(', ') || '(none)'}\n`);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const msg = err instanceof CertFileExistsError ? err.message : `cannot write to ${opts.out}: ${e.code ?? ''} ${e.message}`.trim();
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, error: msg }) + '\n');
        process.stderr.write(`wsha cert generate: ${msg}\n`);
        process.exitCode = CERT_EXIT.cannotWrite;
      }
    });
}
