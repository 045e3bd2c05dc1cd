/**
 * TLS material of one listener: a secure context per certificate, indexed by
 * the server names it serves, built once when the config is loaded or
 * reloaded. The SNI callback only looks names up in that map, so a reload
 * swaps certificates for new handshakes without touching open connections.
 *
 *   lookup order for SNI "a.b.example.com":
 *     1. exact   "a.b.example.com"
 *     2. wildcard "*.b.example.com"   (one label only, RFC 6125 6.4.3)
 *     3. the listener's first certificate
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import type { ListenerConfig } from '../../shared/config/schema';
import { ConfigError } from '../../shared/errors';
import { selfSignedAltNames, selfSignedPem, type PemPair } from '../../shared/tls/self-signed-pem';

/** What a TLS listener serves: the default context and one per server name. */
export interface TlsMaterial {
  /** Context for clients that send no known SNI name (the first certificate). */
  defaultContext: tls.SecureContext;
  /** Lower-case exact names and `*.suffix` wildcards to their contexts. */
  contexts: ReadonlyMap<string, tls.SecureContext>;
  /**
   * PEM of the default certificate, for `tls.createServer({ ...defaultPem, SNICallback })`
   * and `server.setSecureContext(defaultPem)` on reload: Node uses the server's own
   * context, not the SNI callback, for clients that send no SNI at all.
   */
  defaultPem: { cert: string; key: string };
  /** What each certificate is, in config order, for logs, the admin API and expiry alerts. */
  certificates: readonly CertificateInfo[];
}

/** Identity and validity of one loaded certificate. */
export interface CertificateInfo {
  /** Subject, e.g. `CN=chat.example.com`. */
  subject: string;
  /** SNI names it serves (lower case, `*.suffix` for wildcards). */
  names: readonly string[];
  /** End of validity. */
  notAfter: Date;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
}

/** Extra options of `loadTlsMaterial`. */
export interface LoadTlsOptions {
  /** CN of a self-signed certificate. */
  nodeId: string;
  /** The VIP address of a `vip:` listener: one more SAN of a self-signed certificate. */
  vipAddress?: string;
  /** The self-signed certificate to serve, made by the control process (workers of one node serve the same one); generated here when absent. */
  selfSigned?: PemPair;
}

interface LoadedCert { pem: { cert: string; key: string }; names: string[]; info: CertificateInfo }

function infoOf(x509: X509Certificate, names: string[]): CertificateInfo {
  return { subject: x509.subject, names, notAfter: new Date(x509.validTo), fingerprint256: x509.fingerprint256 };
}

/** Builds a listener's TLS material from its PEM files, or generates a self-signed certificate; throws ConfigError naming each bad key. */
export function loadTlsMaterial(listener: ListenerConfig, index: number, opts: LoadTlsOptions): TlsMaterial {
  const at = `listeners[${index}].tls`;
  const tlsCfg = listener.tls;
  if (!tlsCfg) throw new ConfigError('invalid TLS settings', [`${at}: expected TLS settings on this listener`]);
  const certs = tlsCfg.certs ?? [];
  if (certs.length === 0) {
    if (!tlsCfg.selfSigned) throw new ConfigError('invalid TLS settings', [`${at}: expected certs or selfSigned: true`]);
    return fromLoaded([selfSignedFor(listener, opts)]);
  }
  const problems: string[] = [];
  const loaded: LoadedCert[] = [];
  certs.forEach((c, j) => {
    const cert = loadOne(c, `${at}.certs[${j}]`, problems);
    if (cert) loaded.push(cert);
  });
  if (problems.length > 0) throw new ConfigError('invalid TLS certificates', problems);
  return fromLoaded(loaded);
}

function selfSignedFor(listener: ListenerConfig, opts: LoadTlsOptions): LoadedCert {
  const pem = opts.selfSigned ?? selfSignedPem(opts.nodeId, selfSignedAltNames(listener, opts.vipAddress));
  const names = ['localhost'];
  return { pem: { cert: pem.cert, key: pem.key }, names, info: infoOf(new X509Certificate(pem.cert), names) };
}

function loadOne(c: { cert: string; key: string; serverNames?: string[] }, at: string, problems: string[]): LoadedCert | undefined {
  const certPem = readText(c.cert, `${at}.cert`, problems);
  const keyPem = readText(c.key, `${at}.key`, problems);
  if (certPem === undefined || keyPem === undefined) return undefined;
  let x509: X509Certificate;
  try { x509 = new X509Certificate(certPem); } catch {
    problems.push(`${at}.cert: ${c.cert} is not a PEM certificate`);
    return undefined;
  }
  let key: KeyObject;
  try { key = createPrivateKey(keyPem); } catch {
    problems.push(`${at}.key: ${c.key} is not a PEM private key (or it is encrypted)`);
    return undefined;
  }
  if (!x509.checkPrivateKey(key)) {
    problems.push(`${at}.key: ${c.key} does not match the certificate in ${c.cert}`);
    return undefined;
  }
  const names = c.serverNames ? c.serverNames.map((n) => n.toLowerCase()) : namesOf(x509);
  return { pem: { cert: certPem, key: keyPem }, names, info: infoOf(x509, names) };
}

function readText(path: string, at: string, problems: string[]): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch (err) {
    problems.push(`${at}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  }
}

/** DNS SANs of a certificate, or its CN when it has none; IP SANs never appear in SNI. */
export function namesOf(x509: X509Certificate): string[] {
  const dns = (x509.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn && isIP(cn) === 0 ? [cn.toLowerCase()] : [];
}

function fromLoaded(loaded: LoadedCert[]): TlsMaterial {
  const contexts = new Map<string, tls.SecureContext>();
  let defaultContext: tls.SecureContext | undefined;
  for (const c of loaded) {
    const ctx = tls.createSecureContext(c.pem);
    defaultContext ??= ctx;
    // Earlier certificates win a name claimed twice, as the first one is also the default.
    for (const n of c.names) if (!contexts.has(n)) contexts.set(n, ctx);
  }
  return { defaultContext: defaultContext!, contexts, defaultPem: loaded[0]!.pem, certificates: loaded.map((c) => c.info) };
}

/** Picks the context for an SNI name from the listener's current material: exact, then wildcard, then default. */
export function lookupContext(material: TlsMaterial, servername: string): tls.SecureContext {
  // A fully qualified name with its root dot ("example.com.") names the same host.
  const name = (servername.endsWith('.') ? servername.slice(0, -1) : servername).toLowerCase();
  const exact = material.contexts.get(name);
  if (exact) return exact;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const wild = material.contexts.get('*' + name.slice(dot));
    if (wild) return wild;
  }
  return material.defaultContext;
}

/** The listener's SNICallback; a reload only changes what `current()` returns. */
export function sniCallback(current: () => TlsMaterial): (servername: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void) => void {
  return (servername, cb) => cb(null, lookupContext(current(), servername));
}
