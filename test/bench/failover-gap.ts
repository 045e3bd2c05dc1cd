/**
 * Failover benchmark (a script, not a test): repeats the unplanned takeover
 * of a VIP and prints min/median/max of the gap between the failure and the
 * first WebSocket handshake answered by the new owner, seen by a client that
 * retries handshakes every 5 ms (test/harness/netns-probe.ts).
 *
 *   linux driver, in network namespaces (test/harness/netns.ts), two hosts
 *   and a client on a bridge, Redis in the hub namespace:
 *     kill       SIGKILL of the owner's node process
 *     link-down  `ip link set eth0 down` inside the owner's namespace
 *     partition  the owner's bridge port down (its own link stays up)
 *     stop-0.3, stop-1, stop-1.9, stop-5
 *                SIGSTOP of the owner's process for that many seconds, then
 *                SIGCONT (its kernel keeps answering: issue 13). Reported as
 *                how often the VIP stayed put ("kept") and the gap of the
 *                runs where it moved
 *   bind driver, two nodes on loopback, VIP on 127.0.0.0/8:
 *     kill       SIGKILL of the owner's node process
 *     hang       SIGSTOP of the owner (a silent host; SIGCONT after takeover)
 *
 * After each run the failed side is restored (restarted after the service
 * manager's `wsha vip cleanup`, link up, healed, SIGCONT) and given time to
 * rejoin as standby; ownership then stays where it went (preempt off), so
 * the runs alternate between the two nodes.
 *
 *   npm run -s build && node dist/test/bench/failover-gap.js [--runs 5] [--only linux|bind]
 *       [--kinds kill,hang,link-down,partition,stop-0.3,stop-1,stop-1.9,stop-5]
 *
 * WSHA_TEST_VERBOSE=1 copies the namespaced processes' output to stderr.
 *
 * Needs root for the namespaces (the linux part is skipped otherwise).
 * Bounded: every wait has a timeout, the whole script stops at 10 minutes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, netnsAvailable, LAB_SUBNET } from '../harness/netns';
import { labNodeConfig, scratchDir, startLabBackend, startLabNode, startLabProbe, startLabRedis, type LabNode, type ProbeEvent } from '../harness/netns-node';
import { startRedis } from '../harness/redis';
import { freePort, sleep, waitFor } from '../harness/ports';
import { vipNodeConfig } from '../fixtures/node-config';
import { stringify } from 'yaml';
import { Command, InvalidArgumentError } from 'commander';
import { withClusterSecret } from '../harness/cluster-secret';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

const DIST = resolve(__dirname, '..', '..');
const CLI = join(DIST, 'cluster', 'cli', 'main.js');
const HARD_LIMIT_MS = 10 * 60_000;
/** Time for a restored node to rejoin as a standby whose heartbeats are fresh. */
const REJOIN_MS = 2500;
const started = Date.now();

/** Every failure kind, for --kinds. */
const ALL_KINDS = ['kill', 'hang', 'link-down', 'partition', 'stop-0.3', 'stop-1', 'stop-1.9', 'stop-5'] as const;

interface BenchArgs { runs: number; only: 'linux' | 'bind' | ''; kinds: string[]; trace: string }

/** The command line, checked: a wrong flag or value exits 2 with the flag named, before anything starts. */
function parseArgs(argv: string[]): BenchArgs {
  const o = new Command('failover-gap')
    .description('failure -> first handshake answered by the new owner, per failure kind, with the bind and the linux driver')
    .option('--runs <n>', 'runs of each failure kind', (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected a count from 1 to 100'); return n; }, 5)
    .option('--only <driver>', 'linux or bind (default: both)', (v) => { if (v !== 'linux' && v !== 'bind') throw new InvalidArgumentError('expected linux or bind'); return v; })
    .option('--kinds <list>', `comma-separated failure kinds (default: all): ${ALL_KINDS.join(', ')}`, (v) => {
      const list = v.split(',').filter(Boolean);
      const bad = list.filter((k) => !(ALL_KINDS as readonly string[]).includes(k));
      if (list.length === 0 || bad.length) throw new InvalidArgumentError(`unknown kind ${bad.join(', ') || '(none)'}; expected ${ALL_KINDS.join(', ')}`);
      return list;
    })
    .option('--trace <file>', 'write every node\'s log lines and the client\'s answers around each failure into FILE, to see where a gap went')
    .parse(argv).opts<Partial<BenchArgs>>();
  return { runs: o.runs ?? 5, only: o.only ?? '', kinds: o.kinds ?? [], trace: o.trace ?? '' };
}

/** Set by main() from the command line. */
let ARGS: BenchArgs = { runs: 5, only: '', kinds: [], trace: '' };

/** `--kinds kill,partition` limits the failure kinds run (all by default). */
function wanted(kind: string): boolean {
  return ARGS.kinds.length === 0 || ARGS.kinds.includes(kind);
}

function checkBudget(): void {
  if (Date.now() - started > HARD_LIMIT_MS) throw new Error('benchmark ran over its 10 minute budget');
}

/** min/median/max of a list of gaps, formatted. */
export function summarize(gaps: readonly number[]): string {
  if (gaps.length === 0) return 'no successful run';
  const s = [...gaps].sort((x, y) => x - y);
  const median = s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
  return `min ${s[0]} ms, median ${Math.round(median)} ms, max ${s[s.length - 1]} ms (n=${s.length}: ${gaps.join(', ')})`;
}

/** Stop runs: how often the VIP stayed put, then the gaps of the runs where it moved. */
export function summarizeStops(gaps: ReadonlyArray<number | null>): string {
  const moved = gaps.filter((g): g is number => g !== null);
  return `kept ${gaps.length - moved.length}/${gaps.length}${moved.length ? `; moved: ${summarize(moved)}` : ''}`;
}

/** Who answered the probe last (the current owner as the client sees it). */
function currentOwner(events: readonly ProbeEvent[]): string | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]?.who) return events[i]?.who;
  return undefined;
}

