/**
 * Chooses the backend for a new request or upgrade: session key for sticky
 * pools (cookie, header or query value, else the client address), the
 * affinity store's memory of that key, then the pool's balancer. Records
 * the choice for sticky pools. Only sticky pools await anything.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ClusterView } from '../../shared/cluster-view';
import type { BackendPool } from '../pool/backend-pool';
import type { Backend } from '../pool/backend';
import { cookieValue } from '../upgrade/handshake';

/** The chosen backend and header lines to add to the response ('' for none). */
export interface Selection {
  backend: Backend;
  /** e.g. `Set-Cookie: wsha_sid=...; Path=/; HttpOnly\r\n` when the client had no session cookie. */
  responseExtra: string;
  /** The same cookie as a header for the forwarded request, so the backend sees the session. */
  requestExtra: string;
  /** Sticky pools: the session key recorded in the affinity store, to release when the connection ends; else null. */
  sessionKey: string | null;
}

/** The session key a sticky pool reads from a request, or null when the client sent none. */
export function sessionKeyOf(pool: BackendPool, req: IncomingMessage): string | null {
  const s = pool.config.sticky;
  if (!s) return null;
  if (s.cookie) return cookieValue(req.headers.cookie, s.cookie);
  if (s.header) { const v = req.headers[s.header.toLowerCase()]; return typeof v === 'string' && v ? v : null; }
  if (s.query) {
    const q = req.url?.indexOf('?') ?? -1;
    if (q < 0) return null;
    return new URLSearchParams(req.url!.slice(q + 1)).get(s.query) || null;
  }
  return null;
}

/** Picks a backend, or null when the pool has none eligible. */
export async function selectBackend(pool: BackendPool, view: ClusterView, req: IncomingMessage, clientAddress: string, lookupTimeoutMs: number): Promise<Selection | null> {
  if (pool.config.balance !== 'sticky') {
    const backend = pool.pick({ clientAddress, sessionKey: null, preferredId: null });
    return backend ? { backend, responseExtra: '', requestExtra: '', sessionKey: null } : null;
  }
  let key = sessionKeyOf(pool, req);
  let responseExtra = '';
  let requestExtra = '';
  const s = pool.config.sticky;
  if (key === null && s?.cookie && s.setCookie) {
    key = randomBytes(12).toString('base64url');
    responseExtra = `Set-Cookie: ${s.cookie}=${key}; Path=/; HttpOnly\r\n`;
    requestExtra = `Cookie: ${s.cookie}=${key}\r\n`;
  }
  const sessionKey = key ?? `addr:${clientAddress}`;
  const preferredId = await lookupBounded(view, pool.name, sessionKey, lookupTimeoutMs);
  const backend = pool.pick({ clientAddress, sessionKey, preferredId });
  if (!backend) return null;
  view.affinity.record(pool.name, sessionKey, backend.id, preferredId !== null && preferredId !== backend.id ? preferredId : undefined);
  return { backend, responseExtra, requestExtra, sessionKey };
}

/** The affinity store's answer, or null when it fails or is slower than cluster.affinity.lookupTimeoutMs. */
function lookupBounded(view: ClusterView, pool: string, key: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs, null);
    view.affinity.lookup(pool, key).then(
      (id) => { clearTimeout(timer); resolve(id); },
      () => { clearTimeout(timer); resolve(null); },
    );
  });
}
