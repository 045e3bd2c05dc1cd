import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TunnelRegistry } from '../../../../node/upgrade/tunnel-registry';
import { TimerWheel } from '../../../../node/timer-wheel';
import { localClusterView } from '../../../../shared/cluster-view';
import { silentLogger } from '../../../../shared/logger';
import type { Tunnel } from '../../../../node/upgrade/tunnel';
import type { Backend } from '../../../../node/pool/backend';
import { PassThrough } from 'node:stream';
import { Socket } from 'node:net';

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

test('tunnels per VIP are counted as tunnels come and go, without walking them', () => {
  const r = registry();
  const backend = { pool: 'p', id: 'b', tls: false, tunnels: 0, tunnelsTotal: 0 } as unknown as Backend;
  const make = (vip: string | null) => r.create({
    // Unconnected sockets: the handshake request waits for a connect that never comes; destroy() ends each tunnel.
    client: new PassThrough(), backend: new Socket(), target: backend,
    origin: { listener: 'l', vip, clientAddress: '127.0.0.1' }, request: { path: '/', headers: [] },
    held: Buffer.alloc(0), heldBudget: 1024, expectedAccept: 'x', responseExtra: '', sessionKey: null,
    connectTimeoutMs: 1000, headTimeoutMs: 1000, idleTimeoutMs: 0, route: 'r', gate: null, expiresAtMs: 0,
  });
  const a1 = make('a');
  const a2 = make('a');
  const b1 = make('b');
  const none = make(null);
  assert.deepEqual([...r.byVip], [['a', 2], ['b', 1]]);
  a1.destroy();
  a1.destroy();
  assert.deepEqual([...r.byVip], [['a', 1], ['b', 1]]);
  b1.destroy();
  none.destroy();
  a2.destroy();
  assert.equal(r.byVip.size, 0);
  assert.equal(r.size, 0);
});
