/**
 * Output helpers of the CLI: aligned text tables, durations and ages for
 * people, and one JSON document per line for scripts.
 */

/** Colours only when stdout is a terminal and NO_COLOR is unset. */
const useColor = (): boolean => process.stdout.isTTY === true && !process.env.NO_COLOR;

/** Wraps text in an ANSI colour when the terminal wants it. */
export function paint(text: string, color: 'red' | 'green' | 'yellow' | 'dim' | 'bold'): string {
  if (!useColor()) return text;
  const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
  return `\u001b[${codes[color]}m${text}\u001b[0m`;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string): number => s.replace(ANSI, '').length;

/** Renders rows as a left-aligned table with a header line; empty tables print "(none)". */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  if (rows.length === 0) return `  ${paint('(none)', 'dim')}\n`;
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => visible(r[i] ?? ''))));
  const line = (r: readonly string[]) => '  ' + r.map((c, i) => c + ' '.repeat(Math.max(0, widths[i] - visible(c)))).join('  ').trimEnd();
  return [paint(line(headers.map((h) => h.toUpperCase())), 'dim'), ...cells.map(line)].join('\n') + '\n';
}

/** 1234 -> "1.2s", 61000 -> "1m1s", 90061000 -> "1d1h". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${Math.floor(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** Wall-clock ms -> "12:03:04" (local time) for "since" columns. */
export function clockTime(wallMs: number | null | undefined): string {
  if (!wallMs) return '-';
  return new Date(wallMs).toTimeString().slice(0, 8);
}

/** Prints a value as one JSON document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A heading line for a section of a text report. */
export function heading(text: string): string {
  return paint(text, 'bold') + '\n';
}
