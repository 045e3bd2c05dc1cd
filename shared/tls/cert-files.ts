/**
 * Writes a generated key and certificate to a directory for the operator
 * (`wsha cert generate`): DIR/cert.pem and DIR/key.pem, the key readable by
 * its owner only, and nothing overwritten unless asked. Each file goes
 * through a temporary file in DIR that is renamed into place
 * (private-file.ts): a symlink at the key path is replaced, never followed,
 * and the key is never readable by others, not even for a moment.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateSelfSigned } from './self-signed';
import { pathTaken, writeFileSafely } from './private-file';

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
  const force = opts.force === true;
  // Check both before generating so that a refusal leaves no half-written pair behind (lstat: a dangling symlink counts).
  if (!force) for (const p of [certPath, keyPath]) if (pathTaken(p)) throw new CertFileExistsError(p);
  const pem = generateSelfSigned({ commonName: opts.commonName, altNames: opts.altNames, days: opts.days });
  mkdirSync(outDir, { recursive: true });
  try {
    writeFileSafely(keyPath, pem.keyPem, KEY_FILE_MODE, force);
    writeFileSafely(certPath, pem.certPem, CERT_FILE_MODE, force);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST' && !force) throw new CertFileExistsError((err as { dest?: string }).dest ?? keyPath);
    throw err;
  }
  return { certPath, keyPath };
}
