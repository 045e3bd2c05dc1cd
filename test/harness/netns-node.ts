/**
 * What runs inside a netns lab (test/harness/netns.ts) for the linux VIP
 * tests and the failover benchmark: a redis-server in the hub namespace, a
 * WebSocket backend and a wsha node per proxy host, and a probe in the
 * client namespace that retries handshakes on the VIP every few ms and
 * reports which host answered. Every process is spawned through the lab, so
 * lab.destroy() kills it by PID.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { HUB_ADDRESS, type NetnsLab } from './netns';
import { waitFor } from './ports';
import { withClusterSecret } from './cluster-secret';
import { DEFAULTS } from '../../shared/config/defaults';
import { CONTROL_EXEC_ARGV } from '../../shared/control-flags';

/** dist/ root, from dist/test/harness/. */
const DIST = resolve(__dirname, '..', '..');
const CLI = join(DIST, 'cluster', 'cli', 'main.js');
const PROBE = join(DIST, 'test', 'harness', 'netns-probe.js');
const BACKEND = join(DIST, 'test', 'harness', 'netns-backend.js');

/** Ports used inside the lab's namespaces: each namespace has its own port space, so fixed numbers cannot collide. */
export const LAB_PORTS = Object.freeze({ redis: 6390, backend: 8080, vip: 8000, admin: 9901, peer: 9902 });

/** A scratch directory for configs, removed by the returned function. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-netns-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Collects a child's output lines (for failure messages) and forwards them when WSHA_TEST_VERBOSE=1. */
function captureLines(child: ChildProcess, label: string, sink: string[], onLine?: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      if (sink.length < 2000) sink.push(line);
      if (process.env.WSHA_TEST_VERBOSE === '1') process.stderr.write(`[${label}] ${line}\n`);
      onLine?.(line);
    });
  }
}

/** Starts redis-server in the hub namespace on the lab address; resolves once it answers. */
export async function startLabRedis(lab: NetnsLab): Promise<{ url: string; proc: ChildProcess }> {
  const proc = lab.spawnIn(lab.hubNs, 'redis-server', ['--port', String(LAB_PORTS.redis), '--bind', HUB_ADDRESS, '--save', '', '--appendonly', 'no', '--protected-mode', 'no']);
  const out: string[] = [];
  captureLines(proc, 'redis', out);
  await waitFor(() => out.some((l) => l.includes('Ready to accept connections')), 'redis-server in the hub namespace', 10_000, 20);
  return { url: `redis://${HUB_ADDRESS}:${LAB_PORTS.redis}`, proc };
}

/** Starts the WebSocket backend of a host on its loopback; it greets every client with `hello from NAME`. */
export async function startLabBackend(lab: NetnsLab, host: string): Promise<ChildProcess> {
  const proc = lab.spawnIn(lab.member(host).ns, process.execPath, [BACKEND, String(LAB_PORTS.backend), host]);
  const out: string[] = [];
  captureLines(proc, `backend-${host}`, out);
  await waitFor(() => out.some((l) => l.startsWith('listening')), `backend in ${host}`, 10_000, 20);
  return proc;
}

/** Timings of the lab's nodes; short, as a test wants them. */
export interface LabTimings { heartbeatIntervalMs: number; heartbeatTimeoutMs: number; leaseTtlMs: number; renewIntervalMs: number; stepDownMarginMs: number; acquirePollMs: number; garpCount: number; garpIntervalMs: number }

/** The defaults of the config schema. */
export const DEFAULT_LAB_TIMINGS: LabTimings = {
  heartbeatIntervalMs: DEFAULTS.heartbeat.intervalMs, heartbeatTimeoutMs: DEFAULTS.heartbeat.timeoutMs, leaseTtlMs: DEFAULTS.lease.ttlMs,
  renewIntervalMs: DEFAULTS.lease.renewIntervalMs, stepDownMarginMs: DEFAULTS.lease.stepDownMarginMs, acquirePollMs: DEFAULTS.lease.acquirePollMs,
  garpCount: DEFAULTS.vip.garpCount, garpIntervalMs: DEFAULTS.vip.garpIntervalMs,
};

