/**
 * The scale test of issue 11 (not part of `npm test`): one wsha node holds
 * 100,000 concurrent WebSocket connections on this machine.
 *
 *   npm run build && npm run bench:scale [-- --connections 100000 --workers 12]
 *
 * One process may open 20,000 files here and a tunnel takes two, so a node
 * needs ceil(connections / 9,900) data-plane workers (`node.workers`, 11
 * for 100,000): the script refuses to start with a clear message when the
 * build has no such key, unless the connections fit one process (e.g.
 * --connections 9000, which validates the script against a single-process
 * node). Clients run in several processes (scale-client.ts, bare sockets),
 * each on its own 127.0.0.x source addresses; backends in several processes
 * on their own ports (scale-backend.ts, ws servers), so that neither side
 * runs out of files or of ephemeral ports. Every child gets the highest
 * file limit the machine allows (nofile.ts).
 *
 * It reports: connections established per second and failures (must be
 * 0); RSS growth per connection summed over every process of the node
 * (goal at most 5 KiB); the node's CPU over 60 s with every connection
 * idle, less the same window before any connection (the control plane's
 * and the workers' own timers): goal at most 1 % of a core, no
 * per-connection timers. Both measurements wait --settle-seconds first
 * (start-up; the heap compaction V8 runs after the burst of handshakes),
 * and the CPU of that wait after the opening is printed too. And the
 * fan-out latency (p50/p99) of broadcasts from every backend to every
 * client, each of which must reach every client. Exit code 1 when a
 * connection failed or a broadcast missed a client; missed goals are
 * printed as such. Run it under the machine's CPU lock.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startWshaNode, type WshaNode } from './bench-node';
import { startRedis, type RedisProcess } from '../harness/redis';
import { spawnNodeRaised } from './nofile';
import { TUNNELS_PER_PROCESS } from './bench-targets';
import { workersKeySupported } from './wsha-workers';
import { counterDeltas, cpuNsOf, median, processTree, rssKibOf, tcpExtCounters } from './proc-stats';
import { fmt } from './bench-table';
import { verdict } from './bench-goals';

const CLIENT = join(__dirname, 'scale-client.js');
const BACKEND = join(__dirname, 'scale-backend.js');
/** Goals of issue 11. */
const RSS_GOAL_KIB = 5;
const IDLE_CPU_GOAL_PCT = 1;
/** Sockets one client or backend process holds at most (20,000 files, a margin for the runtime's own). */
const SOCKETS_PER_CHILD = 16_000;
/** Connections per client source address (a bound socket keeps its port for every destination: 28,000 ports per address). */
const CONNECTIONS_PER_ADDRESS = 5_000;
/**
 * Tunnels per backend process by default. The node reaches every backend
 * from one source address (127.0.0.1), and connect() first tries the even
 * half of the ephemeral range (14,116 ports of 32768-60999): past that, each
 * new connection to the backend, tunnels and the control process's health
 * checks alike, scans all of them in the kernel (about 7 ms per connect here;
 * 2.7 % of a core in the control process at 100,000 tunnels on 7 backends).
 */
const TUNNELS_PER_BACKEND = 12_500;
/** The whole run is abandoned (children stopped) after this long. */
const HARD_DEADLINE_MS = 15 * 60_000;

interface Options {
  connections: number; workers?: number; clients?: number; backends?: number;
  concurrency: number; idleSeconds: number; broadcasts: number; openTimeoutS: number; holdSeconds: number; nodeLog?: string; settleSeconds: number;
}

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

