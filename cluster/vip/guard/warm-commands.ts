/**
 * Commands the guard keeps spawned ahead of need (drivers/commands.ts
 * prepareCommand), one per distinct command line: a run takes the waiting
 * copy, which costs an exec, and a fresh copy is prepared for the next run.
 * For the announcement after a takeover (arping), which cannot be batched
 * like `ip` and would otherwise pay a fork on the critical path.
 */
import { prepareCommand, runCommand, type CommandResult, type PreparedCommand, type RunOptions } from '../drivers/commands';

/** At most this many distinct commands are kept waiting (one per VIP and tool in practice). */
const MAX_PREPARED = 64;

const keyOf = (file: string, args: readonly string[], env?: Record<string, string>): string => JSON.stringify([file, args, env ?? null]);

export class WarmCommands {
  readonly #waiting = new Map<string, PreparedCommand>();

  /** Spawns a waiting copy of the command unless one is there. */
  prepare(file: string, args: readonly string[], env?: Record<string, string>): void {
    const key = keyOf(file, args, env);
    if (this.#waiting.get(key)?.ready) return;
    if (!this.#waiting.has(key) && this.#waiting.size >= MAX_PREPARED) return;
    this.#waiting.set(key, prepareCommand(file, args, env));
  }

  /** Runs the command from its waiting copy when there is one (else spawned now), and prepares the next copy. */
  run(file: string, args: readonly string[], opts: RunOptions): Promise<CommandResult> {
    const key = keyOf(file, args, opts.env);
    const waiting = this.#waiting.get(key);
    this.#waiting.delete(key);
    const result = waiting?.ready ? waiting.start(opts) : runCommand(file, args, opts);
    this.prepare(file, args, opts.env);
    return result;
  }

  /** Ends every waiting copy. */
  close(): void {
    for (const w of this.#waiting.values()) w.discard();
    this.#waiting.clear();
  }
}
