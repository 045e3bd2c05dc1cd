/**
 * The processes the demo starts, tracked by PID. Everything is stopped by
 * its own PID (SIGTERM, then SIGKILL after a grace period); nothing is
 * ever looked up or stopped by name.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** How long a child gets to exit on SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 3000;

/** One started process. */
export interface Child { name: string; pid: number; proc: ChildProcess; logFile: string | null }

/** The set of processes one demo run started. */
export class ChildSet {
  readonly #children: Child[] = [];

  /** Spawns `cmd args`; output goes to `logFile` (appended) or is dropped. */
  spawn(name: string, cmd: string, args: string[], opts: { logFile?: string; env?: NodeJS.ProcessEnv } = {}): Child {
    const fd = opts.logFile ? openSync(opts.logFile, 'a') : null;
    // Own process group: Ctrl-C in the terminal reaches the demo alone, which then stops its children in order.
    const spawnOpts: SpawnOptions = { stdio: ['ignore', fd ?? 'ignore', fd ?? 'ignore'], env: opts.env ?? process.env, detached: true };
    const proc = spawn(cmd, args, spawnOpts);
    if (fd !== null) closeSync(fd);
    if (proc.pid === undefined) throw new Error(`could not start ${name}: is ${cmd} installed? (deploy/local/setup.sh demo installs what the demo needs)`);
    proc.on('error', () => { /* reported through exit */ });
    const child = { name, pid: proc.pid, proc, logFile: opts.logFile ?? null };
    this.#children.push(child);
    return child;
  }

  get(name: string): Child | undefined { return this.#children.find((c) => c.name === name); }

  /** Every child ever started, with its PID. */
  list(): readonly Child[] { return this.#children; }

  /** True while the child has not exited. */
  static running(c: Child): boolean { return c.proc.exitCode === null && c.proc.signalCode === null; }

  /** Sends `signal` to one child by its PID. */
  kill(name: string, signal: NodeJS.Signals): Child | undefined {
    const c = this.get(name);
    if (c && ChildSet.running(c)) c.proc.kill(signal);
    return c;
  }

  /** Stops every running child (SIGTERM, then SIGKILL after STOP_GRACE_MS), in reverse start order. */
  async stopAll(graceMs = STOP_GRACE_MS): Promise<void> {
    const running = [...this.#children].reverse().filter(ChildSet.running);
    await Promise.all(running.map((c) => new Promise<void>((resolve) => {
      if (!ChildSet.running(c)) return resolve();
      const timer = setTimeout(() => { if (ChildSet.running(c)) c.proc.kill('SIGKILL'); }, graceMs);
      c.proc.once('exit', () => { clearTimeout(timer); resolve(); });
      c.proc.kill('SIGTERM');
    })));
  }
}
