/**
 * What a sticky lookup costs a worker process: through the control process
 * over IPC (what wsha does: one Redis connection set per node) or straight
 * to Redis from the worker (the alternative issue 11 asks to weigh). A real
 * redis-server on a free port, a forked child per run; reports latency
 * p50/p99 one at a time and 64 in flight, and CPU µs per lookup summed over
 * the processes involved (Redis itself is the same in both and left out).
 *
 *   flock /tmp/wsha-cpu.lock node dist/test/measure/affinity-ipc.js [--count N]
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { startRedis } from '../harness/redis';
import { createRedis } from '../../shared/redis/connect';
import { RedisSchema } from '../../shared/config/schema';
import { RedisKeys } from '../../shared/redis/keys';
import { silentLogger } from '../../shared/logger';
import { RpcEndpoint, type RpcMessage } from '../../shared/ipc/rpc-endpoint';
import type { ControlNotes, ControlOps, WorkerNotes, WorkerOps } from '../../shared/ports/worker-protocol';
import { SessionStore } from '../../cluster/affinity/session-store';
import type { ChildResult } from './affinity-child';

const CHILD = join(__dirname, 'affinity-child.js');
const KEYS = 1000;
const CLUSTER = 'measure';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function runChild(mode: 'ipc' | 'direct', redisUrl: string, store: SessionStore, count: number, inFlight: number): Promise<{ r: ChildResult; parentCpuUs: number }> {
  const child = fork(CHILD, [mode, redisUrl, CLUSTER, String(KEYS), String(count), String(inFlight)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rpc = new RpcEndpoint<ControlOps, WorkerOps, ControlNotes, WorkerNotes>((m: RpcMessage) => { child.send(m); });
  rpc.serve('affinityLookup', ({ pool, key }) => store.lookup(pool, key));
  const cpu0 = process.cpuUsage();
  const r = await new Promise<ChildResult>((resolve, reject) => {
    child.on('message', (m: any) => { if (m && m.result) resolve(m.result as ChildResult); else rpc.receive(m); });
    child.once('exit', (code) => { if (code !== 0) reject(new Error(`child exited ${code}`)); });
  });
  const c = process.cpuUsage(cpu0);
  await new Promise((res) => child.once('exit', res));
  return { r, parentCpuUs: mode === 'ipc' ? c.user + c.system : 0 };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--count');
  const count = at > 0 ? Number(process.argv[at + 1]) : 20_000;
  const redis = await startRedis();
  try {
    const conn = createRedis(RedisSchema.parse({ url: redis.url }), 'state');
    await conn.connect();
    const keys = new RedisKeys(CLUSTER);
    for (let i = 0; i < KEYS; i++) await conn.set(keys.session('app', `s${i}`), `b${i % 3}`, 'PX', 600_000);
    const store = new SessionStore({ redis: conn, keys, ttlMs: 600_000, lookupTimeoutMs: 5000, log: silentLogger() });
    const rows: string[] = [];
    for (const inFlight of [1, 64]) {
      for (const mode of ['direct', 'ipc'] as const) {
        const { r, parentCpuUs } = await runChild(mode, redis.url, store, count, inFlight);
        const n = r.latenciesUs.length;
        rows.push(`| ${mode === 'ipc' ? 'IPC to the control process, which reads Redis' : 'worker reads Redis itself'} | ${inFlight} | ${pct(r.latenciesUs, 50).toFixed(0)} | ${pct(r.latenciesUs, 99).toFixed(0)} | ${Math.round((n / r.wallMs) * 1000)} | ${(r.cpuUs / n).toFixed(1)} | ${(parentCpuUs / n).toFixed(1)} | ${((r.cpuUs + parentCpuUs) / n).toFixed(1)} |`);
      }
    }
    conn.disconnect();
    process.stdout.write([
      `sticky lookups: ${count} per run, ${KEYS} sessions, one redis-server on loopback`,
      '',
      '| path | in flight | p50 µs | p99 µs | lookups/s | worker CPU µs/lookup | control CPU µs/lookup | total CPU µs/lookup |',
      '|---|---|---|---|---|---|---|---|',
      ...rows, '',
    ].join('\n'));
  } finally {
    await redis.stop();
  }
}

void main().catch((err) => { process.stderr.write(`${(err as Error).stack}\n`); process.exit(1); });
