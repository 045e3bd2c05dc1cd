/**
 * The never-two-owners sampler of the fault matrix, run as its own process
 * in the lab's hub namespace (it reaches every host on the bridge):
 *
 *   node owner-sampler.js '[{"id":"p1","address":"10.213.0.1"},…]' PORT TOKEN EVERY_MS
 *
 * It asks every node's admin API `GET /api/state` (bearer token), one
 * request per node at a time, every EVERY_MS, and tracks claim periods
 * (claim-periods.ts). It prints JSON lines:
 *   {"type":"claim","node","pid","claims","changedAt","epoch","state","at"}   when a claim starts or ends
 *   {"type":"ready","node","pid","ready","peer","at"}                         when a node's readiness changes
 *   {"type":"final","spans":[…],"polls":{node:{ok,fail}}}                     on `stop` (stdin) or SIGTERM, then exits
 */
import { request, Agent } from 'node:http';
import { createInterface } from 'node:readline';
import { ClaimTracker } from './claim-periods';

interface Target { id: string; address: string }
interface VipView { vip: string; state: string; epoch: number | null; claims: boolean; claimChangedAt: number; claimUntil?: number }
interface AgentView { node: string; pid: number; ready?: boolean; peer?: string; at: number; vips: VipView[] }

const targets = JSON.parse(process.argv[2] ?? '[]') as Target[];
const port = Number(process.argv[3]);
const token = process.argv[4] ?? '';
const everyMs = Number(process.argv[5] ?? 20);
/** A node that does not answer within this is counted as a failed poll (a stopped or cut-off node). */
const POLL_TIMEOUT_MS = 300;
/** The sampler never runs longer than this, whatever happens to its parent. */
const HARD_LIMIT_MS = 60 * 60_000;

const tracker = new ClaimTracker();
const polls = new Map<string, { ok: number; fail: number }>();
const readyOf = new Map<string, boolean>();
const busy = new Set<string>();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function emit(o: object): void { process.stdout.write(`${JSON.stringify(o)}\n`); }

/** The agent snapshot inside an /api/state answer (today nested under `agent`; the bare snapshot is accepted too). */
export function agentOf(body: unknown): AgentView | null {
  const b = body as { agent?: AgentView } & Partial<AgentView>;
  const a = (b && typeof b === 'object' && b.agent && typeof b.agent === 'object') ? b.agent : b;
  return a && Array.isArray(a.vips) && typeof a.at === 'number' ? (a as AgentView) : null;
}

function onSnapshot(id: string, a: AgentView): void {
  const pid = typeof a.pid === 'number' ? a.pid : 0;
  for (const v of a.vips) {
    if (tracker.add({ node: id, pid, at: a.at, claims: v.claims, claimChangedAt: v.claimChangedAt, claimUntil: typeof v.claimUntil === 'number' ? v.claimUntil : undefined })) {
      emit({ type: 'claim', node: id, pid, claims: v.claims, changedAt: v.claimChangedAt, epoch: v.epoch, state: v.state, at: a.at });
    }
  }
  const ready = a.ready !== false;
  if (readyOf.get(`${id}#${pid}`) !== ready) { readyOf.set(`${id}#${pid}`, ready); emit({ type: 'ready', node: id, pid, ready, peer: a.peer ?? null, at: a.at }); }
}

function count(id: string, ok: boolean): void {
  const c = polls.get(id) ?? { ok: 0, fail: 0 };
  if (ok) c.ok++; else c.fail++;
  polls.set(id, c);
}

function poll(t: Target): void {
  if (busy.has(t.id)) return;
  busy.add(t.id);
  let done = false;
  const finish = (ok: boolean) => { if (done) return; done = true; busy.delete(t.id); count(t.id, ok); };
  const req = request({ host: t.address, port, path: '/api/state', agent, headers: { authorization: `Bearer ${token}` }, timeout: POLL_TIMEOUT_MS }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => { body += d; });
    res.on('end', () => {
      try {
        const a = res.statusCode === 200 ? agentOf(JSON.parse(body)) : null;
        if (a) onSnapshot(t.id, a);
        finish(a !== null);
      } catch { finish(false); }
    });
    res.on('error', () => finish(false));
  });
  req.on('timeout', () => { req.destroy(); finish(false); });
  req.on('error', () => finish(false));
  req.end();
}

let stopped = false;
function stop(): void {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  emit({ type: 'final', spans: tracker.spans(), polls: Object.fromEntries(polls) });
  agent.destroy();
  process.stdout.write('', () => process.exit(0));
}

const timer = setInterval(() => { for (const t of targets) poll(t); }, everyMs);
setTimeout(stop, HARD_LIMIT_MS).unref();
process.on('SIGTERM', stop);
createInterface({ input: process.stdin }).on('line', (l) => { if (l.trim() === 'stop') stop(); }).on('close', stop);
