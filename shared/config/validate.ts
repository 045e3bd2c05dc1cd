/**
 * Schema check plus cross-field invariants, all problems reported at once,
 * each naming the bad key (`pools.app.backends[0].url: expected ...`). The
 * result is deep-frozen: nothing changes a config after validation.
 */
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema';
import { ConfigError } from '../errors';
import { edgeProblems, routeLabel } from './edge-validate';
import { DEFAULTS } from './defaults';

/** Keys that were renamed or are commonly guessed, with the key to use instead. */
const RENAMED: Readonly<Record<string, string>> = Object.freeze({
  algorithm: 'balance',
  servers: 'backends',
  upstreams: 'pools',
  bind: 'on',
  address: 'on',
  timeout: 'handshakeTimeoutMs',
  proxy_protocol: 'proxyProtocol',
  health_check: 'healthCheck',
  healthcheck: 'healthCheck',
});

/** Formats a zod path as `pools.app.backends[0].url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const key = at === '(root)' ? k : `${at}.${k}`;
      const hint = RENAMED[k] ? ` (did you mean ${RENAMED[k]}?)` : '';
      return `${key}: unknown key${hint}`;
    });
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return [`${at}: required (${issue.message.replace(/^Invalid input: /, '')})`];
  return [`${at}: ${issue.message.replace(/^Invalid input: /, '')}`];
}

/** Checks that hold between fields; each problem names its key. */
export function crossFieldProblems(c: Config): string[] {
  const out: string[] = [];
  const { lease, heartbeat } = c.cluster;
  if (lease.renewIntervalMs >= lease.ttlMs - lease.stepDownMarginMs) out.push(`cluster.lease.renewIntervalMs: expected less than ttlMs - stepDownMarginMs (${lease.ttlMs - lease.stepDownMarginMs})`);
  if (lease.stepDownMarginMs >= lease.ttlMs) out.push('cluster.lease.stepDownMarginMs: expected less than ttlMs');
  if (heartbeat.intervalMs >= heartbeat.timeoutMs) out.push('cluster.heartbeat.intervalMs: expected less than cluster.heartbeat.timeoutMs');
  if (heartbeat.forgetAfterMs < heartbeat.timeoutMs) out.push('cluster.heartbeat.forgetAfterMs: expected at least cluster.heartbeat.timeoutMs');
  const { peer, redis } = c.cluster;
  if (lease.stallBudgetMs < 2 * lease.ttlMs) out.push(`cluster.lease.stallBudgetMs: expected at least twice cluster.lease.ttlMs (${2 * lease.ttlMs})`);
  if (peer.beatIntervalMs >= peer.grantTtlMs - lease.stepDownMarginMs) out.push(`cluster.peer.beatIntervalMs: expected less than cluster.peer.grantTtlMs - cluster.lease.stepDownMarginMs (${peer.grantTtlMs - lease.stepDownMarginMs})`);
  if (redis.replicaAckTimeoutMs >= redis.leaseCommandTimeoutMs) out.push(`cluster.redis.replicaAckTimeoutMs: expected less than cluster.redis.leaseCommandTimeoutMs (${redis.leaseCommandTimeoutMs})`);
  if (c.node.drain.graceMs >= c.node.drain.deadlineMs) out.push('node.drain.graceMs: expected less than node.drain.deadlineMs');
  if (c.cluster.redis.sentinels && !c.cluster.redis.name) out.push('cluster.redis.name: required with sentinels');
  out.push(...historyProblems(c.cluster.history));

  const vipNames = new Set<string>();
  c.vips.forEach((v, i) => {
    if (vipNames.has(v.name)) out.push(`vips[${i}].name: duplicate VIP name ${v.name}`);
    vipNames.add(v.name);
    if (v.driver === 'linux' && !v.interface) out.push(`vips[${i}].interface: required for the linux driver`);
    if (v.driver === 'exec' && (!v.up || !v.down)) out.push(`vips[${i}].${v.up ? 'down' : 'up'}: required for the exec driver`);
  });
  for (const name of Object.keys(c.node.vipPriorities ?? {})) {
    if (!vipNames.has(name)) out.push(`node.vipPriorities.${name}: no VIP named ${name} in vips`);
  }
  const listenerNames = new Set<string>();
  c.listeners.forEach((l, i) => {
    if (listenerNames.has(l.name)) out.push(`listeners[${i}].name: duplicate listener name ${l.name}`);
    listenerNames.add(l.name);
    if (l.on.startsWith('vip:') && !vipNames.has(l.on.slice(4))) out.push(`listeners[${i}].on: no VIP named ${l.on.slice(4)} in vips`);
    if (l.tls && !l.tls.selfSigned && !l.tls.certs?.length) out.push(`listeners[${i}].tls: expected selfSigned: true or at least one entry in certs`);
  });
  c.routes.forEach((r, i) => {
    if (!c.pools[r.pool]) out.push(`routes[${i}].pool: no pool named ${r.pool} in pools`);
    // ---- access boundary (issue 10): a route prefix must be a path the normaliser can produce, or it never matches ----
    if (!isNormalisedRoutePath(r.path)) out.push(`routes[${i}].path: expected a normalised path prefix (no dot segments, percent-escapes, backslash, query or fragment)`);
    if (r.responseHeadTimeoutMs !== undefined && r.responseHeadTimeoutMs > c.limits.requestTimeoutMs) out.push(`routes[${i}].responseHeadTimeoutMs: expected at most limits.requestTimeoutMs (${c.limits.requestTimeoutMs})`);
  });
  c.routes.forEach((r, i) => out.push(...edgeProblems(r, `routes[${i}]`)));
  const routeNames = new Set<string>();
  c.routes.forEach((r, i) => {
    const n = routeLabel(r);
    if (routeNames.has(n)) out.push(`routes[${i}].name: duplicate route name ${n} (give the routes distinct names)`);
    routeNames.add(n);
  });
  c.vips.forEach((v, i) => {
    if (v.passEnv && v.driver !== 'exec') out.push(`vips[${i}].passEnv: only used with the exec driver`);
  });
  for (const [name, p] of Object.entries(c.pools)) {
    const ids = new Set<string>();
    p.backends.forEach((b, i) => {
      if (ids.has(b.id)) out.push(`pools.${name}.backends[${i}].id: duplicate backend id ${b.id}`);
      ids.add(b.id);
    });
    if (p.sticky) {
      const n = [p.sticky.cookie, p.sticky.header, p.sticky.query].filter(Boolean).length;
      if (n > 1) out.push(`pools.${name}.sticky: expected only one of cookie, header or query`);
      if (p.sticky.setCookie && !p.sticky.cookie) out.push(`pools.${name}.sticky.setCookie: needs sticky.cookie`);
    }
    if (p.balance !== 'sticky' && p.sticky) out.push(`pools.${name}.sticky: only used with balance: sticky`);
    if (p.healthCheck.timeoutMs > p.healthCheck.intervalMs) out.push(`pools.${name}.healthCheck.timeoutMs: expected at most intervalMs (${p.healthCheck.intervalMs})`);
  }
  return out;
}