/** Waits until `who` answers (steady: the last event names it). */
async function steadyOn(events: readonly ProbeEvent[], timeoutMs: number): Promise<string> {
  return waitFor(() => { const e = events[events.length - 1]; return e?.who; }, 'the probe answered steadily', timeoutMs, 10);
}

// ---------------------------------------------------------------- linux / netns

/** SIGSTOP lengths of issue 13, by kind. */
const STOP_KINDS = { 'stop-0.3': 300, 'stop-1': 1000, 'stop-1.9': 1900, 'stop-5': 5000 } as const;
type StopKind = keyof typeof STOP_KINDS;
type LinuxKind = 'kill' | 'link-down' | 'partition' | StopKind;
const LINUX_KINDS: readonly LinuxKind[] = ['kill', 'link-down', 'partition', ...(Object.keys(STOP_KINDS) as StopKind[])];
/** After SIGCONT, how long a stop run waits to see whether the VIP moved. */
const STOP_SETTLE_MS = 3000;

/** Gap per run; `null` for a stop run where the VIP never moved. */
type Gaps = Record<LinuxKind, Array<number | null>>;

const isStop = (kind: string): kind is StopKind => kind in STOP_KINDS;

/** Appends the lab nodes' log lines from `fromMs` to `toMs` (by their own time stamps) to the trace file. */
function traceLab(fromMs: number, toMs: number, title: string, labNodes: Array<LabNode | undefined>, probeEvents: ProbeEvent[]): void {
  const lines: Array<[number, string]> = [];
  for (const e of probeEvents) if (e.ts >= fromMs - 50 && e.ts <= toMs + 50) lines.push([e.ts, `[probe] ${JSON.stringify(e)}`]);
  for (const n of labNodes) {
    for (const l of n?.output ?? []) {
      const t = Date.parse(/"time":"([^"]+)"/.exec(l)?.[1] ?? '');
      if (t >= fromMs - 50 && t <= toMs + 50) lines.push([t, `[${n!.host}] ${l}`]);
    }
  }
  lines.sort((x, y) => x[0] - y[0]);
  appendFileSync(ARGS.trace, `${fromMs} ---- ${title}\n${lines.map(([t, l]) => `${t} +${t - fromMs} ${l}`).join('\n')}\n`);
}

