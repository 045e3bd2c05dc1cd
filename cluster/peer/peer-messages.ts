/**
 * The messages of the peer link after its handshake, as a discriminated
 * union, and the one function that checks what arrives. Nothing else in the
 * control plane reads raw peer input.
 *
 *   beat    every cluster.peer.beatIntervalMs on a node's own (outbound) link to
 *           each peer: what it claims, whether it reaches Redis, and in `ask`
 *           the VIPs it owns, for which it asks the peer for a grant
 *   grants  the answer to a beat with `ask`, on the same connection
 *   state?  / state   a node's ownership snapshot (tests, debugging)
 *   bye     a node that stops gracefully: it claims nothing any more
 */

/** One VIP as the sender sees itself. */
export interface VipClaim { vip: string; epoch: number; claims: boolean; state: string }

export interface BeatMsg { t: 'beat'; id: number; redis: boolean; vips: VipClaim[]; ask: string[] }
/** A grant: the granter promises not to acquire `vip` for `ttlMs` from when it read the beat; or a refusal and why. */
export interface GrantResult { vip: string; epoch: number; ok: boolean; ttlMs: number; why?: string; holder?: { nodeId: string; epoch: number } | null }
export interface GrantsMsg { t: 'grants'; id: number; redis: boolean; grants: GrantResult[] }
export interface StateReqMsg { t: 'state?'; id: number }
export interface StateMsg { t: 'state'; id: number; snapshot: unknown }
export interface ByeMsg { t: 'bye' }

export type PeerMessage = BeatMsg | GrantsMsg | StateReqMsg | StateMsg | ByeMsg;

/** Most VIPs one message may name. */
const MAX_VIPS = 256;

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function claimOk(c: unknown): c is VipClaim {
  const x = c as VipClaim;
  return !!x && isStr(x.vip) && isInt(x.epoch) && typeof x.claims === 'boolean' && isStr(x.state);
}

function grantOk(g: unknown): g is GrantResult {
  const x = g as GrantResult;
  if (!x || !isStr(x.vip) || !isInt(x.epoch) || typeof x.ok !== 'boolean' || !isInt(x.ttlMs)) return false;
  if (x.why !== undefined && typeof x.why !== 'string') return false;
  return x.holder === undefined || x.holder === null || (isStr(x.holder.nodeId) && isInt(x.holder.epoch));
}

/** The typed message, or null when `o` is not one (the connection is then closed). */
export function parsePeerMessage(o: Record<string, unknown>): PeerMessage | null {
  switch (o.t) {
    case 'beat': {
      const m = o as unknown as BeatMsg;
      if (!isInt(m.id) || typeof m.redis !== 'boolean' || !Array.isArray(m.vips) || !Array.isArray(m.ask)) return null;
      if (m.vips.length > MAX_VIPS || m.ask.length > MAX_VIPS || !m.vips.every(claimOk) || !m.ask.every(isStr)) return null;
      return m;
    }
    case 'grants': {
      const m = o as unknown as GrantsMsg;
      if (!isInt(m.id) || typeof m.redis !== 'boolean' || !Array.isArray(m.grants) || m.grants.length > MAX_VIPS || !m.grants.every(grantOk)) return null;
      return m;
    }
    case 'state?': return isInt(o.id) ? (o as unknown as StateReqMsg) : null;
    case 'state': return isInt(o.id) ? (o as unknown as StateMsg) : null;
    case 'bye': return { t: 'bye' };
    default: return null;
  }
}
