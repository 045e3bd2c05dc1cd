/**
 * Reconnect storm after an unplanned failover (issue 12), a script, not a
 * test: two wsha nodes (bind driver, VIP on 127.0.0.0/8, real Redis), a
 * sticky pool of two backends (own processes, counting handshakes), and
 * `--clients` WebSocket clients with a session id each. The owner is
 * SIGKILLed; every client reconnects at once (after a refused connect, in
 * 50 ms; after a 503, at its Retry-After) and sends `whoami`. Printed per
 * run: time from the kill until 50 / 99 / 100 % are reconnected and have
 * exchanged a message, the peak backend handshake rate (best 1 s window,
 * and the best 5 s window's average), refusals seen, and how many sessions
 * came back to their backend. Run once without and once with
 * `pools.NAME.admission`.
 *
 * Reading the peak with admission: a token bucket lets `burst` through at
 * once and `handshakesPerSec` after, so the admitted handshakes of any 1 s
 * window are at most burst + rate (printed as the bound), and the new
 * owner's bucket is full when the storm hits. The backends count a
 * handshake when they answer it, later than it was admitted: on a node
 * that the storm saturates, handshakes admitted over more than a second
 * can reach the backends within one, so the 1 s peak may pass the bound
 * while the 5 s average stays at the rate.
 *
 *   npm run -s build && node dist/test/bench/reconnect-storm.js [--clients 5000] [--admission-rate 1000]
 *
 * Bounded: every wait has a timeout; the script stops itself at 8 minutes.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import WebSocket from 'ws';
import Redis from 'ioredis';
import { startRedis } from '../harness/redis';
import { freePort, sleep, waitFor } from '../harness/ports';
import { scratchDir } from '../harness/netns-node';
import { withClusterSecret } from '../harness/cluster-secret';
import { RedisKeys } from '../../shared/redis/keys';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

const DIST = resolve(__dirname, '..', '..');
const CLI = join(DIST, 'cluster', 'cli', 'main.js');
const HARD_LIMIT_MS = 8 * 60_000;
const RECONNECT_TIMEOUT_MS = 90_000;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });
setTimeout(() => { process.stderr.write('reconnect storm: over its time budget\n'); process.exit(2); }, HARD_LIMIT_MS).unref();

interface Backend { id: string; port: number; proc: ChildProcess; stats(): Promise<Array<[number, number]>> }

function startBackend(id: string): Promise<Backend> {
  const proc = fork(join(__dirname, 'storm-backend.js'), [id], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(proc);
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`backend ${id} did not start`)), 10_000);
    proc.once('message', (m: { port: number }) => {
      clearTimeout(t);
      res({ id, port: m.port, proc, stats: () => new Promise((r) => { proc.once('message', (x: { buckets: Array<[number, number]> }) => r(x.buckets)); proc.send('stats'); }) });
    });
  });
}

/** One client: its session, the backend it is on, and when it was last confirmed on it. */
class Client {
  ws: WebSocket | null = null;
  backend = '';
  firstBackend = '';
  /** Wall ms when the client, after the kill, had reconnected and got its `whoami` answer; 0 until then. */
  backAt = 0;
  refused = 0;
  closedAt = 0;
  /** The attempt in flight was answered with a refusal (its retry is already timed by Retry-After). */
  #refusedNow = false;
  stopped = false;
  constructor(readonly url: string, readonly sid: number) {}

  connect(onReady: (c: Client) => void): void {
    if (this.stopped) return;
    const ws = new WebSocket(`${this.url}?sid=${this.sid}`, { perMessageDeflate: false, handshakeTimeout: 15_000 });
    this.ws = ws;
    let opened = false;
    this.#refusedNow = false;
    ws.once('open', () => { opened = true; ws.send('whoami'); });
    ws.once('message', (d) => { this.backend = d.toString(); if (!this.firstBackend) this.firstBackend = this.backend; onReady(this); });
    ws.once('unexpected-response', (_q, res) => {
      this.refused++;
      this.#refusedNow = true;
      const ra = Number(res.headers['retry-after'] ?? 1);
      ws.terminate();
      setTimeout(() => this.connect(onReady), (Number.isFinite(ra) ? ra : 1) * 1000).unref();
    });
    ws.on('error', () => {});
    ws.once('close', () => {
      if (this.stopped) return;
      // A refused attempt retries at its Retry-After only (a second retry here would double the client).
      if (ws.readyState === WebSocket.CLOSED && this.ws === ws && !this.#refusedNow) {
        this.closedAt = Date.now();
        // At once after losing an open connection (the storm); 50 ms after a refused or failed attempt.
        setTimeout(() => this.connect(onReady), opened ? 0 : 50).unref();
      }
    });
  }
}

interface RunResult { label: string; p50: number; p99: number; p100: number; peakRate: number; peak5sRate: number; bound: number | null; refused: number; sticky: string; missing: number }

/** The most handshakes in any window of `windowMs` (buckets keyed by their start ms). */
function peakIn(buckets: ReadonlyMap<number, number>, windowMs: number): number {
  let peak = 0;
  for (const start of buckets.keys()) { let sum = 0; for (const [ms, n] of buckets) if (ms >= start && ms < start + windowMs) sum += n; peak = Math.max(peak, sum); }
  return peak;
}

