/**
 * Reading a node's worker processes from outside, for tests of a node with
 * `node.workers` > 1: its admin API's /api/state (`node.workers`), its
 * /metrics, and whether a PID still runs.
 */
import { readFileSync } from 'node:fs';
import type { WorkerSnapshot } from '../../shared/ports/data-plane';
import { parsePrometheus } from './prometheus';

/** GET `path` of an admin API with the bearer token; throws on a non-2xx answer. */
export async function adminGet<T>(port: number, token: string, path: string): Promise<T> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return (path === '/metrics' ? await r.text() : await r.json()) as T;
}

/** The node's workers as /api/state shows them. */
export async function workersOf(port: number, token: string): Promise<WorkerSnapshot[]> {
  const s = await adminGet<{ node: { workers?: WorkerSnapshot[] } }>(port, token, '/api/state');
  return s.node.workers ?? [];
}

/** Sum of one metric's samples on /metrics (optionally only samples whose labels match). */
export async function metricSum(port: number, token: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const exp = parsePrometheus(await adminGet<string>(port, token, '/metrics'));
  return exp.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/**
 * True while a process with this PID runs. A zombie counts as gone: it has
 * exited and closed every socket, and an orphan's zombie may stay until
 * whatever reaps orphans here (PID 1 in a container may never) gets to it.
 */
export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch { return false; }
}
