/**
 * Worker processes of a VIP owner (issue 11), two real nodes with
 * `node.workers: 2` sharing a bind-driver VIP:
 * - a SIGKILLed worker takes only its own tunnels: the other worker's
 *   clients keep talking, the lease (holder and epoch) does not move, and
 *   the slot is restarted and accepts on the VIP again;
 * - a planned handover closes every client of every worker with 1012;
 * - a SIGKILLed control process takes its workers with it at once, and
 *   the standby takes the VIP over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { startCluster } from '../harness/cluster';
import { sleep, waitFor } from '../harness/ports';
import { closeCode, openWs, roundTrip } from '../harness/proxy';
import { pidAlive, workersOf } from '../harness/workers';
import type { WorkerSnapshot } from '../../shared/ports/data-plane';

const TOKEN = 'workers-failover-token';
const CLIENTS = 40;
/** A worker whose control process died must be gone within this bound. */
const ORPHAN_EXIT_MS = 1000;

async function openClients(url: string, n: number): Promise<WebSocket[]> {
  const out: WebSocket[] = [];
  for (let i = 0; i < n; i++) out.push(await openWs(url));
  return out;
}

async function alive(ws: WebSocket): Promise<boolean> {
  if (ws.readyState !== ws.OPEN) return false;
  return Promise.race([roundTrip(ws, 'ping').then((t) => t === 'ping', () => false), sleep(2000).then(() => false)]);
}

function tunnelsReported(port: number, total: number): Promise<WorkerSnapshot[]> {
  return waitFor(async () => {
    const w = await workersOf(port, TOKEN);
    return w.length === 2 && w.every((x) => x.state === 'running') && w.reduce((a, x) => a + x.tunnels, 0) === total ? w : null;
  }, `${total} tunnels reported by running workers`, 10_000, 50);
}

test('a worker crash, a planned handover and a control-process kill with two workers per node', { timeout: 120_000 }, async (t) => {
  const c = await startCluster({ n: 2, vipAddress: '127.0.0.91', priorities: [200, 100], workers: 2, adminToken: TOKEN, startNodes: 1 });
  t.after(() => c.close());
  assert.equal(await c.waitForOwner(), 'n1');
  await c.start('n2');
  const n1 = c.node('n1').adminPort;
  const n2 = c.node('n2').adminPort;

  // Clients spread over both workers of the owner.
  const clients = await openClients(c.vip.url, CLIENTS);
  const spread = await tunnelsReported(n1, CLIENTS);
  assert.ok(spread.every((w) => w.tunnels > 0), `both workers hold tunnels: ${spread.map((w) => w.tunnels).join(' + ')}`);
  const lease = await c.lease();

  // SIGKILL worker 0: its clients lose their tunnel, worker 1's keep talking, the VIP stays where it is.
  const victim = spread[0]!;
  const closed = new Set<WebSocket>();
  for (const ws of clients) ws.once('close', () => closed.add(ws));
  process.kill(victim.pid!, 'SIGKILL');
  await waitFor(() => closed.size >= victim.tunnels || null, 'the dead worker\'s clients closed', 5000);
  await sleep(300);
  assert.equal(closed.size, victim.tunnels, 'only the dead worker\'s clients lost their tunnel');
  const survivors = clients.filter((ws) => !closed.has(ws));
  assert.equal(survivors.length, spread[1]!.tunnels);
  for (const ws of survivors) assert.ok(await alive(ws), 'a client of the other worker still echoes');
  const restarted = await waitFor(async () => {
    const w = (await workersOf(n1, TOKEN))[0];
    return w && w.state === 'running' && w.pid !== victim.pid && w.restarts === 1 ? w : null;
  }, 'worker 0 restarted', 10_000, 50);
  assert.ok(pidAlive(restarted.pid!));
  assert.deepEqual(await c.lease(), lease, 'the lease did not move (same holder, same epoch)');
  assert.equal((await c.state('n1'))?.vips.find((v) => v.vip === 'main')?.claims, true);

  // The restarted worker accepts on the VIP again.
  const fresh = await openClients(c.vip.url, CLIENTS);
  const again = await tunnelsReported(n1, survivors.length + CLIENTS);
  assert.ok(again[0]!.tunnels > 0, `the restarted worker took new clients: ${again.map((w) => w.tunnels).join(' + ')}`);
  for (const ws of fresh) assert.ok(await alive(ws));

  // Planned handover to n2: every client of both workers of n1 gets 1012.
  const open = [...survivors, ...fresh];
  const codes = open.map((ws) => closeCode(ws, 15_000));
  const r = await fetch(`http://127.0.0.1:${n1}/api/failover`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ vip: 'main', to: 'n2' }) });
  assert.equal(r.status, 200, await r.text());
  assert.deepEqual([...new Set(await Promise.all(codes))], [1012]);
  assert.equal(await c.waitForOwner((id) => id === 'n2'), 'n2');

  // SIGKILL n2's control process: its workers exit at once, and n1 takes the VIP back.
  const onN2 = await openClients(c.vip.url, 4);
  const n2Workers = await tunnelsReported(n2, onN2.length);
  const pids = n2Workers.map((w) => w.pid!);
  const killedAt = Date.now();
  await c.kill('n2', 'SIGKILL');
  await waitFor(() => pids.every((p) => !pidAlive(p)) || null, 'n2\'s workers gone', ORPHAN_EXIT_MS);
  const goneMs = Date.now() - killedAt;
  assert.equal(await c.waitForOwner((id) => id === 'n1', 5000), 'n1');
  t.diagnostic(`n2's workers exited ${goneMs} ms after its control process was killed`);
  for (const ws of onN2) ws.terminate();
  for (const ws of fresh) ws.terminate();
});
