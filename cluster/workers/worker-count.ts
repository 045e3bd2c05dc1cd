/**
 * How many data-plane workers a node runs: `node.workers` as a count, or
 * `auto` for the cores this process may use. More than one needs
 * SO_REUSEPORT listeners; where they cannot be made the config is refused
 * at start with an error naming the key, not at the first bind.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../shared/errors';
import { reuseportProblem } from '../../shared/net/reuseport';

/** The worker count `workers` stands for (auto: os.availableParallelism(), at least 1). */
export function resolveWorkerCount(workers: number | 'auto', cores: () => number = availableParallelism): number {
  return workers === 'auto' ? Math.max(1, cores()) : workers;
}

/** Throws ConfigError naming `node.workers` when `count` > 1 and SO_REUSEPORT listeners cannot be made here. */
export function checkWorkerCount(count: number, problem: () => string | null = reuseportProblem): void {
  if (count <= 1) return;
  const why = problem();
  if (why) throw new ConfigError('invalid config', [`node.workers: ${count} workers need SO_REUSEPORT listeners, which this system cannot make (${why}); set node.workers: 1`]);
}
