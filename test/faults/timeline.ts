/**
 * Pure arithmetic over what the fault matrix observed: intervals during
 * which a node claimed the VIP or a host held its address, how many overlap
 * at most, and the spans during which the connect prober got no answer.
 * No I/O here; test/faults/timeline.test.ts checks it.
 */

/** [from, to) in wall-clock ms, owned by `who`. */
export interface Span { who: string; from: number; to: number }

/** Most spans of different `who` that intersect at one instant, and how long two or more did. */
export function maxConcurrent(spans: readonly Span[]): { max: number; overlapMs: number; whoAtMax: string[] } {
  const edges: Array<{ t: number; d: number; who: string }> = [];
  for (const s of spans) if (s.to > s.from) { edges.push({ t: s.from, d: 1, who: s.who }); edges.push({ t: s.to, d: -1, who: s.who }); }
  // Ends before starts at the same instant: [a,b) and [b,c) do not overlap.
  edges.sort((x, y) => x.t - y.t || x.d - y.d);
  const live = new Map<string, number>();
  let max = 0, overlapMs = 0, whoAtMax: string[] = [], since = 0;
  for (const e of edges) {
    if (live.size >= 2) overlapMs += e.t - since;
    since = e.t;
    const n = (live.get(e.who) ?? 0) + e.d;
    if (n <= 0) live.delete(e.who); else live.set(e.who, n);
    if (live.size > max) { max = live.size; whoAtMax = [...live.keys()].sort(); }
  }
  return { max, overlapMs: Math.round(overlapMs), whoAtMax };
}

/** One timestamped observation that `who` holds something (`on`) or not. */
export interface Observation { who: string; t: number; on: boolean }

/** Turns per-`who` on/off observations into spans; an open span ends at `endMs`. */
export function spansFromObservations(obs: readonly Observation[], endMs: number): Span[] {
  const byWho = new Map<string, Observation[]>();
  for (const o of obs) { const l = byWho.get(o.who) ?? []; l.push(o); byWho.set(o.who, l); }
  const out: Span[] = [];
  for (const [who, list] of byWho) {
    list.sort((a, b) => a.t - b.t);
    let openAt: number | null = null;
    for (const o of list) {
      if (o.on && openAt === null) openAt = o.t;
      else if (!o.on && openAt !== null) { out.push({ who, from: openAt, to: o.t }); openAt = null; }
    }
    if (openAt !== null) out.push({ who, from: openAt, to: Math.max(openAt, endMs) });
  }
  return out;
}

/** One connect attempt of the prober: started at `t0`, ended at `t1`; `who` answered, or `err`. */
export interface Attempt { t0: number; t1: number; who?: string; err?: string }

/** Spans during which the prober got no answer: from the first failed attempt to the start of the next answered one. */
export function outages(attempts: readonly Attempt[], endMs: number): Array<{ from: number; to: number }> {
  const sorted = [...attempts].sort((a, b) => a.t0 - b.t0);
  const out: Array<{ from: number; to: number }> = [];
  let downSince: number | null = null;
  for (const a of sorted) {
    if (a.who === undefined && downSince === null) downSince = a.t0;
    else if (a.who !== undefined && downSince !== null) { out.push({ from: downSince, to: a.t0 }); downSince = null; }
  }
  if (downSince !== null) out.push({ from: downSince, to: Math.max(downSince, endMs) });
  return out;
}

/** Total ms of `outages` that lie at or after `sinceMs`. */
export function downMs(spans: ReadonlyArray<{ from: number; to: number }>, sinceMs = -Infinity): number {
  let total = 0;
  for (const s of spans) total += Math.max(0, s.to - Math.max(s.from, sinceMs));
  return Math.round(total);
}

/** Ms from `atMs` to the end of the first attempt started at or after it that `pred(who)` accepts; null if none. */
export function firstAnswerGap(attempts: readonly Attempt[], atMs: number, pred: (who: string) => boolean): number | null {
  let best: number | null = null;
  for (const a of attempts) {
    if (a.t0 < atMs || a.who === undefined || !pred(a.who)) continue;
    if (best === null || a.t1 < best) best = a.t1;
  }
  return best === null ? null : Math.round(best - atMs);
}

/** Median of a list (mean of the middle two for an even count); null when empty. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Changes of owner along claim spans sorted by start: how often the VIP moved to another node. */
export function takeovers(claims: readonly Span[]): number {
  const sorted = [...claims].sort((a, b) => a.from - b.from);
  let n = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.who !== sorted[i - 1]!.who) n++;
  return n;
}

/** `spans` minus, per `who`, the parts that fall inside `holes` of the same `who`. */
export function subtractSpans(spans: readonly Span[], holes: readonly Span[]): Span[] {
  let out = [...spans];
  for (const h of holes) {
    const next: Span[] = [];
    for (const s of out) {
      if (s.who !== h.who || s.to <= h.from || s.from >= h.to) { next.push(s); continue; }
      if (s.from < h.from) next.push({ who: s.who, from: s.from, to: h.from });
      if (s.to > h.to) next.push({ who: s.who, from: h.to, to: s.to });
    }
    out = next;
  }
  return out;
}
