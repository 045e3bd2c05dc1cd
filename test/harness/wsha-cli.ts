/**
 * Runs the built `wsha` CLI (dist/cluster/cli/main.js) as a child process,
 * the way an operator does, and returns its exit code and output.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';

/** Repository root, seen from dist/test/harness. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
/** The compiled CLI entry. */
export const WSHA_MAIN = join(REPO_ROOT, 'dist', 'cluster', 'cli', 'main.js');

/** What one CLI run printed and how it exited. */
export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `wsha ...args` with a time limit (generous: the test machine may be loaded); never rejects on a non-zero exit. */
export function runWsha(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [WSHA_MAIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 45000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** `wsha config check FILE --json`, parsed. */
export async function configCheck(file: string): Promise<CliResult & { json?: { ok: boolean; problems?: string[]; warnings?: string[] } }> {
  const r = await runWsha(['config', 'check', file, '--json']);
  let json;
  try { json = JSON.parse(r.stdout); } catch { json = undefined; }
  return { ...r, json };
}
