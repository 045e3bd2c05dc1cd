/**
 * The fault matrix of issues 9 and 13: every fault of fault-catalog.ts on
 * two- and three-node clusters of real `wsha node start` processes in
 * network namespaces, each run under 200 WebSocket clients, a connect
 * prober every 20 ms and the never-two-owners sampler, then one table.
 *
 *   npm run faults -- [--only a,b] [--runs N] [--nodes 2|3|2,3] [--soak SECONDS]
 *                     [--markdown FILE] [--clients 200] [--message-ms 250]
 *                     [--probe-ms 20] [--settle-ms 2000] [--keep-logs DIR]
 *                     [--strict] [--list]
 *
 * --soak SECONDS runs only the soak of issue 13 (owner SIGSTOP 0.5-1.9 s
 * every 30 s). --strict exits 1 when a row misses a target (targets.ts).
 * Needs root (ip netns, nft). Bounded: every wait has a timeout and the
 * whole process stops at --time-limit-min (default 40) or, for a soak, soak + 5 min per node count.
 */
import { writeFileSync } from 'node:fs';
import { netnsAvailable } from '../harness/netns';
import { FAULTS, faultById, type FaultSpec } from './fault-catalog';
import { runFault, soakSpec, type RunOptions } from './fault-run';
import type { RunMetrics } from './measure';
import { markdownTable, notesOf, textTable, type RowRuns } from './report';
import { missedTargets } from './targets';

/** Value of `--name`, or `fallback`. */
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

/** Positive integer flag; exits with a usage error otherwise. */
function intArg(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isInteger(v) || v <= 0) { process.stderr.write(`--${name} expects a positive integer\n`); process.exit(2); }
  return v;
}

function brief(m: RunMetrics): string {
  return `down ${m.vipDownMs} ms, gap ${m.gapMs ?? '-'} ms, dropped ${m.dropped}, lost ${m.lost}, refused ${m.refused}, owners ${m.maxOwners}, addr ${m.maxAddressHolders}, takeovers ${m.takeovers}, owner after ${m.ownerAfter}${m.notes.length ? ` [${m.notes.join('; ')}]` : ''}`;
}

/** The (fault, nodes) pairs to run. */
function plan(): Array<{ spec: FaultSpec; nodes: 2 | 3 }> {
  const sizes = arg('nodes', '2,3').split(',').map(Number).filter((n): n is 2 | 3 => n === 2 || n === 3);
  if (sizes.length === 0) { process.stderr.write('--nodes expects 2, 3 or 2,3\n'); process.exit(2); }
  const soak = arg('soak', '');
  const specs = soak ? [soakSpec(intArg('soak', 600))] : (arg('only', '') ? arg('only', '').split(',').map((id) => faultById(id.trim())) : [...FAULTS]);
  return specs.flatMap((spec) => sizes.filter((n) => spec.nodes.includes(n)).map((nodes) => ({ spec, nodes })));
}

async function main(): Promise<number> {
  if (flag('list')) { for (const f of FAULTS) process.stdout.write(`${f.id.padEnd(26)} issue ${f.issue}  nodes ${f.nodes.join(',')}  ${f.title}\n`); return 0; }
  if (!netnsAvailable()) { process.stderr.write('faults: needs root and ip netns\n'); return 2; }
  const runs = intArg('runs', 1);
  const o: RunOptions = { clients: intArg('clients', 200), messageMs: intArg('message-ms', 250), probeEveryMs: intArg('probe-ms', 20), settleMs: intArg('settle-ms', 2000), keepLogs: arg('keep-logs', '') || undefined };
  const todo = plan();
  const started = Date.now();
  const rows: RowRuns[] = [];
  let n = 0;
  for (const { spec, nodes } of todo) {
    const row: RowRuns = { id: spec.id, issue: spec.issue, title: spec.title, nodes, runs: [], errors: [] };
    rows.push(row);
    for (let i = 0; i < runs; i++) {
      n++;
      const t = Date.now();
      process.stdout.write(`[${n}/${todo.length * runs}] ${spec.id}, ${nodes} nodes, run ${i + 1}/${runs}: `);
      try {
        const m = await runFault(spec, nodes, o);
        row.runs.push(m);
        process.stdout.write(`${brief(m)} (${Math.round((Date.now() - t) / 1000)} s)\n`);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        row.errors.push(msg);
        process.stdout.write(`FAILED: ${msg}\n`);
      }
    }
  }
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  process.stdout.write(`\nfault matrix, ${runs} run(s) per row, ${minutes} min\n${textTable(rows)}\n`);
  const notes = notesOf(rows);
  if (notes.length) process.stdout.write(`\n${notes.join('\n')}\n`);
  const md = arg('markdown', '');
  if (md) writeFileSync(md, markdownTable(rows, `Fault matrix (\`npm run faults\`), ${runs} run(s) per row, median (max), ${minutes} min.`));
  const missed = rows.filter((r) => missedTargets(r).length > 0).length;
  process.stdout.write(`\n${rows.length - missed} of ${rows.length} rows meet their targets\n`);
  return flag('strict') && missed > 0 ? 1 : 0;
}

if (require.main === module) {
  const soak = Number(arg('soak', '0')) || 0;
  // A soak runs once per node count (--nodes 2,3: twice), each with its set-up and settling.
  const soaks = Math.max(1, arg('nodes', '2,3').split(',').filter((n) => n === '2' || n === '3').length);
  const limitMs = soak > 0 ? (soak + 300) * 1000 * soaks : Number(arg('time-limit-min', '40')) * 60_000;
  const guard = setTimeout(() => { process.stderr.write('faults: time limit reached, stopping\n'); process.exit(3); }, limitMs);
  guard.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
  main().then((code) => process.exit(code), (err) => { process.stderr.write(`faults: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); });
}
