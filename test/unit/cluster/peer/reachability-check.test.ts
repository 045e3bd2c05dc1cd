/**
 * When the loopback peer-address check runs and what its verdict does, with
 * the real checkAdvertisedReachable against a real redis-server. Every
 * connection of this test comes from 127.0.0.1, so "another host" is a
 * member that advertises a non-loopback peer address (192.0.2.0/24, TEST-NET-1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import type Redis from 'ioredis';
import { ReachabilityCheck } from '../../../../cluster/peer/reachability-check';
import { checkAdvertisedReachable } from '../../../../cluster/peer/peer-address';
import type { Member } from '../../../../cluster/membership/members';
import type { HeartbeatRecord } from '../../../../shared/records';
import { ConfigError } from '../../../../shared/errors';
import { connectionName, createRedis } from '../../../../shared/redis/connect';
import { RedisSchema } from '../../../../shared/config/schema';
import { startRedis } from '../../../harness/redis';
import { teardown, type Cleanups } from '../../../harness/teardown';
import { waitFor } from '../../../harness/ports';

const CLUSTER = 'rc';
const SELF = 'self';
const ADVERTISED = '127.0.0.1:7946';

const member = (id: string, peer: string, alive = true): Member => ({
  record: {
    id, address: '127.0.0.1', admin: '127.0.0.1:1', peer, incarnation: `inc-${id}`, peers: [], priority: 100, role: 'standby', state: 'ready', ready: true, drained: false,
    version: '0', startedAt: 0, sentAt: 0, connections: 0, vips: [], backendsDown: [],
  } satisfies HeartbeatRecord,
  ageMs: 0, alive, drained: false,
});
const self = member(SELF, ADVERTISED);
const far = member('far', '192.0.2.10:7946');

/** How often Redis ran CLIENT LIST since it started. */
async function clientListCalls(r: Redis): Promise<number> {
  return Number(/cmdstat_client\|list:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
}

/** A connection named as node `node` of the cluster would name it, or (no node) as a tool would. */
async function connection(url: string, node: string | null, c: Cleanups): Promise<Redis> {
  const r = createRedis(RedisSchema.parse({ url }), 'state', node ? connectionName(CLUSTER, node, `inc-${node}`, 'state') : 'test-probe');
  r.on('error', () => {});
  await r.connect();
  c.after(() => r.disconnect());
  return r;
}

/** Closes `r` and waits until Redis no longer lists it (later subtests must not see it). */
async function disconnected(r: Redis, probe: Redis): Promise<void> {
  const name = String(await r.client('GETNAME'));
  r.disconnect();
  await waitFor(async () => !String(await probe.call('CLIENT', 'LIST')).includes(`name=${name} `), `${name} gone from Redis`, 5000);
}

/** A check as the agent builds it, with what it did recorded. */
function build(redis: Redis, serving: string[] = []) {
  const logs: Array<Record<string, any>> = [];
  const out = { fatal: [] as Error[], unusable: [] as string[], runs: 0, logs };
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logs.push(JSON.parse(String(chunk))); done(); } }));
  const check = new ReachabilityCheck({
    selfId: SELF, logger, serving: () => serving,
    check: (members) => {
      out.runs++;
      const others = { advertised: members.filter((m) => m.alive).map((m) => ({ id: m.record.id, peer: m.record.peer })) };
      return checkAdvertisedReachable(redis, CLUSTER, SELF, ADVERTISED, others);
    },
    onFatal: (err) => out.fatal.push(err),
    onUnusable: (p) => out.unusable.push(p),
  });
  return { check, out };
}

