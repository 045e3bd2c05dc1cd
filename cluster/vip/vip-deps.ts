/**
 * The contracts of a VipMachine: what the ClusterAgent injects into it, what
 * it shows of one VIP, and what the peer link must tell it.
 */
import type { Logger } from 'pino';
import type { VipConfig } from '../../shared/config/schema';
import type { Clock } from '../../shared/clock';
import type { Metrics } from '../../shared/metrics';
import type { VipHost } from '../../shared/ports/vip-host';
import type { ClusterEvent } from '../../shared/records';
import type { Member } from '../membership/members';
import type { PeerEvidence } from '../peer/peer-mesh';
import type { VipDriver } from './drivers/driver';
import type { LeaseClient, LeaseValue } from './lease';
import type { OwnershipTimings, VipState } from './ownership';
import type { Candidate } from './preemption';
import type { GuardPort } from './guard/vip-guard';
import type { AuthoritySource } from './authority';
import type { TransitionEvent } from '../../shared/state-machine';

/** cluster.handover, as the machine uses it. */
export interface HandoverTimings { closeRatePerSec: number; closeWindowMs: number; maxOverlapMs: number; timeoutMs: number }

/** What the machine asks of the peer link. */
export interface PeerPort {
  /** What this node knows about a peer. */
  evidence(id: string): PeerEvidence | undefined;
  /** Peers an owner must get a grant from while Redis does not back it (published and current membership). */
  required(): string[];
  /** Sends this node's beats now (an owner that must re-assert does not wait for the next beat). */
  beatNow(): void;
  /** Linked peers that claim `vip` in a fresh beat. */
  claimants(vip: string): string[];
}

/** A request over the command bus (cluster/control/command-bus.ts) to another node. */
export interface HandoverRequest { op: 'prepare' | 'commit' | 'abort'; vip: string; from: string; epoch?: number; reason?: string }

/** Everything one VipMachine needs, injected by the ClusterAgent. */
export interface VipDeps {
  vip: VipConfig;
  nodeId: string;
  lease: LeaseClient;
  driver: VipDriver;
  host: VipHost;
  timings: OwnershipTimings;
  handover: HandoverTimings;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  peers: PeerPort;
  guard: GuardPort;
  /** This node as a candidate for this VIP right now (priority, ready, drained, and with spread its load). */
  self: () => Candidate;
  /** How VIPs go to nodes (cluster.vipPlacement): preemption moves a VIP to a better or to a less-loaded node. */
  placement: 'priority' | 'spread';
  /** The latest membership view as candidates for this VIP (this node included). */
  members: () => readonly Candidate[];
  /** A node's last heartbeat (Redis view), for what it published. */
  member: (id: string) => Member | undefined;
  /** Sends a command to another node and waits for its reply. */
  send: (nodeId: string, req: HandoverRequest, timeoutMs: number) => Promise<unknown>;
  /** Called after every ownership change (the agent re-beats at once). */
  onChange: () => void;
  /** Publishes a cluster event (handover phases) on the events channel; fire-and-forget. */
  publish: (e: ClusterEvent) => void;
  /** Called on every Redis success/failure of the lease connection. */
  onRedis: (ok: boolean, err?: unknown) => void;
  /** Whether this node's lease connection works right now (told to peers in beats). */
  redisOk: () => boolean;
  /** Told every transition of this VIP's machine, with its reason (the cluster history records step-downs from it). */
  onTransition?: (vip: string, e: TransitionEvent<VipState>) => void;
}

/** What `wsha status`, the sampler, beats and the heartbeat show of one VIP. */
export interface VipSnapshot {
  vip: string;
  state: VipState;
  /** Epoch this node holds (while it claims, re-asserts or receives), else null. */
  epoch: number | null;
  claims: boolean;
  /** High-resolution wall ms of the last change of `claims`. */
  claimChangedAt: number;
  /** While claiming: the high-resolution wall ms until which this node's own clock holds the claim valid (a silent node claims no longer). */
  claimUntil: number | null;
  serving: boolean;
  /** Last lease holder seen by this node. */
  holder: LeaseValue | null;
  /** While claiming: what backs the VIP (redis, peers, both) and for how much longer. */
  authority: AuthoritySource | null;
  authorityMs: number | null;
}
