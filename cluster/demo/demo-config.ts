/**
 * The embedded default of `wsha demo`: one config file per node, both
 * sharing a `bind` VIP on 127.0.0.x, two echo backends in one pool, fast
 * health checks and quiet logs.
 */
import { stringify } from 'yaml';

/** Addresses and ports shared by every node of the demo. */
export interface DemoLayout {
  cluster: string;
  redisUrl: string;
  vip: { name: string; address: string; port: number };
  backends: Array<{ id: string; port: number }>;
  token: string;
  /** The cluster secret file every demo node shares (absent: the nodes get WSHA_CLUSTER_SECRET). */
  secretFile?: string;
}

/** What differs between the demo nodes. */
export interface DemoNode { id: string; priority: number; adminPort: number }

/** Config of one demo node, as YAML text (checked by the same schema as any config). */
export function demoNodeConfig(l: DemoLayout, n: DemoNode): string {
  const config = {
    cluster: { name: l.cluster, ...(l.secretFile ? { secretFile: l.secretFile } : {}), redis: { url: l.redisUrl } },
    node: { id: n.id, priority: n.priority, address: '127.0.0.1', admin: { listen: `127.0.0.1:${n.adminPort}`, token: l.token }, drain: { graceMs: 200, deadlineMs: 2000 } },
    vips: [{ name: l.vip.name, driver: 'bind', address: l.vip.address, preempt: false }],
    listeners: [{ name: 'public', on: `vip:${l.vip.name}`, port: l.vip.port }],
    routes: [{ host: '*', path: '/', pool: 'chat' }],
    pools: {
      chat: {
        balance: 'round-robin',
        backends: l.backends.map((b) => ({ id: b.id, url: `ws://127.0.0.1:${b.port}` })),
        healthCheck: { type: 'http', path: '/health', intervalMs: 500, timeoutMs: 400, rise: 1, fall: 2 },
      },
    },
    logging: { level: 'info' },
  };
  return stringify(config);
}
