/**
 * Planned handover between two VipManagers on a real redis-server, with the
 * command channel replaced by direct calls that the test can break (lost
 * commit, refused prepare, an owner that never follows up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { startRedis } from '../../../harness/redis';
import { MemoryVipHost } from '../../../harness/memory-vip-host';
import { sleep, waitFor } from '../../../harness/ports';
import { VipManager } from '../../../../cluster/vip/vip-manager';
import { LeaseClient } from '../../../../cluster/vip/lease';
import { BindDriver } from '../../../../cluster/vip/drivers/bind';
import type { Candidate } from '../../../../cluster/vip/preemption';
import { createRedis } from '../../../../shared/redis/connect';
import { RedisSchema, VipSchema } from '../../../../shared/config/schema';
import { RedisKeys } from '../../../../shared/redis/keys';
import { DEFAULTS } from '../../../../shared/config/defaults';
import { Metrics } from '../../../../shared/metrics';
import { silentLogger } from '../../../../shared/logger';
import { systemClock } from '../../../../shared/clock';
import { HandoverError, NotOwnerError } from '../../../../shared/errors';

const MAX_OVERLAP_MS = 300;

test('planned handover', { timeout: 30_000 }, async (t) => {
  const server = await startRedis();
  t.after(() => server.stop());
  const conns: Redis[] = [];
  t.after(() => conns.forEach((c) => c.disconnect()));
  const keys = new RedisKeys('ho');
  const vip = VipSchema.parse({ name: 'main', driver: 'bind', address: '127.0.0.70' });
  const cands: Record<string, Candidate> = {
    a: { id: 'a', priority: 200, alive: true, ready: true, drained: false },
    b: { id: 'b', priority: 100, alive: true, ready: true, drained: false },
  };
  const faults = { dropCommit: false };
  const events: Array<{ phase: string; from: string; to: string }> = [];
  const managers: Record<string, VipManager> = {};
  const hosts: Record<string, MemoryVipHost> = {};
  for (const id of ['a', 'b']) {
    const r = createRedis(RedisSchema.parse({ url: server.url }), 'lease');
    r.on('error', () => {});
    conns.push(r);
    await r.connect();
    hosts[id] = new MemoryVipHost();
    managers[id] = new VipManager({
      vip, nodeId: id, lease: new LeaseClient(r, keys), driver: new BindDriver(), host: hosts[id]!, timings: DEFAULTS.lease,
      handover: { closeRatePerSec: 1000, closeWindowMs: 0, maxOverlapMs: MAX_OVERLAP_MS, timeoutMs: 1000 },
      clock: systemClock, logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }),
      self: () => cands[id]!, members: () => Object.values(cands),
      // The command channel, as direct calls on the other manager.
      send: async (to, req) => {
        const m = managers[to]!;
        if (req.op === 'prepare') return m.prepare(req.from, req.epoch ?? 0);
        if (req.op === 'commit') { if (faults.dropCommit) throw new HandoverError('commit lost'); return m.commit(req.epoch ?? 0); }
        return m.abort(req.from);
      },
      onChange: () => {}, onRedis: () => {},
      publish: (e) => { if (e.type === 'handover') events.push({ phase: e.phase, from: e.from, to: e.to }); },
    });
  }
  const A = managers.a!, B = managers.b!;
  t.after(() => Promise.all([A.stop(), B.stop()]));
  A.start();
  B.start();
  await waitFor(() => A.state === 'owner', 'a owns', 5000);
  await sleep(200);
  const lease = new LeaseClient(conns[0]!, keys);

  await t.test('make-before-break: b listens before a stops; new epoch; a not owner any more', async () => {
    const before = (await lease.read('main'))!;
    const r = await A.handOver('b');
    assert.equal(r.oldOwner, 'a');
    assert.equal(r.newOwner, 'b');
    assert.equal(r.epoch, before.epoch + 1);
    assert.equal(B.state, 'owner');
    const bOpen = hosts.b!.events.find((e) => e.op === 'open')!;
    const aStop = hosts.a!.events.filter((e) => e.op === 'stop').at(-1)!;
    assert.ok(bOpen.atMs < aStop.atMs, 'the target listened before the old owner stopped');
    assert.ok(aStop.atMs - bOpen.atMs <= MAX_OVERLAP_MS, 'bounded overlap');
    assert.deepEqual(await lease.read('main'), { nodeId: 'b', epoch: r.epoch });
    await assert.rejects(A.handOver('b'), NotOwnerError);
    assert.deepEqual(events.map((e) => e.phase), ['started', 'prepared', 'moved'], 'handover phases published');
  });

  await t.test('a lost commit: the target finds the lease by polling and becomes owner', async () => {
    faults.dropCommit = true;
    await waitFor(() => A.state === 'standby', 'a standby', 2000);
    const r = await B.handOver('a');
    faults.dropCommit = false;
    await waitFor(() => A.state === 'owner', 'a owner via the commit poll', MAX_OVERLAP_MS);
    assert.deepEqual(await lease.read('main'), { nodeId: 'a', epoch: r.epoch });
  });

  await t.test('an ineligible target refuses to prepare: nothing moves', async () => {
    await waitFor(() => B.state === 'standby', 'b standby', 2000);
    cands.b!.drained = true;
    const before = await lease.read('main');
    const opens = hosts.b!.events.filter((e) => e.op === 'open').length;
    await assert.rejects(A.handOver('b'), (e: Error) => e instanceof HandoverError && /drained/.test(e.message) && /nothing moved/.test(e.message));
    assert.equal(A.state, 'owner');
    assert.deepEqual(await lease.read('main'), before);
    assert.equal(hosts.b!.events.filter((e) => e.op === 'open').length, opens, 'b opened nothing');
    assert.equal(events.at(-1)?.phase, 'aborted');
    cands.b!.drained = false;
  });

  await t.test('a prepared target that never gets the lease closes what it opened after maxOverlapMs', async () => {
    const before = await lease.read('main');
    await B.prepare('a', before!.epoch);
    assert.equal(B.state, 'receiving');
    assert.equal(hosts.b!.isServing('main'), true);
    await waitFor(() => B.state === 'standby', 'b gives up', MAX_OVERLAP_MS + 1000);
    assert.equal(hosts.b!.isServing('main'), false);
    assert.equal(A.state, 'owner');
    assert.deepEqual(await lease.read('main'), before);
  });
});
