/**
 * A real wsha cluster for failover tests: one redis-server, echo backends,
 * and N node processes (`wsha node start`) on loopback, each with its own
 * admin and peer ports, sharing one `bind`-driver VIP on a 127.0.0.x address
 * that the test file chooses (unique per file). Handles kill, pause and
 * resume nodes by PID, read the lease, and ask each node for its ownership
 * state over its peer link (`state` line).
 */
import type Redis from 'ioredis';
import { startRedis, startSentinelSetup, type RedisProcess, type SentinelSetup } from './redis';
import { startBackend, type TestBackend } from './backend';
import { freePort, sleep, waitFor } from './ports';
import { spawnNodeProcess, type NodeProcess } from './node-process';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { RedisKeys } from '../../shared/redis/keys';
import { parseLease, type LeaseValue } from '../../cluster/vip/lease';
import type { AgentSnapshot } from '../../cluster/cluster-agent';
import { queryPeerState } from './peer-client';
import { testSecretBytes } from './cluster-secret';

/** Options of startCluster. */
export interface ClusterOptions {
  n: number;
  /** 127.0.0.x address of the VIP, unique per test file. */
  vipAddress: string;
  /** Priority per node (default all 100). */
  priorities?: number[];
  preempt?: boolean;
  /** Overrides of cluster.lease / heartbeat / handover. */
  lease?: Record<string, number>;
  heartbeat?: Record<string, number>;
  handover?: Record<string, number>;
  backends?: number;
  /** Start only the first `startNodes` nodes (others via start()). @default n */
  startNodes?: number;
  logLevel?: string;
  /** More VIPs besides `main` (bind driver, same listener port), and how VIPs go to nodes. */
  extraVips?: Array<{ name: string; address: string }>;
  placement?: 'priority' | 'spread';
  /** Reach Redis through Sentinel (one master, one replica, three sentinels) instead of one server. */
  sentinel?: boolean;
  /** node.workers of every node. @default 1 (the schema's default) */
  workers?: number;
  /** node.admin.token of every node (tests that read /api/state or /metrics). */
  adminToken?: string;
}

/** One node of the test cluster. */
export interface ClusterNode {
  id: string;
  priority: number;
  adminPort: number;
  peerPort: number;
  config: Record<string, unknown>;
  proc: NodeProcess | null;
}

