/**
 * The speed goals of issue 11, judged on the medians of one bench run: for
 * each wsha column, met or missed and by how much. Pure: results in, rows
 * out. A goal against peers that were not measured in this run is not
 * judged (the run says so) rather than judged against nothing.
 */
import type { TargetResult } from './bench-table';
import { fmt } from './bench-table';
import { median } from './proc-stats';
import type { RoundFigures } from './bench-phases';

/** The peers the goals compare against. */
const PEERS = ['nginx', 'haproxy', 'http-proxy'] as const;
/** Scale goal of issue 11: proxy RSS growth per connection. */
export const RSS_GOAL_KIB = 5;

/** One goal judged for one wsha column. */
export interface GoalVerdict {
  goal: string;
  /** The bar and what it was taken from ("1.1 × best peer HAProxy 61,547"), '' when not set. */
  barText: string;
  target: string;
  /** The bar wsha had to reach, or NaN when it could not be set. */
  bar: number;
  value: number;
  /** true met, false missed, null not judged. */
  met: boolean | null;
  /** Human-readable verdict: "met (1.20× the bar)", "missed by 12 %", "not judged: ...". */
  text: string;
}

type Figure = (t: TargetResult) => number;
const med = (k: keyof RoundFigures): Figure => (t) => median(t.rounds.map((r) => r[k]));

interface Goal {
  goal: string;
  figure: Figure;
  /** 'min': wsha must reach at least the bar; 'max': at most. */
  kind: 'min' | 'max';
  /** The bar from the peers' figures, with what it was taken from; null when the peers needed are missing. */
  bar(peers: ReadonlyMap<string, TargetResult>, figure: Figure): { bar: number; from: string } | null;
}

function bestPeer(peers: ReadonlyMap<string, TargetResult>, figure: Figure, pick: 'max' | 'min'): { value: number; label: string } | null {
  let best: { value: number; label: string } | null = null;
  for (const p of peers.values()) {
    const v = figure(p);
    if (!Number.isFinite(v)) continue;
    if (!best || (pick === 'max' ? v > best.value : v < best.value)) best = { value: v, label: p.label };
  }
  return best;
}

function onePeer(name: string, factor: number): Goal['bar'] {
  return (peers, figure) => {
    const p = peers.get(name);
    const v = p ? figure(p) : NaN;
    return Number.isFinite(v) ? { bar: v * factor, from: `${factor === 1 ? '' : `${factor} × `}${p!.label} ${fmt(v)}` } : null;
  };
}

function best(factor: number, pick: 'max' | 'min'): Goal['bar'] {
  return (peers, figure) => {
    const b = bestPeer(peers, figure, pick);
    return b ? { bar: b.value * factor, from: `${factor === 1 ? '' : `${factor} × `}best peer ${b.label} ${fmt(b.value)}` } : null;
  };
}

/** The goals, in the order of issue 11's "Speed" bullet (and its scale bullet for memory). */
function goals(smallLabel: string, largeLabel: string): Goal[] {
  return [
    { goal: `${smallLabel} msgs/s ≥ 1.1 × the best peer`, figure: med('smallMsgsPerSec'), kind: 'min', bar: best(1.1, 'max') },
    { goal: `${largeLabel} msgs/s ≥ 1.1 × the best peer`, figure: med('largeMsgsPerSec'), kind: 'min', bar: best(1.1, 'max') },
    { goal: `${largeLabel} proxy CPU per message ≤ HAProxy's`, figure: med('largeCpuUsPerMsg'), kind: 'max', bar: onePeer('haproxy', 1) },
    { goal: 'new connections/s ≥ nginx\'s', figure: med('handshakesPerSec'), kind: 'min', bar: onePeer('nginx', 1) },
    { goal: 'proxy CPU per connection ≤ 1.5 × nginx\'s', figure: med('cpuUsPerHandshake'), kind: 'max', bar: onePeer('nginx', 1.5) },
    { goal: 'round trip p99 ≤ the best peer\'s', figure: med('p99Us'), kind: 'max', bar: best(1, 'min') },
    { goal: `proxy RSS per idle connection ≤ ${RSS_GOAL_KIB} KiB (scale goal)`, figure: (t) => t.idle?.kibPerConnection ?? NaN, kind: 'max', bar: () => ({ bar: RSS_GOAL_KIB, from: `${RSS_GOAL_KIB} KiB` }) },
  ];
}

/** Judges one figure against its bar. */
export function verdict(value: number, bar: number, kind: 'min' | 'max'): { met: boolean | null; text: string } {
  if (!Number.isFinite(value)) return { met: null, text: 'not judged: not measured' };
  if (!Number.isFinite(bar) || bar <= 0) return { met: null, text: 'not judged: no bar' };
  const ratio = value / bar;
  const met = kind === 'min' ? ratio >= 1 : ratio <= 1;
  if (met) return { met, text: `met (${ratio.toFixed(2)}× the bar)` };
  const pct = kind === 'min' ? (1 - ratio) * 100 : (ratio - 1) * 100;
  return { met, text: `**missed by ${pct.toFixed(0)} %** (${ratio.toFixed(2)}× the bar)` };
}

/** Every goal for every wsha column of `results` (columns with `pending` are reported as pending). */
export function judgeGoals(results: readonly TargetResult[], smallLabel: string, largeLabel: string): GoalVerdict[] {
  const peers = new Map(results.filter((r) => (PEERS as readonly string[]).includes(r.name)).map((r) => [r.name, r]));
  const out: GoalVerdict[] = [];
  for (const w of results.filter((r) => r.name.startsWith('wsha'))) {
    for (const g of goals(smallLabel, largeLabel)) {
      const b = g.bar(peers, g.figure);
      const barText = b ? `${fmt(b.bar)} (${b.from})` : '';
      if (w.pending) { out.push({ goal: g.goal, barText, target: w.label, bar: NaN, value: NaN, met: null, text: w.pending }); continue; }
      const value = g.figure(w);
      if (!b) { out.push({ goal: g.goal, barText, target: w.label, bar: NaN, value, met: null, text: 'not judged: the peer it is measured against was not in this run' }); continue; }
      const v = verdict(value, b.bar, g.kind);
      out.push({ goal: g.goal, barText, target: w.label, bar: b.bar, value, met: v.met, text: `${fmt(value)}: ${v.text}` });
    }
  }
  return out;
}

/** The verdicts as a Markdown table: goal, bar, then one column per wsha target. */
export function goalsTable(verdicts: readonly GoalVerdict[]): string {
  const targets = [...new Set(verdicts.map((v) => v.target))];
  if (targets.length === 0) return '';
  const rows = new Map<string, GoalVerdict[]>();
  for (const v of verdicts) rows.set(v.goal, [...(rows.get(v.goal) ?? []), v]);
  const lines = [`| goal of issue 11 | bar | ${targets.join(' | ')} |`, `|---|---|${targets.map(() => '---').join('|')}|`];
  for (const [goal, vs] of rows) {
    lines.push(`| ${goal} | ${vs[0]!.barText || '–'} | ${targets.map((t) => vs.find((v) => v.target === t)?.text ?? '–').join(' | ')} |`);
  }
  return lines.join('\n');
}
