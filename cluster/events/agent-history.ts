/**
 * What the control plane of a node records in the cluster history, turned
 * from what the ClusterAgent sees into events: the node joining and leaving,
 * peers not seen and back (membership view), its Redis link lost and
 * regained, handover phases (the VIP machine's published events), a VIP
 * served after an acquisition (with, after an unplanned takeover, the time
 * since the old owner's last sign of life) and step-downs.
 *
 * Ownership changes come from the events channel, where the lease scripts
 * publish every change (the scripts themselves are left as they are: they
 * decide ownership, and nothing may change what they answer). Every node
 * hears them, and the append script records each change once, by whichever
 * node's write comes first (`ownership:{vip}` -> `{epoch}:{owner}`).
 *
 * Step-downs come from the VIP machine's transitions (the `onTransition`
 * dependency, with the machine's own reason); a VIP served after an
 * acquisition from `wrapHost` (a VipHost whose openVip reports serving once
 * the listeners are open).
 */
import type { Clock } from '../../shared/clock';
import type { ClusterEvent } from '../../shared/records';
import type { VipHost } from '../../shared/ports/vip-host';
import type { TransitionEvent } from '../../shared/state-machine';
import type { HistoryPort } from './history-port';

/** How long a served VIP waits for the ownership event that names its previous owner. */
const OWNERSHIP_WAIT_MS = 2000;
/** Ownership reasons of planned moves (lease-handover: failover, drain, preemption, shutdown handoff). */
const PLANNED = /^(failover|drain|preempt|shutdown|handover)/;

/** A member as the membership view gives it (cluster/membership/members.ts Member fits). */
export interface MemberView { record: { id: string; state: string; incarnation: string }; alive: boolean; ageMs: number }
/** A VIP as the machine shows it (cluster/vip/vip-deps.ts VipSnapshot fits). */
export interface VipView { vip: string; state: string; epoch: number | null }
type Ownership = Extract<ClusterEvent, { type: 'ownership' }>;

/** What AgentHistory needs. */
export interface AgentHistoryOptions {
  port: HistoryPort;
  nodeId: string;
  clock: Clock;
  /** Monotonic ms (clock.nowMs) of the last sign of life of a peer (a beat on the peer link, a heartbeat), or null. */
  lastSignMs: (nodeId: string) => number | null;
}

/** The control plane's part of the history (see the file comment). */
export class AgentHistory {
  readonly #o: AgentHistoryOptions;
  readonly #peers = new Map<string, { alive: boolean; inc: string }>();
  readonly #ownership = new Map<string, Ownership>();
  readonly #pending = new Map<string, { epoch: number; atWall: number; atMono: number; timer: NodeJS.Timeout }>();
  /** Epoch of each VIP this node last entered owner with. */
  readonly #epochs = new Map<string, number>();
  #troubleSinceWall: number | null = null;
  #lostAtWall: number | null = null;

