/**
 * Reads a config file (YAML), applies environment overrides for secrets,
 * resolves relative file paths against the file's folder, and validates.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors';
import { validateConfig } from './validate';
import type { Config } from './schema';

/** Environment variables that override secrets, so they need not sit in the file. */
export const ENV_OVERRIDES = Object.freeze({
  WSHA_REDIS_PASSWORD: 'cluster.redis.password',
  WSHA_ADMIN_TOKEN: 'node.admin.token',
});

function setIfObject(obj: Record<string, unknown>, path: string, value: string): void {
  const keys = path.split('.');
  let cur: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === undefined) cur[k] = {};
    if (typeof cur[k] !== 'object' || cur[k] === null) return;
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}

function resolvePaths(raw: Record<string, unknown>, base: string): void {
  const abs = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(base, p) : p);
  const listeners = Array.isArray(raw.listeners) ? raw.listeners : [];
  for (const l of listeners) {
    const certs = l?.tls?.certs;
    if (Array.isArray(certs)) for (const c of certs) if (c && typeof c === 'object') { c.cert = abs(c.cert); c.key = abs(c.key); }
  }
  const cluster = raw.cluster as Record<string, unknown> | undefined;
  if (cluster && typeof cluster === 'object' && 'secretFile' in cluster) cluster.secretFile = abs(cluster.secretFile);
  const tls = (raw.cluster as any)?.redis?.tls;
  if (tls && typeof tls === 'object') for (const k of ['ca', 'cert', 'key']) if (k in tls) tls[k] = abs(tls[k]);
  // ---- access boundary (issue 10): backend CA, admin TLS and the admin token file ----
  const pools = raw.pools && typeof raw.pools === 'object' ? Object.values(raw.pools as Record<string, any>) : [];
  for (const p of pools) if (p?.tls && typeof p.tls === 'object' && 'ca' in p.tls) p.tls.ca = abs(p.tls.ca);
  const admin = (raw.node as any)?.admin;
  if (admin && typeof admin === 'object') {
    if ('tokenFile' in admin) admin.tokenFile = abs(admin.tokenFile);
    if (admin.tls && typeof admin.tls === 'object') for (const k of ['cert', 'key']) if (k in admin.tls) admin.tls[k] = abs(admin.tls[k]);
  }
}

/** Parses YAML text into a plain object, with line numbers in errors. */
export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) throw new ConfigError(`${source} is not valid YAML`, doc.errors.map((e) => e.message.split('\n')[0]));
  return doc.toJS();
}

/** Loads, overrides from env, validates. Throws ConfigError. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const raw = parseYaml(text, file);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file} is invalid`, ['(root): expected a mapping with cluster, node, listeners, routes and pools']);
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v) setIfObject(raw as Record<string, unknown>, path, v);
  }
  resolvePaths(raw as Record<string, unknown>, dirname(resolve(file)));
  return validateConfig(raw, file);
}
