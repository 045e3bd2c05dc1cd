/**
 * The Origin allow-list of a route (Cross-Site WebSocket Hijacking: a
 * browser sends cookies with a cross-site WebSocket, so the server must
 * check Origin; RFC 6455 10.2). Compiled once: exact origins go in a set,
 * `*.example.com` patterns become suffix checks. Comparison is on the
 * serialised origin, lower-cased, with the scheme's default port dropped.
 *
 *   https://app.example.com      that origin only
 *   https://*.example.com        any subdomain of example.com over https (not example.com itself)
 *   *.example.com                any subdomain, any scheme
 */

interface Pattern { scheme: string | null; suffix: string; port: string }

const DEFAULT_PORT: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

/** `scheme://host[:port]` lower-cased, default port dropped; null when `origin` is not one. */
export function normaliseOrigin(origin: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?\/?$/i.exec(origin.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  const port = m[3] && m[3] !== DEFAULT_PORT[scheme] ? `:${m[3]}` : '';
  return `${scheme}://${m[2].toLowerCase()}${port}`;
}

/** A compiled Origin allow-list. */
export class OriginMatcher {
  readonly #exact = new Set<string>();
  readonly #patterns: Pattern[] = [];

  constructor(list: readonly string[]) {
    for (const entry of list) this.#add(entry.toLowerCase());
  }

  #add(entry: string): void {
    const sep = entry.indexOf('://');
    const scheme = sep < 0 ? null : entry.slice(0, sep);
    const rest = sep < 0 ? entry : entry.slice(sep + 3);
    if (!rest.startsWith('*.')) {
      const n = normaliseOrigin(scheme ? entry : `https://${entry}`);
      if (n && scheme) this.#exact.add(n);
      else if (n) for (const s of ['http', 'https']) this.#exact.add(normaliseOrigin(`${s}://${rest}`)!);
      return;
    }
    const colon = rest.lastIndexOf(':');
    const host = colon > 1 ? rest.slice(1, colon) : rest.slice(1);
    const port = colon > 1 ? rest.slice(colon + 1) : '';
    this.#patterns.push({ scheme, suffix: host, port });
  }

  /** True when the Origin header value is allowed. */
  allows(origin: string): boolean {
    const n = normaliseOrigin(origin);
    if (n === null) return false;
    if (this.#exact.has(n)) return true;
    if (this.#patterns.length === 0) return false;
    const sep = n.indexOf('://');
    const scheme = n.slice(0, sep);
    const hostPort = n.slice(sep + 3);
    const colon = hostPort.lastIndexOf(':');
    const host = colon > 0 && !hostPort.endsWith(']') ? hostPort.slice(0, colon) : hostPort;
    const port = colon > 0 && !hostPort.endsWith(']') ? hostPort.slice(colon + 1) : '';
    for (const p of this.#patterns) {
      if (p.scheme !== null && p.scheme !== scheme) continue;
      const wantPort = p.port && p.port !== DEFAULT_PORT[scheme] ? p.port : '';
      if (wantPort !== port) continue;
      if (host.length > p.suffix.length && host.endsWith(p.suffix)) return true;
    }
    return false;
  }
}
