/**
 * The bench's report arithmetic: goals of issue 11 judged on medians (met,
 * missed by how much, not judged without the peer, pending columns), the
 * comparison table's ratios, and the README block that a re-run replaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeGoals, goalsTable, verdict } from '../../bench/bench-goals';
import { comparisonTable, type TargetResult } from '../../bench/bench-table';
import type { RoundFigures } from '../../bench/bench-phases';
import { BENCH_BEGIN, BENCH_END, replaceMarkedSection } from '../../bench/readme-section';

function figures(p: Partial<RoundFigures>): RoundFigures {
  return {
    smallMsgsPerSec: NaN, smallCpuUsPerMsg: NaN, largeMsgsPerSec: NaN, largeCpuUsPerMsg: NaN,
    p50Us: NaN, p99Us: NaN, handshakesPerSec: NaN, cpuUsPerHandshake: NaN, handshakeFailures: 0, ...p,
  };
}

/** Three rounds whose median is `p` (one lower, one higher, so a mean would differ). */
function target(name: string, label: string, p: Partial<RoundFigures>, kib?: number): TargetResult {
  const scaled = (k: number) => figures(Object.fromEntries(Object.entries(p).map(([key, v]) => [key, (v as number) * k])));
  return { name, label, rounds: [scaled(0.5), figures(p), scaled(3)], idle: kib === undefined ? undefined : { held: 100, failures: 0, echoed: 10, sample: 10, rssBeforeKib: 0, rssAfterKib: kib * 100, kibPerConnection: kib } };
}

test('verdict: at least / at most, and by how much a goal is missed', () => {
  assert.deepEqual(verdict(110, 100, 'min'), { met: true, text: 'met (1.10× the bar)' });
  assert.equal(verdict(80, 100, 'min').met, false);
  assert.match(verdict(80, 100, 'min').text, /missed by 20 %/);
  assert.match(verdict(150, 100, 'max').text, /missed by 50 %/);
  assert.equal(verdict(100, 100, 'max').met, true);
  assert.equal(verdict(NaN, 100, 'max').met, null);
});

test('goals take their bars from the right peers, per wsha column', () => {
  const results = [
    target('nginx', 'nginx', { smallMsgsPerSec: 1000, largeMsgsPerSec: 100, largeCpuUsPerMsg: 50, handshakesPerSec: 2000, cpuUsPerHandshake: 100, p99Us: 5000 }),
    target('haproxy', 'HAProxy', { smallMsgsPerSec: 900, largeMsgsPerSec: 200, largeCpuUsPerMsg: 30, handshakesPerSec: 1500, cpuUsPerHandshake: 150, p99Us: 4000 }),
    target('wsha', 'wsha', { smallMsgsPerSec: 1100, largeMsgsPerSec: 200, largeCpuUsPerMsg: 45, handshakesPerSec: 1000, cpuUsPerHandshake: 140, p99Us: 4000 }, 6),
    { name: 'wsha-auto', label: 'wsha auto', rounds: [], pending: 'pending: not built' },
  ];
  const v = judgeGoals(results, '64 B', '16 KiB');
  const get = (goal: RegExp, t = 'wsha') => v.find((x) => goal.test(x.goal) && x.target === t)!;
  // 64 B: best peer nginx 1000, bar 1100, wsha 1100: met exactly.
  assert.equal(get(/^64 B msgs/).met, true);
  assert.equal(get(/^64 B msgs/).bar, 1100);
  // 16 KiB: best peer HAProxy 200, bar 220: missed by 9 %.
  assert.equal(get(/^16 KiB msgs/).met, false);
  assert.match(get(/^16 KiB msgs/).text, /missed by 9 %/);
  // CPU per 16 KiB message against HAProxy's 30 (not nginx's 50).
  assert.equal(get(/CPU per message/).bar, 30);
  assert.match(get(/CPU per message/).text, /missed by 50 %/);
  assert.equal(get(/connections\/s/).met, false);
  assert.equal(get(/CPU per connection/).bar, 150);
  assert.equal(get(/CPU per connection/).met, true);
  // p99: the lowest peer's.
  assert.equal(get(/p99/).bar, 4000);
  assert.equal(get(/p99/).met, true);
  assert.match(get(/RSS/).text, /missed by 20 %/);
  assert.ok(v.filter((x) => x.target === 'wsha auto').every((x) => x.met === null && x.text === 'pending: not built'));
  const md = goalsTable(v);
  assert.match(md, /\| goal of issue 11 \| bar \| wsha \| wsha auto \|/);
  assert.equal(md.split('\n').length, 2 + 7);
});

test('a goal whose peer was not measured is not judged', () => {
  const v = judgeGoals([target('wsha', 'wsha', { largeCpuUsPerMsg: 10, handshakesPerSec: 10 })], '64 B', '16 KiB');
  const cpu = v.find((x) => /CPU per message/.test(x.goal))!;
  assert.equal(cpu.met, null);
  assert.match(cpu.text, /not judged/);
});

test('comparison table: medians with ratios to nginx and direct, pending columns', () => {
  const md = comparisonTable([
    target('direct', 'direct', { smallMsgsPerSec: 2000 }),
    target('nginx', 'nginx', { smallMsgsPerSec: 1000, smallCpuUsPerMsg: 10 }),
    target('wsha', 'wsha', { smallMsgsPerSec: 1500, smallCpuUsPerMsg: 5 }),
    { name: 'wsha-auto', label: 'wsha auto', rounds: [], pending: 'pending: not built' },
  ], { rounds: 3, connections: 100, inFlight: 16, smallBytes: 64, largeBytes: 16384, handshakeBatch: 50, durationMs: 2000, cpus: 2 });
  const row = md.split('\n').find((l) => l.startsWith('| 64 B echo msgs/s'))!;
  assert.equal(row, '| 64 B echo msgs/s (100 conns × 16 in flight) | 2,000 (2.00 n) | 1,000 (0.50 d) | 1,500 (1.50 n, 0.75 d) | pending |');
  const cpu = md.split('\n').find((l) => l.startsWith('| 64 B proxy CPU'))!;
  assert.match(cpu, /\| 5\.00 \(0\.50 n\) \|/);
  assert.match(md, /wsha auto: pending: not built\./);
});

test('README block: replaced between its markers, appended when absent, refused when half there', () => {
  const readme = `# x\n\nbefore\n${BENCH_BEGIN}\nold table\n${BENCH_END}\nafter\n`;
  const once = replaceMarkedSection(readme, 'new table\n');
  assert.equal(once, `# x\n\nbefore\n${BENCH_BEGIN}\nnew table\n${BENCH_END}\nafter\n`);
  assert.equal(replaceMarkedSection(once, 'new table'), once);
  const appended = replaceMarkedSection('# x\n', 'T');
  assert.equal(appended, `# x\n\n${BENCH_BEGIN}\nT\n${BENCH_END}\n`);
  assert.throws(() => replaceMarkedSection(`a\n${BENCH_BEGIN}\nno end`, 'T'), /no <!-- \/bench:generated -->/);
});
