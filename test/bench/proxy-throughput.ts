/**
 * Benchmark (not a test): what wsha costs in front of a WebSocket backend.
 *
 *   npm run build && npm run bench           (about a minute; --help for knobs)
 *
 * 1. Throughput and latency: the same closed-loop echo load (N clients, one
 *    message in flight each) runs direct to an echo backend, through a bare
 *    TCP relay in Node (the floor of any user-space proxy hop, as a baseline)
 *    and through a wsha node, in turn, and prints msgs/s, p50 and p99 round
 *    trips and the ratios.
 * 2. Memory: holds M idle WebSocket connections through the node and prints
 *    its RSS growth per connection (VmRSS before and after). A process here
 *    may open 20,000 files and the proxy needs two per connection, hence
 *    9,900 by default; the backend runs in its own process for the same reason.
 */
import { cpus, loadavg } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import type WebSocket from 'ws';
import { startEchoBackend, startTcpRelay, startWshaNode, type BenchProcess } from './bench-node';
import { openFds, percentile, rssKib } from './proc-stats';
import { closeAll, openWebSocket, runEchoLoad, type EchoLoadResult } from './ws-load';
import { freePort } from '../harness/ports';

/** Knobs of one benchmark run. */
interface BenchOptions {
  connections: number; payloadBytes: number; warmupMs: number; durationMs: number; rounds: number;
  idleConnections: number; openConcurrency: number; sourceAddresses: number; tls: boolean; json: boolean;
}

/** The whole run is abandoned (children killed) after this long. */
const HARD_DEADLINE_MS = 175_000;
const IDLE_OPEN_DEADLINE_MS = 90_000;
const SETTLE_MS = 2000;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

function parseOptions(argv: string[]): BenchOptions {
  const p = new Command('proxy-throughput')
    .description('message throughput, round-trip latency and memory per idle connection: direct vs through wsha')
    .option('--connections <n>', 'concurrent clients of the throughput load', int(1), 32)
    .option('--payload-bytes <n>', 'message size', int(1), 128)
    .option('--warmup-ms <n>', 'unmeasured warm-up before each measured window', int(0), 1000)
    .option('--duration-ms <n>', 'measured window per target and round', int(100), 2000)
    .option('--rounds <n>', 'rounds; each runs every target once, in turn, so that load from elsewhere on the machine hits all alike', int(1), 6)
    .option('--idle-connections <n>', 'idle WebSocket connections held for the memory figure (0 skips it)', int(0), 9900)
    .option('--open-concurrency <n>', 'handshakes in flight while opening them', int(1), 200)
    .option('--source-addresses <n>', 'spread idle clients over 127.0.0.2 .. 127.0.0.(1+n)', int(1, 253), 20)
    .option('--no-tls', 'skip the wss:// target (TLS terminated by wsha)')
    .option('--json', 'also print the figures as one JSON line', false)
    .parse(argv);
  return p.opts<BenchOptions>();
}

interface Figures { msgsPerSec: number; p50Ms: number; p99Ms: number; messages: number }

/**
 * msgs/s is the median over rounds (one round slowed by other work on the
 * machine does not drag a target down); p50/p99 are over every round trip.
 */
function summarize(runs: EchoLoadResult[]): Figures {
  const messages = runs.reduce((a, r) => a + r.messages, 0);
  const rates = Float64Array.from(runs, (r) => (r.messages * 1000) / r.durationMs);
  const n = runs.reduce((a, r) => a + r.samples, 0);
  const all = new Float64Array(n);
  let o = 0;
  for (const r of runs) { all.set(r.latenciesMs.subarray(0, r.samples), o); o += r.samples; }
  return { msgsPerSec: percentile(rates, rates.length, 50), p50Ms: percentile(all, n, 50), p99Ms: percentile(all, n, 99), messages };
}

interface Targets { backend: BenchProcess; relay: BenchProcess; tlsRelay?: BenchProcess; node: BenchProcess & { tlsPort: number } }

