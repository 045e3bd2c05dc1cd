/**
 * Where the worker process entry is, so that the control process can fork
 * it without importing the data plane (the planes meet only at ports).
 * Relative to this file, in the source tree and in dist/ alike.
 */
import { join } from 'node:path';

/**
 * Node flags of every worker process (of the control process's own flags,
 * only the diagnostic ones are passed on: workerExecArgv).
 *
 * - A young generation of at most 1 MiB per semi-space: V8 grows it up to
 *   16 MiB under a burst of handshakes and never shrinks it while the
 *   process idles, which was about 24 MiB of RSS per worker, 2.9 KiB per
 *   connection at 100,000 connections over 12 workers.
 * - An initial old-generation limit of 32 MiB: once connections had come
 *   and gone, V8 set the limit of a worker's ~12 MiB heap so tight that it
 *   started marking at every promotion of in-flight buffers.
 * - Array buffers swept during the scavenge, not after it on a background
 *   thread: V8 counts the external memory allocated since the last
 *   mark-compact against the old generation's room, and right after a
 *   scavenge the count still held the 30 MB and more of socket-read
 *   Buffers that had just died. A worker splicing 16 KiB messages then
 *   ran a mark-compact every 80-130 ms that freed nothing, about 30 % of
 *   its CPU (deploy/docs/performance.md).
 * - One memory-reducer compaction after a burst instead of up to three:
 *   the later ones came 80-115 s after a burst of handshakes, marking
 *   every live tunnel of an otherwise idle worker.
 */
export const WORKER_EXEC_ARGV: readonly string[] = Object.freeze(['--max-semi-space-size=1', '--initial-old-space-size=32', '--no-concurrent-array-buffer-sweeping', '--memory-reducer-single-gc']);

/**
 * Flags of the control process that its workers get too: profilers and GC
 * traces (`node --cpu-prof wsha node start` profiles every process of the
 * node; Node refuses --cpu-prof in NODE_OPTIONS, which workers would
 * inherit). Heap and priority settings stay the control process's own.
 */
const DIAGNOSTIC_FLAG = /^--(cpu-prof|heap-prof|prof$|prof-|trace-gc)/;

/** The flags a worker is forked with, given the control process's own. */
export function workerExecArgv(controlExecArgv: readonly string[] = process.execArgv): string[] {
  return [...WORKER_EXEC_ARGV, ...controlExecArgv.filter((f) => DIAGNOSTIC_FLAG.test(f))];
}

/** Compiled entry of a data-plane worker (node/worker/worker-main.ts). */
export const WORKER_ENTRY = join(__dirname, '..', '..', 'node', 'worker', 'worker-main.js');
