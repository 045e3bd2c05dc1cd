/**
 * Every peer as this node sees it, from the peer link: its own outbound
 * link to each peer (peer-link.ts), what arrives from the peer on either
 * connection (its beats and answers: the signs of its process, measured on
 * this node's monotonic clock when they arrive), kernel probes while the
 * process is quiet (kernel-probe.ts), and the death proof:
 *
 *   the link to incarnation I was up and closed, nothing has come from I
 *   since, no inbound connection from I is open, a fresh connect is
 *   refused, and Redis shows no lease connection of I
 *
 *   ==> 'dead' {id, inc}. Anything less (a refusal with no link ever up, a
 *   reset on a live link while I still beats on its own link, I's lease
 *   connection still in Redis) proves nothing: the lease decides.
 *
 * It also sends this node's beats every cluster.peer.beatIntervalMs on its
 * outbound links and hands the grant answers to the agent ('grants').
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Metrics } from '../../shared/metrics';
import type { PeerIdentity } from './peer-auth';
import { PeerLink, type LinkOptions, type LinkRefusal } from './peer-link';
import { KernelProbe, type ProbeResult } from './kernel-probe';
import type { BeatMsg, GrantsMsg, PeerMessage, VipClaim } from './peer-messages';
import type { RedisPresence } from './death-proof';

/** The kernel of a quiet peer's host: not probed yet, answering, or silent. */
export type KernelVerdict = 'unknown' | 'answering' | 'silent';

/** What this node knows about one peer right now. */
export interface PeerEvidence {
  id: string;
  /** Latest incarnation seen (handshake or heartbeat). */
  inc: string | null;
  /** This node's own authenticated link to the peer is up. */
  linkUp: boolean;
  /** An authenticated connection from the peer to this node is open. */
  inboundUp: boolean;
  /** Arrival (monotonic ms) of the last message from the peer's process, on any connection; null if none yet. */
  lastSignMs: number | null;
  /** The VIPs as the peer described itself in its last beat, and when that beat arrived. */
  claims: ReadonlyMap<string, VipClaim>;
  claimsAtMs: number | null;
  /** Kernel probes since the process went quiet. */
  kernel: KernelVerdict;
  /** The incarnation proven dead, if any. */
  deadInc: string | null;
  /** A link to this peer authenticated at least once (its address is proven). */
  everUp: boolean;
  /** The peer said goodbye (graceful stop) and has not come back since. */
  leftGracefully: boolean;
}

/** A peer proven dead, with how long detection took. */
export interface PeerDeath { id: string; inc: string; detectMs: number }

/** Options of the mesh. */
export interface MeshOptions extends LinkOptions {
  beatIntervalMs: number;
  probe: { intervalMs: number; timeoutMs: number; misses: number };
  metrics: Metrics;
  /** What this node's beats say right now. */
  beat: () => Omit<BeatMsg, 't' | 'id'>;
  /** Asks Redis about a process's lease connection (death-proof.ts). */
  presence: (node: string, inc: string) => Promise<RedisPresence>;
}

/** A peer's address and incarnation from its heartbeat. */
export interface MeshTarget { id: string; address: string; inc?: string }

/** How often the mesh re-asks Redis after a refusal, and for how long. */
const PROOF_RETRY_MS = 5;
const PROOF_TRIES = 40;
/** A peer whose last message is older than this many beat intervals is quiet: its kernel is probed. */
const QUIET_BEATS = 1.5;
/** Beats whose answer is still expected, per link. */
const MAX_PENDING_BEATS = 64;

class PeerRecord implements PeerEvidence {
  inc: string | null = null;
  linkUp = false;
  inboundUp = false;
  inbound = 0;
  lastSignMs: number | null = null;
  claims = new Map<string, VipClaim>();
  claimsAtMs: number | null = null;
  kernel: KernelVerdict = 'unknown';
  misses = 0;
  deadInc: string | null = null;
  everUp = false;
  leftGracefully = false;
  link: PeerLink | null = null;
  probe: KernelProbe | null = null;
  lostAtMs: number | null = null;
  proving = false;
  beatId = 0;
  pending = new Map<number, number>();
  constructor(readonly id: string) {}
}

