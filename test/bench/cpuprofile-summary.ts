/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and tells where the time went:
 * the functions with the most self time, the most inclusive time (each
 * sample counted once per function on its stack), and self time by origin
 * (wsha's own code, node's internals, dependencies, GC, native).
 *
 * A window (µs on the profiled process's monotonic clock, the clock of
 * process.hrtime, which V8 stamps its samples with) keeps only the samples
 * taken inside it: the load, without start-up and shutdown.
 *
 *   node dist/test/bench/cpuprofile-summary.js FILE.cpuprofile [--top 25] [--from US --to US]
 */
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
/** The parts of a .cpuprofile read here. */
export interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** One function's share. */
export interface Share { key: string; ms: number; pct: number }

/** What a profile shows. */
export interface ProfileSummary { totalMs: number; self: Share[]; inclusive: Share[]; origins: Share[] }

/** A span of the profiled process's monotonic clock, in µs. */
export interface ProfileWindow { fromUs: number; toUs: number }

function frameKey(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/');
  return `${name} ${url}:${f.lineNumber + 1}`;
}

/** Where a frame's code comes from. */
export function originOf(f: CallFrame): string {
  const n = f.functionName;
  if (n === '(garbage collector)') return 'GC';
  if (n === '(idle)') return 'idle';
  if (n === '(program)') return 'program (native, outside JS)';
  if (!f.url) return 'native / builtin';
  if (f.url.startsWith('node:')) return 'node internals';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (m) return `dep ${m[1]}`;
  const d = /dist\/([^/]+\/[^/]+)/.exec(f.url);
  if (d) return `wsha ${d[1]}`;
  return 'other';
}

function shares(m: Map<string, number>, totalUs: number, top: number): Share[] {
  return [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([key, us]) => ({ key, ms: us / 1000, pct: (100 * us) / totalUs }));
}

/** Self, inclusive and per-origin time of a profile. */
export function summarize(p: CpuProfile, top = 25, window?: ProfileWindow): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const origins = new Map<string, number>();
  let totalUs = 0;
  // Sample i is stamped startTime + the deltas up to i; it stands for the time until the next one.
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0;
    if (window && (at < window.fromUs || at >= window.toUs)) continue;
    const leaf = byId.get(p.samples[i]!);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    totalUs += dt;
    const k = frameKey(leaf.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const o = originOf(leaf.callFrame);
    origins.set(o, (origins.get(o) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id, guard = 0; id !== undefined && guard < 1000; id = parent.get(id), guard++) {
      const fk = frameKey(byId.get(id)!.callFrame);
      if (seen.has(fk)) continue;
      seen.add(fk);
      incl.set(fk, (incl.get(fk) ?? 0) + dt);
    }
  }
  return { totalMs: totalUs / 1000, self: shares(self, totalUs, top), inclusive: shares(incl, totalUs, top), origins: shares(origins, totalUs, 50) };
}

/** The summary as text. */
export function formatSummary(s: ProfileSummary): string {
  const block = (title: string, xs: Share[]) => [title, ...xs.map((x) => `  ${x.pct.toFixed(1).padStart(5)} %  ${x.ms.toFixed(0).padStart(6)} ms  ${x.key}`)].join('\n');
  return [
    `busy (non-idle) samples: ${s.totalMs.toFixed(0)} ms`,
    block('self time by origin:', s.origins),
    block('top self time:', s.self),
    block('top inclusive time:', s.inclusive),
  ].join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) { process.stderr.write('usage: cpuprofile-summary FILE.cpuprofile [--top N]\n'); process.exit(2); }
  const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : undefined; };
  const [from, to] = [arg('--from'), arg('--to')];
  const window = from !== undefined || to !== undefined ? { fromUs: from ?? 0, toUs: to ?? Number.POSITIVE_INFINITY } : undefined;
  process.stdout.write(`${formatSummary(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, arg('--top') ?? 25, window))}\n`);
}
