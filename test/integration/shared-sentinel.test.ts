/**
 * The sticky-session failover test with Redis behind Sentinel: one master,
 * one replica and three sentinels (real processes on free ports), two real
 * node processes that find the master through the sentinels.
 */
import { test } from 'node:test';
import { startSentinelSetup } from '../harness/redis';
import { startSharedCluster } from '../fixtures/shared-cluster';
import { stickyAcrossFailover } from '../fixtures/shared-scenarios';
import { teardown } from '../harness/teardown';

test('sticky session across a SIGKILL failover, Redis behind Sentinel', async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const s = await startSentinelSetup('wsha-shared');
  cleanup.after(() => s.stop());
  const c = await startSharedCluster({
    nodes: 2, vipAddress: '127.0.0.75', backends: ['a', 'b'],
    redis: { sentinels: s.sentinels.map((x) => ({ host: x.host, port: x.port })), name: s.name },
    pool: { balance: 'sticky', sticky: { header: 'x-session' } },
  });
  cleanup.after(() => c.close());
  await stickyAcrossFailover(t, c);
});
