/**
 * Issue 14: the live page's timeline in headless Chromium after a scripted
 * sequence on a real two-node cluster (a planned handover, a backend down
 * and up again, an unplanned takeover after SIGKILL). The page is opened
 * through the sign-in link (token in the URL fragment, removed from the
 * address bar at once); the owner bars, their epochs and the gap, and the
 * backend's down band are checked against the events `wsha events --json`
 * reads; hovering a bar shows its details. Saves test/artifacts/live-page-timeline.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { needsChromium, openPage } from '../harness/headless-chromium';
import { killBackend, restartBackend, startOperatorCluster } from '../harness/operator-cluster';
import { sleep, waitFor } from '../harness/ports';
import { REPO_ROOT, runWsha } from '../harness/wsha-cli';
import type { StoredEvent } from '../../shared/history-event';
import type { StatusDocument } from '../../cluster/status/status-document';

/** The window the page is opened with: the whole scripted sequence, drawn wide enough to read. */
const WINDOW_MS = 90_000;

interface Bar { owner: string; epoch: string; start: number; end: number; cls: string }

test('the timeline draws owner bars with epochs and gaps and backend bands that match the events', { timeout: 180_000, skip: needsChromium }, async (t) => {
  // Chromium starts while the cluster does; the page is opened only after the scripted sequence.
  const opening = openPage(t, { width: 1366, height: 900 });
  opening.catch(() => {}); // awaited below; a failure is reported there
  const c = await startOperatorCluster('timeline', (cfg) => { cfg.cluster.history = { sampleIntervalMs: 1000 }; });
  t.after(() => c.stop());
  const events = async (): Promise<StoredEvent[]> => {
    const r = await runWsha(['events', '--json', '--since', '10m', ...c.target]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as StoredEvent);
  };
  const first = (await c.owner())!;
  const other = first.owner === 'node-a' ? 'node-b' : 'node-a';
  await waitFor(async () => (await events()).some((e) => e.kind === 'vip-serving'), 'first owner serving', 20_000, 200);
  // The handover needs the other node ready (instead of a fixed 2 s, as issue-14-events.test.ts waits).
  await waitFor(async () => {
    const s = JSON.parse((await runWsha(['status', '--json', ...c.target])).stdout) as StatusDocument;
    return s.nodes.filter((n) => n.alive && n.ready).length === 2;
  }, 'both nodes ready', 20_000, 200);

  // Planned handover first -> other. The pauses between the steps keep each bar and band at least 1 s wide.
  const f = await runWsha(['failover', '--vip', 'front', '--to', other, '--json', ...c.target], { timeoutMs: 30_000 });
  assert.equal(f.code, 0, f.stderr);
  await sleep(1000);
  // A backend down, then up again.
  await killBackend(c, 'echo-2');
  await waitFor(async () => (await events()).some((e) => e.kind === 'verdict' && e.backend === 'echo-2' && !e.up), 'echo-2 down', 20_000, 200);
  await sleep(1000);
  await restartBackend(c, 'echo-2');
  await waitFor(async () => (await events()).some((e) => e.kind === 'verdict' && e.backend === 'echo-2' && e.up), 'echo-2 up', 20_000, 200);
  await sleep(1000);
  // Unplanned takeover: the owner (other) is killed; first takes the VIP back.
  await c.nodes.get(other)!.cleanup();
  const list = await waitFor(async () => { const l = await events(); return l.some((e) => e.kind === 'vip-serving' && e.node === first.owner && e.gapMs !== undefined) ? l : null; }, 'takeover served', 20_000, 200);
  await sleep(2000);

  const page = await opening;
  await page.goto(`${c.adminUrl(first.owner)}#token=${c.layout.token}&window=${WINDOW_MS}`);
  await page.waitForSelector('#timeline[data-loaded]', { timeout: 20_000 });
  assert.equal(await page.isVisible('#login'), false, 'signed in through the link');
  assert.equal(await page.evaluate('location.hash'), '', 'the token left the address bar');

  const bars = await page.$$eval('#tl-svg rect[data-vip="front"]', (rs) => rs.map((r) => ({
    owner: r.getAttribute('data-owner') ?? '', epoch: r.getAttribute('data-epoch') ?? '', start: Number(r.getAttribute('data-start')), end: Number(r.getAttribute('data-end')), cls: r.getAttribute('class') ?? '',
  }))) as Bar[];
  const owned = bars.filter((b) => b.owner);
  // The owners in order, with the epochs of the ownership events (read again: the page shows everything up to now).
  const all = await events();
  const drawnUntil = Number(await page.getAttribute('#timeline', 'data-loaded'));
  const changes = all.filter((e) => e.kind === 'ownership' && e.vip === 'front' && e.owner && e.at <= drawnUntil);
  t.diagnostic(all.filter((e) => e.kind === 'ownership' || e.kind === 'step-down' || e.kind === 'vip-serving').map((e) => JSON.stringify(e)).join('\n'));
  const merged = owned.filter((b, i) => i === 0 || `${b.owner}:${b.epoch}` !== `${owned[i - 1]!.owner}:${owned[i - 1]!.epoch}`);
  assert.deepEqual(merged.map((b) => `${b.owner}:${b.epoch}`), changes.map((e) => e.kind === 'ownership' && `${e.owner}:${e.epoch}`), `bars ${JSON.stringify(bars)}`);
  // The takeover's gap: from the killed owner's last sign of life to the survivor serving.
  const serving = list.find((e) => e.kind === 'vip-serving' && e.node === first.owner && e.gapMs !== undefined)!;
  assert.ok(serving.kind === 'vip-serving');
  const gap = bars.find((b) => b.cls === 'tl-gap' && Math.abs(b.end - serving.at) <= 1);
  assert.ok(gap, `a gap bar ending when the survivor served (${serving.at}): ${JSON.stringify(bars)}`);
  assert.ok(Math.abs(gap.end - gap.start - serving.gapMs!) <= 2, 'the gap is as long as measured');
  // Before the first event the history knows nothing: drawn neutral, not as a gap.
  assert.equal(bars[0]!.cls, 'tl-none', 'the time before the cluster existed is not a gap');
  // The planned handover leaves no gap.
  const handover = changes.find((e) => e.kind === 'ownership' && e.owner === other)!;
  assert.ok(!bars.some((b) => b.cls === 'tl-gap' && b.end > handover.at - 5 && b.start < handover.at + 5), 'no gap at the planned handover');

  // echo-2's band is down from the down verdict to the up verdict.
  const down = list.find((e) => e.kind === 'verdict' && e.backend === 'echo-2' && !e.up)!;
  const up = list.find((e) => e.kind === 'verdict' && e.backend === 'echo-2' && e.up && e.at > down.at)!;
  const bands = await page.$$eval('#tl-svg rect[data-backend="chat/echo-2"]', (rs) => rs.map((r) => ({ state: r.getAttribute('data-state'), start: Number(r.getAttribute('data-start')), end: Number(r.getAttribute('data-end')) })));
  assert.ok(bands.some((b) => b.state === 'down' && b.start === down.at && b.end === up.at), `down band ${JSON.stringify(bands)}`);
  assert.ok(await page.$('#tl-svg rect[data-backend="chat/echo-1"][data-state="up"]'), 'echo-1 stays up');
  assert.ok(await page.$('#tl-svg polyline[data-node="node-a"]'), 'connections of node-a drawn');
  assert.ok(await page.$('#tl-events tr[data-kind="vip-serving"]'), 'event list');

  // Hover: the details of the bar.
  const last = owned[owned.length - 1]!;
  await page.hover(`#tl-svg rect[data-vip="front"][data-start="${last.start}"]`);
  const tipText = await page.textContent('#tl-tip');
  assert.ok(tipText?.includes(`${last.owner} (epoch ${last.epoch})`), `tooltip: ${tipText}`);

  const dir = join(REPO_ROOT, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  await page.$eval('#timeline', (e) => e.scrollIntoView());
  await page.screenshot({ path: join(dir, 'live-page-timeline.png'), fullPage: true });
});
