/**
 * Live pool changes as data, and the pure functions over them. The file
 * config is the base; the overlay of a pool (stored as JSON in the `pools`
 * hash) holds one override per touched backend, so that applying it is
 * idempotent and independent of how many changes led there:
 *
 *   add     -> { url, weight }     (a new backend, or a new URL for one)
 *   remove  -> { removed: true }   (drained by the nodes, then gone)
 *   disable -> { disabled: true }  (weight 0: no new connections)
 *   enable  -> disabled dropped
 *
 * A short history of the changes rides along for `wsha status`.
 */
import type { PoolConfig, BackendConfig } from '../../shared/config/schema';
import type { PoolChange } from '../../shared/records';
import { NotFoundError, PoolChangeError } from '../../shared/errors';

/** The override of one backend. */
export interface BackendOverride {
  /** Set by `add`: the backend's URL (a new backend, or a new address for a file one). */
  url?: string;
  /** Weight of an added backend. */
  weight?: number;
  /** Removed from the pool. */
  removed?: boolean;
  /** Takes no new connections (weight 0). */
  disabled?: boolean;
}

/** Value of field POOL of the `pools` hash. */
export interface PoolOverlay {
  /** Version (from `pools:version`) of the last change to this pool. */
  version: number;
  /** Backend id -> override. */
  backends: Record<string, BackendOverride>;
  /** The last changes, oldest first (at most HISTORY_LENGTH). */
  history: PoolChange[];
}

/** Changes kept per pool for display. */
export const HISTORY_LENGTH = 20;

/** An overlay with nothing in it. */
export function emptyOverlay(): PoolOverlay { return { version: 0, backends: {}, history: [] }; }

/** Parses a stored overlay; a malformed one counts as empty (and is logged by the caller). */
export function parseOverlay(json: string | null | undefined): PoolOverlay | null {
  if (!json) return null;
  try {
    const o = JSON.parse(json) as PoolOverlay;
    if (typeof o?.version !== 'number' || typeof o.backends !== 'object' || o.backends === null) return null;
    return { version: o.version, backends: o.backends, history: Array.isArray(o.history) ? o.history : [] };
  } catch {
    return null;
  }
}

/** The backends of a pool after its overlay, in file order then added ones by id. */
export function applyOverlay(base: readonly BackendConfig[], overlay: PoolOverlay | null): BackendConfig[] {
  if (!overlay) return [...base];
  const out: BackendConfig[] = [];
  const seen = new Set<string>();
  for (const b of base) {
    seen.add(b.id);
    const o = overlay.backends[b.id];
    if (o?.removed) continue;
    out.push(o ? { ...b, url: o.url ?? b.url, weight: o.disabled ? 0 : (o.weight ?? b.weight) } : b);
  }
  for (const id of Object.keys(overlay.backends).sort()) {
    const o = overlay.backends[id];
    if (seen.has(id) || o.removed || !o.url) continue;
    out.push({ id, url: o.url, weight: o.disabled ? 0 : (o.weight ?? 1) });
  }
  return out;
}

/** The effective pools: every file pool with its overlay applied (overlays of unknown pools are ignored). */
export function applyOverlays(base: Readonly<Record<string, PoolConfig>>, overlays: Readonly<Record<string, PoolOverlay>>): Record<string, PoolConfig> {
  const out: Record<string, PoolConfig> = {};
  for (const [name, pool] of Object.entries(base)) {
    const o = overlays[name];
    out[name] = o && Object.keys(o.backends).length ? Object.freeze({ ...pool, backends: Object.freeze(applyOverlay(pool.backends, o)) }) as PoolConfig : pool;
  }
  return out;
}

/** Whether backend `id` is in the pool now, and whether it is disabled. */
function current(base: readonly BackendConfig[] | null, overlay: PoolOverlay, id: string): { present: boolean; disabled: boolean } {
  const o = overlay.backends[id];
  if (o?.removed) return { present: false, disabled: false };
  const inBase = base === null ? undefined : base.some((b) => b.id === id);
  return { present: Boolean(o?.url) || inBase === true || (inBase === undefined && o !== undefined), disabled: o?.disabled === true };
}

/**
 * Applies one change to an overlay and returns the new one (the input is not
 * touched). `base` is the pool's backends as the caller knows them (null when
 * unknown, e.g. the CLI without a config: then only conflicts visible in the
 * overlay are caught). Throws NotFoundError or PoolChangeError.
 */
export function applyChange(overlay: PoolOverlay, change: PoolChange, base: readonly BackendConfig[] | null, knownIds?: ReadonlySet<string>): PoolOverlay {
  const next: PoolOverlay = { version: change.version, backends: { ...overlay.backends }, history: [...overlay.history, change].slice(-HISTORY_LENGTH) };
  const id = change.backendId;
  const now = current(base, overlay, id);
  const present = now.present || (base === null && knownIds?.has(id) === true && !overlay.backends[id]?.removed);
  const where = `backend ${id} in pool ${change.pool}`;
  switch (change.op) {
    case 'add':
      if (!change.url) throw new PoolChangeError(`add needs a URL for ${where}`);
      if (present) throw new PoolChangeError(`${where} already exists (remove it first to change its URL)`);
      next.backends[id] = { url: change.url, weight: 1 };
      break;
    case 'remove':
      if (!present) throw new NotFoundError(where);
      next.backends[id] = { removed: true };
      break;
    case 'disable':
      if (!present) throw new NotFoundError(where);
      if (now.disabled) throw new PoolChangeError(`${where} is already disabled`);
      next.backends[id] = { ...overlay.backends[id], disabled: true };
      break;
    case 'enable': {
      if (!present) throw new NotFoundError(where);
      if (!now.disabled) throw new PoolChangeError(`${where} is not disabled`);
      const { disabled: _drop, ...rest } = overlay.backends[id] ?? {};
      if (Object.keys(rest).length) next.backends[id] = rest; else delete next.backends[id];
      break;
    }
  }
  return next;
}
