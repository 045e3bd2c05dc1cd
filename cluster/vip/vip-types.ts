/**
 * The contracts of a VipManager: what the ClusterAgent injects into it and
 * what it shows of one VIP.
 */
import type { Logger } from 'pino';
import type { VipConfig } from '../../shared/config/schema';
import type { Clock } from '../../shared/clock';
import type { Metrics } from '../../shared/metrics';
import type { VipHost } from '../../node/vip-host';
import type { VipDriver } from './drivers/driver';
import type { LeaseClient, LeaseValue } from './lease';
import type { LeaseTimings, VipState } from './ownership';
import type { Candidate } from './preemption';
import type { ClusterEvent } from '../../shared/records';

/** cluster.handover, as the manager uses it. */
export interface HandoverTimings { closeRatePerSec: number; closeWindowMs: number; maxOverlapMs: number; timeoutMs: number }

/** Everything one VipManager needs, injected by the ClusterAgent. */
export interface VipManagerDeps {
  vip: VipConfig;
  nodeId: string;
  lease: LeaseClient;
  driver: VipDriver;
  host: VipHost;
  timings: LeaseTimings;
  handover: HandoverTimings;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** This node as a candidate right now (priority, ready, drained). */
  self: () => Candidate;
  /** The latest membership view. */
  members: () => readonly Candidate[];
  /** Sends a command to another node and waits for its reply (cluster/control/command-bus.ts). */
  send: (nodeId: string, req: { op: 'prepare' | 'commit' | 'abort'; vip: string; from: string; epoch?: number; reason?: string }, timeoutMs: number) => Promise<unknown>;
  /** Called after every ownership change (the agent re-beats at once). */
  onChange: () => void;
  /** Publishes a cluster event (handover phases) on the events channel; fire-and-forget. */
  publish?: (e: ClusterEvent) => void;
  /** Called on every Redis success/failure of the lease connection. */
  onRedis: (ok: boolean, err?: unknown) => void;
}

/** What `wsha status`, the sampler and the heartbeat show of one VIP. */
export interface VipSnapshot {
  vip: string;
  state: VipState;
  /** Epoch this node holds (while it claims or receives), else null. */
  epoch: number | null;
  claims: boolean;
  /** High-resolution wall ms of the last change of `claims`. */
  claimChangedAt: number;
  serving: boolean;
  /** Last lease holder seen by this node. */
  holder: LeaseValue | null;
}
