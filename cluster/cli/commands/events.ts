/**
 * `wsha events`: the cluster event history (cluster/events/), one line per
 * event with its absolute and relative time, oldest first; `--json` prints
 * one JSON event per line (the stored shape, shared/history-event.ts);
 * `--follow` goes on printing events as they are written.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../shared/errors';
import { HISTORY_KINDS, vipOf, type StoredEvent } from '../../../shared/history-event';
import { matches, parseTimeArg, type HistoryQuery } from '../../events/history-query';
import { followHistory, lastEntryId, readHistory } from '../../events/read-history';
import { absoluteTime, describeEvent, eventTone, relativeTime } from '../../events/event-text';
import { action } from '../exit';
import { paint } from '../format';
import { addTargetOptions, withTarget, type TargetOptions } from '../redis-target';

interface Flags extends TargetOptions { since?: string; until?: string; vip?: string; node?: string; kind?: string[]; follow?: boolean; json?: boolean }

/** Longest `--follow`: a week of one-second blocks (every loop is bounded). */
const FOLLOW_MAX_ROUNDS = 7 * 24 * 3600;
/** Width of the KIND column (the longest kind). */
const KIND_WIDTH = Math.max(...HISTORY_KINDS.map((k) => k.length));

const TONE_COLOR = { bad: 'red', good: 'green', act: 'yellow', plain: null } as const;

/** Builds the query from the flags; throws ConfigError (exit 2) naming the bad flag. */
export function queryFromFlags(f: Flags, nowMs: number): HistoryQuery {
  const sinceMs = parseTimeArg(f.since ?? '1h', '--since', nowMs);
  const untilMs = f.until !== undefined ? parseTimeArg(f.until, '--until', nowMs) : undefined;
  if (untilMs !== undefined && untilMs < sinceMs) throw new ConfigError('--until: expected a time after --since');
  const kinds = new Set((f.kind ?? []).flatMap((k) => k.split(',')).map((k) => k.trim()).filter(Boolean));
  const unknown = [...kinds].filter((k) => !(HISTORY_KINDS as readonly string[]).includes(k));
  if (unknown.length) throw new ConfigError(`--kind ${unknown.join(',')}: expected one of ${HISTORY_KINDS.join(', ')}`);
  return { sinceMs, ...(untilMs !== undefined ? { untilMs } : {}), ...(f.vip ? { vip: f.vip } : {}), ...(f.node ? { node: f.node } : {}), ...(kinds.size ? { kinds } : {}) };
}

/** One table line: absolute time, relative time, kind, VIP, node, what happened. */
export function eventLine(e: StoredEvent, nowMs: number): string {
  const when = `${absoluteTime(e.at, nowMs)}  ${relativeTime(e.at, nowMs).padEnd(8)}`;
  const color = TONE_COLOR[eventTone(e)];
  const kind = e.kind.padEnd(KIND_WIDTH);
  const where = `${(vipOf(e) ?? '-').padEnd(8)} ${(e.node ?? '-').padEnd(10)}`;
  return `${paint(when, 'dim')}  ${color ? paint(kind, color) : kind}  ${where} ${describeEvent(e)}\n`;
}

function print(e: StoredEvent, json: boolean | undefined): void {
  process.stdout.write(json ? `${JSON.stringify(e)}\n` : eventLine(e, Date.now()));
}

/** Registers `wsha events` on the program. */
export function registerEventsCommand(program: Command): void {
  const cmd = program
    .command('events')
    .description('the cluster event history: ownership changes, handovers, step-downs, nodes, backend verdicts, pool changes, reloads, Redis links, refusals, admin actions')
    .option('--since <when>', 'from: a duration back (90s, 15m, 1h, 2d), a time today (03:12), an ISO date or epoch ms', '1h')
    .option('--until <when>', 'to (same forms as --since; default: now)')
    .option('--vip <name>', 'only events about this VIP')
    .option('--node <id>', 'only events that name this node')
    .option('--kind <kinds...>', `only these kinds (comma-separated or repeated): ${HISTORY_KINDS.join(', ')}`)
    .option('--follow', 'keep printing events as they are written (Ctrl-C ends)')
    .option('--json', 'one JSON event per line');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExamples:\n  wsha events --config /etc/wsha/node-a.yaml --since 03:00 --until 03:30\n  wsha events --redis redis://127.0.0.1:6379 --cluster demo --vip front --kind ownership,step-down --json\n  wsha events --config /etc/wsha/node-a.yaml --follow\n\nExit codes: 0 done, 2 bad usage (--since, --until, --kind), 3 Redis unreachable (or lost while following).')
    .action(action(async (f: Flags) => {
      const q = queryFromFlags(f, Date.now());
      await withTarget(f, async (t) => {
        // The id before the read: an event written while the window is read is printed by the follow, not lost.
        const startId = f.follow ? await lastEntryId(t.redis, t.keys) : '0-0';
        const page = await readHistory(t.redis, t.keys, { ...q, ...(f.follow ? { untilMs: undefined } : {}) });
        if (page.truncated && !f.json) process.stderr.write('wsha: more events than one read takes; the oldest part of the window is left out (narrow --since)\n');
        for (const e of page.events) print(e, f.json);
        if (!f.json && page.events.length === 0 && !f.follow) process.stdout.write(paint('  (no events in this window)\n', 'dim'));
        if (!f.follow) return;
        let stopped = false;
        process.once('SIGINT', () => { stopped = true; });
        const seen = new Set(page.events.map((e) => e.id));
        // Follow matches kinds, VIP and node; the window's end does not apply to what comes next.
        await followHistory(t.redis, t.keys, startId, (e) => { if (!seen.has(e.id) && matches(e, { ...q, sinceMs: 0, untilMs: undefined })) print(e, f.json); }, { stopped: () => stopped, maxRounds: FOLLOW_MAX_ROUNDS });
      });
    }));
}
