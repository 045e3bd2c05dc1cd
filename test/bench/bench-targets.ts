/**
 * The targets of the comparison and how each is started: the echo backend
 * itself (direct), nginx, HAProxy, node http-proxy and wsha (through its
 * real CLI) with `node.workers: 1` and `auto`, plus the bare Node relay as
 * an optional baseline. Every proxy reports the PIDs of all its processes
 * (nginx's master and workers, wsha's control process and workers), read
 * afresh from /proc each time, so that CPU and RSS are summed over them.
 */
import { availableParallelism } from 'node:os';
import type { BenchProcess } from './bench-node';
import { startTcpRelay, startWshaNode } from './bench-node';
import { startHaproxy, startHttpProxy, startNginx, NOFILE_LIMIT } from './peer-proxies';
import { processTree } from './proc-stats';
import type { DebianNeed } from './debian-packages';
import { workersKeySupported, workersPending } from './wsha-workers';

/** Names accepted by --only, in table order. */
export const TARGET_NAMES = ['direct', 'nginx', 'haproxy', 'http-proxy', 'wsha', 'wsha-auto', 'wsha-base', 'relay'] as const;
/** One target name. */
export type TargetName = (typeof TARGET_NAMES)[number];
/** The targets a run measures unless --only says otherwise. */
export const DEFAULT_TARGETS: readonly TargetName[] = ['direct', 'nginx', 'haproxy', 'http-proxy', 'wsha', 'wsha-auto'];

/** Tunnels one proxy process can hold here: two files each, a few files kept for listeners and logs. */
export const TUNNELS_PER_PROCESS = Math.floor((NOFILE_LIMIT - 200) / 2 / 100) * 100;

/** A started target. */
export interface RunningTarget {
  name: TargetName;
  url: string;
  /** All processes of the proxy right now (empty for direct). */
  readonly pids: readonly number[];
  /** Idle connections the proxy can hold on this machine (its file limits). */
  idleCapacity: number;
  stop(): Promise<void>;
}

/** What starting a target needs. */
export interface TargetContext {
  backend: BenchProcess; redisUrl: string; idleMax: number; wshaExecArgv: string[];
  /** The CLI script of another wsha build (--base), for the wsha-base target; '' without. */
  baseCli: string;
}

/** How to show a target, and the Debian packages it needs. */
export const TARGET_INFO: Record<TargetName, { label: string; needs: DebianNeed[] }> = {
  direct: { label: 'direct', needs: [] },
  nginx: { label: 'nginx', needs: [{ binary: 'nginx', pkg: 'nginx' }] },
  haproxy: { label: 'HAProxy', needs: [{ binary: 'haproxy', pkg: 'haproxy' }] },
  'http-proxy': { label: 'http-proxy', needs: [] },
  wsha: { label: 'wsha (workers 1)', needs: [] },
  'wsha-auto': { label: 'wsha (workers auto)', needs: [] },
  'wsha-base': { label: 'wsha base build (workers 1)', needs: [] },
  relay: { label: 'Node relay', needs: [] },
};

function running(name: TargetName, p: BenchProcess, idleCapacity: number): RunningTarget {
  // A getter: a proxy's workers may come (and be restarted) after it first answers.
  return { name, url: `ws://127.0.0.1:${p.port}/`, get pids() { return processTree(p.pid); }, idleCapacity, stop: () => p.stop() };
}

/** Why a target cannot run with this build (wsha workers auto before node.workers exists), or null. */
export function targetPending(name: TargetName): string | null {
  return name === 'wsha-auto' ? workersPending('auto') : null;
}

/** Starts one target in front of the echo backend. */
export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  const backendPort = ctx.backend.port;
  switch (name) {
    case 'direct':
      return { name, url: `ws://127.0.0.1:${backendPort}/`, pids: [], idleCapacity: 0, stop: async () => {} };
    case 'nginx':
      // Workers get connections by SO_REUSEPORT hash: each one stays well under its own file limit.
      return running(name, await startNginx(backendPort), Math.min(ctx.idleMax, TUNNELS_PER_PROCESS * availableParallelism()));
    case 'haproxy':
      return running(name, await startHaproxy(backendPort, TUNNELS_PER_PROCESS + 50), Math.min(ctx.idleMax, TUNNELS_PER_PROCESS));
    case 'http-proxy':
      return running(name, await startHttpProxy(backendPort), Math.min(ctx.idleMax, TUNNELS_PER_PROCESS));
    case 'relay':
      return running(name, await startTcpRelay(backendPort), Math.min(ctx.idleMax, TUNNELS_PER_PROCESS));
    case 'wsha-base': {
      // A baseline build measured in the same rounds as this one: an A/B of a change on a noisy machine.
      if (!ctx.baseCli) throw new Error('wsha-base needs --base DIR (a built checkout)');
      const node = await startWshaNode({ backendPort, redisUrl: ctx.redisUrl, maxConnections: ctx.idleMax + 100, execArgv: ctx.wshaExecArgv, workers: 1, cli: ctx.baseCli });
      return running(name, node, Math.min(ctx.idleMax, TUNNELS_PER_PROCESS));
    }
    case 'wsha':
    case 'wsha-auto': {
      const auto = name === 'wsha-auto';
      if (auto && !workersKeySupported()) throw new Error(workersPending('auto')!);
      // Without the key the node is one process: workers 1 in all but name.
      const workers = workersKeySupported() ? (auto ? 'auto' : 1) : undefined;
      const node = await startWshaNode({ backendPort, redisUrl: ctx.redisUrl, maxConnections: ctx.idleMax + 100, execArgv: ctx.wshaExecArgv, workers });
      return running(name, node, Math.min(ctx.idleMax, TUNNELS_PER_PROCESS * (auto ? availableParallelism() : 1)));
    }
    default:
      throw new Error(`unknown target ${String(name)}`);
  }
}