/** YAML config of a node on lab host `host`, owning VIP `vipAddress` through the linux driver. */
export function labNodeConfig(lab: NetnsLab, host: string, o: { redisUrl: string; vipAddress: string; priority: number; preempt?: boolean; timings?: LabTimings; defaultPeerListen?: boolean }): string {
  const m = lab.member(host);
  const t = o.timings ?? DEFAULT_LAB_TIMINGS;
  return `cluster:
  name: lab
  redis:
    url: ${o.redisUrl}
  heartbeat:
    intervalMs: ${t.heartbeatIntervalMs}
    timeoutMs: ${t.heartbeatTimeoutMs}
  lease:
    ttlMs: ${t.leaseTtlMs}
    renewIntervalMs: ${t.renewIntervalMs}
    stepDownMarginMs: ${t.stepDownMarginMs}
    acquirePollMs: ${t.acquirePollMs}
node:
  id: ${host}
  priority: ${o.priority}
  address: ${m.address}
  admin:
    listen: ${m.address}:${LAB_PORTS.admin}
${o.defaultPeerListen ? '' : `  peer:
    listen: ${m.address}:${LAB_PORTS.peer}
`}vips:
  - name: web
    driver: linux
    address: ${o.vipAddress}
    prefix: 32
    interface: ${m.iface}
    preempt: ${o.preempt ?? false}
    garpCount: ${t.garpCount}
    garpIntervalMs: ${t.garpIntervalMs}
listeners:
  - name: ws
    on: vip:web
    port: ${LAB_PORTS.vip}
routes:
  - pool: app
pools:
  app:
    backends:
      - id: app-${host}
        url: http://127.0.0.1:${LAB_PORTS.backend}
    healthCheck:
      type: tcp
      intervalMs: 200
      timeoutMs: 200
logging:
  level: info
`;
}

/** A wsha node running in a lab host's namespace. */
export interface LabNode { host: string; proc: ChildProcess; pid: number; output: string[]; configFile: string }

/** Writes the config and starts `wsha node start` in the host's namespace; the child's PID is the node's. */
export function startLabNode(lab: NetnsLab, host: string, dir: string, yaml: string): LabNode {
  const configFile = join(dir, `node-${host}.yaml`);
  writeFileSync(configFile, yaml);
  const proc = lab.spawnIn(lab.member(host).ns, process.execPath, [...CONTROL_EXEC_ARGV, CLI, 'node', 'start', '--config', configFile], { env: { ...withClusterSecret(), WSHA_LOG_PRETTY: '0', XDG_RUNTIME_DIR: dir } });
  const output: string[] = [];
  captureLines(proc, `node-${host}`, output);
  return { host, proc, pid: proc.pid as number, output, configFile };
}

/** One probe report: at `ts` (ms since the epoch), `who` answered the handshake, or `err` happened. */
export interface ProbeEvent { ts: number; who?: string; err?: string; tookMs?: number }

/** A probe in the client namespace; see netns-probe.ts. */
export interface LabProbe {
  events: ProbeEvent[];
  /** Resolves with the first event after `sinceTs` where `who` answered. */
  firstAnswerFrom(who: string, sinceTs: number, timeoutMs: number): Promise<ProbeEvent>;
  stop(): void;
}

/** Starts a probe in namespace of `client` retrying ws://VIP:port/ every `everyMs`. */
export function startLabProbe(lab: NetnsLab, client: string, vipAddress: string, everyMs = 5): LabProbe {
  const proc = lab.spawnIn(lab.member(client).ns, process.execPath, [PROBE, `ws://${vipAddress}:${LAB_PORTS.vip}/`, String(everyMs)]);
  const events: ProbeEvent[] = [];
  captureLines(proc, 'probe', [], (line) => {
    try { events.push(JSON.parse(line) as ProbeEvent); } catch { /* not a report */ }
  });
  return {
    events,
    firstAnswerFrom: (who, sinceTs, timeoutMs) => waitFor(() => events.find((e) => e.ts >= sinceTs && e.who === who), `a handshake answered by ${who}`, timeoutMs, 5),
    stop: () => { if (proc.exitCode === null) proc.kill('SIGKILL'); },
  };
}
