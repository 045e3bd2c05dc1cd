/**
 * The node's side of the peer link, assembled: the authenticated listener
 * (peer-server.ts), this node's own links and the evidence about every peer
 * (peer-mesh.ts), and the set of peers an owner must count on for grants.
 * That set is the union of what this node last published in its heartbeat
 * and its current view (alive members and linked peers): a peer leaves it
 * only after a heartbeat that no longer lists it reached Redis, so a node
 * that a peer still believes to be counted on always is (ownership.ts,
 * "unknown-to-holder").
 */
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock';
import type { Metrics } from '../../shared/metrics';
import type { PeerIdentity } from './peer-auth';
import { PeerServer } from './peer-server';
import { PeerMesh, type MeshTarget, type PeerDeath, type PeerEvidence } from './peer-mesh';
import type { BeatMsg, GrantResult, GrantsMsg, VipClaim } from './peer-messages';
import type { RedisPresence } from './death-proof';

/** What the layer asks of the node's VIP machines. */
export interface PeerLayerHandlers {
  /** This node's beat content. */
  beat(): Omit<BeatMsg, 't' | 'id'>;
  /** A grant request for `vip` from `from` at `epoch`. */
  grant(vip: string, from: string, epoch: number, ownerReachesRedis: boolean, arrivedMs: number): GrantResult;
  /** A peer answered this node's beat (sent at `sentAtMs`) for `vip`. */
  granted(vip: string, peer: string, sentAtMs: number, g: GrantResult): void;
  /** A peer was proven dead. */
  dead(d: PeerDeath): void;
  /** Something about a peer changed (beat content, kernel verdict, link). */
  changed(): void;
  /** The ownership snapshot for `state?`. */
  snapshot(): unknown;
  /** Asks Redis whether a process's lease connection is still there. */
  presence(node: string, inc: string): Promise<RedisPresence>;
}

/** Construction options. */
export interface PeerLayerOptions {
  cluster: string;
  self: PeerIdentity;
  secret: Buffer;
  timings: { beatIntervalMs: number; authTimeoutMs: number; maxConnections: number; probeIntervalMs: number; probeTimeoutMs: number; probeMisses: number; confirmTimeoutMs: number; confirmWindowMs: number; maxLineBytes: number };
  handlers: PeerLayerHandlers;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
}

/** A beat is fresh for this many beat intervals. */
const FRESH_BEATS = 3;

/** The peer link of one node (see the file comment). */
export class PeerLayer {
  readonly server: PeerServer;
  readonly mesh: PeerMesh;
  readonly #o: PeerLayerOptions;
  #published = new Set<string>();
  #aliveMembers = new Set<string>();

  constructor(o: PeerLayerOptions) {
    this.#o = o;
    const t = o.timings;
    const h = o.handlers;
    this.mesh = new PeerMesh({
      cluster: o.cluster, self: o.self, secret: o.secret, confirmTimeoutMs: t.confirmTimeoutMs, confirmWindowMs: t.confirmWindowMs,
      maxLineBytes: t.maxLineBytes, clock: o.clock, logger: o.logger, metrics: o.metrics, beatIntervalMs: t.beatIntervalMs,
      probe: { intervalMs: t.probeIntervalMs, timeoutMs: t.probeTimeoutMs, misses: t.probeMisses },
      beat: () => h.beat(), presence: (node, inc) => h.presence(node, inc),
    });
    this.server = new PeerServer({
      cluster: o.cluster, self: o.self, secret: o.secret, authTimeoutMs: t.authTimeoutMs, maxConnections: t.maxConnections,
      maxLineBytes: t.maxLineBytes, clock: o.clock, logger: o.logger, metrics: o.metrics,
      handlers: {
        onBeat: (from, beat, arrivedMs) => this.#onBeat(from, beat, arrivedMs),
        onBye: (from) => this.mesh.bye(from),
        onInbound: (from, up) => this.mesh.inbound(from, up),
        snapshot: () => h.snapshot(),
      },
    });
    this.mesh.on('dead', (d: PeerDeath) => h.dead(d));
    for (const ev of ['claims', 'kernel', 'up']) this.mesh.on(ev, () => h.changed());
    this.mesh.on('grants', (peer: string, sentAtMs: number, msg: GrantsMsg) => {
      for (const g of msg.grants) h.granted(g.vip, peer, sentAtMs, g);
    });
  }

  #onBeat(from: PeerIdentity, beat: BeatMsg, arrivedMs: number): GrantsMsg | null {
    this.mesh.beatFrom(from, beat, arrivedMs);
    if (beat.ask.length === 0) return null;
    const h = this.#o.handlers;
    const grants = beat.ask.map((vip) => {
      const claim = beat.vips.find((v) => v.vip === vip);
      if (!claim) return { vip, epoch: 0, ok: false, ttlMs: 0, why: 'no claim for that VIP in the beat' };
      return h.grant(vip, from.node, claim.epoch, beat.redis, arrivedMs);
    });
    return { t: 'grants', id: beat.id, redis: h.beat().redis, grants };
  }

  /** Starts beating and probing. */
  start(): void { this.mesh.start(); }

  /** A fresh membership view: links to the alive members, and the current part of the required set. */
  members(alive: readonly MeshTarget[], known: ReadonlySet<string>): void {
    this.#aliveMembers = new Set(alive.map((m) => m.id).filter((id) => id !== this.#o.self.node));
    this.mesh.update(alive);
    const gone = this.mesh.all().map((p) => p.id).filter((id) => !known.has(id) && !this.mesh.evidence(id)?.linkUp && !this.mesh.evidence(id)?.inboundUp);
    if (gone.length) this.mesh.forget(gone);
  }

  /** The peers this node counts on right now: alive members and linked peers, minus those that left gracefully. */
  current(): string[] {
    const out = new Set(this.#aliveMembers);
    for (const id of this.mesh.linked()) out.add(id);
    for (const p of this.mesh.all()) if (p.leftGracefully || (p.deadInc !== null && p.deadInc === p.inc)) out.delete(p.id);
    out.delete(this.#o.self.node);
    return [...out].sort();
  }

  /** A heartbeat listing `peers` reached Redis. */
  published(peers: readonly string[]): void { this.#published = new Set(peers); }

  /** Peers an owner must get a grant from while Redis does not back it. */
  required(): string[] {
    const out = new Set(this.#published);
    for (const id of this.current()) out.add(id);
    out.delete(this.#o.self.node);
    return [...out].sort();
  }

  /** Linked peers that claim `vip` in a fresh beat. */
  claimants(vip: string): string[] {
    const now = this.#o.clock.nowMs();
    const fresh = FRESH_BEATS * this.#o.timings.beatIntervalMs;
    return this.mesh.all().filter((p) => p.claimsAtMs !== null && now - p.claimsAtMs <= fresh && p.claims.get(vip)?.claims === true).map((p) => p.id);
  }

  evidence(id: string): PeerEvidence | undefined { return this.mesh.evidence(id); }

  /** Sends `bye` on every link (graceful stop): peers stop counting on this node's claims. */
  bye(): void { for (const p of this.mesh.all()) this.mesh.send(p.id, { t: 'bye' }); }

  /** Beats now. */
  beatNow(): void { this.mesh.beatNow(); }

  close(): Promise<void> {
    this.mesh.close();
    return this.server.close();
  }
}

export type { VipClaim };