async function throughputPhase(o: BenchOptions, { backend, relay, tlsRelay, node }: Targets) {
  const load = { connections: o.connections, payloadBytes: o.payloadBytes, warmupMs: o.warmupMs, durationMs: o.durationMs };
  const direct: EchoLoadResult[] = [];
  const relayed: EchoLoadResult[] = [];
  const proxied: EchoLoadResult[] = [];
  const secured: EchoLoadResult[] = [];
  const tlsRelayed: EchoLoadResult[] = [];
  for (let r = 0; r < o.rounds; r++) {
    direct.push(await runEchoLoad(`ws://127.0.0.1:${backend.port}/`, load));
    relayed.push(await runEchoLoad(`ws://127.0.0.1:${relay.port}/`, load));
    proxied.push(await runEchoLoad(`ws://127.0.0.1:${node.port}/`, load));
    if (tlsRelay) {
      tlsRelayed.push(await runEchoLoad(`wss://127.0.0.1:${tlsRelay.port}/`, load));
      secured.push(await runEchoLoad(`wss://127.0.0.1:${node.tlsPort}/`, load));
    }
    log(`round ${r + 1}/${o.rounds}: direct ${rate(direct[r]!)}, tcp relay ${rate(relayed[r]!)}, wsha ${rate(proxied[r]!)}` +
      `${tlsRelay ? `, tls relay ${rate(tlsRelayed[r]!)}, wsha wss ${rate(secured[r]!)}` : ''} msgs/s`);
  }
  return {
    direct: summarize(direct), relay: summarize(relayed), proxied: summarize(proxied),
    tlsRelay: tlsRelay ? summarize(tlsRelayed) : undefined, tls: tlsRelay ? summarize(secured) : undefined,
  };
}

const rate = (r: EchoLoadResult) => Math.round((r.messages * 1000) / r.durationMs);

