/**
 * `npm run bench` in its smallest mode (--quick: one short round, direct
 * and wsha, a few hundred idle connections), so that the bench keeps
 * working: it must measure every figure through a real wsha node, judge
 * the goals, mark the workers-auto column pending while the build lacks
 * node.workers (and measure it once the key exists), and rewrite only its
 * own block of a README. Peers (nginx, HAProxy) are left out: installing
 * them has no place in the test suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_BEGIN, BENCH_END } from '../bench/readme-section';
import { workersKeySupported } from '../bench/wsha-workers';

const BENCH = join(__dirname, '..', 'bench', 'proxy-throughput.js');
const RUN_TIMEOUT_MS = 50_000;

function runBench(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => { out += b; });
    p.stderr.on('data', (b) => { err += b; });
    const timer = setTimeout(() => p.kill('SIGTERM'), RUN_TIMEOUT_MS);
    p.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

/** The cells of the table row starting with `title`. */
function row(md: string, title: string): string[] {
  const line = md.split('\n').find((l) => l.startsWith(`| ${title}`));
  assert.ok(line, `no row ${title} in\n${md}`);
  return line.split('|').slice(2, -1).map((c) => c.trim());
}

test('bench --quick measures direct and wsha and rewrites only its README block', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-bench-quick-'));
  try {
    const readme = join(dir, 'README.md');
    writeFileSync(readme, `# top\n\n${BENCH_BEGIN}\nstale figures\n${BENCH_END}\n\n## after\n`);
    const r = await runBench(['--quick', '--only', 'direct,wsha,wsha-auto', '--no-install', '--readme', readme]);
    assert.equal(r.code, 0, `bench exited ${r.code}\n${r.err.slice(-3000)}`);
    const text = readFileSync(readme, 'utf8');
    assert.ok(text.startsWith(`# top\n\n${BENCH_BEGIN}\n`), text.slice(0, 300));
    assert.ok(text.endsWith(`${BENCH_END}\n\n## after\n`));
    assert.doesNotMatch(text, /stale figures/);
    assert.equal(text.split(BENCH_BEGIN).length, 2);
    const md = text.slice(text.indexOf(BENCH_BEGIN), text.indexOf(BENCH_END));
    // Columns: direct, wsha (workers 1), wsha (workers auto).
    const num = (cell: string) => Number(cell.split(' ')[0]!.replace(/,/g, ''));
    for (const title of ['64 B echo msgs/s', '16 KiB echo msgs/s', 'round trip p99', 'new WebSocket connections/s']) {
      const [direct, wsha] = row(md, title);
      assert.ok(num(direct!) > 0 && num(wsha!) > 0, `${title}: ${direct} / ${wsha}`);
    }
    for (const title of ['64 B proxy CPU', '16 KiB proxy CPU', 'proxy CPU µs per connection', 'proxy RSS KiB per idle']) {
      const [direct, wsha] = row(md, title);
      assert.equal(direct, '–', `${title}: direct has no proxy`);
      assert.ok(num(wsha!) > 0, `${title}: ${wsha}`);
    }
    assert.equal(num(row(md, 'idle connections held')[1]!), 300);
    const auto = row(md, '64 B echo msgs/s')[2]!;
    if (workersKeySupported()) assert.ok(num(auto) > 0, auto);
    else assert.equal(auto, 'pending');
    // The goals are judged on the wsha columns; without peers, only the memory goal has a bar.
    const rss = row(md, 'proxy RSS per idle connection ≤ 5 KiB');
    assert.match(rss[1]!, /met|missed by/);
    assert.match(row(md, '16 KiB proxy CPU per message ≤ HAProxy')[1]!, /not judged/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
