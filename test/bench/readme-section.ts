/**
 * A generated block inside a Markdown file, between two HTML comment
 * markers, so that a re-run of the bench replaces its own output and
 * nothing else. Without the markers the block is appended at the end.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** The markers of the bench's block in README.md. */
export const BENCH_BEGIN = '<!-- bench:generated (npm run bench rewrites this block) -->';
export const BENCH_END = '<!-- /bench:generated -->';

/** `text` with the block between `begin` and `end` replaced by `body` (appended with its markers when absent). */
export function replaceMarkedSection(text: string, body: string, begin = BENCH_BEGIN, end = BENCH_END): string {
  const block = `${begin}\n${body.trimEnd()}\n${end}`;
  const i = text.indexOf(begin);
  if (i < 0) return `${text.trimEnd()}\n\n${block}\n`;
  const j = text.indexOf(end, i + begin.length);
  // A lone begin marker would make the next run append a second block: refuse rather than guess where it ends.
  if (j < 0) throw new Error(`found ${begin} but no ${end} after it`);
  return text.slice(0, i) + block + text.slice(j + end.length);
}

/** Rewrites the bench's block of `file`. */
export function writeMarkedSection(file: string, body: string): void {
  writeFileSync(file, replaceMarkedSection(readFileSync(file, 'utf8'), body));
}
