/**
 * A real two-node cluster for the operator-surface tests (CLI, admin API,
 * live page): its own redis-server, two echo backends as child processes
 * (cluster/demo/echo-backend.js), and two nodes as child processes of
 * `wsha node start`, sharing a `bind` VIP on 127.0.0.x, configured by the
 * demo's own config builder. Everything is stopped by PID in `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { request } from 'node:http';
import Redis from 'ioredis';
import { parse } from 'yaml';
import { demoNodeConfig, type DemoLayout } from '../../cluster/demo/demo-config';
import { acceptsTcp } from '../../cluster/demo/wait';
import { RedisKeys } from '../../shared/redis/keys';
import { freePort, waitFor } from './ports';
import { startRedis, type RedisProcess } from './redis';
import { startNodeProcess, type NodeProcess } from './node-process';

const ECHO_BACKEND = resolve(__dirname, '..', '..', 'cluster', 'demo', 'echo-backend.js');

/** Handles on the running cluster. */
export interface OperatorCluster {
  redis: RedisProcess;
  /** A client of the cluster's Redis (for reading leases). */
  client: Redis;
  keys: RedisKeys;
  layout: DemoLayout;
  nodes: Map<string, NodeProcess & { adminPort: number }>;
  backends: Map<string, ChildProcess>;
  /** Arguments that point the CLI at this cluster. */
  target: string[];
  /** Current lease holder of the VIP, or null. */
  owner(): Promise<{ owner: string; epoch: number } | null>;
  adminUrl(nodeId: string): string;
  stop(): Promise<void>;
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (r) => { r.resume(); res(r.statusCode === 200); });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

function startBackend(id: string, port: number): ChildProcess {
  return spawn(process.execPath, [ECHO_BACKEND, String(port), id], { stdio: 'ignore' });
}

function killProc(p: ChildProcess, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => { p.once('exit', () => r()); p.kill(sig); });
}

/** Starts the whole cluster and waits until a node owns the VIP. */
export async function startOperatorCluster(cluster = 'optest', tweak?: (config: Record<string, any>) => void): Promise<OperatorCluster> {
  const redis = await startRedis();
  const backends = new Map<string, ChildProcess>();
  const nodes: OperatorCluster['nodes'] = new Map();
  const client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const keys = new RedisKeys(cluster);
  const vipAddress = `127.0.0.${10 + Math.floor(Math.random() * 240)}`;
  const stop = async () => {
    // A second disconnect (a test may have disconnected it already) would wait 2 s for a close that came long ago.
    if (client.status !== 'end') client.disconnect();
    await Promise.all([...nodes.values()].map((n) => n.cleanup()));
    await Promise.all([...backends.values()].map((b) => killProc(b)));
    await redis.stop();
  };
  try {
    await client.connect();
    const layout: DemoLayout = {
      cluster, redisUrl: redis.url, token: 'operator-test-token',
      vip: { name: 'front', address: vipAddress, port: await freePort(vipAddress) },
      backends: [{ id: 'echo-1', port: await freePort() }, { id: 'echo-2', port: await freePort() }],
    };
    for (const b of layout.backends) backends.set(b.id, startBackend(b.id, b.port));
    for (const b of layout.backends) await waitFor(() => httpOk(b.port), `backend ${b.id}`, 10000, 50);
    // Both nodes start at the same time, as the demo starts them (preempt off: whoever takes the VIP first keeps it).
    const ids = ['node-a', 'node-b'] as const;
    const adminPorts = [await freePort(), await freePort()];
    const started = await Promise.allSettled(ids.map(async (id, i) => {
      const config = parse(demoNodeConfig(layout, { id, priority: i === 0 ? 200 : 100, adminPort: adminPorts[i]! }));
      tweak?.(config);
      return Object.assign(await startNodeProcess(config), { adminPort: adminPorts[i]! });
    }));
    // In id order; a node that started is stopped with the rest when the other did not.
    started.forEach((r, i) => { if (r.status === 'fulfilled') nodes.set(ids[i]!, r.value); });
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const owner = async () => {
      const raw = await client.get(keys.lease('front'));
      if (!raw) return null;
      const at = raw.lastIndexOf(':');
      return { owner: raw.slice(0, at), epoch: Number(raw.slice(at + 1)) };
    };
    // The lease names the owner before its listener opens: a test's first connect waits for the accept too.
    await waitFor(async () => (await owner()) && (await acceptsTcp(layout.vip.address, layout.vip.port)), 'a node to own the VIP and accept on it', 20000, 50);
    return {
      redis, client, keys, layout, nodes, backends, owner,
      target: ['--redis', redis.url, '--cluster', cluster],
      adminUrl: (id) => `http://127.0.0.1:${nodes.get(id)!.adminPort}/`,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** SIGKILLs one backend process and waits for it to be gone. */
export function killBackend(c: OperatorCluster, id: string): Promise<void> {
  return killProc(c.backends.get(id)!);
}

/** Starts a backend killed by killBackend again on its port and waits until it answers. */
export async function restartBackend(c: OperatorCluster, id: string): Promise<void> {
  const b = c.layout.backends.find((x) => x.id === id)!;
  c.backends.set(id, startBackend(id, b.port));
  await waitFor(() => httpOk(b.port), `backend ${id} again`, 10000, 50);
}

/** Where the built CLI lives, for tests that spawn it. */
export const CLI = join(__dirname, '..', '..', 'cluster', 'cli', 'main.js');
