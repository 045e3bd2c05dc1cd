/**
 * Planned handover of one VIP (`wsha failover`, `wsha drain`, preemption),
 * make-before-break. Both nodes listen on the VIP with SO_REUSEPORT for a
 * short overlap, bounded by cluster.handover.maxOverlapMs, so that a client
 * connecting at any instant finds a listener:
 *
 *   old owner A                      Redis                      target B
 *   owner -> handing-over                                            |
 *      |---- prepare {vip, epoch} (command bus) ------------------->|
 *      |                                   standby -> receiving      |
 *      |                                   driver up, openVip        |  <- overlap starts
 *      |<------------------------------------------- prepared -------|
 *      |-- lease-handover("A:E" -> B) -->|                           |
 *      |<------- {1, "B:E+1"} -----------|                           |
 *   handing-over -> releasing            |                           |
 *      |---- commit {epoch E+1} ----------------------------------->|
 *   stopAccepting (listener closed)      |<-- lease-renew "B:E+1" ---|  <- overlap ends
 *      |                                 |--------- {1} ------------>|
 *   close clients with 1012, paced       |          receiving -> owner
 *   (closeRatePerSec, over closeWindowMs)|   clients reconnect to B   |
 *   driver down -> standby                                           |
 *
 * If B cannot prepare, nothing moves (A stays owner). If B hears no commit
 * within maxOverlapMs (and does not find the lease its own by polling), it
 * closes what it opened. On Linux, net.ipv4.tcp_migrate_req=1 lets
 * connections still queued on A's closing SO_REUSEPORT listener move to B's
 * instead of being reset (set at agent start where writable).
 */
import { HandoverError } from '../../shared/errors';
import { isEligible, whyIneligible } from './preemption';
import type { VipManager } from './vip-manager';

/** What a planned handover reports. */
export interface HandoverResult {
  vip: string;
  oldOwner: string;
  newOwner: string;
  epoch: number;
  tookMs: number;
  /** How long both nodes listened (upper bound, measured on the old owner). */
  overlapMs: number;
  /** WebSocket clients that the old owner is now closing with 1012. */
  closing: number;
}

/** How often the receiving target looks for the lease itself, in case the commit message is lost. */
const COMMIT_POLL_MS = 25;

/** Old owner side; `m` is in `owner`. */
export async function handOver(m: VipManager, to: string, reason: string): Promise<HandoverResult> {
  const { d } = m;
  if (to === d.nodeId) throw new HandoverError(`VIP ${m.name}: node ${to} already owns it`);
  const held = m.lease!;
  const term = m.term;
  const t0 = d.clock.nowMs();
  m.sm.transition('handing-over', reason, { to, epoch: held.epoch });
  const event = (phase: string, extra: { epoch?: number; detail?: string } = {}) => d.publish?.({ type: 'handover', vip: m.name, phase, from: d.nodeId, to, at: Date.now(), ...extra });
  event('started', { epoch: held.epoch, detail: reason });
  const abortTarget = () => {
    event('aborted');
    d.send(to, { op: 'abort', vip: m.name, from: d.nodeId }, d.handover.maxOverlapMs).catch(() => {});
  };
  const backToOwner = (why: string) => { if (term === m.term && m.sm.state === 'handing-over') m.sm.transition('owner', why); };

  try {
    await d.send(to, { op: 'prepare', vip: m.name, from: d.nodeId, epoch: held.epoch, reason }, d.handover.timeoutMs);
  } catch (err) {
    abortTarget();
    backToOwner('handover aborted');
    throw new HandoverError(`VIP ${m.name}: target ${to} did not prepare (${(err as Error).message}); nothing moved`);
  }
  const preparedAt = d.clock.nowMs();
  event('prepared');
  if (term !== m.term || m.sm.state !== 'handing-over') {
    abortTarget();
    throw new HandoverError(`VIP ${m.name}: this node lost the lease while ${to} prepared`);
  }

  let r;
  m.handingOff = true;
  try {
    r = await d.lease.handover(m.name, held, to, d.timings.ttlMs, reason);
    d.onRedis(true);
  } catch (err) {
    d.onRedis(false, err);
    abortTarget();
    backToOwner('handover aborted');
    throw new HandoverError(`VIP ${m.name}: Redis did not take the handover (${(err as Error).message}); nothing moved`);
  } finally {
    m.handingOff = false;
  }
  if (!r.ok) {
    abortTarget();
    await m.stepDown('lease-lost', { release: false });
    throw new HandoverError(`VIP ${m.name}: the lease was no longer this node's (holder ${r.holder ? `${r.holder.nodeId}:${r.holder.epoch}` : 'none'})`);
  }

  // The lease is B's now: this node stops claiming at once and stops accepting.
  const committed = d.send(to, { op: 'commit', vip: m.name, from: d.nodeId, epoch: r.lease.epoch }, d.handover.maxOverlapMs)
    .then(() => true, (err) => { m.log.warn({ err: (err as Error).message, to }, 'commit not acknowledged; the target finds the lease by polling'); return false; });
  const closing = d.host.tunnelCount(m.name);
  await m.stepDown(reason, { release: false, to });
  const overlapMs = Math.round(d.clock.nowMs() - preparedAt);
  m.log.info({ vip: m.name, to, epoch: r.lease.epoch, overlapMs, maxOverlapMs: d.handover.maxOverlapMs }, 'make-before-break overlap ended');
  event('moved', { epoch: r.lease.epoch, detail: `overlap ${overlapMs} ms, closing ${closing} clients` });
  await committed;
  return { vip: m.name, oldOwner: d.nodeId, newOwner: to, epoch: r.lease.epoch, tookMs: Math.round(d.clock.nowMs() - t0), overlapMs, closing };
}

