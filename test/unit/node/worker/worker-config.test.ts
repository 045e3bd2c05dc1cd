/** The config one worker runs: maxConnections divided, per-client limits not, live pools in force. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workerConfig } from '../../../../node/worker/worker-config';
import { nodeConfig, rawNodeConfig } from '../../../fixtures/node-config';

const base = nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:1'], limits: { maxConnections: 1001, maxConnectionsPerClient: 50 } }));

test('one worker runs the config as it is', () => {
  assert.equal(workerConfig(base, 1), base);
});

test('maxConnections is divided between the workers (rounded down, at least 1); per-client limits apply per worker', () => {
  const c = workerConfig(base, 4);
  assert.equal(c.limits.maxConnections, 250);
  assert.equal(c.limits.maxConnectionsPerClient, 50);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.limits));
  assert.equal(workerConfig(base, 5000).limits.maxConnections, 1);
  assert.equal(base.limits.maxConnections, 1001, 'the node config is untouched');
});

test('the live pools replace the file pools', () => {
  const live = { app: { ...base.pools.app!, backends: [] } };
  assert.equal(workerConfig(base, 1, live).pools, live);
});
