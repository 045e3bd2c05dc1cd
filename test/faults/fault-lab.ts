/**
 * The fault matrix's lab: network namespaces on one bridge (netns.ts) and
 * every process of one run, each spawned through the lab so that
 * lab.destroy() (also from a process 'exit' hook) kills it by PID and
 * removes every namespace.
 *
 *                       hub ns: br0 10.213.0.254 (sampler)
 *    ┌──────┬──────┬──────┼──────┬──────┬──────┐
 *    p1     p2    (p3)    r1    (r2)   (r3)    c
 *  proxy hosts:          Redis hosts:          client host:
 *  wsha node +           r1 redis-server       load clients,
 *  its own echo          (Sentinel: + s1;      connect prober
 *  backend on            r2 replica + s2;
 *  loopback              r3 s3 alone)
 *
 * Each proxy host has its own backend on loopback, greeting `hello from
 * HOST`: the prober then knows which host answered (the failover gap is
 * "first answer from another host"), and no network fault of the matrix can
 * cut a proxy from its backend, so every failure the table shows is the
 * ownership path's. Sentinels sit one per Redis host, so that "the owner and
 * the old master (r1, s1) cut off from the rest" leaves s2 and s3, a
 * majority, to promote r2.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, LAB_SUBNET, type NetnsLab } from '../harness/netns';
import { sleep, waitFor } from '../harness/ports';
import { FAULT_PORTS, writeFaultNodeConfig, type FaultNodeOptions, type RedisTarget } from './fault-config';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

const DIST = resolve(__dirname, '..', '..');
export const CLI = join(DIST, 'cluster', 'cli', 'main.js');
const BACKEND = join(DIST, 'test', 'harness', 'netns-backend.js');
/** The VIP of every run. */
export const VIP = `${LAB_SUBNET}.100`;
/** Sentinel master group name. */
const MASTER_NAME = 'faults-m';
/** Node priorities: p1 is the first owner. */
const PRIORITIES = [200, 100, 50];
/** systemd's RestartSec in deploy/systemd/wsha.service. */
const RESTART_SEC_MS = 1000;

/** Run folders not yet removed; a process 'exit' hook removes them (netns.ts's own hook removes the namespaces). */
const liveDirs = new Set<string>();
process.on('exit', () => { for (const d of liveDirs) rmSync(d, { recursive: true, force: true }); });

/** A process of the lab with its output kept. */
export interface LabProc { name: string; host: string; proc: ChildProcess; tail: string[]; exited: Promise<{ code: number | null; signal: string | null }> }

/** What a run's lab consists of. */
export interface FaultLabOptions { nodes: 2 | 3; redis: 'single' | 'sentinel'; peerListen?: 'lab' | 'default' }

/** One run's lab and its processes. */
export class FaultLab {
  readonly lab: NetnsLab;
  readonly proxies: string[];
  readonly redisHosts: string[];
  readonly dir: string;
  readonly nodes = new Map<string, LabProc>();
  readonly backends = new Map<string, LabProc>();
  readonly redis = new Map<string, LabProc>();
  readonly configs = new Map<string, string>();
  /** Spans during which a host was off the segment (link or bridge port down, ARP cut): its address answered nobody. */
  readonly offSegment: Array<{ who: string; from: number; to: number }> = [];
  readonly #offSince = new Map<string, number>();
  readonly #logs: WriteStream;

  constructor(readonly o: FaultLabOptions) {
    this.proxies = ['p1', 'p2', 'p3'].slice(0, o.nodes);
    this.redisHosts = o.redis === 'sentinel' ? ['r1', 'r2', 'r3'] : ['r1'];
    this.lab = createLab([...this.proxies, ...this.redisHosts, 'c']);
    this.dir = mkdtempSync(join(tmpdir(), 'wsha-faults-'));
    liveDirs.add(this.dir);
    this.#logs = createWriteStream(join(this.dir, 'run.log'));
  }

