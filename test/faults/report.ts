/**
 * The matrix's table: one row per fault and cluster size, each figure the
 * median of its runs with the max in parentheses when runs differ. Printed
 * as aligned text and, with --markdown, as a Markdown table for the README.
 */
import type { RunMetrics } from './measure';
import { median } from './timeline';
import { missedTargets } from './targets';

/** All runs of one fault on one cluster size. */
export interface RowRuns { id: string; issue: number; title: string; nodes: number; runs: RunMetrics[]; errors: string[] }

/** Column headings and how each cell is drawn from a row's runs. */
const COLUMNS: ReadonlyArray<{ head: string; cell(r: RowRuns): string }> = [
  { head: 'fault', cell: (r) => r.id },
  { head: 'nodes', cell: (r) => String(r.nodes) },
  { head: 'runs', cell: (r) => `${r.runs.length}${r.errors.length ? `+${r.errors.length} failed` : ''}` },
  { head: 'VIP down ms', cell: (r) => stat(r.runs.map((m) => m.vipDownMs)) },
  { head: 'gap ms', cell: (r) => stat(r.runs.map((m) => m.gapMs)) },
  { head: 'dropped', cell: (r) => stat(r.runs.map((m) => m.dropped)) },
  { head: 'msgs lost', cell: (r) => stat(r.runs.map((m) => m.lost)) },
  { head: 'refused', cell: (r) => stat(r.runs.map((m) => m.refused)) },
  { head: 'owners', cell: (r) => maxOf(r.runs.map((m) => m.maxOwners), r.runs.map((m) => m.ownersOverlapMs)) },
  { head: 'addr holders', cell: (r) => maxOf(r.runs.map((m) => m.maxAddressHolders), r.runs.map((m) => m.addressOverlapMs)) },
  { head: 'takeovers', cell: (r) => stat(r.runs.map((m) => m.takeovers)) },
  { head: 'owner after', cell: (r) => [...new Set(r.runs.map((m) => m.ownerAfter))].join('/') || '-' },
  { head: 'targets', cell: (r) => missedTargets(r).join(', ') || 'met' },
];

/** Median, with the max in parentheses when it differs; `-` for no value. */
export function stat(xs: ReadonlyArray<number | null>): string {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return '-';
  const med = Math.round(median(v) as number);
  const max = Math.max(...v);
  return max === med ? String(med) : `${med} (${max})`;
}

/** The most at once over all runs, with the longest overlap of two or more in ms. */
function maxOf(counts: readonly number[], overlapMs: readonly number[]): string {
  if (counts.length === 0) return '-';
  const max = Math.max(...counts);
  const ms = Math.max(...overlapMs);
  return max >= 2 ? `${max} (${ms} ms)` : String(max);
}

/** Cells of every row. */
function cells(rows: readonly RowRuns[]): string[][] { return rows.map((r) => COLUMNS.map((c) => c.cell(r))); }

/** Aligned text table. */
export function textTable(rows: readonly RowRuns[]): string {
  const body = cells(rows);
  const heads = COLUMNS.map((c) => c.head);
  const widths = heads.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (xs: readonly string[]) => xs.map((x, i) => x.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(heads), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Markdown table, then one line per row with its notes and failed runs. */
export function markdownTable(rows: readonly RowRuns[], header: string): string {
  const heads = COLUMNS.map((c) => c.head);
  const out = [header, '', `| ${heads.join(' | ')} |`, `|${heads.map(() => '---').join('|')}|`, ...cells(rows).map((c) => `| ${c.join(' | ')} |`)];
  const notes = notesOf(rows);
  if (notes.length) out.push('', ...notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** Notes of every row (distinct), and the errors of failed runs. */
export function notesOf(rows: readonly RowRuns[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const notes = [...new Set(r.runs.flatMap((m) => m.notes))];
    const refused = new Map<string, number>();
    for (const m of r.runs) for (const [k, n] of Object.entries(m.refusedBy)) refused.set(k, Math.max(refused.get(k) ?? 0, n));
    if (refused.size) notes.push(`failed connects by kind (max of runs): ${[...refused].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const e of r.errors) notes.push(`run failed: ${e}`);
    if (notes.length) out.push(`${r.id} (${r.nodes} nodes): ${notes.join('; ')}`);
  }
  return out;
}
