import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WORKER_EXEC_ARGV, workerExecArgv } from '../../../shared/ports/worker-entry';

test('workers get their own heap flags plus the control process\'s profiler and GC-trace flags, nothing else of it', () => {
  assert.deepEqual(workerExecArgv([]), [...WORKER_EXEC_ARGV]);
  assert.deepEqual(
    workerExecArgv(['--max-semi-space-size=1', '--cpu-prof', '--cpu-prof-dir=/x', '--cpu-prof-interval=500', '--trace-gc', '--heap-prof', '--prof', '--inspect', '--max-old-space-size=64', '--profile-foo']),
    [...WORKER_EXEC_ARGV, '--cpu-prof', '--cpu-prof-dir=/x', '--cpu-prof-interval=500', '--trace-gc', '--heap-prof', '--prof'],
  );
});
