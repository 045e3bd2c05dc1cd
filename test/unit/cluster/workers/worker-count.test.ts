/** node.workers: auto is the usable cores; more than one worker needs SO_REUSEPORT or the config is refused naming the key. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWorkerCount, resolveWorkerCount } from '../../../../cluster/workers/worker-count';
import { ConfigError } from '../../../../shared/errors';

test('auto is os.availableParallelism(), at least 1; a number is itself', () => {
  assert.equal(resolveWorkerCount('auto', () => 6), 6);
  assert.equal(resolveWorkerCount('auto', () => 0), 1);
  assert.equal(resolveWorkerCount(3, () => 6), 3);
});

test('more than one worker without SO_REUSEPORT is a ConfigError naming node.workers; one worker never needs it', () => {
  assert.throws(() => checkWorkerCount(2, () => 'no native addon'), (err: unknown) => err instanceof ConfigError && /^node\.workers: 2 workers need SO_REUSEPORT.*no native addon/.test(err.problems[0]!));
  assert.doesNotThrow(() => checkWorkerCount(1, () => 'no native addon'));
  assert.doesNotThrow(() => checkWorkerCount(4, () => null));
});
