/**
 * The faults of the matrix (issues 9 and 13, "How it is checked"). Each
 * fault injects one failure into a steady cluster under load, undoes it
 * where the issue says so, and tells the runner the instant of the failure
 * (`at`) and the host that failed (`victim`, for the failover gap). The
 * runner observes for `observeMs` after `run` returns.
 */
import { execFileSync } from 'node:child_process';
import { sleep, waitFor } from '../harness/ports';
import { FAULT_PORTS } from './fault-config';
import { VIP, type FaultLab } from './fault-lab';
import type { NftFaults } from './nft';

/** What a fault can act on. */
export interface FaultContext {
  fl: FaultLab;
  nft: NftFaults;
  /** The node that owned the VIP when the fault started. */
  owner: string;
  /** The other proxy hosts, best priority first. */
  standbys: string[];
  /** The single node claiming the VIP as last sampled, if exactly one does. */
  currentOwner(): string | undefined;
}

/** The instant of the failure and the host that failed. */
export interface FaultOutcome { at: number; victim?: string }

/** One fault of the matrix. */
export interface FaultSpec {
  id: string;
  issue: 9 | 13;
  title: string;
  /** Cluster sizes where the fault makes sense. */
  nodes: ReadonlyArray<2 | 3>;
  redis?: 'single' | 'sentinel';
  /** `default`: the nodes keep the schema's loopback peer.listen. */
  peerListen?: 'lab' | 'default';
  /** Report the failure-to-first-answer gap (first answer by another host than the victim). */
  gap?: boolean;
  /** Observation after `run` returns. @default 5000 */
  observeMs?: number;
  run(ctx: FaultContext): Promise<FaultOutcome>;
}

function redisProc(fl: FaultLab, key = 'r1'): ChildLike { return fl.redis.get(key)!.proc; }
type ChildLike = { kill(sig: NodeJS.Signals): boolean };

function redisKill(id: string, downMs: number): FaultSpec {
  return {
    id, issue: 9, title: `redis-server SIGKILL, restarted empty after ${downMs / 1000} s`, nodes: [2, 3], observeMs: 6000,
    run: async ({ fl }) => {
      const at = Date.now();
      redisProc(fl).kill('SIGKILL');
      await sleep(downMs);
      await fl.restartRedis('r1');
      return { at };
    },
  };
}

function ownerStop(id: string, issue: 9 | 13, stopMs: number): FaultSpec {
  return {
    id, issue, title: `owner SIGSTOP for ${stopMs / 1000} s (kernel still answering), then SIGCONT`, nodes: [2, 3], gap: true,
    run: async ({ fl, owner }) => {
      const at = Date.now();
      fl.signalNode(owner, 'SIGSTOP');
      await sleep(stopMs);
      fl.signalNode(owner, 'SIGCONT');
      return { at, victim: owner };
    },
  };
}

/** Every lab host (proxies, Redis hosts, client) that is not in `group`. */
function everyoneBut(fl: FaultLab, group: readonly string[]): string[] {
  return [...fl.proxies, ...fl.redisHosts, 'c'].filter((h) => !group.includes(h));
}

/** Resets the live peer links from `from` to `to`'s peer port (as a forged RST would). */
function killPeerLinks(fl: FaultLab, from: string, to: string): void {
  try {
    execFileSync('ip', ['netns', 'exec', fl.lab.member(from).ns, 'ss', '-K', 'dst', fl.addr(to), 'dport', '=', `:${FAULT_PORTS.peer}`], { stdio: 'ignore', timeout: 5000 });
  } catch { fl.note(`ss -K on ${from} failed`); }
}

