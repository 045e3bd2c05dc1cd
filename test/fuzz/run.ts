/**
 * The access-boundary fuzzer (issue 10): throws mutated request heads,
 * upgrades, PROXY headers and WebSocket frames at a real node process
 * (`wsha node start`) in front of real backends, for a bounded time, and
 * checks the oracle (oracle.ts) on every connection and every request a
 * backend sees. Then it checks the node: still running, no error-level log
 * line, open fds and RSS back near their baseline, no connection or tunnel
 * left.
 *
 *   npm run build && npm run fuzz -- --seconds 600 [--seed N] [--concurrency 8] [--report FILE]
 *
 * Every case is replayable from the run's seed and its case number. Exit
 * code 0 when nothing was found, 1 otherwise, 2 for a bad flag.
 */
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { Command, InvalidArgumentError } from 'commander';
import { spawnNodeProcess, type NodeProcess } from '../harness/node-process';
import { rawNodeConfig } from '../fixtures/node-config';
import { startEchoBackend, startOddBackend, type BackendReport, type FuzzBackend } from './fuzz-backends';
import { checkAnswer, requestMethods } from './oracle';
import { Rng } from './rng';
import { SEEDS, type Seed } from './seeds';
import { mutate, split, type Split } from './mutate';

/** Options of one run. */
export interface FuzzOptions {
  seconds: number;
  seed: number;
  concurrency: number;
  /** Run the every-offset split pass first (a few hundred cases). @default true */
  everyOffset?: boolean;
  log?: (line: string) => void;
}

/** What a run found. */
export interface FuzzReport {
  seed: number;
  seconds: number;
  cases: number;
  byKind: Record<string, number>;
  byStatus: Record<string, number>;
  backend: Omit<BackendReport, 'findings'>;
  findings: string[];
  node: { alive: boolean; errorLines: string[]; fdBaseline: number; fdAfter: number; rssBaselineKb: number; rssAfterKb: number; rssPeakKb: number; connectionsAfter: number; tunnelsAfter: number };
}

const LIMITS = { handshakeTimeoutMs: 1000, maxHeaderBytes: 8192, requestTimeoutMs: 2000, backendConnectTimeoutMs: 1000, idleTimeoutMs: 3000, maxConnectionsPerClient: 100000, maxConnections: 100000 };
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';
/** Longest a case waits for the node: its slowest refusal (requestTimeoutMs) plus slack. */
const CASE_DEADLINE_MS = LIMITS.requestTimeoutMs + 2500;
/** A case with a complete-looking answer ends after this long without a byte. */
const QUIET_MS = 150;
const MAX_FINDINGS = 200;

function fdCount(pid: number): number { try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return -1; } }
function rssKb(pid: number): number {
  try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1); } catch { return -1; }
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The node's TCP sockets with their states (ss), to see what a leftover connection is doing. */
function socketsOf(pid: number): string {
  const r = spawnSync('ss', ['-tanp'], { encoding: 'utf8', timeout: 5000 });
  return (r.stdout ?? '').split('\n').filter((l) => l.includes(`pid=${pid},`)).map((l) => l.replace(/\s+/g, ' ').trim()).join(' | ');
}

async function adminState(port: number): Promise<{ connections: number; tunnels: number }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/state', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeout: 3000 }, (res) => {
      let t = '';
      res.on('data', (c) => { t += c; });
      res.on('end', () => { try { const s = JSON.parse(t).node; resolve({ connections: s.connections, tunnels: s.tunnels }); } catch { resolve({ connections: -1, tunnels: -1 }); } });
    });
    req.on('error', () => resolve({ connections: -1, tunnels: -1 }));
    req.end();
  });
}

function nodeConfigFor(echo: string, odd: string): Record<string, any> {
  const raw = rawNodeConfig({ port: 0, backendUrls: [echo], limits: LIMITS });
  raw.node.admin = { listen: '127.0.0.1:0', token: ADMIN_TOKEN };
  raw.listeners.push({ name: 'pp', on: '127.0.0.1', port: 0, proxyProtocol: true });
  raw.routes = [
    { host: '*', path: '/fz', pool: 'app' },
    { host: '*', path: '/ws', pool: 'app' },
    { host: '*', path: '/odd', pool: 'odd', responseHeadTimeoutMs: 800 },
  ];
  raw.pools.odd = { backends: [{ id: 'odd-1', url: odd }], healthCheck: { type: 'tcp' } };
  raw.logging = { level: 'info' };
  return raw;
}

