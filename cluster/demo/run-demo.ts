/**
 * `wsha demo`: a whole local cluster on one machine, from nothing: its own
 * redis-server on a free port, two echo/chat backends, two proxy nodes
 * (child processes of `wsha node start`) sharing a `bind` VIP on
 * 127.0.0.x, and a client talking through the VIP. With `failover`, the
 * owner is killed with SIGKILL after a few seconds and the takeover is
 * shown live. Everything started is stopped by PID at the end, on
 * Ctrl-C, or after `durationS`.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisKeys } from '../../shared/redis/keys';
import { ChildSet } from './children';
import { demoNodeConfig, type DemoLayout } from './demo-config';
import { generateSecret, writeSecretFile } from '../peer/peer-secret';
import { DemoClient } from './demo-client';
import { acceptsTcp, freePortOn, waitUntil } from './wait';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

/** Options of runDemo (the flags of `wsha demo`). */
export interface DemoOptions {
  /** Kill the VIP owner with SIGKILL after `failoverAfterMs`. */
  failover: boolean;
  failoverAfterMs: number;
  /** Stop by itself after this many seconds (null: until Ctrl-C). */
  durationS: number | null;
  /** Where lines go (stdout by default). */
  out: (line: string) => void;
  /** Keep the temp folder (configs and logs) after the end. */
  keep: boolean;
  /** Told each start-up step while the demo starts (a terminal shows it on one line); cleared with done(). */
  progress?: { update(text: string): void; done(): void };
}

const CLUSTER = 'demo';
const VIP_NAME = 'front';
/** Longest wait for the cluster to come up before the demo gives up. */
const START_TIMEOUT_MS = 20_000;
/** How often the demo looks at the VIP lease to show ownership changes. */
const WATCH_EVERY_MS = 20;

const cliPath = () => join(__dirname, '..', 'cli', 'main.js');
const backendPath = () => join(__dirname, 'echo-backend.js');
/** A path relative to the working directory when it lies below it (shorter to copy). */
const shortPath = (p: string) => { const r = relative(process.cwd(), p); return r.startsWith('..') ? p : r; };

function leaseOwner(raw: string | null): { owner: string; epoch: number } | null {
  if (!raw) return null;
  const at = raw.lastIndexOf(':');
  return at > 0 ? { owner: raw.slice(0, at), epoch: Number(raw.slice(at + 1)) } : null;
}

/** Whether any file in `dir` has content (a log or config worth keeping). */
function hasOutput(dir: string): boolean {
  try { return readdirSync(dir).some((f) => statSync(join(dir, f)).size > 0); } catch { return false; }
}

