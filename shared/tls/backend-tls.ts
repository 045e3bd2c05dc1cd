/**
 * TLS options for a pool's https:// and wss:// backends, shared by the HTTP
 * agents, the upgrade connections and the health probes: the certificate is
 * verified (chain against `ca` or the system CAs, name against `servername`
 * or the backend's host) unless the pool says `verify: false`. The CA file
 * is read when the pool config is applied, not per connection.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { PoolConfig } from '../config/schema';
import { ConfigError } from '../errors';

/** Resolved TLS settings of one pool (one object per applied config, compared by identity). */
export interface BackendTls {
  /** PEM of the configured CA bundle, or undefined for the system CAs. */
  readonly ca: string | undefined;
  /** Configured name to verify and send as SNI, or undefined for the backend's host. */
  readonly servername: string | undefined;
  readonly verify: boolean;
}

/** Verification on, system CAs, the backend's host name: what a pool without `tls` gets. */
export const DEFAULT_BACKEND_TLS: BackendTls = Object.freeze({ ca: undefined, servername: undefined, verify: true });

/** Reads a pool's TLS settings; throws ConfigError naming `pools.NAME.tls.ca` when the CA file cannot be read. */
export function resolveBackendTls(poolName: string, cfg: PoolConfig['tls']): BackendTls {
  if (!cfg) return DEFAULT_BACKEND_TLS;
  let ca: string | undefined;
  if (cfg.ca) {
    try { ca = readFileSync(cfg.ca, 'utf8'); } catch (err) {
      throw new ConfigError('invalid backend TLS settings', [`pools.${poolName}.tls.ca: cannot read ${cfg.ca} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('invalid backend TLS settings', [`pools.${poolName}.tls.ca: ${cfg.ca} holds no PEM certificate`]);
  }
  return Object.freeze({ ca, servername: cfg.servername, verify: cfg.verify });
}

/**
 * tls.connect options for a backend at `host`. SNI is the configured name,
 * else the host when it is a name; with an IP address no SNI is sent and
 * the certificate must carry that address. Node checks the certificate
 * against the servername when one is set, else against the host.
 * `servername: ''` keeps Node's HTTPS agent from sending the client's Host
 * header as SNI (and checking the certificate against it) instead.
 */
export function tlsConnectOptions(t: BackendTls, host: string): ConnectionOptions {
  const servername = t.servername ?? (isIP(host) ? '' : host);
  const out: ConnectionOptions = { servername, rejectUnauthorized: t.verify, ALPNProtocols: ['http/1.1'] };
  if (t.ca !== undefined) out.ca = t.ca;
  return out;
}
