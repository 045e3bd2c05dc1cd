/**
 * The peer link with real sockets, a real redis-server and peers in child
 * processes (test/fixtures/peer-process.ts): authentication (a wrong secret,
 * a silent connection, too many connections, tampered lines), and the death
 * proof: only a link that was up, then closed, a refused reconnect, and no
 * lease connection of that incarnation in Redis prove a peer dead. A refusal
 * with no link ever up, a peer that still beats on its own link, or a lease
 * connection still in Redis prove nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { freePort, sleep, waitFor } from '../harness/ports';
import { testSecretBytes, withClusterSecret } from '../harness/cluster-secret';
import { queryPeerState } from '../harness/peer-client';
import { PeerServer } from '../../cluster/peer/peer-server';
import { PeerMesh, type PeerDeath } from '../../cluster/peer/peer-mesh';
import { freshNonce, handshakeMac } from '../../cluster/peer/peer-auth';
import { handshakeLine, parseHandshakeLine, FrameSigner } from '../../cluster/peer/peer-frame';
import { leaseConnectionPresence } from '../../cluster/peer/death-proof';
import { KernelProbe } from '../../cluster/peer/kernel-probe';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { Metrics } from '../../shared/metrics';
import { silentLogger } from '../../shared/logger';
import { systemClock } from '../../shared/clock';
import { teardown } from '../harness/teardown';

const CLUSTER = 'pl';
const secret = testSecretBytes();
const logger = silentLogger();

interface Peer { proc: ChildProcess; port: number; inc: string; send(cmd: string): void; kill(): Promise<void> }

function spawnPeer(node: string, redisUrl: string, testNode: string, testPeer: string): Promise<Peer> {
  const proc = spawn(process.execPath, [join(__dirname, '..', 'fixtures', 'peer-process.js'), CLUSTER, node, redisUrl, testNode, testPeer], { stdio: ['pipe', 'pipe', 'inherit'], env: withClusterSecret() });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('peer did not start')); }, 10_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /READY (\d+) (\w+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        proc, port: Number(m[1]), inc: m[2]!, send: (cmd) => proc.stdin!.write(`${cmd}\n`),
        kill: () => new Promise((done) => { if (proc.exitCode !== null || proc.signalCode !== null) return done(); proc.once('exit', () => done()); proc.kill('SIGKILL'); }),
      });
    });
  });
}

/** Reads what a raw socket receives until it closes or `ms` pass. */
function collect(s: Socket, ms: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = '';
    let closed = false;
    s.on('data', (d) => { data += d.toString(); });
    s.on('close', () => { closed = true; resolve({ data, closed }); });
    s.on('error', () => {});
    setTimeout(() => resolve({ data, closed }), ms);
  });
}

