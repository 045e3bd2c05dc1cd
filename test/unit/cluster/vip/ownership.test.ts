/** The pure VIP ownership rules: the transition table and every branch of the standby's decision, with numbers for time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateMachine, IllegalTransitionError } from '../../../../shared/state-machine';
import { VIP_TRANSITIONS, VIP_STATES, claimsOwnership, decideStandby, refusesGrants, type HolderEvidence, type OwnershipTimings, type StandbyView, type VipState } from '../../../../cluster/vip/ownership';
import { DEFAULTS } from '../../../../shared/config/defaults';

const T: OwnershipTimings = { ...DEFAULTS.lease, grantTtlMs: DEFAULTS.peer.grantTtlMs, beatIntervalMs: DEFAULTS.peer.beatIntervalMs, forgetAfterMs: DEFAULTS.heartbeat.forgetAfterMs };

const noEvidence: HolderEvidence = { provenDeadAtMs: null, lostAtMs: null, saysNotClaiming: false, kernel: 'unknown', lastSignMs: null, knowsMe: true, heartbeatAgeMs: 100 };
const view = (over: Omit<Partial<StandbyView>, 'evidence'> & { evidence?: Partial<HolderEvidence> } = {}): StandbyView => ({
  nowMs: 10_000, rank: 0, selfId: 'b', holder: null, holderTtlMs: 0, lastHolder: { nodeId: 'a', epoch: 3 }, released: false, freeSinceMs: 10_000,
  promise: null, quietUntilMs: 0, claimedByPeer: null, ...over, evidence: { ...noEvidence, ...over.evidence },
});

test('the transition table covers every state and allows the designed paths only', () => {
  for (const s of VIP_STATES) assert.ok(Array.isArray(VIP_TRANSITIONS[s]), s);
  const m = new StateMachine<VipState>('vip', 'standby', VIP_TRANSITIONS);
  for (const s of ['acquiring', 'owner', 'reasserting', 'owner', 'handing-off', 'stepping-down', 'standby', 'receiving', 'owner', 'stepping-down', 'stopped'] as const) m.transition(s, 'test');
  assert.equal(m.state, 'stopped');
  const n = new StateMachine<VipState>('vip', 'standby', VIP_TRANSITIONS);
  assert.throws(() => n.transition('owner', 'skip acquiring'), IllegalTransitionError);
  assert.throws(() => n.transition('handing-off', 'not owner'), IllegalTransitionError);
  assert.throws(() => n.transition('stepping-down', 'nothing to leave'), IllegalTransitionError);
  assert.deepEqual(VIP_TRANSITIONS.stopped, []);
  // Leaving the VIP always goes through stepping-down (address first), never straight to standby.
  for (const s of ['owner', 'reasserting', 'handing-off', 'receiving'] as const) assert.ok(!VIP_TRANSITIONS[s].includes('standby'), s);
});

test('only owner and handing-off claim the VIP; every state that holds, wants or takes it refuses grants', () => {
  assert.deepEqual(VIP_STATES.filter(claimsOwnership), ['owner', 'handing-off']);
  assert.deepEqual(VIP_STATES.filter(refusesGrants), ['acquiring', 'owner', 'reasserting', 'handing-off', 'receiving']);
});

test('a held lease: wait, release our own stale one, take over only a holder proven dead, in rank order', () => {
  const heldBy = { nodeId: 'a', epoch: 3 };
  assert.equal(decideStandby(view({ holder: heldBy }), T).action, 'wait');
  assert.deepEqual(decideStandby(view({ holder: { nodeId: 'b', epoch: 2 } }), T), { action: 'release-own' });
  // A refused reconnect or a silent kernel is no proof: only provenDeadAtMs counts for a held lease.
  assert.equal(decideStandby(view({ holder: heldBy, evidence: { kernel: 'silent' } }), T).action, 'wait');
  assert.deepEqual(decideStandby(view({ holder: heldBy, evidence: { provenDeadAtMs: 9_990 } }), T), { action: 'takeover', why: 'holder-dead' });
  const second = decideStandby(view({ rank: 1, holder: heldBy, evidence: { provenDeadAtMs: 9_990 } }), T);
  assert.equal(second.action, 'wait');
  assert.equal(second.action === 'wait' && second.why, 'rank-delay');
  assert.equal(decideStandby(view({ rank: 1, nowMs: 9_990 + T.rankDelayMs, holder: heldBy, evidence: { provenDeadAtMs: 9_990 } }), T).action, 'takeover');
  // A lease renewed after the link closed is kept alive by someone (a granter for an owner behind a partition): no takeover.
  const lost = 9_900;
  assert.equal(decideStandby(view({ holder: heldBy, holderTtlMs: T.ttlMs - 100, evidence: { provenDeadAtMs: 9_990, lostAtMs: lost } }), T).action, 'takeover');
  assert.equal(decideStandby(view({ holder: heldBy, holderTtlMs: T.ttlMs - 10, evidence: { provenDeadAtMs: 9_990, lostAtMs: lost } }), T).action, 'wait');
});

test('a free lease is not taken while ineligible, quiet, promised to a peer, or claimed by a linked peer', () => {
  const why = (v: StandbyView) => { const d = decideStandby(v, T); return d.action === 'wait' ? d.why : d.action; };
  assert.equal(why(view({ rank: -1 })), 'ineligible');
  assert.equal(why(view({ quietUntilMs: 10_100 })), 'quiet');
  assert.equal(why(view({ promise: { holder: 'a', epoch: 3, untilMs: 10_100 } })), 'promised');
  assert.equal(why(view({ promise: { holder: 'a', epoch: 3, untilMs: 9_000 }, evidence: { kernel: 'silent' } })), 'acquire', 'an expired promise binds nothing');
  assert.equal(why(view({ claimedByPeer: 'a', lastHolder: null })), 'claimed-by-peer');
  assert.equal(why(view({ rank: 2, lastHolder: null })), 'rank-delay');
});

test('a free lease never held, or released, is taken at once', () => {
  assert.deepEqual(decideStandby(view({ lastHolder: null }), T), { action: 'acquire', why: 'lease-free' });
  assert.deepEqual(decideStandby(view({ released: true }), T), { action: 'acquire', why: 'lease-released' });
  assert.deepEqual(decideStandby(view({ lastHolder: { nodeId: 'b', epoch: 2 } }), T), { action: 'acquire', why: 'lease-expired' });
});

test('an expired lease: taken at once from a holder proven dead, that says it does not claim, or whose host is silent', () => {
  assert.equal((decideStandby(view({ evidence: { provenDeadAtMs: 9_000 } }), T) as { why: string }).why, 'holder-dead');
  assert.equal((decideStandby(view({ evidence: { saysNotClaiming: true } }), T) as { why: string }).why, 'holder-not-claiming');
  assert.deepEqual(decideStandby(view({ evidence: { kernel: 'silent', lastSignMs: 9_800 } }), T), { action: 'acquire', why: 'holder-host-silent' });
});

test('an expired lease whose holder\'s host still answers (a stall) waits the stall budget plus the guard lead', () => {
  const sign = 9_900;
  const at = (now: number) => decideStandby(view({ nowMs: now, evidence: { kernel: 'answering', lastSignMs: sign } }), T);
  const early = at(10_000);
  assert.equal(early.action, 'wait');
  assert.equal(early.action === 'wait' && early.why, 'holder-stalled');
  assert.equal(at(sign + T.stallBudgetMs + T.guardLeadMs - 1).action, 'wait', 'not a millisecond before the budget and the lead');
  assert.deepEqual(at(sign + T.stallBudgetMs + T.guardLeadMs), { action: 'acquire', why: 'holder-stall-budget-spent' });
});

test('with no word from the holder at all (no peer link), the stall clock runs from when the lease could have expired', () => {
  const free = 10_000;
  const at = (now: number) => decideStandby(view({ nowMs: now, freeSinceMs: free, evidence: { kernel: 'unknown', lastSignMs: null } }), T).action;
  assert.equal(at(free + T.stallBudgetMs + T.guardLeadMs - T.ttlMs - 1), 'wait');
  assert.equal(at(free + T.stallBudgetMs + T.guardLeadMs - T.ttlMs), 'acquire');
});

test('a node the holder never counted on waits until the holder is forgotten', () => {
  const unknown = (age: number | null) => decideStandby(view({ evidence: { knowsMe: false, heartbeatAgeMs: age, kernel: 'silent' } }), T);
  const w = unknown(5_000);
  assert.equal(w.action === 'wait' && w.why, 'unknown-to-holder');
  assert.equal(unknown(T.forgetAfterMs).action, 'acquire');
  assert.equal(unknown(null).action, 'acquire', 'a holder with no heartbeat left is forgotten');
  assert.equal(decideStandby(view({ evidence: { knowsMe: false, heartbeatAgeMs: 5_000, provenDeadAtMs: 9_000 } }), T).action, 'acquire', 'unless it is proven dead');
});