/** Sends one case and judges the answer; resolves with a problem or null and the first status. */
function runCase(port: number, parts: Buffer[], seed: Seed): Promise<{ problem: string | null; status: string; answer: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let closed = false;
    let lastByte = Date.now();
    let settled = false;
    const sent = Buffer.concat(parts);
    const s = connect(port, '127.0.0.1');
    const finish = () => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      s.destroy();
      const answer = Buffer.concat(chunks);
      const status = answer.length ? (/^HTTP\/1\.1 (\d{3})/.exec(answer.toString('latin1', 0, 16))?.[1] ?? 'junk') : closed ? 'closed' : 'silent';
      let problem = checkAnswer(answer, closed, requestMethods(sent));
      if (!problem && status === 'silent') problem = `no answer and no close within ${CASE_DEADLINE_MS} ms`;
      resolve({ problem, status, answer: answer.toString('latin1', 0, 700) });
    };
    const started = Date.now();
    const watch = setInterval(() => {
      const now = Date.now();
      const answer = Buffer.concat(chunks);
      const complete = answer.length > 0 && checkAnswer(answer, true, requestMethods(sent)) === null;
      if (now - started > CASE_DEADLINE_MS || (complete && now - lastByte > QUIET_MS && (!seed.websocket || now - started > 600))) finish();
    }, 50);
    s.on('connect', async () => {
      for (let i = 0; i < parts.length && !s.destroyed; i++) {
        s.write(parts[i]);
        if (parts.length > 1 && i < parts.length - 1) await sleep(parts.length > 50 ? 0 : 2);
      }
    });
    s.on('data', (d) => { chunks.push(d); lastByte = Date.now(); });
    s.on('error', () => {});
    s.on('close', () => { closed = true; finish(); });
  });
}

/** Builds case `id`: a seed, mutated, split into writes. */
function buildCase(id: number, rng: Rng, forced?: { seed: string; split: Split }): { seed: Seed; parts: Buffer[]; label: string } {
  const names = Object.keys(SEEDS);
  const name = forced?.seed ?? rng.pick(names);
  const seed = SEEDS[name](id, rng);
  let first = seed.parts[0];
  let applied: string[] = [];
  if (!forced) ({ buf: first, applied } = mutate(first, rng, LIMITS.maxHeaderBytes));
  const how: Split = forced?.split ?? (rng.chance(0.1) && first.length < 600 ? { kind: 'bytes' } : rng.chance(0.35) ? { kind: 'at', offset: 1 + rng.int(Math.max(1, first.length - 1)) } : { kind: 'whole' });
  const rest = seed.parts.slice(1).map((p) => (rng.chance(0.2) ? mutate(p, rng, LIMITS.maxHeaderBytes).buf : p));
  return { seed, parts: [...split(first, how), ...rest], label: `${name}[${applied.join(',') || 'as-is'}|${how.kind}${how.kind === 'at' ? `@${how.offset}` : ''}]` };
}