/** Runs the demo; resolves with the exit code. */
export async function runDemo(o: DemoOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-demo-'));
  const kids = new ChildSet();
  let redis: Redis | null = null;
  let client: DemoClient | null = null;
  let stop: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => { stop = resolve; });
  const onSignal = (sig: NodeJS.Signals) => stop(`${sig} received`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 0;
  const step = (text: string) => o.progress?.update(`starting the demo: ${text}`);
  try {
    step('redis-server');
    const redisPort = await freePortOn('127.0.0.1');
    kids.spawn('redis-server', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { logFile: join(dir, 'redis.log') });
    redis = new Redis({ host: '127.0.0.1', port: redisPort, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {});
    await waitUntil(async () => { if (redis!.status !== 'ready') await redis!.connect().catch(() => {}); return (await redis!.ping().catch(() => '')) === 'PONG'; }, 'redis-server to answer', 10_000);

    const vipAddress = `127.0.0.${10 + Math.floor(Math.random() * 240)}`;
    const layout: DemoLayout = {
      cluster: CLUSTER, redisUrl: `redis://127.0.0.1:${redisPort}`, token: randomBytes(12).toString('base64url'), secretFile: join(dir, 'cluster.secret'),
      vip: { name: VIP_NAME, address: vipAddress, port: await freePortOn(vipAddress) },
      backends: [{ id: 'echo-1', port: await freePortOn('127.0.0.1') }, { id: 'echo-2', port: await freePortOn('127.0.0.1') }],
    };
    writeSecretFile(layout.secretFile!, generateSecret());
    step('echo backends and nodes');
    for (const b of layout.backends) kids.spawn(b.id, process.execPath, [backendPath(), String(b.port), b.id], { logFile: join(dir, `${b.id}.log`) });
    const nodes = [{ id: 'node-a', priority: 200, adminPort: await freePortOn('127.0.0.1') }, { id: 'node-b', priority: 100, adminPort: await freePortOn('127.0.0.1') }];
    for (const n of nodes) {
      const file = join(dir, `${n.id}.yaml`);
      writeFileSync(file, demoNodeConfig(layout, n));
      kids.spawn(n.id, process.execPath, [...CONTROL_EXEC_ARGV, cliPath(), 'node', 'start', '--config', file], { logFile: join(dir, `${n.id}.log`), env: { ...process.env, WSHA_LOG_PRETTY: '0' } });
    }
    const keys = new RedisKeys(CLUSTER);
    step('waiting for a node to own the VIP');
    const first = await Promise.race([
      // The owner claims the lease before its listener opens: the client starts once the VIP accepts, so that its first connect is not refused.
      waitUntil(async () => {
        const owner = leaseOwner(await redis!.get(keys.lease(VIP_NAME)));
        return owner && (await acceptsTcp(vipAddress, layout.vip.port)) ? owner : null;
      }, 'a node to own the VIP and accept on it', START_TIMEOUT_MS),
      stopped.then((r) => { throw new Error(r); }),
      ...nodes.map((n) => new Promise<never>((_, reject) => kids.get(n.id)!.proc.once('exit', (c, s) => reject(new Error(`${n.id} exited (${s ?? c}) before the VIP was up: see ${join(dir, `${n.id}.log`)}`))))),
    ]);
    const vipUrl = `ws://${vipAddress}:${layout.vip.port}/`;
    o.progress?.done();
    o.out('wsha demo is running' + (o.durationS ? ` for ${o.durationS} s` : ' (Ctrl-C stops it)'));
    o.out(`  VIP         ${vipUrl}   owner ${first.owner}, epoch ${first.epoch}`);
    o.out(`  status      node ${shortPath(cliPath())} status --redis ${layout.redisUrl} --cluster ${CLUSTER}`);
    // The token rides in the URL fragment: the page signs in with it, and a fragment never reaches a server or its log.
    o.out(`  live page   http://127.0.0.1:${nodes[0].adminPort}/#token=${layout.token}  (or node-b: http://127.0.0.1:${nodes[1].adminPort}/#token=${layout.token})`);
    o.out(`  events      node ${shortPath(cliPath())} events --follow --redis ${layout.redisUrl} --cluster ${CLUSTER}`);
    o.out(`  files       ${dir} (configs and logs)`);
    o.out(`  pids        ${kids.list().map((c) => `${c.name}=${c.pid}`).join(' ')}`);

    client = new DemoClient(vipUrl, 1000, o.out);
    client.start();
    code = await watchOwnership(o, redis, keys, kids, first, stopped);
  } catch (err) {
    o.progress?.done();
    o.out(`demo failed: ${(err as Error).message}`);
    code = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    client?.stop();
    redis?.disconnect();
    await kids.stopAll();
    const s = client?.stats;
    if (s) o.out(`client: sent ${s.sent}, answered ${s.answered}, reconnects ${s.reconnects}, longest gap ${s.longestGapMs} ms`);
    o.out(`stopped ${kids.list().length} processes: ${kids.list().map((c) => c.pid).join(' ')}`);
    // A failed demo keeps its folder for the logs it names, unless nothing was written there (redis-server missing).
    if (!o.keep && (code === 0 || !hasOutput(dir))) rmSync(dir, { recursive: true, force: true });
    else if (code !== 0) o.out(`  files       ${dir} (configs and logs kept)`);
  }
  return code;
}

/** Prints every change of the VIP lease; kills the owner when asked; resolves with the exit code at the end. */
async function watchOwnership(o: DemoOptions, redis: Redis, keys: RedisKeys, kids: ChildSet, first: { owner: string; epoch: number }, stopped: Promise<string>): Promise<number> {
  let current: { owner: string; epoch: number } | null = first;
  let killedAt: number | null = null;
  let tookOver = false;
  let done = false;
  let reason = '';
  void stopped.then((r) => { done = true; reason = r; });
  const startedAt = Date.now();
  const endAt = o.durationS ? startedAt + o.durationS * 1000 : Infinity;
  const failoverAt = o.failover ? startedAt + o.failoverAfterMs : Infinity;
  for (let i = 0; !done && Date.now() < endAt && i < 10_000_000; i++) {
    if (Date.now() >= failoverAt && killedAt === null && current) {
      const victim = kids.kill(current.owner, 'SIGKILL');
      killedAt = Date.now();
      o.out(`demo: killing the VIP owner ${current.owner} (pid ${victim?.pid}) with SIGKILL`);
    }
    const now = leaseOwner(await redis.get(keys.lease(VIP_NAME)).catch(() => null));
    if (now?.owner !== current?.owner || now?.epoch !== current?.epoch) {
      const after = killedAt !== null && !tookOver && now ? ` ${Date.now() - killedAt} ms after the kill` : '';
      if (killedAt !== null && now && now.owner !== first.owner) tookOver = true;
      o.out(now ? `vip ${VIP_NAME}: owner is now ${now.owner} (epoch ${now.epoch})${after}` : `vip ${VIP_NAME}: no owner (lease free)`);
      current = now;
    }
    await new Promise((r) => setTimeout(r, WATCH_EVERY_MS));
  }
  o.out(reason ? `demo: ${reason}, stopping` : 'demo: time is up, stopping');
  if (o.failover && killedAt !== null && !tookOver) {
    o.out('demo: the standby did not take the VIP over');
    return 1;
  }
  return 0;
}
