/**
 * An in-memory VipHost for tests of the control plane alone: it records
 * each call with its monotonic time and keeps a serving flag per VIP. The
 * real data plane (node/proxy-node.ts) is exercised by test/failover/.
 */
import type { CloseClientsOptions, VipHost } from '../../shared/ports/vip-host';

/** One recorded call. */
export interface HostEvent { op: 'open' | 'stop' | 'close' | 'fence'; vip: string; atMs: number; opts?: unknown }

/** The in-memory VipHost (see the file comment). */
export class MemoryVipHost implements VipHost {
  readonly events: HostEvent[] = [];
  readonly #serving = new Set<string>();

  async openVip(vip: string, _address: string, opts: { reusePort: boolean }): Promise<void> {
    this.#serving.add(vip);
    this.events.push({ op: 'open', vip, atMs: performance.now(), opts });
  }
  async stopAccepting(vip: string): Promise<void> {
    if (this.#serving.delete(vip)) this.events.push({ op: 'stop', vip, atMs: performance.now() });
  }
  async closeClients(vip: string, opts: CloseClientsOptions): Promise<number> {
    this.events.push({ op: 'close', vip, atMs: performance.now(), opts });
    return 0;
  }
  isServing(vip: string): boolean { return this.#serving.has(vip); }
  tunnelCount(_vip: string): number { return 0; }
  listeningPorts(vip: string): number[] { return this.#serving.has(vip) ? [8000] : []; }
  /** The last fence per VIP (monotonic ms, or null when revoked). */
  readonly fences = new Map<string, number | null>();
  fence(vip: string, untilMs: number | null): void {
    if (untilMs === null && this.fences.get(vip) !== null) this.events.push({ op: 'fence', vip, atMs: performance.now(), opts: null });
    this.fences.set(vip, untilMs);
  }
}