/** Opens idle connections through the node until `held` has `target` of them, `concurrency` handshakes at a time. */
async function openIdle(url: string, o: BenchOptions, held: WebSocket[], target: number): Promise<number> {
  const deadline = Date.now() + IDLE_OPEN_DEADLINE_MS;
  let next = held.length;
  let failures = 0;
  const worker = async () => {
    while (next < target && Date.now() < deadline && failures < 100) {
      const i = next++;
      try {
        held.push(await openWebSocket(url, { localAddress: `127.0.0.${2 + (i % o.sourceAddresses)}` }));
      } catch (err) {
        if (++failures === 1) log(`idle connection ${i} failed: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.openConcurrency, target - held.length)) }, worker));
  return failures;
}

/** Checks that held tunnels still carry data: one echo on each of `n` of them. */
async function echoSample(held: WebSocket[], n: number): Promise<number> {
  const step = Math.max(1, Math.floor(held.length / n));
  const picks = held.filter((_, i) => i % step === 0).slice(0, n);
  const ok = await Promise.all(picks.map((ws) => new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 5000);
    ws.once('message', () => { clearTimeout(t); resolve(true); });
    ws.send('ping');
  })));
  return ok.filter(Boolean).length;
}

interface Snapshot { node: number; backend: number; nodeFds: number; held: number }
const snapshot = (node: BenchProcess, backend: BenchProcess, held: WebSocket[]): Snapshot =>
  ({ node: rssKib(node.pid), backend: rssKib(backend.pid), nodeFds: openFds(node.pid), held: held.length });

/**
 * Memory per idle connection on a fresh node (so that heap left over from the
 * throughput phase does not blur the baseline): RSS at rest, at half and at all
 * of the connections. The half-to-full slope shows the marginal cost without
 * the one-off growth of the first connections.
 */
async function memoryPhase(o: BenchOptions, backend: BenchProcess, node: BenchProcess) {
  await sleep(SETTLE_MS);
  const held: WebSocket[] = [];
  const url = `ws://127.0.0.1:${node.port}/`;
  const before = snapshot(node, backend, held);
  const t0 = Date.now();
  try {
    let failures = await openIdle(url, o, held, Math.floor(o.idleConnections / 2));
    await sleep(SETTLE_MS);
    const half = snapshot(node, backend, held);
    failures += await openIdle(url, o, held, o.idleConnections);
    const openSeconds = (Date.now() - t0) / 1000 - SETTLE_MS / 1000;
    log(`opened ${held.length} idle connections in ${openSeconds.toFixed(1)} s (${failures} failed)`);
    await sleep(SETTLE_MS);
    const sample = Math.min(100, held.length);
    const echoed = await echoSample(held, sample);
    const after = snapshot(node, backend, held);
    const per = (a: Snapshot, b: Snapshot, k: 'node' | 'backend' | 'nodeFds') => (b.held > a.held ? (b[k] - a[k]) / (b.held - a.held) : NaN);
    return {
      held: held.length, failures, openSeconds, echoed, sample,
      nodeRssBeforeKib: before.node, nodeRssAfterKib: after.node,
      nodeKibPerConnection: per(before, after, 'node'),
      nodeKibPerConnectionSecondHalf: per(half, after, 'node'),
      backendKibPerConnection: per(before, after, 'backend'),
      nodeFdsPerConnection: per(before, after, 'nodeFds'),
    };
  } finally {
    await closeAll(held);
  }
}

function log(msg: string): void { process.stderr.write(`bench: ${msg}\n`); }
function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }
const f1 = (n: number) => n.toFixed(1);
const f3 = (n: number) => n.toFixed(3);

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const loadStart = loadavg()[0]!.toFixed(2);
  const children: BenchProcess[] = [];
  const killAll = () => { for (const c of children) { try { process.kill(c.pid, 'SIGKILL'); } catch { /* already gone */ } } };
  const deadline = setTimeout(() => { log(`hard deadline of ${HARD_DEADLINE_MS / 1000} s passed; stopping`); killAll(); process.exit(1); }, HARD_DEADLINE_MS);
  deadline.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { killAll(); process.exit(130); });
  try {
    const backend = await startEchoBackend();
    children.push(backend);
    // A plain-address listener needs no Redis; the URL points at a port where none listens.
    const nodeOpts = { backendPort: backend.port, redisUrl: `redis://127.0.0.1:${await freePort()}`, maxConnections: o.idleConnections + 100 };
    const node = await startWshaNode(nodeOpts);
    children.push(node);
    const relay = await startTcpRelay(backend.port);
    children.push(relay);
    const tlsRelay = o.tls ? await startTcpRelay(backend.port, true) : undefined;
    if (tlsRelay) children.push(tlsRelay);
    log(`backend pid ${backend.pid} port ${backend.port}; tcp relay pid ${relay.pid} port ${relay.port}; wsha node pid ${node.pid} port ${node.port}`);
    const tp = await throughputPhase(o, { backend, relay, tlsRelay, node });
    // The relays are only throughput baselines; stop them so the memory phase has the machine to itself.
    await relay.stop();
    await tlsRelay?.stop();
    await node.stop();
    let mem: Awaited<ReturnType<typeof memoryPhase>> | undefined;
    if (o.idleConnections > 0) {
      const fresh = await startWshaNode(nodeOpts);
      children.push(fresh);
      mem = await memoryPhase(o, backend, fresh);
    }
    const d = tp.direct, b = tp.relay, p = tp.proxied;
    const row = (name: string, x: Figures) => `| ${name} | ${Math.round(x.msgsPerSec)} | ${f3(x.p50Ms)} | ${f3(x.p99Ms)} |`;
    const ratio = (name: string, x: Figures, y: Figures) => `| ${name} | ${(x.msgsPerSec / y.msgsPerSec).toFixed(2)} | ${(x.p50Ms / y.p50Ms).toFixed(2)} | ${(x.p99Ms / y.p99Ms).toFixed(2)} |`;
    const lines = [
      `load: ${o.connections} connections, 1 message in flight each, ${o.payloadBytes}-byte binary messages, ${o.rounds} x ${o.durationMs / 1000} s per target, targets in turn (after ${o.warmupMs / 1000} s warm-up each)`,
      `msgs/s: median of the rounds; p50/p99: over every round trip; machine: ${cpus().length} CPUs, load average ${loadStart} at start, ${loadavg()[0]!.toFixed(2)} at the end`,
      '',
      '| target | msgs/s | p50 ms | p99 ms |',
      '|---|---:|---:|---:|',
      row('direct to the backend', d),
      row('bare TCP relay in Node (baseline hop)', b),
      row('through wsha', p),
      ...(tp.tls && tp.tlsRelay ? [row('wss://: bare TLS-terminating relay in Node (baseline)', tp.tlsRelay), row('wss://: through wsha (TLS terminated by wsha)', tp.tls)] : []),
      ratio('ratio wsha / direct', p, d),
      ratio('ratio wsha / TCP relay', p, b),
      ...(tp.tls && tp.tlsRelay ? [ratio('ratio wss: wsha / TLS relay', tp.tls, tp.tlsRelay)] : []),
    ];
    if (mem) {
      lines.push('', `idle connections held through wsha: ${mem.held} (${mem.failures} failed to open; ${mem.echoed}/${mem.sample} sampled tunnels echoed afterwards)`,
        `wsha node RSS (fresh node): ${f1(mem.nodeRssBeforeKib / 1024)} MiB idle, ${f1(mem.nodeRssAfterKib / 1024)} MiB with them = ${f1(mem.nodeKibPerConnection)} KiB per connection ` +
        `(second half alone: ${f1(mem.nodeKibPerConnectionSecondHalf)} KiB; ${f1(mem.nodeFdsPerConnection)} fds each); for comparison the ws echo backend: ${f1(mem.backendKibPerConnection)} KiB per connection`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    if (o.json) process.stdout.write(JSON.stringify({ options: o, direct: d, relay: b, proxied: p, tlsRelay: tp.tlsRelay, tls: tp.tls, memory: mem }) + '\n');
  } finally {
    for (const c of children.reverse()) await c.stop();
    clearTimeout(deadline);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