/** The whole catalogue, in the order the matrix runs it. */
export const FAULTS: readonly FaultSpec[] = [
  redisKill('redis-kill-5s', 5000),
  redisKill('redis-kill-60s', 60_000),
  {
    id: 'redis-stop-5s', issue: 9, title: 'redis-server SIGSTOP for 5 s, then SIGCONT', nodes: [2, 3], observeMs: 6000,
    run: async ({ fl }) => {
      const at = Date.now();
      redisProc(fl).kill('SIGSTOP');
      await sleep(5000);
      redisProc(fl).kill('SIGCONT');
      return { at };
    },
  },
  {
    id: 'sentinel-master-kill', issue: 9, title: 'Sentinel: master SIGKILL (1 master, 1 replica, 3 sentinels), replica promoted', nodes: [2, 3], redis: 'sentinel', observeMs: 6000,
    run: async ({ fl }) => {
      const at = Date.now();
      redisProc(fl).kill('SIGKILL');
      await waitFor(() => fl.masterSeenBy('r2') === fl.addr('r2'), 'the sentinels promoting r2', 30_000, 200).catch(() => fl.note('r2 not promoted within 30 s'));
      return { at };
    },
  },
  {
    id: 'sentinel-owner-partition', issue: 9, title: 'Sentinel: owner and old master (r1, s1) partitioned from the rest for 10 s', nodes: [2, 3], redis: 'sentinel', gap: true, observeMs: 6000,
    run: async ({ fl, nft, owner }) => {
      const at = Date.now();
      fl.leaveSegment(owner);
      nft.cut([owner, 'r1'], everyoneBut(fl, [owner, 'r1']), VIP);
      await sleep(10_000);
      nft.heal();
      fl.joinSegment(owner);
      return { at, victim: owner };
    },
  },
  {
    id: 'proxy-partition', issue: 9, title: 'owner cut from the other proxies for 5 s; Redis and clients reach all', nodes: [2, 3],
    run: async ({ nft, owner, standbys }) => {
      const at = Date.now();
      nft.cut([owner], standbys);
      await sleep(5000);
      nft.heal();
      return { at, victim: owner };
    },
  },
  {
    id: 'owner-redis-cut', issue: 9, title: 'owner cut from Redis (not from its peers) for 5 s', nodes: [2, 3], observeMs: 6000,
    run: async ({ fl, nft, owner }) => {
      const at = Date.now();
      nft.cut([owner], fl.redisHosts);
      await sleep(5000);
      nft.heal();
      return { at, victim: owner };
    },
  },
  {
    id: 'peer-reset', issue: 9, title: "owner's peer port answers the standbys with TCP resets for 5 s (both alive)", nodes: [2, 3],
    run: async ({ fl, nft, owner, standbys }) => {
      const at = Date.now();
      for (const s of standbys) nft.resetPort(owner, s, FAULT_PORTS.peer);
      for (const s of standbys) killPeerLinks(fl, s, owner);
      await sleep(5000);
      nft.heal();
      return { at, victim: owner };
    },
  },
  {
    // The risky moment is a standby's first connect to an owner it knows: at its start (restarted 3 times here) ...
    id: 'loopback-peer', issue: 9, title: 'default loopback peer.listen on every host; the standbys restarted 3 times', nodes: [2, 3], peerListen: 'default',
    run: async ({ fl, standbys }) => {
      const at = Date.now();
      for (let i = 0; i < 3; i++) {
        await Promise.all(standbys.map((s) => fl.restartNode(s)));
        await sleep(3000);
      }
      return { at };
    },
  },
  {
    // ... and when a standby sees the owner's heartbeat again after a gap while the owner's lease is live:
    // it makes a new link to the address the owner advertised, which on this host is its own loopback.
    id: 'loopback-peer-blip', issue: 9, title: 'default loopback peer.listen on every host; the standbys cut from Redis for 1.5 s', nodes: [2, 3], peerListen: 'default',
    run: async ({ fl, nft, owner, standbys }) => {
      const at = Date.now();
      nft.cut(standbys, fl.redisHosts);
      await sleep(1500);
      nft.heal();
      return { at, victim: owner };
    },
  },
  ownerStop('owner-stop-2s', 9, 2000),
  {
    id: 'owner-kill', issue: 9, title: 'owner SIGKILL; vip cleanup and restart as systemd does (RestartSec=1)', nodes: [2, 3], gap: true,
    run: async ({ fl, owner }) => {
      const at = Date.now();
      await fl.killAndRestart(owner);
      return { at, victim: owner };
    },
  },
  {
    id: 'standby-kill', issue: 9, title: 'standby SIGKILL; vip cleanup and restart as systemd does', nodes: [2, 3],
    run: async ({ fl, standbys }) => {
      const at = Date.now();
      await fl.killAndRestart(standbys[0]!);
      return { at, victim: standbys[0] };
    },
  },
  {
    id: 'owner-link-down', issue: 13, title: "owner host's link down for 3 s", nodes: [2, 3], gap: true,
    run: async ({ fl, owner }) => {
      const at = Date.now();
      fl.leaveSegment(owner);
      fl.lab.linkDown(owner);
      await sleep(3000);
      fl.lab.linkUp(owner);
      fl.joinSegment(owner);
      return { at, victim: owner };
    },
  },
  {
    id: 'owner-partition', issue: 13, title: "owner's bridge port down for 3 s (partition)", nodes: [2, 3], gap: true,
    run: async ({ fl, owner }) => {
      const at = Date.now();
      fl.leaveSegment(owner);
      fl.lab.partition(owner);
      await sleep(3000);
      fl.lab.heal(owner);
      fl.joinSegment(owner);
      return { at, victim: owner };
    },
  },
  ownerStop('owner-stop-0.3s', 13, 300),
  ownerStop('owner-stop-1s', 13, 1000),
  ownerStop('owner-stop-1.9s', 13, 1900),
  ownerStop('owner-stop-5s', 13, 5000),
];

/** The fault called `id`; throws with the list of known ids otherwise. */
export function faultById(id: string): FaultSpec {
  const f = FAULTS.find((x) => x.id === id);
  if (!f) throw new Error(`unknown fault ${id}; known: ${FAULTS.map((x) => x.id).join(', ')}`);
  return f;
}
