/**
 * Real redis-server and redis-sentinel processes on free ports, for tests.
 * Each is stopped by its own PID; nothing is ever stopped by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, sleep, waitFor } from './ports';

export interface RedisProcess {
  port: number;
  url: string;
  proc: ChildProcess;
  /** SIGKILL. */
  kill(): void;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    s.setTimeout(500);
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => { resolve(d.toString().includes('PONG')); s.destroy(); });
    s.on('error', () => resolve(false));
    s.on('timeout', () => { resolve(false); s.destroy(); });
  });
}

function stopProc(proc: ChildProcess, dir?: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { if (dir) rmSync(dir, { recursive: true, force: true }); resolve(); };
    if (proc.exitCode !== null || proc.signalCode !== null) return done();
    proc.once('exit', done);
    proc.kill('SIGTERM');
    setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); }, 2000).unref();
  });
}

/** Starts a redis-server on a free port (no persistence). Pass extra args such as ['--replicaof', '127.0.0.1', '6379']. */
export async function startRedis(extraArgs: string[] = [], port?: number): Promise<RedisProcess> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'wsha-redis-'));
  const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs], { stdio: 'ignore' });
  await waitFor(() => ping(p), `redis-server on port ${p}`, 10000, 20);
  return {
    port: p,
    url: `redis://127.0.0.1:${p}`,
    proc,
    kill: () => { if (proc.exitCode === null) proc.kill('SIGKILL'); },
    stop: () => stopProc(proc, dir),
  };
}

export interface SentinelSetup {
  master: RedisProcess;
  replica: RedisProcess;
  sentinels: Array<{ host: string; port: number; proc: ChildProcess }>;
  name: string;
  stop(): Promise<void>;
}

/** One master, one replica, three sentinels (quorum 2), all real processes on free ports. */
export async function startSentinelSetup(name = 'wsha-test', downAfterMs = 1000): Promise<SentinelSetup> {
  const master = await startRedis();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  const dir = mkdtempSync(join(tmpdir(), 'wsha-sentinel-'));
  const sentinels: SentinelSetup['sentinels'] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(conf, [
      `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} 5000`,
      `sentinel parallel-syncs ${name} 1`, '',
    ].join('\n'));
    const proc = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
    sentinels.push({ host: '127.0.0.1', port, proc });
  }
  for (const s of sentinels) await waitFor(() => ping(s.port), `redis-sentinel on port ${s.port}`, 10000, 20);
  await sleep(200);
  return {
    master, replica, sentinels, name,
    stop: async () => {
      await Promise.all(sentinels.map((s) => stopProc(s.proc)));
      await Promise.all([master.stop(), replica.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
