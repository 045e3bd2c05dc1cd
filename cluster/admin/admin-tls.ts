/**
 * TLS material of the admin API (`node.admin.tls`): the PEM files read and
 * checked at start and on every SIGHUP, like the listeners' certificates,
 * so a rotated certificate is served to new connections without a restart.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../../shared/config/schema';
import { ConfigError } from '../../shared/errors';

/** PEM certificate chain and key. */
export interface AdminTlsPem { cert: string; key: string }

function read(path: string, at: string, problems: string[]): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch (err) {
    problems.push(`${at}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

/** Reads and checks node.admin.tls; null when the admin API is plain HTTP. Throws ConfigError naming the bad key. */
export function loadAdminTls(config: Config): AdminTlsPem | null {
  const t = config.node.admin.tls;
  if (!t) return null;
  const problems: string[] = [];
  const cert = read(t.cert, 'node.admin.tls.cert', problems);
  const key = read(t.key, 'node.admin.tls.key', problems);
  if (cert !== undefined && key !== undefined) {
    try {
      const x509 = new X509Certificate(cert);
      if (!x509.checkPrivateKey(createPrivateKey(key))) problems.push(`node.admin.tls.key: ${t.key} does not match the certificate in ${t.cert}`);
    } catch {
      problems.push(`node.admin.tls: ${t.cert} and ${t.key} must be a PEM certificate and its unencrypted PEM key`);
    }
  }
  if (problems.length) throw new ConfigError('invalid admin TLS settings', problems);
  return { cert: cert!, key: key! };
}
