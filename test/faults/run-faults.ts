/**
 * The fault matrix of issues 9 and 13: every fault of fault-catalog.ts on
 * two- and three-node clusters of real `wsha node start` processes in
 * network namespaces, each run under 200 WebSocket clients, a connect
 * prober every 20 ms and the never-two-owners sampler, then one table.
 *
 *   npm run faults -- [--help] [--only a,b] [--runs N] [--nodes 2|3|2,3] [--soak SECONDS]
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
import { Command, InvalidArgumentError } from 'commander';

/** The command line, checked: --help, a wrong flag or value exits before anything starts (2 for a bad one). */
interface FaultArgs {
  only: FaultSpec[]; runs: number; nodes: Array<2 | 3>; soak: number; markdown: string; clients: number; messageMs: number;
  probeMs: number; settleMs: number; keepLogs: string; strict: boolean; list: boolean; timeLimitMin: number;
}

function count(max: number): (v: string) => number {
  return (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`); return n; };
}

function parseArgs(argv: string[]): FaultArgs {
  const o = new Command('faults')
    .description('the fault matrix of issues 9 and 13 on 2- and 3-node clusters in network namespaces (needs root)')
    .option('--only <ids>', 'comma-separated fault ids (default: all; see --list)', (v) => {
      try { return v.split(',').map((id) => id.trim()).filter(Boolean).map(faultById); } catch (err) { throw new InvalidArgumentError((err as Error).message); }
    })
    .option('--runs <n>', 'runs per row', count(100), 1)
    .option('--nodes <sizes>', '2, 3 or 2,3', (v) => {
      const sizes = v.split(',');
      if (!sizes.length || sizes.some((n) => n !== '2' && n !== '3')) throw new InvalidArgumentError('expected 2, 3 or 2,3');
      return [...new Set(sizes.map(Number))] as Array<2 | 3>;
    }, [2, 3] as Array<2 | 3>)
    .option('--soak <seconds>', 'only the soak of issue 13 (owner SIGSTOP 0.5-1.9 s every 30 s) for this long', count(24 * 3600))
    .option('--markdown <file>', 'write the table as Markdown into FILE')
    .option('--clients <n>', 'WebSocket clients per run', count(20_000), 200)
    .option('--message-ms <ms>', 'each client sends a message this often', count(60_000), 250)
    .option('--probe-ms <ms>', 'the connect prober tries this often', count(10_000), 20)
    .option('--settle-ms <ms>', 'settle time before the fault', count(600_000), 2000)
    .option('--keep-logs <dir>', 'keep every node\'s log in DIR')
    .option('--strict', 'exit 1 when a row misses a target (targets.ts)', false)
    .option('--list', 'list the faults and exit', false)
    .option('--time-limit-min <minutes>', 'stop the whole run after this long (a soak: soak + 5 min per node count)', count(24 * 60), 40)
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parse(argv).opts<Partial<FaultArgs>>();
  return {
    only: o.only ?? [], runs: o.runs ?? 1, nodes: o.nodes ?? [2, 3], soak: o.soak ?? 0, markdown: o.markdown ?? '', clients: o.clients ?? 200,
    messageMs: o.messageMs ?? 250, probeMs: o.probeMs ?? 20, settleMs: o.settleMs ?? 2000, keepLogs: o.keepLogs ?? '', strict: o.strict ?? false,
    list: o.list ?? false, timeLimitMin: o.timeLimitMin ?? 40,
  };
}

function brief(m: RunMetrics): string {
  return `down ${m.vipDownMs} ms, gap ${m.gapMs ?? '-'} ms, dropped ${m.dropped}, lost ${m.lost}, refused ${m.refused}, owners ${m.maxOwners}, addr ${m.maxAddressHolders}, takeovers ${m.takeovers}, owner after ${m.ownerAfter}${m.notes.length ? ` [${m.notes.join('; ')}]` : ''}`;
}

/** The (fault, nodes) pairs to run. */
function plan(a: FaultArgs): Array<{ spec: FaultSpec; nodes: 2 | 3 }> {
  const specs = a.soak ? [soakSpec(a.soak)] : (a.only.length ? a.only : [...FAULTS]);
  return specs.flatMap((spec) => a.nodes.filter((n) => spec.nodes.includes(n)).map((nodes) => ({ spec, nodes })));
}

async function main(a: FaultArgs): Promise<number> {
  if (a.list) { for (const f of FAULTS) process.stdout.write(`${f.id.padEnd(26)} issue ${f.issue}  nodes ${f.nodes.join(',')}  ${f.title}\n`); return 0; }
  if (!netnsAvailable()) { process.stderr.write('faults: needs root and ip netns\n'); return 2; }
  const runs = a.runs;
  const o: RunOptions = { clients: a.clients, messageMs: a.messageMs, probeEveryMs: a.probeMs, settleMs: a.settleMs, keepLogs: a.keepLogs || undefined };
  const todo = plan(a);
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
  const md = a.markdown;
  if (md) writeFileSync(md, markdownTable(rows, `Fault matrix (\`npm run faults\`), ${runs} run(s) per row, median (max), ${minutes} min.`));
  const missed = rows.filter((r) => missedTargets(r).length > 0).length;
  process.stdout.write(`\n${rows.length - missed} of ${rows.length} rows meet their targets\n`);
  return a.strict && missed > 0 ? 1 : 0;
}

if (require.main === module) {
  const a = parseArgs(process.argv);
  // A soak runs once per node count (--nodes 2,3: twice), each with its set-up and settling.
  const limitMs = a.soak > 0 ? (a.soak + 300) * 1000 * a.nodes.length : a.timeLimitMin * 60_000;
  const guard = setTimeout(() => { process.stderr.write('faults: time limit reached, stopping\n'); process.exit(3); }, limitMs);
  guard.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));
  main(a).then((code) => process.exit(code), (err) => { process.stderr.write(`faults: ${err instanceof Error ? err.stack : String(err)}\n`); process.exit(1); });
}
