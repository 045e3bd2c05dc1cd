import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidatesFor, priorityFor, type NodeFacts } from '../../../../cluster/vip/placement';
import { preemptionTarget, rankOf, rankedCandidates } from '../../../../cluster/vip/preemption';

const VIPS = ['a', 'b', 'c'];
const node = (id: string, holds: string[] = [], over: Partial<NodeFacts> = {}): NodeFacts => ({ id, priority: 100, alive: true, ready: true, drained: false, holds, ...over });
const best = (vip: string, nodes: NodeFacts[]) => rankedCandidates(candidatesFor(vip, VIPS, 'spread', nodes))[0]?.id;

test('per-VIP priority: node.vipPriorities overrides node.priority for that VIP only', () => {
  const n1 = node('n1', [], { priority: 200 });
  const n2 = node('n2', [], { priority: 100, vipPriorities: { b: 250 } });
  assert.equal(priorityFor(n2, 'b'), 250);
  assert.equal(priorityFor(n2, 'a'), 100);
  assert.equal(rankedCandidates(candidatesFor('a', VIPS, 'priority', [n1, n2]))[0]!.id, 'n1');
  assert.equal(rankedCandidates(candidatesFor('b', VIPS, 'priority', [n1, n2]))[0]!.id, 'n2');
  // Priority placement ignores load: n1 holding everything is still first for c.
  assert.equal(rankedCandidates(candidatesFor('c', VIPS, 'priority', [node('n1', ['a', 'b'], { priority: 200 }), n2]))[0]!.id, 'n1');
});

test('spread: with nothing held, every node is first for exactly one VIP, and every node agrees', () => {
  const nodes = [node('n1'), node('n2'), node('n3')];
  const firsts = VIPS.map((v) => best(v, nodes));
  assert.deepEqual([...firsts].sort(), ['n1', 'n2', 'n3']);
  // The order of the input (each node lists itself last) does not change the answer.
  for (const v of VIPS) assert.equal(best(v, [nodes[2]!, nodes[0]!, nodes[1]!]), best(v, nodes));
  for (const [i, self] of nodes.entries()) {
    const cands = candidatesFor(VIPS[VIPS.indexOf(VIPS.find((v) => best(v, nodes) === self.id)!)]!, VIPS, 'spread', nodes);
    assert.equal(rankOf(cands.find((c) => c.id === self.id)!, cands), 0, `node ${i + 1} ranks first for its own VIP`);
  }
});

test('spread: a dead node\'s VIP goes to the least-loaded survivor; 3 nodes and 3 VIPs end as two and one', () => {
  const n1 = node('n1', ['a']);
  const n2 = node('n2', ['b', 'c']);
  const n3 = node('n3', [], { alive: false });
  assert.equal(best('c', [n1, { ...n2, holds: ['b'] }, n3]), best('c', [n1, { ...n2, holds: ['b'] }]), 'a dead node is no candidate');
  // n3 (which held c) died: n1 and n2 hold one each; the assignment's choice decides, and both agree.
  const after = best('c', [n1, node('n2', ['b']), n3]);
  assert.ok(after === 'n1' || after === 'n2');
  // A node holding two already is never preferred over one holding none.
  assert.equal(best('a', [node('n1', []), n2, n3]), 'n1');
  assert.equal(best('b', [node('n1', ['a']), node('n2', ['c', 'a']), node('n3', [])]), 'n3');
});

test('spread preemption: only an owner holding more than a returning node moves one VIP, the first of its own', () => {
  const ownerOf = (vip: string, holds: string[]) => candidatesFor(vip, VIPS, 'spread', [node('n1', holds), node('n2', [])]);
  const forA = ownerOf('a', ['a', 'b']);
  const forB = ownerOf('b', ['a', 'b']);
  assert.equal(preemptionTarget(forA[0]!, forA, true, 'spread', 'a')?.id, 'n2', 'a, the first of its VIPs, moves');
  assert.equal(preemptionTarget(forB[0]!, forB, true, 'spread', 'b'), null, 'b waits: one VIP at a time');
  assert.equal(preemptionTarget(forA[0]!, forA, false, 'spread', 'a'), null, 'never without preempt');
  const even = ownerOf('a', ['a']);
  assert.equal(preemptionTarget(even[0]!, even, true, 'spread', 'a'), null, 'one each is even: nothing moves');
});
