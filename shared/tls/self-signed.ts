/**
 * Self-signed server certificates made with node-forge: the development
 * certificate of a `tls: { selfSigned: true }` listener and the output of
 * `wsha cert generate`. RSA 2048 keys come from Node's native key generator,
 * which forge uses on its synchronous path when it is present (a few tens of
 * milliseconds instead of seconds of pure-JS prime search).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

type Forge = typeof import('node-forge');
let forgeModule: Forge | null = null;
/**
 * node-forge, loaded at the first certificate rather than with this module:
 * a data-plane worker imports this file through its TLS contexts but is
 * handed its certificates by the control process, and forge's modules are
 * about 1.7 MiB of heap in every worker that loads them (a 12-worker node's
 * RSS before any connection: 894 MiB with them, 870 without).
 */
function loadForge(): Forge {
  return (forgeModule ??= require('node-forge') as Forge);
}

/** Validity of a generated certificate when `days` is not given. */
export const DEFAULT_CERT_DAYS = 365;
/** RSA modulus size of generated keys. */
export const RSA_KEY_BITS = 2048;
/** notBefore is set this far in the past so that a peer with a slightly slow clock accepts the cert. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A PEM certificate and its PEM (PKCS#8 or PKCS#1) private key. */
export interface CertificatePem { certPem: string; keyPem: string }

/** Options of a generated certificate. */
export interface SelfSignedOptions {
  /** Subject and issuer CN. */
  commonName: string;
  /** Subject alternative names: IP literals become iPAddress SANs, anything else dNSName SANs. */
  altNames: string[];
  /** Validity in days from now. @default 365 */
  days?: number;
}

/** Generates a key pair and a self-signed server certificate for `commonName` with the given SANs. */
export function generateSelfSigned(opts: SelfSignedOptions): CertificatePem {
  const days = opts.days ?? DEFAULT_CERT_DAYS;
  if (!Number.isInteger(days) || days <= 0) throw new RangeError(`days must be a positive integer, got ${days}`);
  const forge = loadForge();
  const keys = forge.pki.rsa.generateKeyPair({ bits: RSA_KEY_BITS, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumberHex();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  const subject = [{ name: 'commonName', value: opts.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: uniqueNames(opts.altNames).map(altName) },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A positive 128-bit serial (leading bit cleared so DER does not read it as negative). */
function serialNumberHex(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f | 0x01;
  return b.toString('hex');
}

function uniqueNames(names: string[]): string[] {
  return [...new Set(names.map((n) => n.trim()).filter((n) => n.length > 0))];
}

function altName(name: string): { type: number; value?: string; ip?: string } {
  // GeneralName tags (RFC 5280 4.2.1.6): 2 = dNSName, 7 = iPAddress.
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  return isIP(bare) !== 0 ? { type: 7, ip: bare } : { type: 2, value: name };
}
