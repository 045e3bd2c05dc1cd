/**
 * Host and path to pool, compiled once per config version (fastify style:
 * decide at configuration time). Host classes are tried most specific
 * first: exact name, then `*.suffix` wildcards (longest suffix first), then
 * `*`; inside a class the longest matching path prefix wins. When a host
 * class has no matching path, the next class is tried. Paths reach match()
 * normalised (normalize-path.ts) and without their query.
 */
import type { RouteConfig } from '../../shared/config/schema';

/** One compiled route. */
export interface CompiledRoute {
  readonly host: string;
  readonly path: string;
  readonly pool: string;
  /** `%2F` accepted in paths of this route. */
  readonly allowEncodedSlashes: boolean;
  /** Response-head timeout of this route, or null for the node's limits. */
  readonly responseHeadTimeoutMs: number | null;
  /** Tunnel idle timeout of this route (0 off), or null for limits.idleTimeoutMs. */
  readonly idleTimeoutMs: number | null;
}

/** What a route is compiled from: a RouteConfig; the access keys may be left out (tests). */
export type RouteInput = Pick<RouteConfig, 'host' | 'path' | 'pool'> & Partial<Pick<RouteConfig, 'allowEncodedSlashes' | 'responseHeadTimeoutMs' | 'idleTimeoutMs'>>;

interface Candidates { routes: CompiledRoute[] }

/** The compiled routing table. */
export class Router {
  #exact = new Map<string, Candidates>();
  /** Wildcards as [".example.com", candidates], longest suffix first. */
  #suffixes: Array<[string, Candidates]> = [];
  #any: Candidates | null = null;

  constructor(routes: readonly RouteInput[]) {
    const suffixMap = new Map<string, Candidates>();
    for (const r of routes) {
      const host = r.host.toLowerCase();
      const route: CompiledRoute = Object.freeze({
        host, path: r.path, pool: r.pool,
        allowEncodedSlashes: r.allowEncodedSlashes ?? false,
        responseHeadTimeoutMs: r.responseHeadTimeoutMs ?? null,
        idleTimeoutMs: r.idleTimeoutMs ?? null,
      });
      let c: Candidates;
      if (host === '*') c = this.#any ??= { routes: [] };
      else if (host.startsWith('*.')) c = getOrAdd(suffixMap, host.slice(1));
      else c = getOrAdd(this.#exact, host);
      c.routes.push(route);
    }
    this.#suffixes = [...suffixMap.entries()].sort((a, b) => b[0].length - a[0].length);
    const all = [...this.#exact.values(), ...suffixMap.values(), ...(this.#any ? [this.#any] : [])];
    // Longest prefix first; a stable sort keeps config order among equals.
    for (const c of all) c.routes.sort((a, b) => b.path.length - a.path.length);
  }

  /** The route for a request's Host header (port and case ignored) and path, or null. */
  match(hostHeader: string | undefined, path: string): CompiledRoute | null {
    const host = normalizeHost(hostHeader);
    const exact = this.#exact.get(host);
    if (exact) { const r = matchPath(exact, path); if (r) return r; }
    for (const [suffix, c] of this.#suffixes) {
      if (host.length > suffix.length && host.endsWith(suffix)) { const r = matchPath(c, path); if (r) return r; }
    }
    return this.#any ? matchPath(this.#any, path) : null;
  }
}

function getOrAdd(m: Map<string, Candidates>, k: string): Candidates {
  let c = m.get(k);
  if (!c) { c = { routes: [] }; m.set(k, c); }
  return c;
}

function matchPath(c: Candidates, path: string): CompiledRoute | null {
  for (const r of c.routes) {
    if (pathHasPrefix(path, r.path)) return r;
  }
  return null;
}

/** True when `prefix` matches `path` on a segment boundary (`/api` matches `/api/x` and `/api?q`, not `/apix`). */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  if (prefix.endsWith('/') || path.length === prefix.length) return true;
  const next = path.charCodeAt(prefix.length);
  return next === 47 /* / */ || next === 63 /* ? */;
}

/** Lower-cases a Host header and strips its port (IPv6 literals keep their brackets). */
export function normalizeHost(h: string | undefined): string {
  if (!h) return '';
  const lower = h.toLowerCase();
  if (lower.startsWith('[')) { const end = lower.indexOf(']'); return end > 0 ? lower.slice(0, end + 1) : lower; }
  const colon = lower.indexOf(':');
  return colon >= 0 ? lower.slice(0, colon) : lower;
}