/** Invariants of cluster.history: a buffer that fits in the stream, samples a trend and not a flood. */
function historyProblems(h: Config['cluster']['history']): string[] {
  const out: string[] = [];
  if (h.bufferCount > h.maxCount) out.push(`cluster.history.bufferCount: expected at most cluster.history.maxCount (${h.maxCount})`);
  if (h.sampleIntervalMs !== 0 && h.sampleIntervalMs < DEFAULTS.history.minSampleIntervalMs) out.push(`cluster.history.sampleIntervalMs: expected 0 (off) or at least ${DEFAULTS.history.minSampleIntervalMs}`);
  return out;
}

/** True for a path prefix the request path normaliser can produce: without `.`/`..` segments, `%`, `\\`, `?` or `#`. */
function isNormalisedRoutePath(p: string): boolean {
  if (/[%\\?#]/.test(p)) return false;
  return !p.split('/').some((s) => s === '.' || s === '..');
}

/** Deep-freezes a plain object graph. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

/**
 * Validates raw (parsed YAML) input. Throws ConfigError listing every
 * problem; returns a deep-frozen Config.
 */
export function validateConfig(raw: unknown, source = 'config'): Config {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(describeIssue);
    throw new ConfigError(`${source} is invalid`, problems);
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length) throw new ConfigError(`${source} is invalid`, problems);
  return deepFreeze(parsed.data);
}
