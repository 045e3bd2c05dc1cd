/**
 * The cluster secret that authenticates the peer link: read once at node
 * start from WSHA_CLUSTER_SECRET or from `cluster.secretFile`, which must
 * be readable by its owner only. The secret itself is never logged; errors
 * name the key and the file, never the content.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../../shared/errors';

/** Shortest secret accepted, in bytes. */
export const MIN_SECRET_BYTES = 16;
/** Environment variable that may carry the secret instead of a file. */
export const SECRET_ENV = 'WSHA_CLUSTER_SECRET';

/** Where a secret came from, for log lines (never the secret). */
export interface LoadedSecret { secret: Buffer; source: string }

/**
 * Loads the secret; throws ConfigError naming `cluster.secretFile` when it
 * is missing, unreadable, readable by others, or too short.
 */
export function loadClusterSecret(secretFile: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedSecret {
  const fromEnv = env[SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const secret = Buffer.from(fromEnv.trim(), 'utf8');
    if (secret.length < MIN_SECRET_BYTES) throw new ConfigError(`${SECRET_ENV} is too short`, [`${SECRET_ENV}: expected at least ${MIN_SECRET_BYTES} bytes`]);
    return { secret, source: `environment ${SECRET_ENV}` };
  }
  if (!secretFile) {
    throw new ConfigError('no cluster secret', [`cluster.secretFile: required (or set ${SECRET_ENV}): the peer link authenticates every node with it; create one with \`wsha secret generate --out FILE\``]);
  }
  let mode: number;
  let text: Buffer;
  try {
    mode = statSync(secretFile).mode;
    text = readFileSync(secretFile);
  } catch (err) {
    throw new ConfigError('cannot read the cluster secret', [`cluster.secretFile: cannot read ${secretFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError('the cluster secret is readable by others', [`cluster.secretFile: ${secretFile} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}; run chmod 600 ${secretFile}`]);
  }
  const secret = Buffer.from(text.toString('utf8').trim(), 'utf8');
  if (secret.length < MIN_SECRET_BYTES) throw new ConfigError('the cluster secret is too short', [`cluster.secretFile: ${secretFile} holds ${secret.length} bytes; expected at least ${MIN_SECRET_BYTES}`]);
  return { secret, source: secretFile };
}

/** A new cluster secret: 32 random bytes, base64url. */
export function generateSecret(): string { return randomBytes(32).toString('base64url'); }

/**
 * Writes a secret to `file` with mode 0600 from the first byte: through a
 * new file in the same folder (O_EXCL, so nothing existing is followed or
 * reused) renamed into place, so that a symlink at `file` is replaced, never
 * written through. Refuses to replace an existing file unless `force`.
 */
export function writeSecretFile(file: string, secret: string, force = false): void {
  let exists = false;
  try { lstatSync(file); exists = true; } catch { /* absent */ }
  if (exists && !force) throw new ConfigError(`${file} exists`, [`${file}: already exists; pass --force to replace it`]);
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    if (existsSync(tmp)) unlinkSync(tmp);
    throw err;
  }
}