/** A running test cluster. */
export interface TestCluster {
  name: string;
  /** The Redis server (with `sentinel`: the initial master). */
  redis: RedisProcess;
  /** With `sentinel`: the whole setup. */
  sentinel: SentinelSetup | null;
  /** A 'cli'-profile connection for reading keys. */
  client: Redis;
  keys: RedisKeys;
  backends: TestBackend[];
  vip: { address: string; port: number; url: string };
  nodes: ClusterNode[];
  node(id: string): ClusterNode;
  /** Starts (or restarts) a node process and waits for "node started". */
  start(id: string): Promise<void>;
  /** The lease holder right now. */
  lease(): Promise<LeaseValue | null>;
  /** Node id of the lease holder. */
  owner(): Promise<string | null>;
  /** Waits until the lease holder satisfies `pred` (default: anyone) and claims it itself; returns its id. */
  waitForOwner(pred?: (id: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Asks a node for its agent snapshot over the peer link (null when it does not answer within `timeoutMs`). */
  state(id: string, timeoutMs?: number): Promise<AgentSnapshot | null>;
  kill(id: string, sig?: NodeJS.Signals): Promise<void>;
  pause(id: string): void;
  resume(id: string): void;
  close(): Promise<void>;
}

function nodeConfig(o: ClusterOptions, name: string, redisCfg: Record<string, unknown>, backends: TestBackend[], n: Omit<ClusterNode, 'config' | 'proc'>, vipPort: number): Record<string, unknown> {
  return {
    cluster: {
      name, redis: redisCfg, ...(o.placement ? { vipPlacement: o.placement } : {}),
      lease: { ...(o.lease ?? {}) },
      heartbeat: { intervalMs: 100, timeoutMs: 1000, ...(o.heartbeat ?? {}) },
      handover: { closeWindowMs: 1000, closeRatePerSec: 1000, maxOverlapMs: 1000, timeoutMs: 5000, ...(o.handover ?? {}) },
    },
    node: {
      id: n.id, priority: n.priority,
      admin: { listen: `127.0.0.1:${n.adminPort}`, ...(o.adminToken ? { token: o.adminToken } : {}) },
      peer: { listen: `127.0.0.1:${n.peerPort}`, confirmTimeoutMs: 200 },
      drain: { graceMs: 200, deadlineMs: 3000 },
      ...(o.workers ? { workers: o.workers } : {}),
    },
    vips: [{ name: 'main', driver: 'bind', address: o.vipAddress, preempt: o.preempt ?? false }, ...(o.extraVips ?? []).map((v) => ({ name: v.name, driver: 'bind', address: v.address, preempt: o.preempt ?? false }))],
    listeners: [{ name: 'vip-main', on: 'vip:main', port: vipPort }, ...(o.extraVips ?? []).map((v) => ({ name: `vip-${v.name}`, on: `vip:${v.name}`, port: vipPort }))],
    routes: [{ host: '*', path: '/', pool: 'app' }],
    pools: { app: { balance: 'round-robin', backends: backends.map((b, i) => ({ id: `app-${i + 1}`, url: `ws://127.0.0.1:${b.port}` })) } },
    limits: { handshakeTimeoutMs: 2000, backendConnectTimeoutMs: 1000 },
    logging: { level: o.logLevel ?? 'info' },
  };
}

/** Spawns one node process (`wsha node start --config FILE`, JSON log lines captured); stopped by its own PID. */
export function spawnClusterNode(config: object): NodeProcess {
  return spawnNodeProcess(config);
}

/** One authenticated `state?` to a node's peer port (the cluster secret of this test process). */
export function queryState(cluster: string, port: number, timeoutMs = 300): Promise<AgentSnapshot | null> {
  return queryPeerState({ port, cluster, secret: testSecretBytes(), timeoutMs });
}

/** Starts redis, backends and nodes; register `t.after(() => c.close())` right after. */
export async function startCluster(o: ClusterOptions): Promise<TestCluster> {
  const name = `t${process.pid}x${Math.floor(Math.random() * 1e6)}`;
  const sentinel = o.sentinel ? await startSentinelSetup(`wsha-${process.pid}`, 1000) : null;
  const redis = sentinel ? sentinel.master : await startRedis();
  const redisCfg: Record<string, unknown> = sentinel
    ? { url: 'redis://127.0.0.1:6379', sentinels: sentinel.sentinels.map((x) => ({ host: x.host, port: x.port })), name: sentinel.name }
    : { url: redis.url };
  const backends: TestBackend[] = [];
  const nodes: ClusterNode[] = [];
  let client: Redis | undefined;
  const openClient = (): Redis => {
    const r = createRedis(RedisSchema.parse(redisCfg), 'state');
    r.on('error', () => { /* tests that stop Redis expect errors; commands still reject */ });
    return r;
  };
  const c: TestCluster = {
    name, redis, sentinel, keys: new RedisKeys(name), backends, nodes,
    client: undefined as unknown as Redis,
    vip: { address: o.vipAddress, port: 0, url: '' },
    node: (id) => { const n = nodes.find((x) => x.id === id); if (!n) throw new Error(`no node ${id}`); return n; },
    start: async (id) => {
      const n = c.node(id);
      if (n.proc && n.proc.proc.exitCode === null && n.proc.proc.signalCode === null) throw new Error(`${id} is running`);
      await n.proc?.cleanup();
      n.proc = spawnClusterNode(n.config);
      await Promise.race([
        n.proc.waitForLog((l) => l.msg === 'node started', `${id} started`, 20000),
        n.proc.exited().then((e) => { throw new Error(`${id} exited early (${e.code ?? e.signal}): ${n.proc!.stderr()}`); }),
      ]);
    },
    lease: async () => {
      // Across a Sentinel failover the test's own connection is re-pointed at the new master: retry for a while.
      for (let i = 0; ; i++) {
        try { return parseLease(await client!.get(c.keys.lease('main'))); } catch (err) {
          if (i >= 100) throw err;
          // A client that ioredis ended for good (seen once in CI during a Sentinel failover) is replaced.
          if (client!.status === 'end') { client = openClient(); c.client = client; await client.connect().catch(() => {}); }
          await sleep(100);
        }
      }
    },
    owner: async () => (await c.lease())?.nodeId ?? null,
    waitForOwner: (pred = () => true, timeoutMs = 10000) => waitFor(async () => {
      const id = await c.owner();
      if (!id || !pred(id)) return null;
      const st = await c.state(id);
      return st?.vips.some((v) => v.vip === 'main' && v.claims) ? id : null;
    }, 'a VIP owner', timeoutMs, 10),
    state: (id, timeoutMs = 300) => queryState(name, c.node(id).peerPort, timeoutMs),
    kill: async (id, sig = 'SIGKILL') => {
      const p = c.node(id).proc;
      if (!p) return;
      p.signal(sig);
      if (sig !== 'SIGKILL' && sig !== 'SIGTERM') return;
      // The 10 s bound's timer is cleared at the exit: left running, it kept the test file's process alive that long.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.exited(), new Promise<void>((r) => { timer = setTimeout(r, 10000); })]);
      clearTimeout(timer);
    },
    pause: (id) => c.node(id).proc?.signal('SIGSTOP'),
    resume: (id) => c.node(id).proc?.signal('SIGCONT'),
    close: async () => {
      for (const n of nodes) { n.proc?.signal('SIGCONT'); await n.proc?.cleanup(); }
      client?.disconnect();
      await Promise.all(backends.map((b) => b.close()));
      if (sentinel) await sentinel.stop(); else await redis.stop();
    },
  };
  try {
    client = openClient();
    await client.connect();
    c.client = client;
    for (let i = 0; i < (o.backends ?? 1); i++) backends.push(await startBackend({ id: `app-${i + 1}` }));
    const vipPort = await freePort(o.vipAddress);
    c.vip.port = vipPort;
    c.vip.url = `ws://${o.vipAddress}:${vipPort}/`;
    for (let i = 0; i < o.n; i++) {
      const base = { id: `n${i + 1}`, priority: o.priorities?.[i] ?? 100, adminPort: await freePort(), peerPort: await freePort() };
      nodes.push({ ...base, config: nodeConfig(o, name, redisCfg, backends, base, vipPort), proc: null });
    }
    for (const n of nodes.slice(0, o.startNodes ?? o.n)) await c.start(n.id);
  } catch (err) {
    await c.close();
    throw err;
  }
  return c;
}
