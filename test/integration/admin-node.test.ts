/**
 * The admin API of real nodes (child processes of `wsha node start` in a
 * two-node cluster): open health endpoints, 401 with nothing done, the
 * named Prometheus series on /metrics, /api/state, and a failover through
 * POST /api/failover that really moves the VIP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startOperatorCluster } from '../harness/operator-cluster';
import { parsePrometheus } from '../harness/prometheus';
import { sleep, waitFor } from '../harness/ports';

const NAMED_SERIES = [
  'wsha_connections_open', 'wsha_connections_total', 'wsha_handshake_failures_total', 'wsha_bytes_total', 'wsha_backend_up',
  'wsha_vip_owner', 'wsha_vip_epoch', 'wsha_ownership_changes_total', 'wsha_peer_heartbeat_age_seconds',
  'wsha_redis_round_trip_seconds', 'wsha_redis_errors_total', 'wsha_draining',
];

test('admin API of a real node: 401s, metrics, state, failover', { timeout: 90_000 }, async (t) => {
  const c = await startOperatorCluster('adminnode');
  t.after(() => c.stop());
  const auth = { authorization: `Bearer ${c.layout.token}` };
  const first = (await c.owner())!;
  const owner = first.owner;
  const other = owner === 'node-a' ? 'node-b' : 'node-a';
  const base = c.adminUrl(owner);

  assert.equal((await fetch(`${base}healthz`)).status, 200);
  await waitFor(async () => (await fetch(`${base}readyz`)).status === 200, 'owner ready', 15_000, 100);

  // Wrong or missing token: 401, and the VIP does not move.
  for (const headers of [{}, { authorization: 'Bearer wrong-token-123' }] as Array<Record<string, string>>) {
    assert.equal((await fetch(`${base}metrics`, { headers })).status, 401);
    assert.equal((await fetch(`${base}api/state`, { headers })).status, 401);
    for (const action of ['drain', 'failover']) {
      const r = await fetch(`${base}api/${action}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ vip: 'front', to: other }) });
      assert.equal(r.status, 401);
    }
  }
  await sleep(500);
  assert.deepEqual(await c.owner(), first, 'nothing moved after the refused requests');
  assert.equal(await c.client.sismember(c.keys.drained(), owner), 0, 'nothing drained');

  const metrics = await fetch(`${base}metrics`, { headers: auth });
  assert.equal(metrics.status, 200);
  const exp = parsePrometheus(await metrics.text());
  for (const name of NAMED_SERIES) assert.ok(exp.types.has(name), `series ${name} on /metrics`);
  const vipOwner = exp.samples.find((s) => s.name === 'wsha_vip_owner' && s.labels.vip === 'front');
  if (vipOwner) assert.equal(vipOwner.value, 1, 'the owner says it owns the VIP');

  const state = await (await fetch(`${base}api/state`, { headers: auth })).json() as { nodeId: string; node: { state: string } };
  assert.equal(state.nodeId, owner);
  assert.equal(state.node.state, 'running');

  const r = await fetch(`${base}api/failover`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ vip: 'front', to: other }) });
  const body = await r.json() as { ok: boolean; result: { newOwner: string; epoch: number } };
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.equal(body.result.newOwner, other);
  const now = await waitFor(async () => { const o = await c.owner(); return o?.owner === other ? o : null; }, 'VIP on the other node', 10_000, 50);
  assert.ok(now.epoch > first.epoch);

  // Failover asked of a node that owns nothing is refused with a code, nothing moves.
  const refused = await fetch(`${base}api/failover`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ vip: 'front', to: 'nobody' }) });
  assert.equal(refused.status, 409);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'WSHA_ERR_HANDOVER');
  assert.equal((await c.owner())!.owner, other);

  // Redis dies: the admin API stays up, says so with a code, and still serves metrics and state.
  c.client.disconnect();
  c.redis.kill();
  const status = await waitFor(async () => { const x = await fetch(`${base}api/status`, { headers: auth }); return x.status === 503 ? x : null; }, '503 from /api/status', 10_000, 100);
  assert.equal(((await status.json()) as { error: { code: string } }).error.code, 'WSHA_ERR_REDIS_UNAVAILABLE');
  assert.equal((await fetch(`${base}healthz`)).status, 200);
  assert.equal((await fetch(`${base}metrics`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${base}api/state`, { headers: auth })).status, 200);
});
