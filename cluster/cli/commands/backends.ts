/**
 * `wsha backends`: list the backends of the pools with their verdicts, and
 * change pools live (`add`, `remove`, `disable`, `enable`). Changes go to
 * Redis and every node applies them within a second, without a restart;
 * they survive node restarts (the file config is the base they apply to).
 * A removed backend is drained: no new connections, its open tunnels get
 * 1012 after a grace period.
 */
import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { BackendSchema } from '../../../shared/config/schema';
import { ConfigError, NotFoundError } from '../../../shared/errors';
import type { PoolChange } from '../../../shared/records';
import { readBackendList, type BackendList, type BackendListEntry } from '../../config-sync/list-backends';
import { cliActor } from '../../events/actor';
import { writePoolChange } from '../../config-sync/pool-store';
import { action } from '../exit';
import { paint, printJson, table } from '../format';
import { addTargetOptions, withTarget, type Target, type TargetOptions } from '../redis-target';

type Opts = TargetOptions & { json?: boolean };

const EXIT_HELP = '\n\nExit codes: 0 done, 1 conflict (already there, already disabled), 2 bad arguments or config, 3 Redis unreachable, 4 no such pool or backend.';

function who(): string {
  try { return `${userInfo().username}@${hostname()}`; } catch { return `cli@${hostname()}`; }
}

/** Where the list came from, and every pool the running nodes route differently. */
export function renderListSource(list: Pick<BackendList, 'from' | 'disagreements'>, hasConfig: boolean): string {
  let out = list.from.length
    ? paint(`  as routed by ${list.from.join(', ')}\n`, 'dim')
    : paint(`  no node has published its pools: ${hasConfig ? 'the config file' : 'Redis tables'} shown\n`, 'dim');
  for (const d of list.disagreements) {
    out += paint(`  nodes disagree on pool ${d.pool}:\n`, 'yellow');
    for (const v of d.views) out += paint(`    ${v.nodes.join(', ')}: ${v.backends}\n`, 'yellow');
  }
  return out;
}

function verdictCell(e: BackendListEntry): string {
  const up = e.observations.filter((o) => o.up).length;
  const checks = e.observations.length ? ` (${up}/${e.observations.length} nodes up)` : '';
  const color = e.verdict === 'up' ? 'green' : e.verdict === 'down' ? 'red' : 'yellow';
  return paint(e.verdict, color) + checks;
}

/** Text table of `backends list`. */
export function renderBackendList(entries: readonly BackendListEntry[], version: number): string {
  const rows = entries.map((e) => [e.pool, e.backend, e.url, e.weight, e.state, e.source, verdictCell(e)]);
  return table(['pool', 'backend', 'url', 'weight', 'state', 'source', 'verdict'], rows) + paint(`  live pool changes: version ${version}\n`, 'dim');
}

async function change(t: Target, op: PoolChange['op'], pool: string, id: string, url?: string): Promise<PoolChange> {
  const problems = BackendSchema.safeParse({ id, url: url ?? 'http://127.0.0.1:1' });
  if (!problems.success) throw new ConfigError(`bad backend ${id}`, problems.error.issues.map((i) => `${i.path.join('.') || 'backend'}: ${i.message}`));
  const list = await readBackendList(t.redis, t.keys, t.config, pool);
  if (!list.pools.includes(pool) || (t.config && !t.config.pools[pool])) throw new NotFoundError(`pool ${pool}`);
  const base = t.config ? t.config.pools[pool].backends : null;
  const knownIds = new Set(list.entries.filter((e) => e.pool === pool && e.state !== 'removed').map((e) => e.backend));
  return writePoolChange(t.redis, t.keys, { pool, op, backendId: id, url, by: who(), actor: cliActor() }, { base, knownIds, nowWallMs: Date.now() });
}

function report(c: PoolChange, json: boolean | undefined): void {
  if (json) return printJson(c);
  const verb = { add: 'added', remove: 'removed', disable: 'disabled', enable: 'enabled' }[c.op];
  const tail = c.op === 'remove' ? '; its open connections close after the drain grace period' : '';
  process.stdout.write(`${verb} backend ${c.backendId}${c.url ? ` (${c.url})` : ''} ${c.op === 'add' ? 'to' : 'in'} pool ${c.pool}: version ${c.version}; every node applies it within a second${tail}\n`);
}

/** Registers `wsha backends` and its subcommands. */
export function registerBackendsCommands(program: Command): void {
  const backends = program.command('backends').description('list backends with their health, and add, remove, disable or enable them live');

  addTargetOptions(backends.command('list').argument('[pool]', 'only this pool').description('list the backends of every pool (or one): URL, weight, live state, merged verdict and node checks'))
    .option('--json', 'print a JSON document')
    .addHelpText('after', `\nExamples:\n  wsha backends list --config /etc/wsha/node-a.yaml\n  wsha backends list app --redis redis://127.0.0.1:6379 --cluster demo --json${EXIT_HELP}`)
    .action(action(async (pool: string | undefined, opts: Opts) => {
      await withTarget(opts, async (t) => {
        const list = await readBackendList(t.redis, t.keys, t.config, pool);
        if (pool && !list.pools.includes(pool)) throw new NotFoundError(`pool ${pool}`);
        if (opts.json) printJson({ version: list.version, backends: list.entries, from: list.from, disagreements: list.disagreements });
        else process.stdout.write(renderBackendList(list.entries, list.version) + renderListSource(list, t.config !== null));
      });
    }));

  addTargetOptions(backends.command('add').argument('<pool>', 'pool name').argument('<id>', 'new backend id').argument('<url>', 'http(s):// or ws(s):// URL of the backend')
    .description('add a backend to a pool on every node (live, survives restarts)'))
    .option('--json', 'print the change as JSON')
    .addHelpText('after', `\nExample:\n  wsha backends add app app-3 ws://10.0.0.13:8080 --config /etc/wsha/node-a.yaml${EXIT_HELP}`)
    .action(action(async (pool: string, id: string, url: string, opts: Opts) => {
      await withTarget(opts, async (t) => report(await change(t, 'add', pool, id, url), opts.json));
    }));

  for (const [op, what] of [['remove', 'remove a backend from a pool on every node; its connections are drained'], ['disable', 'stop sending new connections to a backend (weight 0); open ones stay'], ['enable', 'undo disable']] as const) {
    addTargetOptions(backends.command(op).argument('<pool>', 'pool name').argument('<id>', 'backend id').description(what))
      .option('--json', 'print the change as JSON')
      .addHelpText('after', `\nExample:\n  wsha backends ${op} app app-2 --redis redis://127.0.0.1:6379 --cluster demo${EXIT_HELP}`)
      .action(action(async (pool: string, id: string, opts: Opts) => {
        await withTarget(opts, async (t) => report(await change(t, op, pool, id), opts.json));
      }));
  }
}