async function benchLinux(runs: number): Promise<Gaps> {
  const out = Object.fromEntries(LINUX_KINDS.map((k) => [k, []])) as unknown as Gaps;
  const lab = createLab(['a', 'b', 'c']);
  const scratch = scratchDir();
  const nodes = new Map<string, LabNode>();
  let probeEvents: ProbeEvent[] = [];
  try {
    const vip = `${LAB_SUBNET}.100`;
    const redis = await startLabRedis(lab);
    const configs = new Map<string, string>();
    for (const [host, priority] of [['a', 200], ['b', 100]] as const) {
      await startLabBackend(lab, host);
      configs.set(host, labNodeConfig(lab, host, { redisUrl: redis.url, vipAddress: vip, priority }));
      nodes.set(host, startLabNode(lab, host, scratch.dir, configs.get(host) as string));
    }
    const probe = startLabProbe(lab, 'c', vip, 5);
    probeEvents = probe.events;
    await steadyOn(probe.events, 30_000);
    await sleep(REJOIN_MS);
    for (const kind of LINUX_KINDS.filter(wanted)) {
      for (let i = 0; i < runs; i++) {
        checkBudget();
        const owner = currentOwner(probe.events) as string;
        const other = owner === 'a' ? 'b' : 'a';
        const at = Date.now();
        if (isStop(kind)) {
          const victim = nodes.get(owner) as LabNode;
          victim.proc.kill('SIGSTOP');
          await sleep(STOP_KINDS[kind]);
          victim.proc.kill('SIGCONT');
          const moved = await probe.firstAnswerFrom(other, at, STOP_SETTLE_MS).catch(() => null);
          out[kind].push(moved ? moved.ts - at : null);
          process.stdout.write(`  linux ${kind} #${i + 1}: ${moved ? `${owner} -> ${other} in ${moved.ts - at} ms` : `kept on ${owner}`}\n`);
          await sleep(REJOIN_MS);
          continue;
        }
        if (kind === 'kill') nodes.get(owner)?.proc.kill('SIGKILL');
        else if (kind === 'link-down') lab.linkDown(owner);
        else lab.partition(owner);
        const first = await probe.firstAnswerFrom(other, at, 20_000);
        out[kind].push(first.ts - at);
        if (ARGS.trace) traceLab(at, first.ts, `${kind} of ${owner}, first handshake answered by ${other}: ${first.ts - at} ms`, [nodes.get(owner), nodes.get(other)], probe.events);
        process.stdout.write(`  linux ${kind} #${i + 1}: ${owner} -> ${other} in ${first.ts - at} ms\n`);
        if (kind === 'kill') {
          // As systemd would: ExecStopPost cleanup, then Restart=on-failure.
          spawnSync('ip', ['netns', 'exec', lab.member(owner).ns, process.execPath, CLI, 'vip', 'cleanup', '--config', (nodes.get(owner) as LabNode).configFile], { stdio: 'ignore', timeout: 20_000 });
          const back = startLabNode(lab, owner, scratch.dir, configs.get(owner) as string);
          nodes.set(owner, back);
          // Measure the steady state: the next failure only once the restarted node's link to the owner is up (on a
          // loaded machine a start can take longer than the rejoin time, and without a link no death can be proven).
          await waitFor(() => back.output.some((l) => l.includes('"peer link up"')), `${owner} linked again`, 20_000, 20);
        } else {
          // Let the cut-off owner step down on its own clock first.
          await waitFor(() => !lab.hasAddress(owner, vip), `${owner} removing the VIP`, 10_000, 20);
          if (kind === 'link-down') lab.linkUp(owner); else lab.heal(owner);
        }
        await sleep(REJOIN_MS);
      }
    }
    probe.stop();
  } catch (err) {
    for (const [host, n] of nodes) process.stderr.write(`--- node ${host} (pid ${n.pid}) ---\n${n.output.slice(-30).join('\n')}\n`);
    process.stderr.write(`--- probe ---\n${probeEvents.slice(-15).map((e) => JSON.stringify(e)).join('\n')}\n`);
    throw err;
  } finally {
    await lab.destroy();
    scratch.remove();
  }
  return out;
}

// ---------------------------------------------------------------- bind / loopback

type BindKind = 'kill' | 'hang';

/** Last output lines of the bind part's processes, printed when a run fails. */
const bindLog: string[] = [];
/** Every child of the bind part; killed by PID from a process 'exit' hook too. */
const allChildren = new Set<ChildProcess>();
process.on('exit', () => { for (const c of allChildren) { try { c.kill('SIGCONT'); c.kill('SIGKILL'); } catch { /* gone */ } } });

function spawnTracked(children: Set<ChildProcess>, file: string, args: string[]): ChildProcess {
  const c = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...withClusterSecret(), WSHA_LOG_PRETTY: '0' } });
  const label = `${file === process.execPath ? args[0]?.split('/').pop() : file} ${args.slice(-1)[0]}`;
  for (const stream of [c.stdout, c.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      bindLog.push(`[${c.pid} ${label}] ${line}`);
      if (ARGS.trace) appendFileSync(ARGS.trace, `${Date.now()} [${c.pid} ${label}] ${line}\n`);
      if (bindLog.length > 400) bindLog.shift();
    });
  }
  children.add(c);
  allChildren.add(c);
  c.once('exit', () => { children.delete(c); allChildren.delete(c); });
  return c;
}