test('peer link: authentication and the death proof', { timeout: 60_000 }, async (t) => {
  // Torn down last-in first-out: the Redis clients before the redis-server they talk to.
  const cleanup = teardown(t);
  const redis = await startRedis();
  cleanup.after(() => redis.stop());
  const state: Redis = createRedis(RedisSchema.parse({ url: redis.url }), 'state');
  state.on('error', () => {});
  await state.connect();
  cleanup.after(() => state.disconnect());

  const metrics = new Metrics({ defaultMetrics: false });
  const self = { node: 'me', inc: freshNonce() };
  const inbound = new Map<string, number>();
  const beats = new Map<string, number>();
  let mesh: PeerMesh;
  const server = new PeerServer({
    cluster: CLUSTER, self, secret, authTimeoutMs: 300, maxConnections: 8, maxLineBytes: 65536, clock: systemClock, logger, metrics,
    handlers: {
      onBeat: (from, beat, at) => { beats.set(from.node, (beats.get(from.node) ?? 0) + 1); mesh.beatFrom(from, beat, at); return null; },
      onBye: () => {},
      onInbound: (from, up) => { inbound.set(from.node, (inbound.get(from.node) ?? 0) + (up ? 1 : -1)); mesh.inbound(from, up); },
      snapshot: () => ({ node: 'me' }),
    },
  });
  const address = await server.listen('127.0.0.1:0');
  cleanup.after(() => server.close());
  const deaths: PeerDeath[] = [];
  mesh = new PeerMesh({
    cluster: CLUSTER, self, secret, confirmTimeoutMs: 200, confirmWindowMs: 1000, maxLineBytes: 65536, clock: systemClock, logger, metrics,
    beatIntervalMs: 50, probe: { intervalMs: 25, timeoutMs: 40, misses: 3 },
    beat: () => ({ redis: true, vips: [], ask: [] }),
    presence: (node, inc) => leaseConnectionPresence(state, CLUSTER, node, inc),
  });
  mesh.on('dead', (d: PeerDeath) => deaths.push(d));
  mesh.start();
  cleanup.after(() => mesh.close());
  const port = Number(address.split(':').pop());

  await t.test('a wrong secret, a silent connection, tampered lines and too many connections are closed and counted', async () => {
    const failures = async (reason: string) => ((await metrics.peerAuthFailuresTotal.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0);
    // Wrong secret: the MAC does not verify.
    const bad = connect(port, '127.0.0.1');
    const badSeen = collect(bad, 2000);
    bad.once('data', (d) => {
      const h = parseHandshakeLine(d.toString().trim())!;
      const me = { node: 'intruder', inc: 'x' };
      const mac = handshakeMac(Buffer.from('not-the-cluster-secret'), 'c', CLUSTER, String(h.body.nonce), 'n', me, { node: 'me', inc: String(h.body.inc) }, 'node');
      bad.write(handshakeLine('AUTH', { v: 1, node: me.node, inc: me.inc, role: 'node', nonce: 'n', mac }));
    });
    const b = await badSeen;
    assert.equal(b.closed, true);
    assert.doesNotMatch(b.data, /OK/, 'no OK for a wrong secret');
    assert.equal(await failures('bad-mac'), 1);
    // The old plain-text `state` line gets nothing, and a silent connection is closed after authTimeoutMs.
    const plain = connect(port, '127.0.0.1');
    plain.on('connect', () => plain.write('state\n'));
    const p = await collect(plain, 2000);
    assert.equal(p.closed, true);
    assert.doesNotMatch(p.data, /"vips"|"node":"me"}/, 'no state for an unauthenticated connection');
    const idle = connect(port, '127.0.0.1');
    const started = Date.now();
    const i = await collect(idle, 3000);
    assert.equal(i.closed, true);
    assert.ok(Date.now() - started < 2000, 'closed within the auth timeout');
    // A tool may ask for state; a tampered line after the handshake closes the connection.
    assert.deepEqual(await queryPeerState({ port, cluster: CLUSTER, secret }), { node: 'me' });
    assert.equal(await queryPeerState({ port, cluster: CLUSTER, secret: Buffer.from('wrong-secret-wrong-secret') }), null);
    const forged = new FrameSigner(Buffer.alloc(32), 'c').line({ t: 'state?', id: 1 });
    const tamper = connect(port, '127.0.0.1');
    tamper.once('data', () => tamper.write(forged));
    assert.equal((await collect(tamper, 2000)).closed, true);
    // More than maxConnections at once: the extra ones are closed at once.
    const many = Array.from({ length: 10 }, () => connect(port, '127.0.0.1'));
    const seen = await Promise.all(many.map((s) => collect(s, 150)));
    assert.ok(seen.filter((x) => x.closed).length >= 2, 'connections past the cap are closed');
    assert.ok(await failures('too-many') >= 2);
    for (const s of many) s.destroy();
  });

  await t.test('a refusal with no link ever up proves nothing', async () => {
    const nothing = await freePort();
    mesh.update([{ id: 'ghost', address: `127.0.0.1:${nothing}` }]);
    await sleep(1200);
    assert.equal(deaths.filter((d) => d.id === 'ghost').length, 0);
    mesh.forget(['ghost']);
  });

  await t.test('a killed peer: link closed, reconnect refused, its lease connection gone from Redis => dead', async () => {
    const peer = await spawnPeer('a', redis.url, 'me', address);
    cleanup.after(() => peer.kill());
    mesh.update([{ id: 'a', address: `127.0.0.1:${peer.port}`, inc: peer.inc }]);
    await waitFor(() => mesh.evidence('a')?.linkUp && mesh.evidence('a')?.inboundUp, 'links up both ways', 5000);
    assert.equal(await leaseConnectionPresence(state, CLUSTER, 'a', peer.inc), 'present');
    const killedAt = performance.now();
    await peer.kill();
    const death = await waitFor(() => deaths.find((d) => d.id === 'a'), 'a proven dead', 3000, 5);
    console.log(`# peer proven dead ${Math.round(performance.now() - killedAt)} ms after SIGKILL (detect ${death.detectMs} ms)`);
    assert.equal(death.inc, peer.inc);
    assert.equal(mesh.evidence('a')?.deadInc, peer.inc);
    mesh.forget(['a']);
  });

  await t.test('a peer whose port refuses while it still beats on its own link is not dead', async () => {
    const peer = await spawnPeer('b', redis.url, 'me', address);
    cleanup.after(() => peer.kill());
    mesh.update([{ id: 'b', address: `127.0.0.1:${peer.port}`, inc: peer.inc }]);
    await waitFor(() => mesh.evidence('b')?.linkUp && mesh.evidence('b')?.inboundUp, 'links up both ways', 5000);
    peer.send('close-listener');
    await waitFor(() => !mesh.evidence('b')?.linkUp, 'our link to b is down', 3000);
    await sleep(1500);
    assert.equal(deaths.filter((d) => d.id === 'b').length, 0, 'no proof while b speaks on its own link');
    const before = beats.get('b') ?? 0;
    await sleep(200);
    assert.ok((beats.get('b') ?? 0) > before, 'b kept beating');
    mesh.forget(['b']);
  });

  await t.test('a silent peer whose lease connection is still in Redis is not dead, until Redis loses it', async () => {
    const peer = await spawnPeer('c', redis.url, 'me', address);
    cleanup.after(() => peer.kill());
    mesh.update([{ id: 'c', address: `127.0.0.1:${peer.port}`, inc: peer.inc }]);
    await waitFor(() => mesh.evidence('c')?.linkUp && mesh.evidence('c')?.inboundUp, 'links up both ways', 5000);
    peer.send('go-quiet');
    await waitFor(() => !mesh.evidence('c')?.linkUp && !mesh.evidence('c')?.inboundUp, 'no link to or from c', 3000);
    await sleep(400);
    assert.equal(deaths.filter((d) => d.id === 'c').length, 0, 'refused and silent, but its lease connection is in Redis');
    peer.send('drop-redis');
    await waitFor(() => deaths.find((d) => d.id === 'c'), 'c proven dead once Redis lost its connection', 2000, 5);
    mesh.forget(['c']);
  });

  await t.test('kernel probes: a listening port answers, a closed port is refused (its host answers either way)', async () => {
    const holder = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => holder.listen({ port: 0, host: '127.0.0.1', backlog: 0 }, () => r()));
    cleanup.after(() => holder.close());
    const seen: string[] = [];
    const hp = (holder.address() as AddressInfo).port;
    const probe = new KernelProbe('127.0.0.1', hp, { intervalMs: 20, timeoutMs: 40 }, () => performance.now(), (r) => seen.push(r));
    probe.start();
    await sleep(150);
    probe.stop();
    assert.ok(seen.includes('answered'));
    const closed = await freePort();
    const p2 = new KernelProbe('127.0.0.1', closed, { intervalMs: 20, timeoutMs: 40 }, () => performance.now(), (r) => seen.push(`closed:${r}`));
    p2.start();
    await sleep(100);
    p2.stop();
    assert.ok(seen.includes('closed:refused'), 'a closed port on a live host is refused: the host answers');
  });
});