  /** Marks `host` off the segment from now (call before cutting it). */
  leaveSegment(host: string): void { if (!this.#offSince.has(host)) this.#offSince.set(host, Date.now()); }

  /** Marks `host` back on the segment (call after healing it). */
  joinSegment(host: string): void {
    const from = this.#offSince.get(host);
    if (from === undefined) return;
    this.#offSince.delete(host);
    this.offSegment.push({ who: host, from, to: Date.now() });
  }

  /** Off-segment spans, open ones ending now. */
  offSegmentSpans(): Array<{ who: string; from: number; to: number }> {
    return [...this.offSegment, ...[...this.#offSince].map(([who, from]) => ({ who, from, to: Date.now() }))];
  }

  /** Address of a lab host. */
  addr(host: string): string { return this.lab.member(host).address; }

  /** The nodes' Redis target. */
  redisTarget(): RedisTarget {
    return this.o.redis === 'single'
      ? { kind: 'single', host: this.addr('r1'), port: FAULT_PORTS.redis }
      : { kind: 'sentinel', name: MASTER_NAME, sentinels: this.redisHosts.map((h) => ({ host: this.addr(h), port: FAULT_PORTS.sentinel })) };
  }

  /** Spawns a program in a host's namespace, logging its output with a label. */
  spawn(name: string, host: string, file: string, args: string[], o: { env?: NodeJS.ProcessEnv; onLine?: (line: string) => void; log?: boolean } = {}): LabProc {
    const ns = host === 'hub' ? this.lab.hubNs : this.lab.member(host).ns;
    const proc = this.lab.spawnIn(ns, file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WSHA_LOG_PRETTY: '0', ...(o.env ?? {}) } });
    const tail: string[] = [];
    for (const s of [proc.stdout, proc.stderr]) {
      if (!s) continue;
      createInterface({ input: s }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 300) tail.shift();
        // A process of the run may still print after the log was closed (a worker outliving its control process briefly).
        if (o.log !== false && !this.#logs.writableEnded) this.#logs.write(`${Date.now()} [${name}] ${line}\n`);
        o.onLine?.(line);
      });
    }
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => proc.once('exit', (code, signal) => r({ code, signal })));
    return { name, host, proc, tail, exited };
  }

  /** Starts the Redis side: one server on r1, or master r1, replica r2 and a sentinel on each of r1..r3. */
  async startRedis(): Promise<void> {
    await this.#startRedisServer('r1', []);
    if (this.o.redis === 'single') return;
    await this.#startRedisServer('r2', ['--replicaof', this.addr('r1'), String(FAULT_PORTS.redis)]);
    for (const h of this.redisHosts) this.#startSentinel(h);
    await waitFor(() => this.#sentinelsKnowReplica(), 'sentinels that see master and replica', 20_000, 200);
  }

  async #startRedisServer(host: string, extra: string[]): Promise<void> {
    const p = this.spawn(`redis-${host}`, host, 'redis-server', ['--port', String(FAULT_PORTS.redis), '--bind', this.addr(host), '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--dir', this.dir, ...extra]);
    this.redis.set(host, p);
    await waitFor(() => p.tail.some((l) => l.includes('Ready to accept connections')), `redis-server on ${host}`, 10_000, 20);
  }

