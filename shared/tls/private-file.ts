/**
 * Writes a file that may hold a secret (a private key, a token) so that no
 * one else can ever read it and nothing it does not own is touched: the
 * bytes go to a new temporary file in the target's own folder, created
 * exclusively with O_NOFOLLOW and its final mode, then moved into place.
 *
 *   open(".NAME.PID.RANDOM.tmp", O_CREAT|O_EXCL|O_NOFOLLOW, mode)   never an existing file or symlink
 *   fchmod(mode); write; fsync; close                                 mode exact, whatever the umask
 *   overwrite:  rename(tmp, NAME)    replaces a symlink at NAME itself, never the file it points to
 *   otherwise:  link(tmp, NAME)      fails with EEXIST if anything is there, even a dangling symlink
 *
 * There is never a moment when the target path holds a partly written or
 * wider-readable file.
 */
import { closeSync, constants, fchmodSync, fsyncSync, linkSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `target` with `mode`; with `overwrite` false an existing path (file, symlink, anything) is an EEXIST error. */
export function writeFileSafely(target: string, data: string | Buffer, mode: number, overwrite: boolean): void {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0, i = 0; off < buf.length && i < 1_000_000; i++) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(tmp);
    throw err;
  }
  closeSync(fd);
  try {
    if (overwrite) {
      if (isDirectory(target)) throw Object.assign(new Error(`${target} is a directory`), { code: 'EISDIR' });
      renameSync(tmp, target);
    } else {
      linkSync(tmp, target);
      removeQuietly(tmp);
    }
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

/** True when something (a file, a symlink, even a dangling one) is at `path`. */
export function pathTaken(path: string): boolean {
  try { lstatSync(path); return true; } catch { return false; }
}

function isDirectory(path: string): boolean {
  try { return lstatSync(path).isDirectory(); } catch { return false; }
}

function removeQuietly(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}
