/**
 * Benchmark (not a test): wsha against nginx, HAProxy and node http-proxy
 * on the same machine, in front of the same echo backend.
 *
 *   npm run build && npm run bench -- [--only wsha,nginx] [--rounds 3] [--quick]
 *
 * Installs nginx and HAProxy from Debian's packages when they are missing
 * (apt-get, as root; it says what it installs), starts every proxy on
 * loopback with a config it writes (peer-proxies.ts, bench-node.ts; wsha
 * through its real CLI), and measures the targets interleaved, round after
 * round (the order rotates each round), so that load from elsewhere on the
 * machine hits all alike (bench-phases.ts):
 *
 *   echo msgs/s at 64 B and 16 KiB (100 connections x 16 in flight) and the
 *   proxy's CPU per message; p50/p99 round trip at 100 connections (1 in
 *   flight); new WebSocket connections/s (batches of 50) and the proxy's
 *   CPU per connection; then, on freshly started proxies, RSS per idle
 *   connection, holding as many as fit.
 *
 * Prints one table of medians with ratios to nginx and to direct
 * (bench-table.ts) and the goals of issue 11, met or missed by how much
 * (bench-goals.ts). `npm run bench` passes --readme: a full run (every
 * default target and phase) rewrites the marked block of README.md
 * (readme-section.ts); --readme FILE writes FILE's block whatever the run.
 * --markdown FILE writes the same text to FILE, --json prints every
 * round's figures. wsha runs with `node.workers: 1` and `auto`; a build
 * without the key runs one process, and the auto column says pending.
 * A full run takes about 4 minutes here; --quick (one short round, direct
 * and wsha unless --only says otherwise, a few hundred idle connections,
 * short windows and settles) about 10 s, for a smoke test.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startEchoBackend, type BenchProcess } from './bench-node';
import { startRedis, type RedisProcess } from '../harness/redis';
import { freePort } from '../harness/ports';
import { ensureDebianPackages, haveBinary } from './debian-packages';
import { DEFAULT_TARGETS, TARGET_INFO, TARGET_NAMES, startTarget, targetPending, type RunningTarget, type TargetContext, type TargetName } from './bench-targets';
import { PHASE_NAMES, idle, round, type PhaseName, type PhaseOptions } from './bench-phases';
import { comparisonTable, fmt, type TargetResult } from './bench-table';
import { goalsTable, judgeGoals } from './bench-goals';
import { writeMarkedSection } from './readme-section';

/** Knobs of one run (commander's camelCase of the flags). */
interface BenchOptions {
  rounds: number; connections: number; inFlight: number; smallBytes: number; largeBytes: number;
  warmupMs: number; durationMs: number; handshakeBatch: number; handshakeMs: number;
  idleMax: number; openConcurrency: number; sourceAddresses: number; idleSettleMs: number;
  only: TargetName[]; phases: PhaseName[]; markdown?: string; json: boolean; install: boolean; wshaNodeArgs: string[]; base?: string;
  quick: boolean; readme?: string | true;
}

/** The project's README (this file runs from dist/test/bench). */
const PROJECT_README = join(__dirname, '..', '..', '..', 'README.md');

/** What --quick changes, unless the flag was given explicitly: one short round, a few hundred idle connections, short settles. */
const QUICK: Partial<BenchOptions> = {
  rounds: 1, connections: 20, inFlight: 4, warmupMs: 100, durationMs: 300, handshakeBatch: 20, handshakeMs: 300,
  idleMax: 300, openConcurrency: 50, idleSettleMs: 500, only: ['direct', 'wsha'],
};

/** The whole run is abandoned (children killed) after this long. */
const HARD_DEADLINE_MS = 10 * 60_000;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
  return n;
};

