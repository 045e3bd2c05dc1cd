/**
 * One backend: where it is, its weight, and its live tunnel count on this
 * node. Kept one shape: every field is set in the constructor.
 */
import type { BackendConfig } from '../../shared/config/schema';
import { DEFAULT_BACKEND_TLS, type BackendTls } from '../../shared/tls/backend-tls';

/** A backend of a pool as the data plane uses it. */
export class Backend {
  readonly pool: string;
  readonly id: string;
  /** Host name or address to connect to (IPv6 without brackets). */
  host: string;
  port: number;
  /** True for https:// and wss:// backends (TLS to the backend). */
  tls: boolean;
  /** The pool's TLS settings (verification, CA, name), set by the pool on every apply. */
  tlsSettings: BackendTls = DEFAULT_BACKEND_TLS;
  /** Relative weight for round-robin; 0 takes no new connections. */
  weight: number;
  /** Live WebSocket tunnels to this backend from this node. */
  tunnels = 0;
  /** HTTP requests in flight to this backend from this node. */
  inFlight = 0;
  /** Tunnels ever opened to this backend. */
  tunnelsTotal = 0;
  /** Set when the backend left its pool: no new connections. */
  removed = false;
  /** The URL as configured, for snapshots and logs. */
  url: string;
  /** host[:port] of the URL, the Host header for a client request that had none. */
  authority: string;

  constructor(pool: string, cfg: BackendConfig) {
    this.pool = pool;
    this.id = cfg.id;
    this.host = '';
    this.port = 0;
    this.tls = false;
    this.weight = 1;
    this.url = '';
    this.authority = '';
    this.update(cfg);
  }

  /** Applies a new config of the same backend id (address or weight may change). */
  update(cfg: BackendConfig): void {
    const u = new URL(cfg.url);
    this.tls = u.protocol === 'https:' || u.protocol === 'wss:';
    this.host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
    this.port = u.port ? Number(u.port) : this.tls ? 443 : 80;
    this.weight = cfg.weight;
    this.url = cfg.url;
    this.authority = u.host;
  }

  /** Live connections from this node (tunnels plus HTTP requests in flight). */
  get load(): number { return this.tunnels + this.inFlight; }

  /** JSON-able view for the admin API. */
  snapshot(): { id: string; url: string; weight: number; tunnels: number; inFlight: number; tunnelsTotal: number; removed: boolean } {
    return { id: this.id, url: this.url, weight: this.weight, tunnels: this.tunnels, inFlight: this.inFlight, tunnelsTotal: this.tunnelsTotal, removed: this.removed };
  }
}
