/**
 * Starts a Node child with its open-file limit raised to the hard limit
 * (Node cannot call setrlimit itself): a shell raises the soft limit and
 * exec's node, so the child keeps the shell's PID and, with 'ipc' in its
 * stdio, the IPC channel. Used where one process holds thousands of
 * sockets (the scale test's clients, backends and node).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/** Raises the soft file limit as far as the hard one allows (quietly keeps the old one if it cannot), then runs "$0" "$@". */
const RAISE_AND_EXEC = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

/** Spawns `node ...nodeArgs` under a raised file limit. */
export function spawnNodeRaised(nodeArgs: readonly string[], opts: { stdio: StdioOptions; env?: NodeJS.ProcessEnv }): ChildProcess {
  return spawn('/bin/sh', ['-c', RAISE_AND_EXEC, process.execPath, ...nodeArgs], { stdio: opts.stdio, env: opts.env ?? process.env });
}