function parse(argv: string[]): Options {
  return new Command('scale-100k')
    .description('one wsha node holds N concurrent WebSocket connections: connections/s, RSS per connection, idle CPU, broadcast fan-out latency')
    .option('--connections <n>', 'concurrent connections', int(1, 200_000), 100_000)
    .option('--workers <n>', 'node.workers (default: enough for the connections, one spare)', int(1, 256))
    .option('--clients <n>', 'client processes (default: 16,000 connections each)', int(1, 64))
    .option('--backends <n>', 'backend processes (default: 12,500 connections each, at least 2)', int(1, 64))
    .option('--concurrency <n>', 'handshakes in flight per client process', int(1, 5000), 200)
    .option('--idle-seconds <n>', 'window of the idle CPU measurement (60: every window holds one of the once-a-minute jobs, such as the refusal window)', int(1, 120), 60)
    .option('--settle-seconds <n>', 'wait before each RSS and idle CPU measurement (before the clients and after the opening), so that start-up and the compaction after a burst are over (at 100,000 connections the last workers compact up to 95 s after the opening)', int(3, 300), 100)
    .option('--broadcasts <n>', 'broadcasts from every backend, one after the other', int(1, 20), 3)
    .option('--open-timeout-s <n>', 'longest the opening of all connections may take', int(10, 600), 240)
    .option('--node-log <file>', "keep the node's output (its workers' too) in this file")
    .option('--hold-seconds <n>', 'after the idle window, hold every connection this long before the broadcasts (to probe or profile the node from outside)', int(0, 300), 0)
    .parse(argv).opts<Options>();
}

function log(msg: string): void { process.stderr.write(`scale: ${msg}\n`); }