/** The peers of this node (see the file comment). */
export class PeerMesh extends EventEmitter {
  readonly #o: MeshOptions;
  readonly #log: Logger;
  readonly #peers = new Map<string, PeerRecord>();
  #timer: NodeJS.Timeout | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(o: MeshOptions) {
    super();
    this.#o = o;
    this.#log = o.logger.child({ component: 'peer-mesh' });
  }

  /** Starts the beat loop and the quiet-peer check. */
  start(): void {
    this.#tick();
    this.#probeTick();
  }

  /** Keeps one link to each target (self skipped); a changed address gets a new link. Peers not listed keep their links. */
  update(targets: readonly MeshTarget[]): void {
    if (this.#closed) return;
    for (const t of targets) {
      if (t.id === this.#o.self.node || !t.address) continue;
      const p = this.#record(t.id);
      if (t.inc && t.inc !== p.inc && p.lastSignMs === null) p.inc = t.inc;
      if (p.link && p.link.target.address === t.address && p.link.state !== 'closed') continue;
      p.link?.close();
      this.#dial(p, t.address);
    }
  }

  /** Drops the peers that left the membership for good. */
  forget(ids: readonly string[]): void {
    for (const id of ids) {
      const p = this.#peers.get(id);
      if (!p) continue;
      p.link?.close();
      p.probe?.stop();
      this.#peers.delete(id);
      this.#o.metrics.peerLinkUp.remove({ peer: id });
    }
  }

  /** What this node knows about `id`. */
  evidence(id: string): PeerEvidence | undefined { return this.#peers.get(id); }

  /** Every peer known to the mesh. */
  all(): PeerEvidence[] { return [...this.#peers.values()]; }

  /** Peers with a live authenticated connection in either direction. */
  linked(): string[] { return [...this.#peers.values()].filter((p) => p.linkUp || p.inboundUp).map((p) => p.id); }

  /** An authenticated inbound connection from a peer opened or closed. */
  inbound(from: PeerIdentity, up: boolean): void {
    const p = this.#record(from.node);
    p.inbound = Math.max(0, p.inbound + (up ? 1 : -1));
    p.inboundUp = p.inbound > 0;
    if (up) this.#sign(p, from.inc, this.#o.clock.nowMs());
  }

  /** A beat arrived from a peer (on its own link to this node). */
  beatFrom(from: PeerIdentity, beat: BeatMsg, arrivedMs: number): void {
    const p = this.#record(from.node);
    this.#sign(p, from.inc, arrivedMs);
    let changed = p.claims.size !== beat.vips.length;
    const next = new Map<string, VipClaim>();
    for (const c of beat.vips) {
      const before = p.claims.get(c.vip);
      if (!before || before.claims !== c.claims || before.epoch !== c.epoch || before.state !== c.state) changed = true;
      next.set(c.vip, c);
    }
    p.claims = next;
    p.claimsAtMs = arrivedMs;
    if (changed) this.emit('claims', p.id);
  }

  /** A peer stops gracefully: it claims nothing from now on. */
  bye(from: PeerIdentity): void {
    const p = this.#record(from.node);
    this.#sign(p, from.inc, this.#o.clock.nowMs());
    p.claims = new Map();
    p.claimsAtMs = this.#o.clock.nowMs();
    p.leftGracefully = true;
    this.emit('claims', p.id);
  }

  /** Stops every link and probe. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#probeTimer);
    for (const p of this.#peers.values()) { p.link?.close(); p.probe?.stop(); }
  }

  /** Sends `msg` on this node's own link to `id`; false when that link is not up. */
  send(id: string, msg: object): boolean { return this.#peers.get(id)?.link?.send(msg) ?? false; }

  #record(id: string): PeerRecord {
    let p = this.#peers.get(id);
    if (!p) { p = new PeerRecord(id); this.#peers.set(id, p); }
    return p;
  }

  #sign(p: PeerRecord, inc: string, atMs: number): void {
    if (p.inc !== inc) {
      p.inc = inc;
      p.leftGracefully = false;
    }
    p.lastSignMs = atMs;
    p.misses = 0;
    if (p.kernel !== 'unknown') p.kernel = 'unknown';
    p.probe?.stop();
  }

  #dial(p: PeerRecord, address: string): void {
    const link = new PeerLink({ id: p.id, address }, this.#o);
    p.link = link;
    p.probe?.stop();
    p.probe = null;
    link.on('up', (who: PeerIdentity) => {
      if (p.link !== link) return;
      p.linkUp = true;
      p.everUp = true;
      p.lostAtMs = null;
      this.#o.metrics.peerLinkUp.set({ peer: p.id }, 1);
      this.#sign(p, who.inc, this.#o.clock.nowMs());
      this.#log.info({ peer: p.id, address, inc: who.inc }, 'peer link up');
      this.emit('up', p.id);
    });
    link.on('lost', () => {
      if (p.link !== link) return;
      p.linkUp = false;
      p.lostAtMs = this.#o.clock.nowMs();
      this.#o.metrics.peerLinkUp.set({ peer: p.id }, 0);
      this.#log.info({ peer: p.id, inc: p.inc }, 'peer link lost; looking for proof of death');
    });
    link.on('refused', (r: LinkRefusal) => { if (p.link === link) void this.#maybeProve(p, r); });
    link.on('message', (msg: PeerMessage, arrivedMs: number) => {
      if (p.link !== link) return;
      if (link.incarnation) this.#sign(p, link.incarnation, arrivedMs);
      if (msg.t === 'grants') {
        const sentAtMs = p.pending.get(msg.id);
        p.pending.delete(msg.id);
        if (sentAtMs !== undefined) this.emit('grants', p.id, sentAtMs, msg as GrantsMsg);
      }
    });
    link.on('wrong-peer', (found: string) => {
      this.#log.error({ peer: p.id, address, found }, 'wrong peer at the advertised peer address: check node.peer.listen / node.peer.advertise on that node');
      this.emit('wrong-peer', p.id, address, found);
    });
    link.start();
  }

  /** A refused connect: with the rest of the evidence and Redis, the proof of death. */
  async #maybeProve(p: PeerRecord, r: LinkRefusal): Promise<void> {
    if (r.inc === null || r.lostAtMs === null || p.proving || p.deadInc === r.inc) return;
    p.proving = true;
    try {
      for (let i = 0; i < PROOF_TRIES && !this.#closed; i++) {
        if (p.inboundUp || (p.lastSignMs !== null && p.lastSignMs > r.lostAtMs) || p.inc !== r.inc || p.linkUp) {
          this.#log.info({ peer: p.id, inc: r.inc, inboundUp: p.inboundUp }, 'peer link lost and refused, but its process still speaks: not dead');
          return;
        }
        const presence = await this.#o.presence(p.id, r.inc);
        if (presence === 'gone') {
          p.deadInc = r.inc;
          p.claims = new Map();
          const death: PeerDeath = { id: p.id, inc: r.inc, detectMs: Math.round(this.#o.clock.nowMs() - r.lostAtMs) };
          this.#log.warn({ ...death, evidence: 'link closed, reconnect refused, no lease connection in Redis' }, 'peer proven dead');
          this.emit('dead', death);
          return;
        }
        if (presence === 'unknown') {
          this.#log.warn({ peer: p.id, inc: r.inc }, 'peer link lost and refused, but Redis cannot tell whether its process is gone: not proven; the lease decides');
          return;
        }
        await new Promise((res) => setTimeout(res, PROOF_RETRY_MS));
      }
      this.#log.warn({ peer: p.id, inc: r.inc }, 'peer link lost and refused, but its lease connection is still in Redis: not proven dead; the lease decides');
    } finally {
      p.proving = false;
    }
  }

  /** Sends this node's beat on every up link now (the regular beats go on). */
  beatNow(): void {
    if (this.#closed) return;
    const now = this.#o.clock.nowMs();
    const body = this.#o.beat();
    for (const p of this.#peers.values()) {
      if (p.link?.state !== 'up') continue;
      const id = ++p.beatId;
      if (p.link.send({ t: 'beat', id, ...body })) {
        p.pending.set(id, now);
        if (p.pending.size > MAX_PENDING_BEATS) p.pending.delete(p.pending.keys().next().value as number);
      }
    }
  }

  #tick(): void {
    if (this.#closed) return;
    this.beatNow();
    this.#timer = setTimeout(() => this.#tick(), this.#o.beatIntervalMs);
  }

  /** Looks for quiet peers every probe interval, so that probing starts as soon as a beat is overdue. */
  #probeTick(): void {
    if (this.#closed) return;
    const now = this.#o.clock.nowMs();
    for (const p of this.#peers.values()) this.#probeIfQuiet(p, now);
    this.#probeTimer = setTimeout(() => this.#probeTick(), this.#o.probe.intervalMs);
  }

  /** Probes the kernel of a peer whose process missed a beat (quiet for QUIET_BEATS intervals). */
  #probeIfQuiet(p: PeerRecord, now: number): void {
    const quiet = p.everUp && p.lastSignMs !== null && now - p.lastSignMs > QUIET_BEATS * this.#o.beatIntervalMs && p.deadInc !== p.inc && !p.leftGracefully;
    if (!quiet) { p.probe?.stop(); return; }
    if (!p.probe) {
      const link = p.link!;
      p.probe = new KernelProbe(link.host, link.port, this.#o.probe, () => this.#o.clock.nowMs(), (r, startedMs) => this.#probeResult(p, r, startedMs));
    }
    p.probe.start();
  }

  #probeResult(p: PeerRecord, r: ProbeResult, startedMs: number): void {
    this.#o.metrics.kernelProbesTotal.inc({ peer: p.id, result: r });
    if (p.lastSignMs !== null && startedMs < p.lastSignMs) return;
    if (r !== 'missed') {
      p.misses = 0;
      if (p.kernel !== 'answering') {
        p.kernel = 'answering';
        this.#log.info({ peer: p.id, probe: r, quietMs: p.lastSignMs === null ? null : Math.round(this.#o.clock.nowMs() - p.lastSignMs) }, 'peer process quiet, its host answers: a stall');
        this.emit('kernel', p.id);
      }
      return;
    }
    p.misses++;
    if (p.misses >= this.#o.probe.misses && p.kernel !== 'silent') {
      p.kernel = 'silent';
      this.#log.warn({ peer: p.id, misses: p.misses, quietMs: p.lastSignMs === null ? null : Math.round(this.#o.clock.nowMs() - p.lastSignMs) }, 'peer host silent: kernel probes unanswered');
      this.emit('kernel', p.id);
    }
  }
}