test('loopback peer address: checked again when a node first appears, bounded, fatal only for a node that serves nothing', async (t) => {
  const cleanup = teardown(t);
  const server = await startRedis();
  cleanup.after(() => server.stop());
  const redis = await connection(server.url, SELF, cleanup);
  const probe = await connection(server.url, null, cleanup);

  await t.test('the start race: alone at the first read, another host later: a standby refuses, naming the key', async () => {
    const { check, out } = build(redis);
    await check.members([self]);
    assert.equal(check.passed, true, 'alone, the node may acquire as a single node does');
    assert.equal(check.final, false, 'but nothing was there to compare with');
    assert.equal(out.fatal.length, 0);
    await check.members([self, far]);
    assert.equal(out.fatal.length, 1, 'the second look refuses');
    assert.ok(out.fatal[0] instanceof ConfigError);
    assert.match(out.fatal[0]!.message, /node\.peer\.listen: this node would advertise 127\.0\.0\.1:7946, which only this host can reach, while far advertises 192\.0\.2\.10:7946/);
    assert.equal(check.final, true);
    assert.equal(check.problem, null);
    assert.ok(out.logs.some((l) => l.level === 60 && l.msg === 'peer link address unusable'));
  });

  await t.test('a node alone asks Redis nothing more, heartbeat after heartbeat', async () => {
    const { check, out } = build(redis);
    await check.members([self]);
    const before = await clientListCalls(probe);
    for (let i = 0; i < 20; i++) await check.members([self, member('gone', '192.0.2.11:7946', false)]);
    assert.equal(out.runs, 1, 'one run: at the first read');
    assert.equal(await clientListCalls(probe), before, 'no CLIENT LIST per membership read');
    assert.equal(out.logs.filter((l) => /no other node in Redis yet/.test(l.msg)).length, 1, 'said once');
  });

  await t.test('an owner that finds out keeps serving and reports it; then nothing more is checked', async () => {
    const { check, out } = build(redis, ['web']);
    await check.members([self]);
    await check.members([self, far]);
    assert.equal(out.fatal.length, 0, 'an owner is not killed');
    assert.equal(out.unusable.length, 1);
    assert.match(check.problem ?? '', /^node\.peer\.listen: this node would advertise 127\.0\.0\.1:7946.*far advertises 192\.0\.2\.10:7946/);
    const err = out.logs.find((l) => l.level === 50);
    assert.match(String(err?.msg), /keeps running/);
    assert.deepEqual(err?.vips, ['web']);
    const before = await clientListCalls(probe);
    for (let i = 0; i < 10; i++) await check.members([self, far, member('far2', '192.0.2.12:7946')]);
    assert.equal(out.runs, 2);
    assert.equal(await clientListCalls(probe), before);
    assert.equal(out.unusable.length, 1, 'reported once');
  });

  await t.test('another node on this host at the second look: final, as before the fix', async () => {
    const { check, out } = build(redis);
    await check.members([self]);
    const near = await connection(server.url, 'near', cleanup);
    await check.members([self, member('near', '127.0.0.1:7947')]);
    assert.equal(check.final, true, 'Redis shows near connected from this node\'s address');
    await check.members([self, member('near', '127.0.0.1:7947'), far]);
    assert.equal(out.runs, 2, 'a check that compared another node is not run again');
    assert.equal(out.fatal.length, 0);
    await disconnected(near, probe);
  });

  await t.test('a heartbeat without connections (a node that just exited) is no comparison: looked at again at its next incarnation only', async () => {
    const { check, out } = build(redis);
    await check.members([self]);
    const ghost = (inc: string) => ({ ...member('ghost', '127.0.0.1:7948'), record: { ...member('ghost', '127.0.0.1:7948').record, incarnation: inc } });
    await check.members([self, ghost('i1')]);
    assert.equal(check.final, false, 'no connection of ghost in Redis: its host is unknown');
    const before = await clientListCalls(probe);
    for (let i = 0; i < 10; i++) await check.members([self, ghost('i1')]);
    assert.equal(out.runs, 2, 'the same incarnation is not looked at twice');
    assert.equal(await clientListCalls(probe), before);
    const back = await connection(server.url, 'ghost', cleanup);
    await check.members([self, ghost('i2')]);
    assert.equal(out.runs, 3, 'its restart is looked at');
    assert.equal(check.final, true);
    await disconnected(back, probe);
  });

  await t.test('a node connected to Redis before its first heartbeat counts as seen at the first read', async () => {
    const other = await connection(server.url, 'early', cleanup);
    const { check, out } = build(redis);
    await check.members([self]);
    assert.equal(check.final, true, 'Redis showed a connection of node early, from this host');
    await check.members([self, far]);
    assert.equal(out.runs, 1);
    await disconnected(other, probe);
  });

  await t.test('a non-loopback address is final at once', async () => {
    const r = await checkAdvertisedReachable(redis, CLUSTER, SELF, '192.0.2.1:7946', { advertised: [] });
    assert.equal(r, true);
  });
});
