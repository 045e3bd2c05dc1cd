/**
 * Cross-field checks of a route's edge settings (issue 12): what the schema
 * alone cannot say. Each problem names its key.
 */
import type { RouteConfig } from './schema';

/** Headers a claim or an auth answer may never set: framing, routing and the handshake itself. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'keep-alive', 'te', 'trailer',
  'proxy-connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host',
]);

/** The name a route goes by in logs, metrics and status: its `name`, else HOST + PATH. */
export function routeLabel(r: Pick<RouteConfig, 'host' | 'path'> & { name?: string }): string {
  return r.name ?? `${r.host}${r.path}`;
}

/** Problems of one route's access, auth, rateLimit and messages. */
export function edgeProblems(r: RouteConfig, at: string): string[] {
  const out: string[] = [];
  const jwt = r.auth?.jwt;
  if (jwt) {
    const hs = jwt.algorithms.includes('HS256');
    const asym = jwt.algorithms.some((a) => a !== 'HS256');
    if (!jwt.keyFiles?.length && !jwt.jwks && !jwt.secretFile) out.push(`${at}.auth.jwt: expected keyFiles, jwks or secretFile`);
    if (hs && !jwt.secretFile) out.push(`${at}.auth.jwt.secretFile: required when algorithms include HS256`);
    if (jwt.secretFile && !hs) out.push(`${at}.auth.jwt.algorithms: include HS256 to use secretFile`);
    if ((jwt.keyFiles?.length || jwt.jwks) && !asym) out.push(`${at}.auth.jwt.algorithms: keyFiles and jwks need RS256, ES256 or EdDSA`);
    const t = jwt.tokenFrom;
    if (!t.bearer && !t.cookie && !t.query && !t.protocolPrefix) out.push(`${at}.auth.jwt.tokenFrom: expected at least one of bearer, cookie, query or protocolPrefix`);
    for (const [claim, h] of Object.entries(jwt.claimHeaders ?? {})) {
      if (RESERVED_HEADERS.has(h.toLowerCase())) out.push(`${at}.auth.jwt.claimHeaders.${claim}: ${h} cannot carry a claim`);
    }
    if (jwt.jwks && jwt.jwks.unknownKidRefreshMs > jwt.jwks.refreshIntervalMs) out.push(`${at}.auth.jwt.jwks.unknownKidRefreshMs: expected at most refreshIntervalMs (${jwt.jwks.refreshIntervalMs})`);
  }
  const ext = r.auth?.external;
  if (ext) {
    for (const h of ext.responseHeaders ?? []) {
      if (RESERVED_HEADERS.has(h.toLowerCase())) out.push(`${at}.auth.external.responseHeaders: ${h} cannot be copied onto the backend request`);
    }
  }
  const m = r.messages;
  if (m && m.ratePerSec === undefined && m.maxBytes === undefined) out.push(`${at}.messages: expected ratePerSec or maxBytes`);
  if (m && m.burst !== undefined && m.ratePerSec === undefined) out.push(`${at}.messages.burst: needs ratePerSec`);
  const rl = r.rateLimit;
  if (rl && !rl.upgrades?.perClient && !rl.upgrades?.perRoute && !rl.requests?.perClient && !rl.requests?.perRoute) out.push(`${at}.rateLimit: expected upgrades or requests with perClient or perRoute`);
  return out;
}