  /** Restarts the (killed) redis-server of `host`, empty: no persistence. */
  restartRedis(host = 'r1'): Promise<void> { return this.#startRedisServer(host, []); }

  #startSentinel(host: string): void {
    const conf = join(this.dir, `sentinel-${host}.conf`);
    writeFileSync(conf, [
      `port ${FAULT_PORTS.sentinel}`, `bind ${this.addr(host)}`, 'protected-mode no', `dir ${this.dir}`,
      `sentinel monitor ${MASTER_NAME} ${this.addr('r1')} ${FAULT_PORTS.redis} 2`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 5000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`, '',
    ].join('\n'));
    this.redis.set(`s-${host}`, this.spawn(`sentinel-${host}`, host, 'redis-sentinel', [conf]));
  }

  #sentinelsKnowReplica(): boolean {
    return this.redisHosts.every((h) => {
      const r = spawnSync('ip', ['netns', 'exec', this.lab.member(h).ns, 'redis-cli', '-h', this.addr(h), '-p', String(FAULT_PORTS.sentinel), 'sentinel', 'replicas', MASTER_NAME], { encoding: 'utf8', timeout: 3000 });
      return r.status === 0 && r.stdout.includes(this.addr('r2')) && !/s_down|disconnected/.test(r.stdout);
    });
  }

  /** Address of the current master as sentinel `host` sees it. */
  masterSeenBy(host: string): string | null {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.member(host).ns, 'redis-cli', '-h', this.addr(host), '-p', String(FAULT_PORTS.sentinel), 'sentinel', 'get-master-addr-by-name', MASTER_NAME], { encoding: 'utf8', timeout: 3000 });
    return r.status === 0 ? (r.stdout.split('\n')[0]?.trim() || null) : null;
  }

  /** Starts every proxy host's echo backend. */
  async startBackends(): Promise<void> {
    for (const h of this.proxies) {
      const p = this.spawn(`backend-${h}`, h, process.execPath, [BACKEND, String(FAULT_PORTS.backend), h]);
      this.backends.set(h, p);
      await waitFor(() => p.tail.some((l) => l.startsWith('listening')), `backend on ${h}`, 10_000, 20);
    }
  }

  /** Writes every node's config (fault-config.ts) and starts the node of `host`. */
  startNode(host: string, extra: Partial<FaultNodeOptions> = {}): LabProc {
    const m = this.lab.member(host);
    const i = this.proxies.indexOf(host);
    const file = writeFaultNodeConfig(this.dir, {
      id: host, address: m.address, iface: m.iface, priority: PRIORITIES[i] ?? 10, vipAddress: VIP,
      redis: this.redisTarget(), peerListen: this.o.peerListen, ...extra,
    });
    this.configs.set(host, file);
    const p = this.spawn(`node-${host}`, host, process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', file]);
    this.nodes.set(host, p);
    return p;
  }

  /** Whether the node of `host` is running. */
  nodeAlive(host: string): boolean { const p = this.nodes.get(host)?.proc; return !!p && p.exitCode === null && p.signalCode === null; }

  /** Sends a signal to a node process by its PID. */
  signalNode(host: string, sig: NodeJS.Signals): void { if (this.nodeAlive(host)) this.nodes.get(host)!.proc.kill(sig); }

  /** SIGKILL, then what systemd does: ExecStopPost `wsha vip cleanup`, RestartSec, start again. Resolves once restarted. */
  async killAndRestart(host: string): Promise<void> {
    const p = this.nodes.get(host);
    if (!p) return;
    this.signalNode(host, 'SIGKILL');
    await Promise.race([p.exited, sleep(5000)]);
    this.vipCleanup(host);
    await sleep(RESTART_SEC_MS);
    this.startNode(host);
  }

  /** SIGTERM (drain), wait for the exit (SIGKILL after 10 s), start again. */
  async restartNode(host: string): Promise<LabProc> {
    const p = this.nodes.get(host);
    if (p && this.nodeAlive(host)) {
      p.proc.kill('SIGTERM');
      if (!(await Promise.race([p.exited.then(() => true), sleep(10_000).then(() => false)]))) { p.proc.kill('SIGKILL'); await Promise.race([p.exited, sleep(2000)]); }
    }
    return this.startNode(host);
  }

  /** `wsha vip cleanup --config FILE` in the host's namespace (the unit's ExecStopPost). */
  vipCleanup(host: string): void {
    const file = this.configs.get(host);
    if (!file) return;
    const r = spawnSync('ip', ['netns', 'exec', this.lab.member(host).ns, process.execPath, CLI, 'vip', 'cleanup', '--config', file], { encoding: 'utf8', timeout: 20_000 });
    this.#logs.write(`${Date.now()} [cleanup-${host}] status ${r.status} ${(r.stdout ?? '').trim()} ${(r.stderr ?? '').trim()}\n`);
  }

  /** Appends a line to the run log. */
  note(line: string): void { this.#logs.write(`${Date.now()} [runner] ${line}\n`); }

  /** Path of the run log. */
  get logFile(): string { return join(this.dir, 'run.log'); }

  /** Kills everything (SIGCONT first, so stopped processes die too), removes the namespaces; copies the run's folder to `keepAs` if given. */
  async destroy(keepAs?: string): Promise<void> {
    for (const p of [...this.nodes.values(), ...this.redis.values()]) { try { p.proc.kill('SIGCONT'); } catch { /* gone */ } }
    await this.lab.destroy();
    await new Promise<void>((r) => this.#logs.end(r));
    if (keepAs) { mkdirSync(dirname(keepAs), { recursive: true }); spawnSync('cp', ['-r', this.dir, keepAs]); }
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
  }
}
