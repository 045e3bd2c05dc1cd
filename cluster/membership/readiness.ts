/**
 * The readiness gate: a node may acquire a VIP only once its config is
 * loaded (it is, or there would be no node), the addresses of its VIP
 * listeners are bindable here, the shared state (pools, health verdicts,
 * session affinity) has been read from Redis (SharedState.ready() when the
 * agent is given one, else the first successful Redis read), and its peer
 * link address passed its first check (peer/reachability-check.ts: a
 * loopback address while other nodes run on other hosts is refused).
 * Readiness is shown in heartbeats, /readyz and `wsha status`.
 */
import { createServer } from 'node:net';
import type { VipConfig } from '../../shared/config/schema';

/** Resolves when `address` can be bound on this host (any port), rejects with the reason otherwise. */
export function tryBind(address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: address, port: 0, exclusive: true }, () => srv.close(() => resolve()));
  });
}

/** The conditions, each settled once. */
export class Readiness {
  #bindable = false;
  #stateRead = false;
  #peerChecked = false;
  #problem: string | null = 'starting';
  #listeners: Array<() => void> = [];

  get ready(): boolean { return this.#bindable && this.#stateRead && this.#peerChecked; }
  /** Why not ready yet (null when ready). */
  get problem(): string | null {
    if (this.ready) return null;
    return this.#bindable && this.#stateRead ? 'peer link address not checked yet' : this.#problem;
  }

  /** Checks that the VIP addresses of `bind` VIPs are bindable (linux/exec addresses appear only when up). */
  async checkBindable(vips: readonly VipConfig[]): Promise<void> {
    for (const v of vips) {
      if (v.driver !== 'bind') continue;
      try { await tryBind(v.address); } catch (err) {
        this.#problem = `VIP ${v.name} address ${v.address} is not bindable: ${(err as Error).message}`;
        throw err;
      }
    }
    this.#bindable = true;
    this.#changed();
  }

  /** Marks the shared state read. */
  stateRead(): void {
    if (this.#stateRead) return;
    this.#stateRead = true;
    this.#changed();
  }

  /** Marks the peer link address checked (its first check found nothing wrong). */
  peerChecked(): void {
    if (this.#peerChecked) return;
    this.#peerChecked = true;
    this.#changed();
  }

  setProblem(p: string): void { this.#problem = p; }

  onChange(fn: () => void): void { this.#listeners.push(fn); }

  #changed(): void { for (const f of this.#listeners) f(); }
}
