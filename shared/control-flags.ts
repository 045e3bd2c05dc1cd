/**
 * Node flags a node's control process is started with: the systemd unit,
 * the Dockerfile, the demo and the tests' launchers all pass these (a
 * process cannot change its own heap configuration once it runs, and
 * `v8.setFlagsFromString` comes too late for the young generation).
 *
 * A young generation of at most 1 MiB per semi-space: with V8's default the
 * control process grows it to 16 MiB per semi-space while it loads its
 * modules and keeps it, about 90 MB of RSS against 50 MB. The size matters
 * on a SIGKILL: the kernel frees a dying process's memory before it closes
 * its sockets, so the peers see the death later the larger the process
 * (about 0.14 ms per MB here; deploy/docs/ownership.md).
 */
export const CONTROL_EXEC_ARGV: readonly string[] = Object.freeze(['--max-semi-space-size=1']);

/** Whether this process runs with the young generation capped as CONTROL_EXEC_ARGV asks. */
export function controlFlagsApplied(execArgv: readonly string[] = process.execArgv): boolean {
  return CONTROL_EXEC_ARGV.every((f) => execArgv.includes(f));
}
