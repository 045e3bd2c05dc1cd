/** Command bus over real Redis pub/sub: request/reply, error codes, nobody listening, timeout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../../../harness/redis';
import { CommandBus } from '../../../../cluster/control/command-bus';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { HandoverError, NotOwnerError } from '../../../../shared/errors';
import { teardown } from '../../../harness/teardown';

test('command bus', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const server = await startRedis();
  cleanup.after(() => server.stop());
  const cfg = RedisSchema.parse({ url: server.url });
  const conns = [createRedis(cfg, 'state'), createRedis(cfg, 'subscriber'), createRedis(cfg, 'state'), createRedis(cfg, 'subscriber')];
  for (const c of conns) c.on('error', () => { /* teardown order may stop the server first */ });
  cleanup.after(() => conns.forEach((c) => c.disconnect()));
  await Promise.all(conns.map((c) => c.connect()));
  const keys = new RedisKeys('bus');
  let slow = false;
  const node = new CommandBus(conns[0]!, conns[1]!, keys, 'n1', async (req) => {
    if (req.op === 'state') return { node: 'n1', vip: req.vip };
    if (slow) await new Promise((r) => setTimeout(r, 500));
    throw new NotOwnerError(req.vip ?? '?', 'n2');
  });
  const cli = new CommandBus(conns[2]!, conns[3]!, keys, 'cli');
  await node.start();
  await cli.start();
  cleanup.after(async () => { await node.close(); await cli.close(); });

  assert.deepEqual(await cli.request('n1', { op: 'state', vip: 'main' }, 1000), { node: 'n1', vip: 'main' });
  await assert.rejects(cli.request('n1', { op: 'handover', vip: 'main', to: 'n2' }, 1000), (e: Error) => e instanceof HandoverError && /does not own VIP main/.test(e.message));
  await assert.rejects(cli.request('ghost', { op: 'state' }, 1000), (e: Error) => e instanceof HandoverError && /not listening/.test(e.message));
  slow = true;
  await assert.rejects(cli.request('n1', { op: 'handover', vip: 'main' }, 100), (e: Error) => e instanceof HandoverError && /did not answer handover within 100 ms/.test(e.message));
  // garbage on the channel does not hurt the node
  await conns[2]!.publish(keys.commands('n1'), 'not json');
  assert.deepEqual(await cli.request('n1', { op: 'state', vip: 'x' }, 1000), { node: 'n1', vip: 'x' });
});
