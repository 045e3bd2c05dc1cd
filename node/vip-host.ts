/**
 * What the control plane asks of the data plane for a VIP: open the
 * listeners that have `on: vip:NAME`, stop accepting on them, and close the
 * WebSocket clients that came in through them (paced, with a close code).
 */
export interface CloseClientsOptions {
  /** WebSocket close code: 1012 (service restart) on handover and step-down, 1001 on node drain. */
  code: number;
  /** Close reason text. */
  reason: string;
  /** Clients closed per second. */
  ratePerSec: number;
  /** Spread the closes over this window (ms); 0 closes them all at once. */
  windowMs: number;
}

/** The data plane as the control plane drives it for each VIP (ProxyNode implements it). */
export interface VipHost {
  /** Opens every `on: vip:NAME` listener on `address`; resolves once all are listening. */
  openVip(vip: string, address: string, opts: { reusePort: boolean }): Promise<void>;
  /** Stops accepting on that VIP's listeners (idempotent); established tunnels stay. */
  stopAccepting(vip: string): Promise<void>;
  /** Closes tunnels that came in through that VIP, paced; resolves when all are closed. */
  closeClients(vip: string, opts: CloseClientsOptions): Promise<number>;
  /** True while any listener of that VIP is listening. */
  isServing(vip: string): boolean;
  /** Open WebSocket tunnels that came in through that VIP. */
  tunnelCount(vip: string): number;
}
