/** The data-path warm-up of a fresh worker: it runs real connections through a private copy and leaves nothing open. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warmUpDataPath } from '../../node/worker/warm-up';
import { nodeConfig, rawNodeConfig } from '../fixtures/node-config';

test('the warm-up echoes through a private listener and backend, then closes both', async () => {
  // The node's own backends are never contacted: this URL has nobody behind it.
  const config = nodeConfig(rawNodeConfig({ port: 0, backendUrls: ['http://127.0.0.1:9'] }));
  const before = new Set((process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles());
  const ms = await warmUpDataPath(config);
  assert.ok(ms >= 0 && ms < 5000, `took ${ms} ms`);
  // Sockets and servers of the warm-up are closed (a closing socket may take a turn to leave the list).
  let left: unknown[] = [];
  for (let i = 0; i < 50; i++) {
    left = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => !before.has(h) && (h as { constructor: { name: string } }).constructor.name !== 'WriteStream');
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(left.map((h) => (h as { constructor: { name: string } }).constructor.name), []);
});
