/**
 * Whether this build of wsha knows `node.workers` (the data plane in worker
 * processes, issue 11). The bench writes the key only when it does: the
 * config schema is strict, so an unknown key would stop the node. Until
 * then wsha runs as one process and the `workers: auto` column is pending.
 */
import { NodeSchema } from '../../shared/config/schema';

/** True when the config schema has `node.workers`. */
export function workersKeySupported(): boolean {
  return Object.prototype.hasOwnProperty.call(NodeSchema.shape, 'workers');
}

/** Why a workers setting cannot be measured yet, or null when it can. */
export function workersPending(workers: number | 'auto'): string | null {
  if (workers === 1 || workersKeySupported()) return null;
  return 'pending: node.workers is not in this build';
}
