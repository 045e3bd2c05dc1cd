/**
 * Writes a generated key and certificate to a directory for the operator
 * (`wsha cert generate`): DIR/cert.pem and DIR/key.pem, the key readable by
 * its owner only, and nothing overwritten unless asked.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSelfSigned } from './self-signed';

/** File name of the certificate inside the output directory. */
export const CERT_FILE_NAME = 'cert.pem';
/** File name of the private key inside the output directory. */
export const KEY_FILE_NAME = 'key.pem';
const KEY_FILE_MODE = 0o600;
const CERT_FILE_MODE = 0o644;

/** Options of `writeCertificate`: those of the certificate plus `force` to overwrite. */
export interface WriteCertificateOptions {
  commonName: string;
  altNames: string[];
  days?: number;
  /** Overwrite existing files. @default false */
  force?: boolean;
}

/** Thrown (code EEXIST) when a target file exists and `force` is not set; `path` names it. */
export class CertFileExistsError extends Error {
  readonly code = 'EEXIST';
  constructor(readonly path: string) { super(`${path} already exists (use --force to overwrite)`); }
}

/** Generates a self-signed certificate and writes it; returns where the two files went. */
export function writeCertificate(outDir: string, opts: WriteCertificateOptions): { certPath: string; keyPath: string } {
  const certPath = join(outDir, CERT_FILE_NAME);
  const keyPath = join(outDir, KEY_FILE_NAME);
  // Check both before generating so that a refusal leaves no half-written pair behind.
  if (!opts.force) for (const p of [certPath, keyPath]) if (existsSync(p)) throw new CertFileExistsError(p);
  const pem = generateSelfSigned({ commonName: opts.commonName, altNames: opts.altNames, days: opts.days });
  mkdirSync(outDir, { recursive: true });
  const flag = opts.force ? 'w' : 'wx';
  writeFileSync(keyPath, pem.keyPem, { mode: KEY_FILE_MODE, flag });
  // writeFileSync keeps the mode of a file it overwrites; the key must end up 0600 either way.
  chmodSync(keyPath, KEY_FILE_MODE);
  writeFileSync(certPath, pem.certPem, { mode: CERT_FILE_MODE, flag });
  return { certPath, keyPath };
}
