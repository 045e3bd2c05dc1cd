/**
 * `wsha status`: the whole cluster on one screen (or one JSON document),
 * with an exit code for scripts: 0 healthy, 1 degraded, 2 down, 3 Redis
 * unreachable. `--watch` redraws in place until Ctrl-C.
 */
import type { Command } from 'commander';
import { exitCodeOf } from '../../status/assess';
import { collectStatus } from '../../status/collect';
import { renderStatus } from '../../status/render';
import { action, reportError } from '../exit';
import { printJson } from '../format';
import { addTargetOptions, withTarget, type Target, type TargetOptions } from '../redis-target';

interface StatusOptions extends TargetOptions { json?: boolean; watch?: boolean; interval: string }

/** Most redraws of one `--watch` run (a day at one per second): every loop is bounded. */
const MAX_WATCH_ROUNDS = 86_400;

async function once(t: Target, json: boolean, oneLine = false): Promise<number> {
  const doc = await collectStatus({ redis: t.redis, keys: t.keys, address: t.address, config: t.config });
  // With --watch, JSON goes out one document per line (NDJSON), easy to follow with a pipe.
  if (json && oneLine) process.stdout.write(JSON.stringify(doc) + '\n');
  else if (json) printJson(doc);
  else process.stdout.write(renderStatus(doc));
  return exitCodeOf(doc.health);
}

async function watch(t: Target, json: boolean, intervalMs: number): Promise<void> {
  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  for (let i = 0; i < MAX_WATCH_ROUNDS && !stop; i++) {
    // Clear the screen and home the cursor, so the screen refreshes in place.
    if (!json && process.stdout.isTTY) process.stdout.write('\u001b[H\u001b[2J');
    try {
      process.exitCode = await once(t, json, true);
    } catch (err) {
      reportError(err);
    }
    if (!json) process.stdout.write(`\n(refreshing every ${intervalMs} ms; Ctrl-C to stop)\n`);
    for (let waited = 0; waited < intervalMs && !stop; waited += 100) await new Promise((r) => setTimeout(r, 100));
  }
}

/** Registers `wsha status` on the program. */
export function registerStatusCommand(program: Command): void {
  const cmd = program
    .command('status')
    .description('show nodes, VIPs, backends, sessions and warnings of the cluster; exit code says healthy (0), degraded (1) or down (2)')
    .option('--json', 'print one JSON document (shape: cluster/status/status-document.ts, "version": 1)')
    .option('-w, --watch', 'refresh in place until Ctrl-C (with --json: one document per line)')
    .option('--interval <ms>', 'refresh interval for --watch', '1000');
  addTargetOptions(cmd)
    .addHelpText('after', '\nExamples:\n  wsha status --config /etc/wsha/node-a.yaml\n  wsha status --redis redis://127.0.0.1:6379 --cluster demo --json\n\nExit codes: 0 healthy, 1 degraded, 2 down, 3 Redis unreachable.')
    .action(action(async (opts: StatusOptions) => {
      await withTarget(opts, async (t) => {
        if (opts.watch) await watch(t, opts.json === true, Math.max(100, Number(opts.interval) || 1000));
        else process.exitCode = await once(t, opts.json === true);
      });
    }));
}