/** Target side: checks eligibility, opens the VIP (reusePort drivers) and waits for the lease. */
export async function prepareReceive(m: VipManager, from: string, epoch: number): Promise<{ prepared: true }> {
  const { d } = m;
  if (m.stopping) throw new HandoverError(`node ${d.nodeId} is stopping`);
  if (m.sm.state !== 'standby') throw new HandoverError(`node ${d.nodeId} is ${m.sm.state} for VIP ${m.name}`);
  const self = d.self();
  if (!isEligible(self)) throw new HandoverError(`node ${d.nodeId} is ${whyIneligible(self)}`);
  const term = ++m.term;
  m.receivingFrom = from;
  m.sm.transition('receiving', 'handover prepare', { from, epoch });
  if (d.driver.reusePort) {
    try {
      await d.driver.up(m.ctx(epoch));
      await d.host.openVip(m.name, d.vip.address, { reusePort: true });
    } catch (err) {
      await abortReceive(m, from, 'could not open the VIP');
      throw new HandoverError(`node ${d.nodeId} could not open VIP ${m.name}: ${(err as Error).message}`);
    }
  }
  if (term !== m.term || (m.sm.state as string) !== 'receiving') throw new HandoverError(`node ${d.nodeId}: handover of ${m.name} aborted while preparing`);
  m.overlapTimer = setTimeout(() => {
    if (term === m.term) void abortReceive(m, from, `no commit within maxOverlapMs (${d.handover.maxOverlapMs} ms)`);
  }, d.handover.maxOverlapMs);
  const poll = async () => {
    if (term !== m.term || m.sm.state !== 'receiving') return;
    const holder = await d.lease.read(m.name).catch(() => null);
    if (holder?.nodeId === d.nodeId && term === m.term && m.sm.state === 'receiving') return void commitReceive(m, holder.epoch).catch(() => {});
    m.commitPollTimer = setTimeout(poll, COMMIT_POLL_MS);
  };
  m.commitPollTimer = setTimeout(poll, COMMIT_POLL_MS);
  return { prepared: true };
}

/** Commits in flight per VIP (the commit message and the commit poll may both arrive). */
const committing = new WeakMap<VipManager, Promise<{ epoch: number }>>();

/** Target side: confirms the lease with a renewal (which also starts the step-down clock) and becomes owner. */
export function commitReceive(m: VipManager, epoch: number): Promise<{ epoch: number }> {
  if (claimsEpoch(m, epoch)) return Promise.resolve({ epoch });
  const running = committing.get(m);
  if (running) return running;
  const p = doCommit(m, epoch).finally(() => committing.delete(m));
  committing.set(m, p);
  return p;
}

function claimsEpoch(m: VipManager, epoch: number): boolean {
  return (m.sm.state === 'owner' || m.sm.state === 'handing-over') && m.lease?.epoch === epoch;
}

async function doCommit(m: VipManager, epoch: number): Promise<{ epoch: number }> {
  const { d } = m;
  if (m.sm.state !== 'receiving') throw new HandoverError(`node ${d.nodeId} is ${m.sm.state} for VIP ${m.name}, not receiving`);
  const term = ++m.term;
  clearTimeout(m.overlapTimer);
  clearTimeout(m.commitPollTimer);
  const lease = { nodeId: d.nodeId, epoch };
  const start = d.clock.nowMs();
  let r;
  try {
    r = await d.lease.renew(m.name, lease, d.timings.ttlMs);
    d.onRedis(true);
  } catch (err) {
    d.onRedis(false, err);
    await abortReceive(m, m.receivingFrom ?? '', 'could not confirm the lease');
    throw new HandoverError(`node ${d.nodeId}: could not confirm the lease of ${m.name}: ${(err as Error).message}`);
  }
  if (!r.ok) {
    await abortReceive(m, m.receivingFrom ?? '', 'the lease is not ours');
    throw new HandoverError(`node ${d.nodeId}: lease of ${m.name} is not ${d.nodeId}:${epoch}`);
  }
  if (term !== m.term) throw new HandoverError(`node ${d.nodeId}: handover of ${m.name} aborted`);
  await m.takeOffice(lease, start, 'handover', m.receivingFrom, term);
  return { epoch };
}

/** Target side: gives up a prepared handover (closes what prepare opened). */
export async function abortReceive(m: VipManager, from: string, why: string): Promise<{ aborted: boolean }> {
  if (m.sm.state !== 'receiving' || (from && m.receivingFrom && from !== m.receivingFrom)) return { aborted: false };
  m.log.warn({ from: m.receivingFrom, why }, 'handover not completed; closing the prepared VIP');
  await m.stepDown(`handover-aborted: ${why}`, { release: false });
  return { aborted: true };
}