  constructor(o: AgentHistoryOptions) { this.#o = o; }

  /** This node started (every start is recorded: it is a new process). */
  joined(r: { version: string; incarnation: string; address: string }): void {
    this.#o.port.record({ kind: 'node-joined', ...r }, { subject: `node:${this.#o.nodeId}`, state: 'joined', mode: 'always' });
  }

  /** This node is stopping on purpose (SIGTERM); a node that left is not "not seen" later. */
  left(reason: string): void {
    this.#o.port.record({ kind: 'node-left', reason }, { subject: `node:${this.#o.nodeId}`, state: 'left', mode: 'always' });
  }

  /**
   * A fresh membership view: a peer whose heartbeat went stale is `not seen`
   * (unless it said it was stopping), one that heartbeats again with the same
   * process is `back` (a restarted one records its own `joined`). Each is
   * recorded once for the cluster, by the first node to see it.
   */
  members(members: readonly MemberView[]): void {
    const self = this.#o.nodeId;
    for (const m of members) {
      const id = m.record.id;
      if (id === self) continue;
      const prev = this.#peers.get(id);
      this.#peers.set(id, { alive: m.alive, inc: m.record.incarnation });
      if (!prev) continue;
      if (prev.alive && !m.alive && m.record.state !== 'stopping') {
        this.#o.port.record({ kind: 'node-not-seen', node: id, observer: self, heartbeatAgeMs: Math.round(m.ageMs) }, { subject: `node:${id}`, state: 'not-seen', mode: 'unless', states: ['left'] });
      } else if (!prev.alive && m.alive && prev.inc === m.record.incarnation) {
        this.#o.port.record({ kind: 'node-back', node: id, observer: self }, { subject: `node:${id}`, state: 'back', mode: 'only', states: ['not-seen'] });
      }
    }
  }

  /** A transition of the Redis link machine (cluster/redis-link.ts): lost after a lease TTL without success, regained. */
  redisLink(e: TransitionEvent<string>): void {
    const now = this.#o.clock.wallMs();
    if (e.to === 'degraded') this.#troubleSinceWall ??= now;
    else if (e.to === 'lost') {
      this.#lostAtWall = this.#troubleSinceWall ?? now;
      this.#o.port.record({ kind: 'redis-lost', reason: e.reason, at: this.#lostAtWall });
    } else if (e.to === 'connected') {
      if (e.from === 'lost' && this.#lostAtWall !== null) this.#o.port.record({ kind: 'redis-regained', downMs: Math.max(0, now - this.#lostAtWall) });
      this.#troubleSinceWall = null;
      this.#lostAtWall = null;
    }
  }

  /** An event the VIP machine published (handover phases are recorded, on the old owner). */
  published(e: ClusterEvent): void {
    if (e.type !== 'handover') return;
    this.#o.port.record({ kind: 'handover', at: e.at, node: e.from, vip: e.vip, phase: e.phase, from: e.from, to: e.to, ...(e.epoch !== undefined ? { epoch: e.epoch } : {}), ...(e.detail ? { detail: e.detail } : {}) });
  }

  /** An ownership event from the events channel: recorded once for the cluster; names the previous owner of a VIP this node now serves. */
  ownership(e: Ownership): void {
    this.#o.port.record(
      { kind: 'ownership', at: e.at, node: e.owner ?? e.previousOwner, vip: e.vip, owner: e.owner, previousOwner: e.previousOwner, epoch: e.epoch, reason: e.reason },
      { subject: `ownership:${e.vip}`, state: `${e.epoch}:${e.owner ?? ''}` },
    );
    this.#ownership.set(e.vip, e);
    const p = this.#pending.get(e.vip);
    if (p && e.epoch === p.epoch && e.owner === this.#o.nodeId) this.#emitServing(e.vip);
  }

  /** This node serves `vip` at `epoch` after acquiring it (not after a planned handover's prepare). */
  serving(vip: string, epoch: number): void {
    const old = this.#pending.get(vip);
    if (old) clearTimeout(old.timer);
    const timer = setTimeout(() => this.#emitServing(vip), OWNERSHIP_WAIT_MS);
    timer.unref();
    this.#pending.set(vip, { epoch, atWall: this.#o.clock.wallMs(), atMono: this.#o.clock.nowMs(), timer });
    const e = this.#ownership.get(vip);
    if (e && e.epoch === epoch && e.owner === this.#o.nodeId) this.#emitServing(vip);
  }

  #emitServing(vip: string): void {
    const p = this.#pending.get(vip);
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending.delete(vip);
    const e = this.#ownership.get(vip);
    const known = e && e.epoch === p.epoch ? e : null;
    const previousOwner = known?.previousOwner ?? null;
    const reason = known?.reason ?? 'acquired';
    const sign = previousOwner && !PLANNED.test(reason) ? this.#o.lastSignMs(previousOwner) : null;
    const gap = sign !== null && sign <= p.atMono ? Math.round(p.atMono - sign) : null;
    this.#o.port.record({
      kind: 'vip-serving', at: p.atWall, vip, epoch: p.epoch, previousOwner, reason,
      ...(gap !== null ? { gapMs: gap, lastSignAt: Math.round(p.atWall - gap) } : {}),
    });
  }

  /** This node left a VIP it claimed. */
  steppedDown(vip: string, epoch: number | null, reason: string): void {
    this.#o.port.record({ kind: 'step-down', vip, epoch, reason });
  }

  /**
   * A VipHost whose openVip reports the VIP served once its listeners are
   * open, when the machine is the owner then (a handover target opens them
   * while receiving: not an acquisition).
   */
  wrapHost(host: VipHost, stateOf: (vip: string) => VipView | undefined): VipHost {
    return {
      openVip: async (vip, address, opts) => {
        await host.openVip(vip, address, opts);
        const s = stateOf(vip);
        if (s?.state === 'owner' && s.epoch !== null) this.serving(vip, s.epoch);
      },
      stopAccepting: (vip) => host.stopAccepting(vip),
      closeClients: (vip, opts) => host.closeClients(vip, opts),
      isServing: (vip) => host.isServing(vip),
      tunnelCount: (vip) => host.tunnelCount(vip),
      listeningPorts: (vip) => host.listeningPorts(vip),
      fence: (vip, untilMs) => host.fence(vip, untilMs),
    };
  }

  /**
   * A transition of one VIP's machine: entering stepping-down is a step-down
   * with the machine's reason (lease-lost, authority-expired, peer-refused,
   * vip-up-failed, the handover's reason, ...) and the epoch it held.
   */
  transition(vip: string, e: TransitionEvent<string>): void {
    const epoch = typeof e.fields?.epoch === 'number' ? e.fields.epoch : undefined;
    if (e.to === 'owner' && epoch !== undefined) this.#epochs.set(vip, epoch);
    if (e.to !== 'stepping-down') return;
    // The epoch it held (a handover's move names the target's new epoch in its fields).
    this.steppedDown(vip, this.#epochs.get(vip) ?? epoch ?? null, e.reason);
  }

  /** Stops the timers of VIPs still waiting for their ownership event (recorded as known). */
  close(): void {
    for (const vip of [...this.#pending.keys()]) this.#emitServing(vip);
  }
}