function listOf<T extends string>(allowed: readonly T[]) {
  return (v: string): T[] => {
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((s) => !(allowed as readonly string[]).includes(s));
    if (bad.length || items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${allowed.join(', ')}`);
    return items as T[];
  };
}

function parseOptions(argv: string[]): BenchOptions {
  const p = new Command('proxy-throughput')
    .description('wsha vs nginx, HAProxy and node http-proxy on this machine: msgs/s, proxy CPU per message, round trips, handshakes, RSS per idle connection')
    .option('--rounds <n>', 'rounds; each runs every target once, the order rotating', int(1, 20), 3)
    .option('--only <targets>', `targets to run, of ${TARGET_NAMES.join(',')} (relay: a bare Node socket.pipe relay)`, listOf(TARGET_NAMES), [...DEFAULT_TARGETS])
    .option('--phases <phases>', `measurements to run, of ${PHASE_NAMES.join(',')}`, listOf(PHASE_NAMES), [...PHASE_NAMES])
    .option('--connections <n>', 'connections of the echo loads', int(1, 5000), 100)
    .option('--in-flight <n>', 'messages in flight per connection (throughput loads)', int(1, 1000), 16)
    .option('--small-bytes <n>', 'small message size', int(1), 64)
    .option('--large-bytes <n>', 'large message size', int(1), 16_384)
    .option('--warmup-ms <n>', 'unmeasured warm-up before each measured window', int(0), 500)
    .option('--duration-ms <n>', 'measured window per figure, target and round', int(100), 2000)
    .option('--handshake-batch <n>', 'handshakes opened together', int(1, 1000), 50)
    .option('--handshake-ms <n>', 'length of the handshake load per target and round', int(100), 2000)
    .option('--idle-max <n>', 'most idle connections held through one target (each proxy also stops at its own file limits)', int(0, 19_500), 19_000)
    .option('--open-concurrency <n>', 'handshakes in flight while opening the idle connections', int(1), 200)
    .option('--idle-settle-ms <n>', 'quiet time before each RSS reading of the idle phase', int(0), 2000)
    .option('--source-addresses <n>', 'spread handshake and idle clients over 127.0.0.2 .. 127.0.0.(1+n)', int(1, 253), 20)
    .option('--quick', 'smoke mode: one short round of direct and wsha (flags given explicitly still win)', false)
    .option('--markdown <file>', 'also write the table (and how it was measured) to FILE as Markdown')
    .option('--readme [file]', 'write the table and the goals into the marked block of FILE; without FILE, of the project README, and only after a full run')
    .option('--json', 'also print every round\'s figures as one JSON line', false)
    .option('--no-install', 'do not install missing peer proxies (leave them out instead)')
    .option('--base <dir>', 'a built checkout of another wsha version, measured as target wsha-base (workers 1) in the same rounds: an A/B of a change')
    .option('--wsha-node-args <args>', 'extra node flags for the wsha process, comma-separated (e.g. --cpu-prof,--cpu-prof-dir=DIR)', (v: string) => v.split(',').filter(Boolean), [] as string[])
    .parse(argv);
  const o = p.opts<BenchOptions>();
  if (o.quick) {
    for (const [k, v] of Object.entries(QUICK)) if (p.getOptionValueSource(k) === 'default') (o as unknown as Record<string, unknown>)[k] = v;
  }
  return o;
}

/** The CLI script of the --base checkout ('' without); an unbuilt or missing one is refused before anything starts. */
function baseCliOf(o: BenchOptions): string {
  if (!o.base) {
    if (o.only.includes('wsha-base')) throw new Error('target wsha-base needs --base DIR');
    return '';
  }
  const cli = resolve(o.base, 'dist', 'cluster', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`--base ${o.base}: no built CLI at dist/cluster/cli/main.js (run npm run build there)`);
  return cli;
}

/** True when the run measured every default target and phase at full length (only such a run goes into the README by default). */
function isFullRun(o: BenchOptions): boolean {
  return !o.quick && DEFAULT_TARGETS.every((t) => o.only.includes(t)) && PHASE_NAMES.every((p) => o.phases.includes(p));
}

function log(msg: string): void { process.stderr.write(`bench: ${msg}\n`); }

/** Makes sure the chosen peers' binaries are there; without --install, leaves out the missing ones. */
function preparePeers(o: BenchOptions): TargetName[] {
  const needs = o.only.flatMap((t) => TARGET_INFO[t].needs);
  if (o.install) { ensureDebianPackages(needs, log); return o.only; }
  return o.only.filter((t) => {
    const missing = TARGET_INFO[t].needs.filter((n) => !haveBinary(n.binary));
    if (missing.length) log(`leaving out ${t}: ${missing.map((n) => n.binary).join(', ')} not installed (--no-install)`);
    return missing.length === 0;
  });
}

const rotate = <T>(xs: readonly T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]!);

function phaseOptions(o: BenchOptions): PhaseOptions {
  return {
    phases: new Set(o.phases), connections: o.connections, inFlight: o.inFlight, smallBytes: o.smallBytes, largeBytes: o.largeBytes,
    warmupMs: o.warmupMs, durationMs: o.durationMs, handshakeBatch: o.handshakeBatch, handshakeMs: o.handshakeMs,
    sourceAddresses: o.sourceAddresses, openConcurrency: o.openConcurrency, idleSettleMs: o.idleSettleMs,
  };
}

async function runRounds(o: BenchOptions, targets: readonly TargetName[], ctx: TargetContext, results: Map<TargetName, TargetResult>, live: Set<RunningTarget>): Promise<void> {
  const po = phaseOptions(o);
  const running = new Map<TargetName, RunningTarget>();
  // Started together (nothing is measured until all are up); every one that started is stopped, also when another failed.
  const started = await Promise.allSettled(targets.map((name) => startTarget(name, ctx)));
  started.forEach((s, i) => {
    if (s.status !== 'fulfilled') return;
    const t = s.value;
    running.set(targets[i]!, t);
    live.add(t);
    log(`${targets[i]}: ${t.url}${t.pids.length ? ` (pids ${t.pids.join(' ')})` : ''}`);
  });
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    for (let r = 0; r < o.rounds; r++) {
      for (const name of rotate(targets, r)) {
        const f = await round(running.get(name)!, po);
        results.get(name)!.rounds.push(f);
        log(`round ${r + 1}/${o.rounds} ${name}: ${fmt(f.smallMsgsPerSec)} msgs/s ${fmt(f.smallCpuUsPerMsg)} µs/msg small; ${fmt(f.largeMsgsPerSec)} msgs/s ${fmt(f.largeCpuUsPerMsg)} µs/msg large; ` +
          `p50 ${fmt(f.p50Us)} p99 ${fmt(f.p99Us)} µs; ${fmt(f.handshakesPerSec)} conn/s ${fmt(f.cpuUsPerHandshake)} µs/conn${f.handshakeFailures ? ` (${f.handshakeFailures} failed)` : ''}`);
      }
    }
  } finally {
    for (const t of running.values()) { await t.stop(); live.delete(t); }
  }
}

async function runIdle(o: BenchOptions, targets: readonly TargetName[], ctx: TargetContext, results: Map<TargetName, TargetResult>, live: Set<RunningTarget>): Promise<void> {
  const po = phaseOptions(o);
  for (const name of targets.filter((t) => t !== 'direct')) {
    const t = await startTarget(name, ctx);
    live.add(t);
    try {
      const f = await idle(t, po);
      results.get(name)!.idle = f;
      log(`idle ${name}: held ${f.held} of ${t.idleCapacity} (${f.failures} failed, ${f.echoed}/${f.sample} sampled echoed), RSS ${fmt(f.rssBeforeKib / 1024)} -> ${fmt(f.rssAfterKib / 1024)} MiB = ${fmt(f.kibPerConnection)} KiB per connection`);
    } finally {
      await t.stop();
      live.delete(t);
    }
  }
}

function header(o: BenchOptions, loadStart: string): string {
  return [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node.js ${process.version}; load average ${loadStart} at the start, ${loadavg()[0]!.toFixed(2)} at the end.`,
    `Targets interleaved over ${o.rounds} rounds (order rotating); ${o.warmupMs / 1000} s warm-up and ${o.durationMs / 1000} s measured per figure; handshakes for ${o.handshakeMs / 1000} s per round, clients spread over ${o.sourceAddresses} loopback source addresses.`,
    'nginx: worker_processes auto, listen reuseport, HTTP/1.1 upstream with Upgrade/Connection passed on. HAProxy: nbthread = cores, mode http.',
    'http-proxy: node http-proxy 1.18.1, proxy.ws. wsha: `wsha node start --config FILE`, one plain listener, round-robin pool, logging warn, a real redis-server.',
    `Command: \`npm run bench${o.quick ? ' -- --quick' : ''}\` (test/bench/proxy-throughput.ts); profiles and what they show: deploy/docs/performance.md.`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv);
  const loadStart = loadavg()[0]!.toFixed(2);
  const targets = preparePeers(o);
  const children: Array<BenchProcess | RedisProcess> = [];
  const live = new Set<RunningTarget>();
  const stopAll = async () => {
    for (const t of [...live]) await t.stop().catch(() => {});
    for (const c of children.reverse()) await c.stop().catch(() => {});
  };
  const deadline = setTimeout(() => { log(`hard deadline of ${HARD_DEADLINE_MS / 60_000} min passed; stopping`); void stopAll().finally(() => process.exit(1)); }, HARD_DEADLINE_MS);
  deadline.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void stopAll().finally(() => process.exit(130)); });
  try {
    const backend = await startEchoBackend();
    children.push(backend);
    const redis = haveBinary('redis-server') ? await startRedis() : undefined;
    if (redis) children.push(redis);
    else log('no redis-server: wsha runs with an unreachable Redis (traffic flows on the last known state)');
    const ctx: TargetContext = { backend, redisUrl: redis?.url ?? `redis://127.0.0.1:${await freePort()}`, idleMax: o.idleMax, wshaExecArgv: o.wshaNodeArgs, baseCli: baseCliOf(o) };
    const pending = new Map(targets.map((t) => [t, targetPending(t)] as const).filter((e): e is [TargetName, string] => e[1] !== null));
    const runnable = targets.filter((t) => !pending.has(t));
    for (const [t, why] of pending) log(`${t}: ${why}; its column is marked pending`);
    log(`echo backend pid ${backend.pid} port ${backend.port}; targets ${runnable.join(', ')}; ${o.rounds} rounds`);
    const results = new Map<TargetName, TargetResult>(targets.map((t) => [t, { name: t, label: TARGET_INFO[t].label, rounds: [], pending: pending.get(t) }]));
    const t0 = Date.now();
    if (o.phases.some((p) => p !== 'idle')) await runRounds(o, runnable, ctx, results, live);
    if (o.phases.includes('idle')) await runIdle(o, runnable, ctx, results, live);
    const all = [...results.values()];
    const table = comparisonTable(all, {
      rounds: o.rounds, connections: o.connections, inFlight: o.inFlight, smallBytes: o.smallBytes, largeBytes: o.largeBytes,
      handshakeBatch: o.handshakeBatch, durationMs: o.durationMs, cpus: cpus().length,
    });
    const size = (b: number) => (b >= 1024 && b % 1024 === 0 ? `${b / 1024} KiB` : `${b} B`);
    const goals = goalsTable(judgeGoals(all, size(o.smallBytes), size(o.largeBytes)));
    const text = `${header(o, loadStart)}${table}\n${goals ? `\nGoals of issue 11 on the medians above (met, or missed by how much; why: deploy/docs/performance.md):\n\n${goals}\n` : ''}`;
    process.stdout.write(text);
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (o.markdown) writeFileSync(o.markdown, text);
    if (typeof o.readme === 'string') { writeMarkedSection(o.readme, text); log(`wrote the bench block of ${o.readme}`); }
    else if (o.readme && isFullRun(o)) { writeMarkedSection(PROJECT_README, text); log('wrote the bench block of README.md'); }
    else if (o.readme) log('README.md not written: not a full run (--readme FILE writes anyway)');
    if (o.json) process.stdout.write(`${JSON.stringify({ options: o, results: [...results.values()] })}\n`);
  } finally {
    await stopAll();
    clearTimeout(deadline);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