/** Runs the fuzzer; never throws for a finding (they are in the report). */
export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const breport: BackendReport = { requests: 0, upgrades: 0, oddHandshakes: 0, findings: [] };
  const backends: FuzzBackend[] = [await startEchoBackend(breport), await startOddBackend(breport, opts.seed ^ 0x5eed)];
  let node: NodeProcess | null = null;
  const findings: string[] = [];
  const byKind: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  let cases = 0;
  try {
    node = spawnNodeProcess(nodeConfigFor(backends[0].url, backends[1].url), { WSHA_ADMIN_TOKEN: '' });
    const ports: Record<string, number> = {};
    for (const name of ['public', 'pp']) ports[name] = (await node.waitForLog((l) => l.msg === 'listening' && l.listener === name, `listener ${name}`, 20000)).port;
    const adminAt = String((await node.waitForLog((l) => typeof l.admin === 'string', 'admin', 20000)).admin);
    const adminPort = Number(adminAt.slice(adminAt.lastIndexOf(':') + 1));
    const pid = node.pid;
    // Warm up (agents, JIT), then take the baseline.
    const rng = new Rng(opts.seed);
    await Promise.all(Array.from({ length: 20 }, () => runCase(ports.public, SEEDS.get(-1, rng).parts, SEEDS.get(-1, rng))));
    await sleep(500);
    const fdBaseline = fdCount(pid);
    const rssBaselineKb = rssKb(pid);
    let rssPeakKb = rssBaselineKb;
    log(`fuzz: node pid ${pid}, listeners ${JSON.stringify(ports)}, baseline ${fdBaseline} fds, ${rssBaselineKb} kB RSS, seed ${opts.seed}, ${opts.seconds} s`);

    const forced: Array<{ seed: string; split: Split }> = [];
    if (opts.everyOffset !== false) {
      for (const name of ['get', 'postChunked', 'smuggleClTe', 'upgrade', 'proxyV1', 'proxyV2']) {
        const len = SEEDS[name](0, new Rng(1)).parts[0].length;
        for (let off = 1; off < len; off++) forced.push({ seed: name, split: { kind: 'at', offset: off } });
      }
    }
    const deadline = Date.now() + opts.seconds * 1000;
    let next = 0;
    let lastReport = Date.now();
    const worker = async (w: number) => {
      const wr = new Rng(opts.seed + w * 7919);
      for (let guard = 0; guard < 10_000_000 && Date.now() < deadline; guard++) {
        const id = next++;
        const c = buildCase(id, wr, forced[id]);
        const port = c.seed.target === 'proxy' ? ports.pp : ports.public;
        const r = await runCase(port, c.parts, c.seed);
        cases++;
        byKind[c.seed.kind] = (byKind[c.seed.kind] ?? 0) + 1;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        if (r.problem && findings.length < MAX_FINDINGS) findings.push(`case ${id} ${c.label}: ${r.problem} | sent ${JSON.stringify(Buffer.concat(c.parts).toString('latin1').slice(0, 400))} | got ${JSON.stringify(r.answer)}`);
        if (w === 0 && Date.now() - lastReport > 30_000) {
          lastReport = Date.now();
          rssPeakKb = Math.max(rssPeakKb, rssKb(pid));
          log(`fuzz: ${cases} cases, ${findings.length + breport.findings.length} findings, ${fdCount(pid)} fds, ${rssKb(pid)} kB RSS`);
        }
        if (node!.proc.exitCode !== null || node!.proc.signalCode !== null) { findings.push(`node exited (${node!.proc.exitCode ?? node!.proc.signalCode}) after case ${id} ${c.label}`); return; }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, (_, w) => worker(w)));
    rssPeakKb = Math.max(rssPeakKb, rssKb(pid));

    // Settle: every connection the node holds should go within its timeouts.
    let state = await adminState(adminPort);
    for (let i = 0; i < 100 && (state.connections > 0 || state.tunnels > 0 || fdCount(pid) > fdBaseline + 2); i++) { await sleep(200); state = await adminState(adminPort); }
    const fdAfter = fdCount(pid);
    const rssAfterKb = rssKb(pid);
    const alive = node.proc.exitCode === null && node.proc.signalCode === null;
    const errorLines = node.logs.filter((l) => (typeof l.level === 'number' && l.level >= 50) || /uncaught|unhandled/i.test(String(l.msg ?? ''))).map((l) => JSON.stringify(l).slice(0, 300));
    if (!alive) findings.push('node is not running at the end');
    if (errorLines.length) findings.push(`${errorLines.length} error-level log lines, first: ${errorLines[0]}`);
    if (fdAfter > fdBaseline + 2) findings.push(`fds did not return to baseline: ${fdBaseline} -> ${fdAfter}`);
    // V8 keeps some heap it grew into; far above the baseline is a leak.
    if (rssAfterKb > rssBaselineKb + Math.max(65536, rssBaselineKb * 0.75)) findings.push(`RSS did not come back: ${rssBaselineKb} kB -> ${rssAfterKb} kB (peak ${rssPeakKb} kB)`);
    if (state.tunnels > 0 || state.connections > 0) findings.push(`left behind: ${state.connections} connections, ${state.tunnels} tunnels; sockets: ${socketsOf(pid)}`);
    const { findings: bf, ...backend } = breport;
    return { seed: opts.seed, seconds: opts.seconds, cases, byKind, byStatus, backend, findings: [...findings, ...bf.slice(0, MAX_FINDINGS)], node: { alive, errorLines: errorLines.slice(0, 20), fdBaseline, fdAfter, rssBaselineKb, rssAfterKb, rssPeakKb, connectionsAfter: state.connections, tunnelsAfter: state.tunnels } };
  } finally {
    await node?.cleanup();
    for (const b of backends) await b.close();
  }
}

/** An integer option from LO to HI; anything else is refused with the flag named. */
function intIn(lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer from ${lo} to ${hi}`);
    return n;
  };
}

async function main(): Promise<void> {
  const o = new Command('fuzz')
    .description('throws mutated request heads, upgrades, PROXY headers and WebSocket frames at a wsha node process and checks every answer and every request a backend sees (oracle.ts)')
    .option('--seconds <n>', 'how long to run (default: WSHA_FUZZ_SECONDS, else 60)', intIn(1, 24 * 3600))
    .option('--seed <n>', 'seed of the run (every case replays from it and its number); default: from the clock', intIn(0, 2 ** 31 - 1))
    .option('--concurrency <n>', 'cases in flight', intIn(1, 64), 8)
    .option('--report <file>', 'also write the whole report as JSON to FILE')
    // A bad flag is a usage error (exit 2), as before; --help exits 0.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parse(process.argv).opts<{ seconds?: number; seed?: number; concurrency: number; report?: string }>();
  const seconds = o.seconds ?? intIn(1, 24 * 3600)(process.env.WSHA_FUZZ_SECONDS ?? '60');
  const report = await runFuzz({ seconds, seed: o.seed ?? Date.now() % 2 ** 31, concurrency: o.concurrency });
  if (o.report) writeFileSync(o.report, JSON.stringify(report, null, 2));
  process.stdout.write(`${JSON.stringify({ ...report, findings: report.findings.slice(0, 20), findingCount: report.findings.length }, null, 2)}\n`);
  process.exit(report.findings.length ? 1 : 0);
}

if (require.main === module) void main();
