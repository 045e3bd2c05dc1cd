import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelRegistry } from '../../../../node/upgrade/tunnel-registry';
import { TimerWheel } from '../../../../node/timer-wheel';
import { localClusterView } from '../../../../shared/cluster-view';
import { silentLogger } from '../../../../shared/logger';
import type { Tunnel } from '../../../../node/upgrade/tunnel';

/** Stand-ins that record when close() was called; closePaced only calls close() and reads state. */
function fakes(n: number): Array<Tunnel & { closedAt: number }> {
  return Array.from({ length: n }, () => {
    const f = { state: 'open', closedAt: 0, close(this: any) { this.closedAt = Date.now(); this.state = 'closed'; } };
    return f as unknown as Tunnel & { closedAt: number };
  });
}

const registry = () => new TunnelRegistry(new TimerWheel(50), localClusterView(), silentLogger());

test('closePaced spreads closes over the window', async () => {
  const list = fakes(10);
  const start = Date.now();
  assert.equal(await registry().closePaced(list, 1012, 'r', 1000, 300), 10);
  const offsets = list.map((t) => t.closedAt - start);
  assert.ok(offsets[0] < 100, `first at ${offsets[0]} ms`);
  assert.ok(offsets[9] >= 200, `last at ${offsets[9]} ms`);
  for (let i = 1; i < 10; i++) assert.ok(offsets[i] >= offsets[i - 1], 'in order');
});

test('closePaced never exceeds the rate, and with window 0 and a high rate closes all at once', async () => {
  const slow = fakes(5);
  const start = Date.now();
  await registry().closePaced(slow, 1012, 'r', 10, 0);
  assert.ok(slow[4].closedAt - start >= 350, `5 closes at 10/s take about 400 ms (${slow[4].closedAt - start})`);
  const fast = fakes(50);
  const s2 = Date.now();
  await registry().closePaced(fast, 1001, 'r', 1_000_000, 0);
  assert.ok(fast.every((t) => t.closedAt - s2 < 50));
  assert.equal(await registry().closePaced([], 1001, 'r', 10, 100), 0);
});
