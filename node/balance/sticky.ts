/**
 * Sticky by session key. The affinity store's answer (looked up before the
 * pick) wins while that backend is eligible; otherwise rendezvous (highest
 * random weight) hashing over the eligible backends, so that every node maps
 * a key to the same backend even without Redis, and only the keys of a
 * backend that leaves move.
 */
import type { Backend } from '../pool/backend';
import type { BackendPool } from '../pool/backend-pool';
import type { Balancer, PickContext } from './balancer';

/** Sticky sessions with rendezvous hashing as the fallback. */
export class StickyBalancer implements Balancer {
  readonly kind = 'sticky' as const;

  pick(pool: BackendPool, ctx: PickContext): Backend | null {
    if (ctx.preferredId !== null) {
      const b = pool.get(ctx.preferredId);
      if (b && pool.isEligible(b)) return b;
    }
    return rendezvous(pool, ctx.sessionKey ?? ctx.clientAddress);
  }
}

/** The eligible backend with the highest hash of (key, backend id), weighted. */
export function rendezvous(pool: BackendPool, key: string): Backend | null {
  let best: Backend | null = null;
  let bestScore = -Infinity;
  const keyHash = fnv1a(key, 0x811c9dc5);
  for (const b of pool.backends) {
    if (!pool.isEligible(b)) continue;
    // Weighted rendezvous: -w / ln(u) with u uniform in (0, 1).
    const u = (fnv1a(b.id, keyHash) + 0.5) / 4294967296;
    const score = -b.weight / Math.log(u);
    if (score > bestScore || (score === bestScore && best !== null && b.id < best.id)) { best = b; bestScore = score; }
  }
  return best;
}

/** 32-bit FNV-1a over the UTF-16 code units of `s`, seeded, with a final avalanche. */
export function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // murmur3 fmix32: spreads similar keys (sess-1, sess-2) apart.
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
