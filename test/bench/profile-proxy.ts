/**
 * Profiles one Node proxy (wsha or node http-proxy, or the bare relay) under
 * one of the bench's loads, with V8's sampling profiler (`--cpu-prof`):
 * prints the proxy's CPU per message (or per connection) over the window,
 * its GC share, and where its time went (cpuprofile-summary.ts). The
 * .cpuprofile files stay in --out for a flame graph (Chrome DevTools,
 * speedscope).
 *
 *   node dist/test/bench/profile-proxy.js --target wsha --load large [--seconds 10] [--out DIR]
 *
 * Loads: small / large = echo of 64 B / 16 KiB messages over 100
 * connections x 16 in flight; handshake = batches of 50 handshakes, closed
 * again. Run it under the machine's CPU lock like every load.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { startEchoBackend, startTcpRelay, startWshaNode, type BenchProcess } from './bench-node';
import { startHttpProxy } from './peer-proxies';
import { startRedis } from '../harness/redis';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';
import { closeAll, openClients, runEchoLoad, runHandshakeLoad, sleep } from './ws-load';
import { cpuNsOf, ioOf, processTree, type IoCounters } from './proc-stats';
import { formatSummary, summarize, type CpuProfile, type ProfileWindow } from './cpuprofile-summary';

interface Options { target: 'wsha' | 'http-proxy' | 'relay'; load: 'small' | 'large' | 'handshake'; seconds: number; out: string; interval: number; nodeArgs: string[]; nodeLog?: string; top: number }

const oneOf = <T extends string>(xs: readonly T[]) => (v: string): T => {
  if (!(xs as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${xs.join(', ')}`);
  return v as T;
};

function parse(argv: string[]): Options {
  return new Command('profile-proxy')
    .option('--target <t>', 'wsha, http-proxy or relay', oneOf(['wsha', 'http-proxy', 'relay'] as const), 'wsha')
    .option('--load <l>', 'small, large or handshake', oneOf(['small', 'large', 'handshake'] as const), 'large')
    .option('--seconds <n>', 'profiled load window', (v) => Number(v), 10)
    .option('--interval <us>', 'sampling interval of the profiler in µs', (v) => Number(v), 250)
    .option('--out <dir>', 'where the .cpuprofile files go', join(tmpdir(), 'wsha-prof'))
    .option('--node-args <args>', 'more node flags for the proxy, comma-separated (e.g. --trace-gc)', (v: string) => v.split(',').filter(Boolean), [] as string[])
    .option('--node-log <file>', 'keep the wsha node\'s output (its log, --trace-gc lines) in FILE')
    .option('--top <n>', 'functions listed per block of the summary', (v) => Number(v), 25)
    .parse(argv).opts<Options>();
}

async function startProxy(o: Options, backend: BenchProcess, redisUrl: string, execArgv: string[]): Promise<BenchProcess> {
  // The control process passes its --cpu-prof and --trace-gc flags on to its workers (shared/ports/worker-entry.ts).
  if (o.target === 'wsha') return startWshaNode({ backendPort: backend.port, redisUrl, maxConnections: 20_000, execArgv: [...CONTROL_EXEC_ARGV, ...execArgv], logFile: o.nodeLog });
  if (o.target === 'http-proxy') return startHttpProxy(backend.port, execArgv);
  return startTcpRelay(backend.port);
}

/** Every .cpuprofile written since `since` (a node with workers writes one per process). */
function profilesSince(dir: string, since: number): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).filter((f) => statSync(f).mtimeMs >= since);
}

/** The monotonic clock V8 stamps its samples with, in µs (the same for every process of the machine). */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

async function main(): Promise<void> {
  const o = parse(process.argv);
  // Only the samples of the measured window are summarised: start-up (module loading) and shutdown are left out.
  const window: ProfileWindow = { fromUs: 0, toUs: Number.POSITIVE_INFINITY };
  mkdirSync(o.out, { recursive: true });
  const t0 = Date.now();
  const backend = await startEchoBackend();
  const redis = o.target === 'wsha' ? await startRedis() : undefined;
  const execArgv = ['--cpu-prof', `--cpu-prof-dir=${o.out}`, `--cpu-prof-interval=${o.interval}`, ...o.nodeArgs];
  const proxy = await startProxy(o, backend, redis?.url ?? '', execArgv);
  try {
    const pids = processTree(proxy.pid);
    const url = `ws://127.0.0.1:${proxy.port}/`;
    let cpuNs = 0;
    let io0: IoCounters = ioOf(pids);
    let io: IoCounters = io0;
    const win = {
      t: 0,
      start() { window.fromUs = nowUs(); this.t = cpuNsOf(pids); io0 = ioOf(pids); },
      end() { window.toUs = nowUs(); cpuNs = cpuNsOf(pids) - this.t; const a = ioOf(pids); io = { syscr: a.syscr - io0.syscr, syscw: a.syscw - io0.syscw, rchar: a.rchar - io0.rchar, wchar: a.wchar - io0.wchar }; },
    };
    const perUnit = (n: number, unit: string) => `syscalls per ${unit}: ${(io.syscr / n).toFixed(2)} reads (${(io.rchar / Math.max(1, io.syscr)).toFixed(0)} B each), ${(io.syscw / n).toFixed(2)} writes (${(io.wchar / Math.max(1, io.syscw)).toFixed(0)} B each)\n`;
    if (o.load === 'handshake') {
      const r = await runHandshakeLoad(url, { batch: 50, durationMs: o.seconds * 1000, maxBatches: 100_000, sourceAddresses: 20, timeoutMs: 5000 }, win);
      process.stdout.write(`${o.target} handshake: ${r.opened} connections (${r.failed} failed), ${(r.opened * 1000 / r.durationMs).toFixed(0)}/s, proxy CPU ${(cpuNs / 1000 / r.opened).toFixed(1)} µs per connection\n`);
      process.stdout.write(perUnit(r.opened, 'connection'));
    } else {
      const sockets = await openClients(url, 100);
      try {
        const r = await runEchoLoad(sockets, { payloadBytes: o.load === 'large' ? 16_384 : 64, inFlight: 16, warmupMs: 1000, durationMs: o.seconds * 1000 }, win);
        process.stdout.write(`${o.target} ${o.load}: ${(r.messages * 1000 / r.durationMs).toFixed(0)} echoes/s, proxy CPU ${(cpuNs / 1000 / r.messages).toFixed(2)} µs per echo (${(cpuNs / 1e6 / (r.durationMs / 1000) / 10).toFixed(1)} % of a core)\n`);
        process.stdout.write(perUnit(r.messages, 'echo'));
      } finally {
        await closeAll(sockets);
      }
    }
  } finally {
    await proxy.stop();
    await redis?.stop();
    await backend.stop();
  }
  await sleep(500);
  const files = profilesSince(o.out, t0);
  if (files.length === 0) { process.stdout.write(`no .cpuprofile in ${o.out} (did the proxy exit normally?)\n`); return; }
  // The busiest process first: with workers that is the worker carrying the load, not the control process.
  const summaries = files.map((file) => ({ file, s: summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, o.top, window) })).sort((a, b) => b.s.totalMs - a.s.totalMs);
  for (const { file, s } of summaries) process.stdout.write(`profile: ${file} (summary of the measured window only)\n${formatSummary(s)}\n\n`);
}

main().catch((err) => { process.stderr.write(`profile failed: ${err?.stack ?? err}\n`); process.exitCode = 1; });
