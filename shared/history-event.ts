/**
 * The cluster event history: the shape of one recorded event, as nodes, the
 * lease scripts and the CLI write it to the `history` stream
 * (shared/redis/keys.ts) and as `wsha events`, the admin API and the live
 * page read it back. Every event is one JSON value in the field `e` of one
 * stream entry; `at` is the wall-clock ms when it happened (a node that
 * buffered it while Redis was unreachable writes it later with this time),
 * `node` the node it happened on or is about.
 *
 * Readers validate each entry with parseHistoryEvent and skip what they do
 * not know, so a newer writer never breaks an older reader (fields are only
 * added within HISTORY_VERSION).
 */

/** Version of the event shape; fields are only added within one version. */
export const HISTORY_VERSION = 1;

/** Who asked for an operator action, and from where. */
export interface Actor {
  /** The admin token's configured name (node.admin.tokenName), or `cli`. */
  name: string;
  /** `cli` (the wsha command) or `admin-api` (a node's admin API). */
  via: 'cli' | 'admin-api';
  /** Host the CLI ran on, or the node whose admin API was called. */
  host: string;
  /** Remote address of the admin API request; the OS user for the CLI. */
  from?: string;
}

/** What every event carries. */
interface Base {
  v: typeof HISTORY_VERSION;
  /** Wall-clock ms when it happened. */
  at: number;
  /** The node it happened on or is about (null: none, e.g. a verdict merged from several nodes). */
  node: string | null;
}

/** Every kind of event, each with its own fields. */
export type HistoryEvent =
  /** A VIP lease changed hands (written by the lease scripts, atomically with the change). `owner` null: released. */
  | Base & { kind: 'ownership'; vip: string; owner: string | null; previousOwner: string | null; epoch: number; reason: string }
  /** The new owner serves the VIP; after an unplanned takeover with the time since the old owner's last sign of life. */
  | Base & { kind: 'vip-serving'; vip: string; epoch: number; previousOwner: string | null; reason: string; gapMs?: number; lastSignAt?: number }
  /** A phase of a planned handover, on the old owner. */
  | Base & { kind: 'handover'; vip: string; phase: string; from: string; to: string; epoch?: number; detail?: string }
  /** A node left a VIP it claimed (stepped down). */
  | Base & { kind: 'step-down'; vip: string; epoch: number | null; reason: string }
  | Base & { kind: 'node-joined'; version: string; incarnation: string; address: string }
  | Base & { kind: 'node-left'; reason: string }
  /** A node's heartbeat went stale, as `observer` saw it (recorded once, by the first node to see it). */
  | Base & { kind: 'node-not-seen'; observer: string; heartbeatAgeMs: number }
  /** A node that was not seen heartbeats again without a restart (a healed partition). */
  | Base & { kind: 'node-back'; observer: string }
  | Base & { kind: 'node-drained'; by: Actor }
  | Base & { kind: 'node-undrained'; by: Actor }
  /** The merged verdict of a backend changed (recorded once, by the first node to merge it). */
  | Base & { kind: 'verdict'; pool: string; backend: string; up: boolean; observers: number; downVotes: number; reason?: string; views: Array<{ node: string; up: boolean; reason?: string }> }
  /** A live pool change (`wsha backends ...`), written in the same transaction as the change. */
  | Base & { kind: 'pool-change'; pool: string; backend: string; op: 'add' | 'remove' | 'disable' | 'enable'; url?: string; version: number; by: Actor }
  /** A config reload (SIGHUP) accepted or rejected, with every problem. */
  | Base & { kind: 'config-reload'; ok: boolean; errors: string[] }
  /** This node's link to Redis was lost (no command succeeded for a lease TTL) or came back. */
  | Base & { kind: 'redis-lost'; reason: string }
  | Base & { kind: 'redis-regained'; downMs: number }
  /** Requests and handshakes this node refused in one minute, by reason. */
  | Base & { kind: 'refusals'; windowMs: number; counts: Record<string, number>; total: number }
  /** An operator action (failover, drain, undrain) and how it ended. */
  | Base & { kind: 'admin'; action: string; target: string; by: Actor; ok: boolean; error?: string; detail?: Record<string, unknown> }
  /** Events a node had to drop while Redis was unreachable (its buffer was full): how many, and their time range. */
  | Base & { kind: 'history-dropped'; count: number; firstAt: number; lastAt: number };

/** One of the event kinds. */
export type HistoryKind = HistoryEvent['kind'];

/** Every kind, for `wsha events --kind` and the tests. */
export const HISTORY_KINDS: readonly HistoryKind[] = Object.freeze([
  'ownership', 'vip-serving', 'handover', 'step-down', 'node-joined', 'node-left', 'node-not-seen', 'node-back',
  'node-drained', 'node-undrained', 'verdict', 'pool-change', 'config-reload', 'redis-lost', 'redis-regained',
  'refusals', 'admin', 'history-dropped',
]);

/** An event as a writer hands it over: version, time and node may be filled in by the recorder. */
export type HistoryInput = HistoryEvent extends infer E ? E extends HistoryEvent ? Omit<E, 'v' | 'at' | 'node'> & { at?: number; node?: string | null } : never : never;

/** An event read back, with its stream entry id (`ms-seq`, Redis time of the write). */
export type StoredEvent = HistoryEvent & { id: string };

/** One connection-count sample of one node (the `history:samples` stream). */
export interface ConnectionSample { at: number; node: string; connections: number }

const KIND_SET: ReadonlySet<string> = new Set(HISTORY_KINDS);

/** Parses the JSON of one entry; null when it is not an event of a known kind (skipped by readers). */
export function parseHistoryEvent(json: string | undefined | null): HistoryEvent | null {
  if (!json) return null;
  try {
    const e = JSON.parse(json) as HistoryEvent;
    if (!e || typeof e !== 'object' || typeof e.kind !== 'string' || !KIND_SET.has(e.kind) || typeof e.at !== 'number') return null;
    if (e.node !== null && typeof e.node !== 'string') return null;
    return e;
  } catch {
    return null;
  }
}

/** Every node an event names (its node, owners, handover ends, observers, views), for filtering by node. */
export function nodesOf(e: HistoryEvent): string[] {
  const out = new Set<string>();
  if (e.node) out.add(e.node);
  switch (e.kind) {
    case 'ownership': if (e.owner) out.add(e.owner); if (e.previousOwner) out.add(e.previousOwner); break;
    case 'vip-serving': if (e.previousOwner) out.add(e.previousOwner); break;
    case 'handover': out.add(e.from); out.add(e.to); break;
    case 'node-not-seen': case 'node-back': out.add(e.observer); break;
    case 'verdict': for (const v of e.views) out.add(v.node); break;
    case 'admin': if (e.action === 'drain' || e.action === 'undrain') out.add(e.target); break;
    default: break;
  }
  return [...out];
}

/** The VIP an event is about, if any. */
export function vipOf(e: HistoryEvent): string | null {
  return 'vip' in e && typeof e.vip === 'string' ? e.vip : e.kind === 'admin' && e.action === 'failover' ? e.target : null;
}
