/**
 * The port between the planes for a VIP: what the control plane asks of the
 * data plane. Open the listeners that have `on: vip:NAME`, stop accepting on
 * them, close the WebSocket clients that came in through them (paced, with a
 * close code), and fence them: the data plane serves requests on a VIP's
 * listeners only until the deadline the control plane last gave it, so that
 * no request is forwarded by a node whose ownership ran out, even if its
 * control plane did not get to say so.
 */

/** How the clients of a VIP are closed. */
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

/** How a VIP's listeners are opened (VipHost.openVip). */
export interface OpenVipOptions { reusePort: boolean; addressWaitMs?: number }

/** The data plane as the control plane drives it for each VIP (the ProxyNode implements it). */
export interface VipHost {
  /**
   * Opens every `on: vip:NAME` listener on `address`; resolves once all are listening.
   * `addressWaitMs`: the address is being made local meanwhile (the linux driver's add runs beside this), so a
   * bind that finds it not local yet (EADDRNOTAVAIL) is tried again every millisecond for up to this long, and a
   * stopAccepting() meanwhile ends the tries.
   */
  openVip(vip: string, address: string, opts: OpenVipOptions): Promise<void>;
  /** Stops accepting on that VIP's listeners (idempotent); established tunnels stay. */
  stopAccepting(vip: string): Promise<void>;
  /** Closes tunnels that came in through that VIP, paced; resolves when all are closed. */
  closeClients(vip: string, opts: CloseClientsOptions): Promise<number>;
  /** True while any listener of that VIP is listening. */
  isServing(vip: string): boolean;
  /** Open WebSocket tunnels that came in through that VIP. */
  tunnelCount(vip: string): number;
  /** Ports the VIP's listeners are bound to right now (for the VIP guard). */
  listeningPorts(vip: string): number[];
  /**
   * The VIP's listeners may serve requests until `untilMs` (host-wide
   * monotonic ms, shared/clock.ts monotonicMs); past it, new requests wait
   * until the deadline moves again or the fence is revoked. `null` revokes
   * at once: the next request gets 503 and keep-alive connections close.
   */
  fence(vip: string, untilMs: number | null): void;
}
