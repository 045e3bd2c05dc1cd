/** `wsha sessions`: sticky-session records per pool and backend, or the records themselves. */
import type { Command } from 'commander';
import { readSessionCounts, readSessions, DEFAULT_SESSION_SCAN_LIMIT } from '../../affinity/read-sessions';
import { ConfigError } from '../../../shared/errors';
import { action } from '../exit';
import { duration, paint, printJson, table } from '../format';
import { addTargetOptions, withTarget, type TargetOptions } from '../redis-target';

type Opts = TargetOptions & { json?: boolean; pool?: string; list?: boolean; limit?: string };

/** Registers `wsha sessions`. */
export function registerSessionsCommand(program: Command): void {
  const cmd = program
    .command('sessions')
    .description('sticky sessions recorded in Redis: how many per pool and backend (or, with --list, each session with its backend and TTL)')
    .option('--pool <pool>', 'only this pool')
    .option('--list', 'list the sessions themselves')
    .option('--limit <n>', 'read at most this many session records', String(DEFAULT_SESSION_SCAN_LIMIT))
    .option('--json', 'print a JSON document');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExamples:\n  wsha sessions --config /etc/wsha/node-a.yaml\n  wsha sessions --pool app --list --json --redis redis://127.0.0.1:6379 --cluster demo\n\nExit codes: 0 done, 2 bad arguments or config, 3 Redis unreachable.')
    .action(action(async (opts: Opts) => {
      const limit = Number(opts.limit ?? DEFAULT_SESSION_SCAN_LIMIT);
      if (!Number.isInteger(limit) || limit <= 0) throw new ConfigError(`--limit: expected a positive integer, got ${opts.limit}`);
      await withTarget(opts, async (t) => {
        if (opts.list) {
          const { sessions, truncated } = await readSessions(t.redis, t.keys, { pool: opts.pool, limit });
          if (opts.json) return printJson({ sessions, truncated });
          process.stdout.write(table(['pool', 'session', 'backend', 'expires in'], sessions.map((s) => [s.pool, s.key, s.backend, s.ttlMs < 0 ? 'never' : duration(s.ttlMs)])));
          if (truncated) process.stdout.write(paint(`  (stopped at --limit ${limit})\n`, 'dim'));
          return;
        }
        const counts = await readSessionCounts(t.redis, t.keys, { pool: opts.pool, limit });
        if (opts.json) return printJson(counts);
        const rows = counts.flatMap((c) => Object.keys(c.byBackend).length
          ? Object.entries(c.byBackend).sort(([a], [b]) => a.localeCompare(b)).map(([b, n]) => [c.pool, b, n])
          : [[c.pool, '-', 0]]);
        process.stdout.write(table(['pool', 'backend', 'sessions'], rows));
        if (counts.some((c) => c.truncated)) process.stdout.write(paint(`  (lower bounds: stopped at --limit ${limit})\n`, 'dim'));
      });
    }));
}
