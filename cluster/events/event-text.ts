/**
 * One event as one line for people: what `wsha events` prints in its WHAT
 * column and the live page shows in its event list (the page has its own
 * copy in JavaScript; this one is tested). Pure: no clock, no colour.
 */
import type { HistoryEvent } from '../../shared/history-event';
import { actorText } from './actor';

const ms = (n: number | undefined | null): string => (n === undefined || n === null ? '?' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`);

/** A one-line description of an event (without its time, kind and node, which are columns of their own). */
export function describeEvent(e: HistoryEvent): string {
  switch (e.kind) {
    case 'ownership':
      return e.owner
        ? `${e.vip}: ${e.previousOwner ?? 'none'} -> ${e.owner} (epoch ${e.epoch}, ${e.reason})`
        : `${e.vip}: released by ${e.previousOwner ?? '?'} (epoch ${e.epoch}, ${e.reason})`;
    case 'vip-serving':
      return `${e.vip} served at epoch ${e.epoch}${e.previousOwner ? ` after ${e.previousOwner}` : ''} (${e.reason})${e.gapMs !== undefined ? `; ${ms(e.gapMs)} from its last sign of life` : ''}`;
    case 'handover': return `${e.vip} handover ${e.from} -> ${e.to}: ${e.phase}${e.epoch !== undefined ? ` (epoch ${e.epoch})` : ''}${e.detail ? ` ${e.detail}` : ''}`;
    case 'step-down': return `${e.vip} stepped down${e.epoch !== null ? ` from epoch ${e.epoch}` : ''}: ${e.reason}`;
    case 'node-joined': return `joined (version ${e.version}, ${e.address}, process ${e.incarnation})`;
    case 'node-left': return `left (${e.reason})`;
    case 'node-not-seen': return `not seen by ${e.observer}: last heartbeat ${ms(e.heartbeatAgeMs)} ago`;
    case 'node-back': return `seen again by ${e.observer}`;
    case 'node-drained': return `drained by ${actorText(e.by)}`;
    case 'node-undrained': return `undrained by ${actorText(e.by)}`;
    case 'verdict': {
      const views = e.views.map((v) => `${v.node} ${v.up ? 'up' : 'down'}`).join(', ');
      return `${e.pool}/${e.backend} ${e.up ? 'up' : 'down'} (${e.downVotes}/${e.observers} down${e.reason ? `: ${e.reason}` : ''}${views ? `; ${views}` : ''})`;
    }
    case 'pool-change': return `${e.pool}: ${e.op} ${e.backend}${e.url ? ` ${e.url}` : ''} (version ${e.version}) by ${actorText(e.by)}`;
    case 'config-reload': return e.ok ? 'config reload accepted' : `config reload rejected: ${e.errors.join('; ')}`;
    case 'redis-lost': return `lost Redis (${e.reason})`;
    case 'redis-regained': return `Redis back after ${ms(e.downMs)}`;
    case 'refusals': return `${e.total} refused in ${ms(e.windowMs)}: ${Object.entries(e.counts).sort((a, b) => b[1] - a[1]).map(([r, n]) => `${r} ${n}`).join(', ')}`;
    case 'admin': return `${e.action} ${e.target} by ${actorText(e.by)}: ${e.ok ? 'ok' : `failed: ${e.error ?? '?'}`}${e.detail ? ` ${JSON.stringify(e.detail)}` : ''}`;
    case 'history-dropped': return `${e.count} events dropped while Redis was unreachable (${new Date(e.firstAt).toISOString()} .. ${new Date(e.lastAt).toISOString()})`;
  }
}

/** How an event reads at a glance: bad (red), good (green), an operator's or planned act (yellow), or plain. */
export function eventTone(e: HistoryEvent): 'bad' | 'good' | 'act' | 'plain' {
  switch (e.kind) {
    case 'step-down': return e.reason.startsWith('handover') || /^(failover|drain|shutdown|preempt)/.test(e.reason) ? 'act' : 'bad';
    case 'node-not-seen': case 'redis-lost': case 'history-dropped': case 'refusals': return 'bad';
    case 'verdict': return e.up ? 'good' : 'bad';
    case 'config-reload': return e.ok ? 'good' : 'bad';
    case 'admin': return e.ok ? 'act' : 'bad';
    case 'vip-serving': case 'redis-regained': case 'node-back': case 'node-joined': return 'good';
    case 'handover': case 'node-drained': case 'node-undrained': case 'pool-change': return 'act';
    default: return 'plain';
  }
}

/** `3s ago`, `12m ago`, `5h ago`, `2d ago`; `in 3s` for a time ahead of now (clock skew). */
export function relativeTime(atMs: number, nowMs: number): string {
  const d = nowMs - atMs;
  const a = Math.abs(d);
  const t = a < 1000 ? `${Math.round(a)}ms` : a < 60_000 ? `${Math.floor(a / 1000)}s` : a < 3_600_000 ? `${Math.floor(a / 60_000)}m` : a < 86_400_000 ? `${Math.floor(a / 3_600_000)}h` : `${Math.floor(a / 86_400_000)}d`;
  return d >= 0 ? `${t} ago` : `in ${t}`;
}

/** Local time `HH:MM:SS.mmm`, with the date in front when it is not the day of `nowMs`. */
export function absoluteTime(atMs: number, nowMs: number): string {
  const d = new Date(atMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  return d.toDateString() === new Date(nowMs).toDateString() ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}