async function run(label: string, clientsN: number, admission: Record<string, number> | null): Promise<RunResult> {
  const scratch = scratchDir();
  const redis = await startRedis();
  const nodes = new Map<string, ChildProcess>();
  const started: ChildProcess[] = [];
  try {
    const backends = [await startBackend('b1'), await startBackend('b2')];
    const vip = `127.${100 + (process.pid % 100)}.${(process.pid >> 8) % 250}.${1 + (Date.now() % 250)}`;
    const port = await freePort();
    for (const [id, priority] of [['a', 200], ['b', 100]] as const) {
      const cfg = {
        cluster: { name: 'storm', redis: { url: redis.url } },
        node: { id, priority, address: '127.0.0.1', admin: { listen: `127.0.0.1:${await freePort()}` }, peer: { listen: `127.0.0.1:${await freePort()}` } },
        vips: [{ name: 'web', driver: 'bind', address: vip }],
        listeners: [{ name: 'ws', on: 'vip:web', port }],
        routes: [{ pool: 'app' }],
        pools: { app: { balance: 'sticky', sticky: { query: 'sid' }, backends: backends.map((b) => ({ id: b.id, url: `http://127.0.0.1:${b.port}` })), healthCheck: { type: 'tcp', intervalMs: 500, timeoutMs: 300 }, ...(admission ? { admission } : {}) } },
        limits: { maxConnections: 20000, handshakeTimeoutMs: 30000 },
        logging: { level: 'warn' },
      };
      const file = join(scratch.dir, `${id}.yaml`);
      writeFileSync(file, stringify(cfg));
      const proc = spawn(process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'], env: withClusterSecret() });
      children.add(proc);
      started.push(proc);
      nodes.set(id, proc);
    }
    const keys = new RedisKeys('storm');
    const r = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    const owner = async () => { const v = await r.get(keys.lease('web')); return v ? v.slice(0, v.lastIndexOf(':')) : null; };
    const first = await waitFor(owner, 'an owner of the VIP', 30_000, 50);
    const url = `ws://${vip}:${port}/`;
    const clients = Array.from({ length: clientsN }, (_, i) => new Client(url, i));
    // Open them 200 at a time: the steady state before the failure. After the kill, the same callback stamps each return.
    let ready = 0;
    let killedAt = 0;
    let back = 0;
    let next = 0;
    let opened: () => void = () => {};
    const onReady = (c: Client) => {
      if (killedAt === 0) { ready++; if (next < clientsN) clients[next++].connect(onReady); if (ready === clientsN) opened(); return; }
      if (c.backAt === 0) { c.backAt = Date.now(); back++; }
    };
    await new Promise<void>((resolveOpen, rejectOpen) => {
      const t = setTimeout(() => rejectOpen(new Error(`only ${ready}/${clientsN} clients connected`)), 120_000);
      opened = () => { clearTimeout(t); resolveOpen(); };
      for (; next < Math.min(200, clientsN); next++) clients[next].connect(onReady);
    });
    await sleep(1000);
    killedAt = Date.now();
    nodes.get(first)!.kill('SIGKILL');
    await waitFor(() => back === clientsN, `all ${clientsN} clients back`, RECONNECT_TIMEOUT_MS, 20).catch(() => null);
    const times = clients.map((c) => (c.backAt ? c.backAt - killedAt : Infinity)).sort((x, y) => x - y);
    const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
    const buckets = new Map<number, number>();
    for (const b of backends) for (const [ms, n] of await b.stats()) if (ms >= killedAt - 100) buckets.set(ms, (buckets.get(ms) ?? 0) + n);
    const stickyOk = clients.filter((c) => c.backAt && c.backend === c.firstBackend).length;
    for (const c of clients) { c.stopped = true; c.ws?.terminate(); }
    r.disconnect();
    const bound = admission ? (admission.burst ?? admission.handshakesPerSec) + admission.handshakesPerSec : null;
    return { label, p50: at(0.5), p99: at(0.99), p100: at(1), peakRate: peakIn(buckets, 1000), peak5sRate: Math.round(peakIn(buckets, 5000) / 5), bound, refused: clients.reduce((n, c) => n + c.refused, 0), sticky: `${stickyOk}/${clientsN}`, missing: times.filter((x) => x === Infinity).length };
  } finally {
    for (const p of started) { try { p.kill('SIGKILL'); } catch { /* gone */ } children.delete(p); }
    for (const c of [...children]) { try { c.kill('SIGKILL'); } catch { /* gone */ } children.delete(c); }
    await redis.stop();
    scratch.remove();
  }
}

async function main(): Promise<void> {
  const n = Number(arg('clients', '5000'));
  const rate = Number(arg('admission-rate', '1000'));
  const results: RunResult[] = [];
  results.push(await run('without admission', n, null));
  results.push(await run(`admission ${rate}/s`, n, { handshakesPerSec: rate, burst: rate, queueSize: 2000, queueTimeoutMs: 2000, retryAfterMaxSec: 5 }));
  const ms = (x: number) => (Number.isFinite(x) ? `${x} ms` : 'never');
  process.stdout.write(`\nreconnect storm: ${n} clients, owner SIGKILLed (bind driver, loopback, sticky pool of 2 backends)\n`);
  for (const r of results) {
    process.stdout.write(`  ${r.label.padEnd(22)} reconnected+message 50% ${ms(r.p50)}, 99% ${ms(r.p99)}, 100% ${ms(r.p100)}; peak backend handshakes ${r.peakRate}/s${r.bound !== null ? ` (admitted bound burst + rate: ${r.bound} in 1 s)` : ''}, best 5 s ${r.peak5sRate}/s; 503s seen ${r.refused}; sticky back on their backend ${r.sticky}${r.missing ? `; ${r.missing} never came back` : ''}\n`);
  }
  process.exit(0);
}

void main().catch((err) => { process.stderr.write(`${String(err)}\n`); process.exit(1); });
