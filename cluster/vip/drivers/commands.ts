/**
 * Runs the external commands the VIP drivers depend on (`ip`, `arping`, the
 * operator's up/down scripts): with a hard timeout, in a process group of its
 * own so that a timeout kills the script and everything it started, and with
 * its output logged line by line. Nothing here goes through a shell unless
 * the caller builds a `sh -c` command on purpose (the exec driver does).
 *
 * The environment is scrubbed: a command gets PATH and the variables the
 * caller passes, nothing else of wsha's own environment (which holds
 * WSHA_ADMIN_TOKEN, WSHA_REDIS_PASSWORD and whatever else the service
 * file sets). The environment is never logged.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../../shared/logger';

/** How long a killed process group gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 500;
/** How long to wait for the output pipes to close after the process exited. */
const EXIT_CLOSE_WAIT_MS = 200;
/** Output kept in the result for error messages (the full output is logged). */
const KEEP_OUTPUT_BYTES = 4096;
/** PATH for commands when wsha itself runs without one. */
const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What one command run produced. */
export interface CommandResult {
  /** Exit code, or null when killed by a signal or not started. */
  code: number | null;
  /** Signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  /** Trailing stdout (at most a few KiB). */
  stdout: string;
  /** Trailing stderr (at most a few KiB). */
  stderr: string;
  /** Wall time from spawn to exit. */
  durationMs: number;
  /** True when the timeout fired and the process group was killed. */
  timedOut: boolean;
  /** Set when the command could not be started at all (ENOENT, EACCES). */
  spawnError: Error | undefined;
}

/** How to run one command. */
export interface RunOptions {
  /** Kill the process group after this long. */
  timeoutMs: number;
  /** Logger; stdout lines go to info (debug when `quiet`), stderr lines to warn. */
  logger: Logger;
  /** The command's environment besides PATH (wsha's own environment is not inherited). */
  env?: Record<string, string>;
  /** Log stdout lines at debug rather than info (chatty tools like arping). */
  quiet?: boolean;
  /** Run from a copy spawned ahead of need, and keep one for the next run (honoured by the VIP guard's runner). */
  warm?: boolean;
}

/** PATH from wsha's environment plus `extra`, and nothing else. */
export function commandEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH || FALLBACK_PATH, ...extra };
}

/** True when the command started, ran to its end and exited 0. */
export function succeeded(r: CommandResult): boolean {
  return r.code === 0 && !r.timedOut && r.spawnError === undefined;
}

/** One line that says how a failed command ended, for error messages. */
export function describeFailure(r: CommandResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError.message}`;
  if (r.timedOut) return `timed out after ${r.durationMs} ms`;
  const tail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
  const how = r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`;
  return tail ? `${how}: ${tail}` : how;
}

/** Splits a stream into lines and hands each complete line to `onLine`; returns a flush for the tail. */
function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer): void; flush(): void } {
  let buf = '';
  return {
    push(chunk) {
      buf += chunk.toString('utf8');
      let i = buf.indexOf('\n');
      for (let n = 0; i >= 0 && n < 100_000; n++) {
        onLine(buf.slice(0, i).replace(/\r$/, ''));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    },
    flush() { if (buf) onLine(buf); buf = ''; },
  };
}

function keepTail(s: string): string {
  return s.length > KEEP_OUTPUT_BYTES ? s.slice(-KEEP_OUTPUT_BYTES) : s;
}

/** Kills a whole process group by the leader's PID; a group that is already gone is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already exited */ }
}

/**
 * Runs `file args...` and resolves with how it ended; never rejects. The
 * child leads its own process group (detached) so the timeout can kill the
 * group: an operator script that started `sleep 60` must not outlive it.
 */
export function runCommand(file: string, args: readonly string[], opts: RunOptions): Promise<CommandResult> {
  const started = performance.now();
  const child = spawn(file, args as string[], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: commandEnv(opts.env) });
  return watch(child, file, opts, started);
}

/** A command spawned ahead of need and waiting to be started (prepareCommand). */
export interface PreparedCommand {
  /** False once it can no longer be started (it exited, or was started or discarded). */
  readonly ready: boolean;
  /** Lets it run; resolves as runCommand does, its time counted from now. */
  start(opts: RunOptions): Promise<CommandResult>;
  /** Ends it without running the command. */
  discard(): void;
}

/**
 * Spawns a shell that waits for one line on its stdin and then execs `file
 * args...` (no shell parsing of them: they are the shell's positional
 * arguments). Starting it costs an exec instead of a fork of the caller, for
 * a command on a takeover's critical path that cannot be batched (arping).
 * The shell exits quietly when its stdin closes first (the caller went away).
 */
export function prepareCommand(file: string, args: readonly string[], env?: Record<string, string>): PreparedCommand {
  const child = spawn('sh', ['-c', 'read _ || exit 0; exec "$@"', 'sh', file, ...args], {
    detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: commandEnv(env),
  });
  let ready = true;
  child.once('exit', () => { ready = false; });
  child.once('error', () => { ready = false; });
  child.stdin!.on('error', () => { ready = false; });
  return {
    get ready() { return ready && child.exitCode === null && child.signalCode === null; },
    start(opts: RunOptions): Promise<CommandResult> {
      ready = false;
      const result = watch(child, file, opts, performance.now()).then((r) =>
        // The shell reports a missing command as exit 127: say it as spawn would (callers look for ENOENT).
        r.code === 127 && /not found/i.test(r.stderr) ? { ...r, spawnError: Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' }) } : r);
      child.stdin!.end('\n');
      return result;
    },
    discard(): void {
      if (!ready) return;
      ready = false;
      child.stdin!.destroy();
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    },
  };
}

/** Collects a spawned child's output and end into a CommandResult, killing its group at the timeout. */
function watch(child: ChildProcess, file: string, opts: RunOptions, started: number): Promise<CommandResult> {
  const log = opts.logger.child({ cmd: file });
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outLines.flush();
      errLines.flush();
      const durationMs = Math.round(performance.now() - started);
      resolve({ code, signal, stdout: keepTail(stdout), stderr: keepTail(stderr), durationMs, timedOut, spawnError });
    };
    const outLines = lineSplitter((line) => (opts.quiet ? log.debug({ stream: 'stdout' }, line) : log.info({ stream: 'stdout' }, line)));
    const errLines = lineSplitter((line) => log.warn({ stream: 'stderr' }, line));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid === undefined) return;
      log.warn({ pid: child.pid, timeoutMs: opts.timeoutMs }, 'command timed out, killing its process group');
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid as number, 'SIGKILL'), KILL_GRACE_MS).unref();
    }, opts.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => { stdout = keepTail(stdout + d.toString('utf8')); outLines.push(d); });
    child.stderr!.on('data', (d: Buffer) => { stderr = keepTail(stderr + d.toString('utf8')); errLines.push(d); });
    child.on('error', (err) => finish(null, null, err));
    // A background child of the script may keep stdout open after the script
    // exited: wait briefly for 'close' (the last output lines), then settle.
    child.on('exit', (code, signal) => {
      setTimeout(() => finish(code, signal), EXIT_CLOSE_WAIT_MS).unref();
    });
    child.on('close', (code, signal) => {
      // A timed-out script may have left children behind in its group.
      if (timedOut && child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      finish(code, signal);
    });
  });
}
