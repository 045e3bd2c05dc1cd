/**
 * The comparison table: one row per figure, one column per target, each
 * cell the median over the rounds with its ratio to nginx (n) and to direct
 * (d) where that ratio means something. Pure: figures in, Markdown out.
 */
import type { IdleFigures, RoundFigures } from './bench-phases';
import { median } from './proc-stats';

/** Everything measured for one target. */
export interface TargetResult {
  name: string; label: string; rounds: RoundFigures[]; idle?: IdleFigures;
  /** Why this column was not measured (wsha workers: auto before node.workers exists); its cells say so. */
  pending?: string;
}

/** What the table needs to know about the run, for its headings. */
export interface TableContext {
  rounds: number; connections: number; inFlight: number; smallBytes: number; largeBytes: number;
  handshakeBatch: number; durationMs: number; cpus: number;
}

interface Row {
  title: string;
  value(t: TargetResult): number;
  /** Ratios against direct make sense only where direct has the figure (no proxy CPU or RSS there). */
  vsDirect: boolean;
}

/** Thousands separators from 1,000 up, three significant digits below. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

const med = (k: keyof RoundFigures) => (t: TargetResult) => median(t.rounds.map((r) => r[k]));

function sizeLabel(bytes: number): string {
  return bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function rows(c: TableContext): Row[] {
  const s = sizeLabel(c.smallBytes);
  const l = sizeLabel(c.largeBytes);
  return [
    { title: `${s} echo msgs/s (${c.connections} conns × ${c.inFlight} in flight)`, value: med('smallMsgsPerSec'), vsDirect: true },
    { title: `${s} proxy CPU µs/msg`, value: med('smallCpuUsPerMsg'), vsDirect: false },
    { title: `${l} echo msgs/s`, value: med('largeMsgsPerSec'), vsDirect: true },
    { title: `${l} proxy CPU µs/msg`, value: med('largeCpuUsPerMsg'), vsDirect: false },
    { title: `round trip p50 µs (${c.connections} conns, 1 in flight, ${s})`, value: med('p50Us'), vsDirect: true },
    { title: 'round trip p99 µs', value: med('p99Us'), vsDirect: true },
    { title: `new WebSocket connections/s (batches of ${c.handshakeBatch})`, value: med('handshakesPerSec'), vsDirect: true },
    { title: 'proxy CPU µs per connection (handshake + close)', value: med('cpuUsPerHandshake'), vsDirect: false },
    { title: 'idle connections held (as many as fit)', value: (t) => t.idle?.held ?? NaN, vsDirect: false },
    { title: 'proxy RSS KiB per idle connection', value: (t) => t.idle?.kibPerConnection ?? NaN, vsDirect: false },
  ];
}

function cell(row: Row, t: TargetResult, nginx: TargetResult | undefined, direct: TargetResult | undefined, isCount: boolean): string {
  if (t.pending) return 'pending';
  const v = row.value(t);
  if (!Number.isFinite(v)) return '–';
  const parts: string[] = [];
  if (!isCount && nginx && t !== nginx) { const n = row.value(nginx); if (Number.isFinite(n) && n !== 0) parts.push(`${(v / n).toFixed(2)} n`); }
  if (!isCount && row.vsDirect && direct && t !== direct) { const d = row.value(direct); if (Number.isFinite(d) && d !== 0) parts.push(`${(v / d).toFixed(2)} d`); }
  return parts.length ? `${fmt(v)} (${parts.join(', ')})` : fmt(v);
}

/** The table as Markdown, with the lines that say how to read it. */
export function comparisonTable(results: readonly TargetResult[], c: TableContext): string {
  const nginx = results.find((r) => r.name === 'nginx');
  const direct = results.find((r) => r.name === 'direct');
  const lines = [
    `| median of ${c.rounds} round${c.rounds === 1 ? '' : 's'} | ${results.map((r) => r.label).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
  ];
  for (const row of rows(c)) {
    const isCount = row.title.startsWith('idle connections held');
    lines.push(`| ${row.title} | ${results.map((t) => cell(row, t, nginx, direct, isCount)).join(' | ')} |`);
  }
  lines.push('',
    '(n): ratio to nginx, (d): ratio to direct (client straight to the echo backend). Proxy CPU is read from /proc, summed over all the',
    'proxy\'s processes and threads, and divided by the echoes (one message each way) or by the connections (handshake and close) of the',
    `measured window (${c.durationMs / 1000} s per figure and round, after a warm-up). Client, backend and proxy share the machine's ${c.cpus} cores,`,
    'so msgs/s, round trips and connections/s also depend on how much CPU the proxy leaves to the client and the backend:',
    '**proxy CPU per message is the cleanest figure**. RSS per idle connection: growth of the RSS summed over the proxy\'s processes',
    'on a freshly started proxy, divided by the connections held (each proxy process may open 20,000 files, two per tunnel).',
    ...results.filter((r) => r.pending).map((r) => `${r.label}: ${r.pending}.`));
  return lines.join('\n');
}