/** Resolves with the first message from `proc` that `pick` accepts (returns non-undefined); rejects on exit or timeout. */
function nextMessage<T>(proc: ChildProcess, pick: (m: any) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => { clearTimeout(timer); proc.off('message', onMessage); proc.off('exit', onExit); fn(); };
    const onMessage = (m: unknown) => { const v = pick(m); if (v !== undefined) done(() => resolve(v)); };
    const onExit = (code: number | null, sig: string | null) => done(() => reject(new Error(`${what}: the process exited (${code ?? sig})`)));
    const timer = setTimeout(() => done(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`))), timeoutMs);
    proc.on('message', onMessage);
    proc.once('exit', onExit);
  });
}

/** Stops a child by its own PID: closing IPC makes it exit; SIGKILL after `graceMs`. */
function stopChild(proc: ChildProcess, graceMs = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    if (proc.connected) proc.disconnect(); else proc.kill('SIGTERM');
    setTimeout(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); }, graceMs).unref();
  });
}

/** The node's config: one listener, one pool over every backend, limits that never refuse the test's connections. */
function scaleConfig(p: { port: number; adminPort: number; redisUrl: string; backendPorts: number[]; connections: number; workers?: number }): string {
  // limits.maxConnections is shared out over the workers, and the kernel spreads connections unevenly: twice the load is room enough.
  const cap = p.connections * 2 + 1000;
  return [
    `cluster: { name: scale, redis: { url: "${p.redisUrl}" } }`,
    'node:',
    '  id: scale-node',
    `  admin: { listen: "127.0.0.1:${p.adminPort}" }`,
    '  drain: { graceMs: 0, deadlineMs: 5000 }',
    ...(p.workers !== undefined ? [`  workers: ${p.workers}`] : []),
    'listeners:',
    `  - { name: scale, on: 127.0.0.1, port: ${p.port} }`,
    'routes: [ { host: "*", path: /, pool: app } ]',
    'pools:',
    '  app:',
    '    balance: round-robin',
    '    backends:',
    ...p.backendPorts.map((port, i) => `      - { id: app-${i + 1}, url: "http://127.0.0.1:${port}" }`),
    `limits: { maxConnections: ${cap}, maxConnectionsPerClient: ${cap}, handshakeTimeoutMs: 30000 }`,
    'logging: { level: warn }',
    '',
  ].join('\n');
}

/** The plan of a run: how many of each process, and what the node needs. */
export interface ScalePlan { workers: number; needWorkers: number; clients: number; backends: number; addressesPerClient: number; writeWorkersKey: boolean }

/** Works out the processes for `o` and whether this build can run it; throws with what is missing. */
export function plan(o: Pick<Options, 'connections' | 'workers' | 'clients' | 'backends'>, hasWorkersKey: boolean): ScalePlan {
  const needWorkers = Math.ceil(o.connections / TUNNELS_PER_PROCESS);
  if (!hasWorkersKey && (needWorkers > 1 || (o.workers ?? 1) > 1)) {
    throw new Error(`${o.connections.toLocaleString('en-US')} connections need node.workers >= ${needWorkers} (one process may open 20,000 files, two per tunnel), `
      + 'and this build of wsha has no node.workers key. Merge the workers branch first, or validate the script against a single-process node with --connections 9000.');
  }
  const workers = o.workers ?? (needWorkers > 1 ? needWorkers + 1 : 1);
  if (workers < needWorkers) throw new Error(`--workers ${workers} cannot hold ${o.connections} connections: at least ${needWorkers} are needed`);
  const clients = o.clients ?? Math.ceil(o.connections / SOCKETS_PER_CHILD);
  const backends = o.backends ?? Math.max(2, Math.ceil(o.connections / SOCKETS_PER_CHILD), Math.ceil(o.connections / TUNNELS_PER_BACKEND));
  const perClient = Math.ceil(o.connections / clients);
  if (perClient > SOCKETS_PER_CHILD || Math.ceil(o.connections / backends) > SOCKETS_PER_CHILD) throw new Error(`at most ${SOCKETS_PER_CHILD} connections per client or backend process: use more of them`);
  const addressesPerClient = Math.ceil(perClient / CONNECTIONS_PER_ADDRESS);
  if (clients * addressesPerClient > 250) throw new Error('more source addresses than 127.0.0.2-251 hold');
  return { workers, needWorkers, clients, backends, addressesPerClient, writeWorkersKey: hasWorkersKey };
}

/** CPU of `pids` over `seconds`, in % of one core: all of them, and the first one (the control process) alone. */
async function idleCpu(pids: readonly number[], seconds: number): Promise<{ total: number; first: number }> {
  const first = pids.slice(0, 1);
  const [cpu0, first0] = [cpuNsOf(pids), cpuNsOf(first)];
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const ms = performance.now() - t0;
  return { total: ((cpuNsOf(pids) - cpu0) / 1e6 / ms) * 100, first: ((cpuNsOf(first) - first0) / 1e6 / ms) * 100 };
}

const pct = (xs: number[], p: number) => { if (xs.length === 0) return NaN; const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!; };

async function run(o: Options): Promise<boolean> {
  const pl = plan(o, workersKeySupported());
  log(`${o.connections} connections: node workers ${pl.writeWorkersKey ? pl.workers : '(no node.workers key: one process)'}, ${pl.clients} client processes x ${pl.addressesPerClient} source addresses, ${pl.backends} backend processes`);
  const children: ChildProcess[] = [];
  let redis: RedisProcess | undefined;
  let node: WshaNode | undefined;
  const stopAll = async () => {
    await Promise.all(children.filter((c) => c.spawnargs.includes(CLIENT)).map((c) => stopChild(c)));
    await node?.stop().catch(() => {});
    await Promise.all(children.map((c) => stopChild(c)));
    await redis?.stop().catch(() => {});
  };
  const deadline = setTimeout(() => { log(`hard deadline of ${HARD_DEADLINE_MS / 60_000} min passed; stopping`); void stopAll().finally(() => process.exit(1)); }, HARD_DEADLINE_MS);
  deadline.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void stopAll().finally(() => process.exit(130)); });
  try {
    redis = await startRedis();
    const backends = await Promise.all(Array.from({ length: pl.backends }, async () => {
      const p = spawnNodeRaised([BACKEND], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(p);
      const port = await nextMessage(p, (m) => m?.port as number | undefined, 15_000, 'backend start');
      return { proc: p, port };
    }));
    node = await startWshaNode({
      backendPort: 0, redisUrl: redis.url, maxConnections: 0, raiseNofile: true, logFile: o.nodeLog,
      configYaml: ({ port, adminPort }) => scaleConfig({ port, adminPort, redisUrl: redis!.url, backendPorts: backends.map((b) => b.port), connections: o.connections, workers: pl.writeWorkersKey ? pl.workers : undefined }),
    });
    // Every worker up (the first handshake needed only one), then start-up settles before the baseline.
    const want = pl.writeWorkersKey ? pl.workers + 1 : 1;
    for (let i = 0; i < 600 && processTree(node.pid).length < want; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, o.settleSeconds * 1000));
    const nodePids = processTree(node.pid);
    if (o.holdSeconds > 0) log(`idle window before any connection; node processes ${nodePids.join(' ')}`);
    const rssBeforeKib = rssKibOf(nodePids);
    // The same window with no connection: what the node spends idle anyway (control plane timers), to tell from what the connections add.
    const base = await idleCpu(nodePids, o.idleSeconds);
    const baseCpuPct = base.total;
    log(`node pid ${node.pid} (${nodePids.length} processes), RSS ${fmt(rssBeforeKib / 1024)} MiB, idle CPU ${fmt(baseCpuPct)} % of a core before; opening`);

    const tcp0 = tcpExtCounters();
    const clients = Array.from({ length: pl.clients }, () => { const p = spawnNodeRaised([CLIENT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }); children.push(p); return p; });
    const per = Math.ceil(o.connections / pl.clients);
    const t0 = performance.now();
    const progress = new Map<ChildProcess, { opened: number; failed: number }>();
    const ticker = setInterval(() => {
      let a = 0; let f = 0;
      for (const v of progress.values()) { a += v.opened; f += v.failed; }
      log(`opened ${a} (${f} failed) after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }, 5000);
    let opened = 0;
    let failed = 0;
    const errors: Record<string, number> = {};
    try {
      const dones = await Promise.all(clients.map((c, i) => {
        c.on('message', (m: { progress?: { opened: number; failed: number } }) => { if (m.progress) progress.set(c, m.progress); });
        const count = Math.min(per, o.connections - i * per);
        const addresses = Array.from({ length: pl.addressesPerClient }, (_, k) => `127.0.0.${2 + i * pl.addressesPerClient + k}`);
        c.send({ open: { port: node!.port, count, addresses, concurrency: o.concurrency, timeoutMs: 30_000 } });
        return nextMessage(c, (m) => m?.done as { opened: number; failed: number; errors: Record<string, number> } | undefined, o.openTimeoutS * 1000, 'opening');
      }));
      for (const d of dones) { opened += d.opened; failed += d.failed; for (const [k, v] of Object.entries(d.errors)) errors[k] = (errors[k] ?? 0) + v; }
    } finally {
      clearInterval(ticker);
    }
    const openS = (performance.now() - t0) / 1000;
    const tcpOpened = tcpExtCounters();
    log(`opened ${opened} in ${openS.toFixed(1)} s, ${failed} failed${failed ? ` (${JSON.stringify(errors)})` : ''}`);

    // The process tree again: a worker restarted under load would have a new PID.
    // V8's memory reducer compacts each worker's heap some seconds after the burst of handshakes (three
    // mark-compacts, then it stops): that is CPU of the opening, not of holding idle connections, and
    // what it gives back is not per-connection memory. Both are measured once it is over.
    const settleCpuPct = (await idleCpu(processTree(node.pid), o.settleSeconds)).total;
    const pidsAfter = processTree(node.pid);
    const rssAfterKib = rssKibOf(pidsAfter);
    const held = await idleCpu(pidsAfter, o.idleSeconds);
    const idlePct = held.total;
    // Which side the added CPU is on: the control process (its timers, health checks) or the rest (workers, VIP guard).
    log(`idle CPU added by process: control ${fmt(held.first - base.first)}, workers and guard ${fmt(held.total - held.first - (base.total - base.first))} % of a core`);
    if (o.holdSeconds > 0) {
      log(`holding ${opened} connections for ${o.holdSeconds} s; node processes ${pidsAfter.join(' ')}`);
      await new Promise((r) => setTimeout(r, o.holdSeconds * 1000));
    }

    const rounds: Array<{ reached: number; sent: number; p50: number; p99: number; closed: number }> = [];
    for (let r = 0; r < o.broadcasts; r++) {
      const got = clients.map((c) => nextMessage(c, (m) => (m?.got?.round === r ? m.got as { received: number; closed: number; latenciesUs: number[] } : undefined), 60_000, 'broadcast'));
      await Promise.all(clients.map((c) => { const ack = nextMessage(c, (m) => (m?.expecting === r ? true : undefined), 10_000, 'expect'); c.send({ expect: { round: r, waitMs: 30_000 } }); return ack; }));
      const sent = await Promise.all(backends.map((b) => { const ack = nextMessage(b.proc, (m) => (m?.sent?.round === r ? m.sent.clients as number : undefined), 30_000, 'broadcast'); b.proc.send({ broadcast: r }); return ack; }));
      const answers = await Promise.all(got);
      const lat = answers.flatMap((a) => a.latenciesUs);
      const row = { reached: answers.reduce((s, a) => s + a.received, 0), sent: sent.reduce((s, n) => s + n, 0), p50: pct(lat, 50) / 1000, p99: pct(lat, 99) / 1000, closed: answers.reduce((s, a) => s + a.closed, 0) };
      rounds.push(row);
      log(`broadcast ${r + 1}: sent to ${row.sent}, reached ${row.reached} clients, p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms`);
      await new Promise((res) => setTimeout(res, 1000));
    }

    // Why held connections died, if any did: the kernel's view (its counters are machine-wide).
    const tcpEnd = tcpExtCounters();
    log(`kernel TCP counters while opening: ${counterDeltas(tcp0, tcpOpened)}; while held: ${counterDeltas(tcpOpened, tcpEnd)}`);
    const kibPerConn = opened ? (rssAfterKib - rssBeforeKib) / opened : NaN;
    const allReached = rounds.every((r) => r.reached === o.connections && r.sent === o.connections);
    const closed = Math.max(0, ...rounds.map((r) => r.closed));
    const ok = failed === 0 && opened === o.connections && allReached && closed === 0;
    const lines = [
      `| scale test (${new Date().toISOString().slice(0, 10)}) | figure | goal |`,
      '|---|---:|---|',
      `| connections held (node workers: ${pl.writeWorkersKey ? pl.workers : '1, no node.workers key'}) | ${opened.toLocaleString('en-US')} of ${o.connections.toLocaleString('en-US')} | all |`,
      `| failed connections | ${failed} | 0 |`,
      `| connections established per second | ${fmt(opened / openS)} | – |`,
      `| node RSS before / after (MiB, ${pidsAfter.length} processes) | ${fmt(rssBeforeKib / 1024)} / ${fmt(rssAfterKib / 1024)} | – |`,
      `| RSS growth per connection, KiB | ${fmt(kibPerConn)} | ≤ ${RSS_GOAL_KIB}: ${verdict(kibPerConn, RSS_GOAL_KIB, 'max').text} |`,
      `| idle CPU of the node before any connection (${o.settleSeconds} s after start), % of a core over ${o.idleSeconds} s | ${fmt(baseCpuPct)} | – |`,
      `| idle CPU of the node with every connection held (${o.settleSeconds} s after opening), % of a core over ${o.idleSeconds} s | ${fmt(idlePct)} | – |`,
      `| idle CPU the held connections add (held minus before), % of a core | ${fmt(idlePct - baseCpuPct)} | ≤ ${IDLE_CPU_GOAL_PCT}: ${verdict(idlePct - baseCpuPct, IDLE_CPU_GOAL_PCT, 'max').text} |`,
      `| CPU of the node in the ${o.settleSeconds} s after opening (heap compaction after the burst), % of a core | ${fmt(settleCpuPct)} | – |`,
      `| broadcasts reaching every client | ${rounds.filter((r) => r.reached === o.connections).length} of ${rounds.length} | all |`,
      `| fan-out latency p50 / p99, ms (median over broadcasts) | ${fmt(median(rounds.map((r) => r.p50)))} / ${fmt(median(rounds.map((r) => r.p99)))} | – |`,
      `| tunnels closed during the test | ${closed} | 0 |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return ok;
  } finally {
    await stopAll();
    clearTimeout(deadline);
  }
}

if (require.main === module) {
  run(parse(process.argv)).then((ok) => { if (!ok) { log('FAILED: a connection failed or a broadcast missed a client'); process.exitCode = 1; } })
    .catch((err) => { process.stderr.write(`scale test failed: ${err?.message ?? err}\n`); process.exitCode = 2; });
}
