/**
 * One run's figures, from what its instruments saw (pure; see timeline.ts).
 * Effects on clients (drops, lost messages, refused connects, VIP down time)
 * count from the failure on; owners and holders count over the whole run,
 * from before the first node started, since two owners at any instant
 * (also while a node starts) is a failure.
 */
import type { DropEvent, LoadFinal } from './instruments';
import { downMs, firstAnswerGap, maxConcurrent, outages, spansFromObservations, subtractSpans, takeovers, type Attempt, type Observation, type Span } from './timeline';
import { DEFAULTS } from '../../shared/config/defaults';

/** Everything one run observed. */
export interface RunData {
  /** The failure's instant. */
  at: number;
  /** Failed host, when the fault hit one. */
  victim?: string;
  /** Whether the failover gap is reported. */
  gap: boolean;
  /** Owner before the fault. */
  ownerBefore: string;
  /** Start of the watch (before the first node started): owners and holders count from here. */
  watchFrom: number;
  endAt: number;
  attempts: Attempt[];
  drops: DropEvent[];
  load: LoadFinal | null;
  claims: Span[];
  address: Observation[];
  /** Spans a host was off the segment: its address then answered nobody and is not counted. */
  offSegment: Span[];
  listener: Observation[];
  /** Nodes that exited during setup, with their last message. */
  startRefusals: string[];
  notes: string[];
}

/** One run's row. */
export interface RunMetrics {
  /** Ms the VIP did not answer the prober, from the failure on. */
  vipDownMs: number;
  /** Failure to first answer from another host than the victim; null when none answered. */
  gapMs: number | null;
  /** Client connections closed or errored without the client asking. */
  dropped: number;
  /** Messages sent and never echoed. */
  lost: number;
  /** New connections that failed (prober attempts): total and by kind. */
  refused: number;
  refusedBy: Record<string, number>;
  maxOwners: number;
  ownersOverlapMs: number;
  maxAddressHolders: number;
  addressOverlapMs: number;
  maxListeners: number;
  /** Prober answers from a host at an instant it did not claim (tolerance SAMPLE_SLACK_MS, END_SLACK_MS at an end). */
  servedOutsideClaim: number;
  /** Times the VIP moved to another node after the failure. */
  takeovers: number;
  ownerAfter: string;
  /** Nodes that refused to start (exited during setup). */
  startRefusals: number;
  notes: string[];
}

/** Claim starts are known to a sampling period (20 ms); answers this close to a claim count as inside it. */
const SAMPLE_SLACK_MS = 40;
/**
 * A claim's end is a sampled deadline, and the data plane's fence can be one renewal further: a renewal that
 * succeeded after the last sample (up to a sampling period plus a renewal interval before the node stopped
 * answering) moved it without any sample showing it.
 */
const END_SLACK_MS = SAMPLE_SLACK_MS + DEFAULTS.lease.renewIntervalMs;

/** Answers by a host outside every claim span of that host. */
export function answersOutsideClaims(attempts: readonly Attempt[], claims: readonly Span[], from: number): number {
  let n = 0;
  for (const a of attempts) {
    if (a.who === undefined || a.t1 < from) continue;
    if (!claims.some((s) => s.who === a.who && a.t1 >= s.from - SAMPLE_SLACK_MS && a.t1 <= s.to + END_SLACK_MS)) n++;
  }
  return n;
}

/** Clips spans to [from, to]. */
function clip(spans: readonly Span[], from: number, to: number): Span[] {
  return spans.map((s) => ({ who: s.who, from: Math.max(s.from, from), to: Math.min(s.to, to) })).filter((s) => s.to > s.from);
}

/** The row of one run. */
export function measureRun(d: RunData): RunMetrics {
  const after = d.attempts.filter((a) => a.t0 >= d.at && a.err !== 'skipped');
  const refusedBy: Record<string, number> = {};
  for (const a of after) if (a.who === undefined && a.err) refusedBy[a.err] = (refusedBy[a.err] ?? 0) + 1;
  const drops = d.drops.filter((x) => x.at >= d.at);
  const lostInDrops = drops.reduce((s, x) => s + x.lost, 0);
  const owners = maxConcurrent(clip(d.claims, d.watchFrom, d.endAt));
  const addr = maxConcurrent(clip(subtractSpans(spansFromObservations(d.address, d.endAt), d.offSegment), d.watchFrom, d.endAt));
  const listeners = maxConcurrent(clip(spansFromObservations(d.listener, d.endAt), d.watchFrom, d.endAt));
  const claimsAfter = d.claims.filter((s) => s.to >= d.at);
  const last = [...d.claims].sort((a, b) => a.to - b.to).pop();
  const notes = [...d.startRefusals, ...d.notes];
  if (d.load && d.load.mismatched > 0) notes.push(`${d.load.mismatched} echoes out of order`);
  const outside = answersOutsideClaims(d.attempts, d.claims, d.watchFrom);
  if (outside > 0) notes.push(`${outside} prober answers from a host that did not claim the VIP`);
  if (owners.max >= 2) notes.push(`two owners: ${owners.whoAtMax.join('+')} for ${owners.overlapMs} ms`);
  return {
    vipDownMs: downMs(outages(after, d.endAt), d.at),
    gapMs: d.gap ? firstAnswerGap(d.attempts, d.at, (w) => w !== d.victim) : null,
    dropped: drops.length,
    lost: lostInDrops + (d.load?.unansweredAtEnd ?? 0),
    refused: Object.values(refusedBy).reduce((s, n) => s + n, 0),
    refusedBy,
    maxOwners: owners.max,
    ownersOverlapMs: owners.overlapMs,
    maxAddressHolders: addr.max,
    addressOverlapMs: addr.overlapMs,
    maxListeners: listeners.max,
    servedOutsideClaim: outside,
    takeovers: takeovers([{ who: d.ownerBefore, from: d.at - 1, to: d.at }, ...claimsAfter.filter((s) => s.from >= d.at)]),
    ownerAfter: last?.who ?? '-',
    startRefusals: d.startRefusals.length,
    notes,
  };
}
