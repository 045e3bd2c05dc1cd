/**
 * When the loopback peer-address check (peer-address.ts) runs, and what
 * its verdict does. It runs at the node's first membership read; a node
 * that saw no other node there cannot tell yet (two nodes that start
 * together may each read the membership before the other reached Redis),
 * so it runs again when a live node shows in the membership, once per
 * incarnation of that node (one that exited before it could be compared
 * is looked at again when it restarts), and never after the answer is
 * final: nothing is asked of Redis per heartbeat.
 *
 * A bad verdict is fatal (ConfigError, the node exits as if it had refused
 * to start) unless the node serves a VIP at that moment. An owner keeps
 * serving and reports it (error log, wsha_peer_address_unusable, its
 * heartbeat and so `wsha status`): in the start race both nodes find the
 * other late, the one that lost the lease race exits, and killing the owner
 * too would leave the VIP with nobody; alone, a loopback owner works as a
 * single-node cluster does.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../../shared/errors';
import type { Member } from '../membership/members';

/** What the check needs. */
export interface ReachabilityCheckOptions {
  selfId: string;
  /** One run of checkAdvertisedReachable against these members: true once final, throws ConfigError when unusable. */
  check: (members: Member[]) => Promise<boolean>;
  /** VIPs this node claims now. */
  serving: () => string[];
  logger: Logger;
  /** The node must not go on. */
  onFatal: (err: Error) => void;
  /** The address is unusable, but the node serves and stays up. */
  onUnusable: (problem: string) => void;
}

/** The check's state across membership reads (see the file comment). */
export class ReachabilityCheck {
  readonly #o: ReachabilityCheckOptions;
  /** A first run found nothing wrong: the node may acquire (it may still be alone). */
  #passed = false;
  /** No run will change the answer any more. */
  #final = false;
  #running = false;
  #problem: string | null = null;
  /** Other nodes' incarnations (id/incarnation) already looked at. */
  readonly #looked = new Set<string>();

  constructor(o: ReachabilityCheckOptions) { this.#o = o; }

  /** The readiness gate: a first run passed. */
  get passed(): boolean { return this.#passed; }
  /** Why the peer address is unusable while the node keeps serving; null when it is not known to be. */
  get problem(): string | null { return this.#problem; }
  /** Whether the answer is final. */
  get final(): boolean { return this.#final; }

  /** Called with every membership read; resolves once the run it started, if any, is over. */
  members(members: Member[]): Promise<void> {
    if (this.#final || this.#running) return Promise.resolve();
    const fresh = members.filter((m) => m.alive && m.record.id !== this.#o.selfId).map((m) => `${m.record.id}/${m.record.incarnation}`).filter((k) => !this.#looked.has(k));
    if (this.#passed && fresh.length === 0) return Promise.resolve();
    this.#running = true;
    return this.#run(members).then((ran) => { if (ran) for (const k of fresh) this.#looked.add(k); }).finally(() => { this.#running = false; });
  }

  /** One run; false when it could not run (tried again at the next read). */
  async #run(members: Member[]): Promise<boolean> {
    let final: boolean;
    try {
      final = await this.#o.check(members);
    } catch (err) {
      if (err instanceof ConfigError) { this.#unusable(err); return true; }
      this.#o.logger.warn({ err: (err as Error).message }, 'peer address check failed; trying again at the next membership read');
      return false;
    }
    if (!final && !this.#passed) this.#o.logger.info('peer address check: no other node in Redis yet; checking again when one appears');
    this.#passed = true;
    this.#final = final;
    return true;
  }

  #unusable(err: ConfigError): void {
    this.#final = true;
    const vips = this.#o.serving();
    if (vips.length === 0) {
      this.#o.logger.fatal({ err: err.message }, 'peer link address unusable');
      this.#o.onFatal(err);
      return;
    }
    this.#problem = err.problems.join('; ') || err.message;
    this.#o.logger.error({ err: err.message, vips },
      'peer link address unusable; this node serves, so it keeps running (exiting would drop its clients and could leave the VIP with no owner): fix node.peer.listen, then hand the VIP over (wsha drain) and restart it');
    this.#o.onUnusable(this.#problem);
  }
}