async function benchBind(runs: number): Promise<Record<BindKind, number[]>> {
  const out: Record<BindKind, number[]> = { kill: [], hang: [] };
  const children = new Set<ChildProcess>();
  const scratch = scratchDir();
  const redis = await startRedis();
  try {
    // A VIP in 127.0.0.0/8 that no other run of this script uses right now.
    const vip = `127.${100 + (process.pid % 100)}.${(process.pid >> 8) % 250}.${1 + (Date.now() % 250)}`;
    const port = await freePort();
    const nodes = new Map<string, ChildProcess>();
    const configs = new Map<string, string>();
    for (const [id, priority] of [['a', 200], ['b', 100]] as const) {
      const backend = await freePort();
      const be = spawnTracked(children, process.execPath, [join(DIST, 'test', 'harness', 'netns-backend.js'), String(backend), id]);
      await waitFor(() => bindLog.some((l) => l.startsWith(`[${be.pid} `) && l.includes('listening')), `backend ${id}`, 10_000, 20);
      const file = join(scratch.dir, `bind-${id}.yaml`);
      writeFileSync(file, stringify(vipNodeConfig({
        cluster: 'bench', id, priority, redisUrl: redis.url, vip: { driver: 'bind', address: vip }, port, admin: await freePort(), peer: await freePort(),
        backend: { id: `app-${id}`, url: `http://127.0.0.1:${backend}` }, healthCheck: { type: 'tcp', intervalMs: 200, timeoutMs: 200 }, logLevel: 'info',
      })));
      configs.set(id, file);
      nodes.set(id, spawnTracked(children, process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', file]));
    }
    const probeProc = spawnTracked(children, process.execPath, [join(DIST, 'test', 'harness', 'netns-probe.js'), `ws://${vip}:${port}/`, '5']);
    const events: ProbeEvent[] = [];
    createInterface({ input: probeProc.stdout! }).on('line', (l) => { try { events.push(JSON.parse(l) as ProbeEvent); } catch { /* ignore */ } });
    void probeProc;
    await steadyOn(events, 30_000);
    await sleep(REJOIN_MS);
    for (const kind of (['kill', 'hang'] as const).filter(wanted)) {
      for (let i = 0; i < runs; i++) {
        checkBudget();
        const owner = currentOwner(events) as string;
        const other = owner === 'a' ? 'b' : 'a';
        const victim = nodes.get(owner) as ChildProcess;
        const at = Date.now();
        victim.kill(kind === 'kill' ? 'SIGKILL' : 'SIGSTOP');
        if (ARGS.trace) appendFileSync(ARGS.trace, `${at} ---- ${kind} of ${owner} (pid ${victim.pid})\n`);
        const first = await waitFor(() => events.find((e) => e.ts >= at && e.who === other), `a handshake answered by ${other}`, 20_000, 5);
        out[kind].push(first.ts - at);
        if (ARGS.trace) appendFileSync(ARGS.trace, `${first.ts} ---- first handshake answered by ${other}: ${first.ts - at} ms\n`);
        process.stdout.write(`  bind ${kind} #${i + 1}: ${owner} -> ${other} in ${first.ts - at} ms\n`);
        if (kind === 'kill') {
          const back = spawnTracked(children, process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', configs.get(owner) as string]);
          nodes.set(owner, back);
          // The next failure only once the restarted node is linked to the owner (a start can outlast the rejoin time).
          await waitFor(() => bindLog.some((l) => l.startsWith(`[${back.pid} `) && l.includes('"peer link up"')), `${owner} linked again`, 20_000, 20);
        } else victim.kill('SIGCONT');
        await sleep(REJOIN_MS);
      }
    }
  } catch (err) {
    process.stderr.write(`bind part failed; last output:\n${bindLog.slice(-60).join('\n')}\n`);
    throw err;
  } finally {
    for (const c of children) { c.kill('SIGCONT'); c.kill('SIGKILL'); }
    await redis.stop();
    scratch.remove();
  }
  return out;
}

async function main(): Promise<void> {
  ARGS = parseArgs(process.argv);
  const { runs, only } = ARGS;
  const lines: string[] = [];
  if (only !== 'linux') {
    process.stdout.write('bind driver on loopback\n');
    const r = await benchBind(runs);
    for (const [k, v] of Object.entries(r)) if (wanted(k)) lines.push(`bind   ${k.padEnd(10)} ${summarize(v)}`);
  }
  if (only !== 'bind') {
    if (!netnsAvailable()) lines.push('linux  skipped: needs root and ip netns');
    else {
      process.stdout.write('linux driver in network namespaces\n');
      const r = await benchLinux(runs);
      for (const [k, v] of Object.entries(r)) if (wanted(k)) lines.push(`linux  ${k.padEnd(10)} ${isStop(k) ? summarizeStops(v) : summarize(v.filter((x): x is number => x !== null))}`);
    }
  }
  process.stdout.write(`\nfailover gap (failure -> first handshake answered by the new owner), ${Math.round((Date.now() - started) / 1000)} s:\n${lines.join('\n')}\n`);
}

if (require.main === module) {
  const guard = setTimeout(() => { process.stderr.write('failover-gap: hard time limit reached\n'); process.exit(1); }, HARD_LIMIT_MS + 30_000);
  guard.unref();
  main().then(() => process.exit(0), (err) => { process.stderr.write(`failover-gap: ${err instanceof Error ? err.message : String(err)}\n`); process.exit(1); });
}
