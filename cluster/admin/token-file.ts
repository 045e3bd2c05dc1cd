/**
 * Where a generated admin token goes: a file only this user can read, whose
 * path (never the token) is logged. The default folder is the service's
 * runtime folder ($RUNTIME_DIRECTORY under systemd, else $XDG_RUNTIME_DIR),
 * else a folder of this user's own in the temp folder, created 0700 and
 * refused when it is a symlink, someone else's, or open to others.
 */
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileSafely } from '../../shared/tls/private-file';

const TOKEN_FILE_MODE = 0o600;
const PRIVATE_DIR_MODE = 0o700;

function uid(): number { return typeof process.getuid === 'function' ? process.getuid() : 0; }

/** The per-user folder in the temp folder used when no runtime folder is known. */
export function privateTmpDir(): string {
  return join(tmpdir(), `wsha-${uid()}`);
}

/** Default token file of a node: `wsha-CLUSTER-NODE.admin-token` in the runtime folder (see the file comment). */
export function defaultTokenFile(cluster: string, nodeId: string, env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0] || env.XDG_RUNTIME_DIR;
  return join(runtime || privateTmpDir(), `wsha-${cluster}-${nodeId}.admin-token`);
}

/** Creates `dir` 0700 if missing and checks it is a real folder of this user that no one else can enter. */
function ensurePrivateDir(dir: string): void {
  try { mkdirSync(dir, { mode: PRIVATE_DIR_MODE }); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; }
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== uid()) throw new Error(`${dir} belongs to another user`);
  if ((st.mode & 0o077) !== 0) throw new Error(`${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)})`);
}

/** Writes `token` to `path` (mode 0600, replaced atomically, symlinks never followed). Throws when it cannot. */
export function writeTokenFile(path: string, token: string): void {
  const dir = dirname(path);
  if (dir === privateTmpDir()) ensurePrivateDir(dir);
  else mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  writeFileSafely(path, `${token}\n`, TOKEN_FILE_MODE, true);
}

/** Removes a token file written by this process (at stop); a missing one is fine. */
export function removeTokenFile(path: string): void {
  try { unlinkSync(path); } catch { /* already gone */ }
}
