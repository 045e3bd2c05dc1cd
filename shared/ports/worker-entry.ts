/**
 * Where the worker process entry is, so that the control process can fork
 * it without importing the data plane (the planes meet only at ports).
 * Relative to this file, in the source tree and in dist/ alike.
 */
import { join } from 'node:path';

/** Compiled entry of a data-plane worker (node/worker/worker-main.ts). */
export const WORKER_ENTRY = join(__dirname, '..', '..', 'node', 'worker', 'worker-main.js');
