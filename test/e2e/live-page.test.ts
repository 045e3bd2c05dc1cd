/**
 * The live page in headless Chromium (Debian's chromium through
 * playwright-core, no browser download) against a real two-node cluster:
 * after the token is entered once it shows both nodes and the VIP owner
 * with its epoch, the edge's refusals per node, route and reason and the
 * pool's admission queue, and after `wsha failover` the new owner appears
 * without a reload. Saves test/artifacts/live-page.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { needsChromium, openPage } from '../harness/headless-chromium';
import { startOperatorCluster } from '../harness/operator-cluster';
import { REPO_ROOT, runWsha } from '../harness/wsha-cli';
import { statusOf, tryUpgrade } from '../harness/edge';


test('live page shows nodes, the VIP owner and the edge, then the new owner after a failover without reload', { timeout: 120_000, skip: needsChromium }, async (t) => {
  // Chromium starts while the cluster does.
  const opening = openPage(t, { width: 1366, height: 800 });
  opening.catch(() => {}); // awaited below; a failure is reported there
  const c = await startOperatorCluster('livepage', (config) => {
    config.routes[0] = { ...config.routes[0], name: 'chat', access: { origins: ['https://app.test'] } };
    config.pools.chat.admission = { handshakesPerSec: 1000 };
  });
  t.after(() => c.stop());
  const page = await opening;

  const first = (await c.owner())!;
  const other = first.owner === 'node-a' ? 'node-b' : 'node-a';
  // The owner's page: admission queues are per node, and only the owner takes handshakes.
  await page.goto(c.adminUrl(first.owner));
  // A wrong token is refused and the form stays.
  await page.fill('#token', 'not-the-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error:not([hidden])', { timeout: 10_000 });
  assert.equal(await page.isVisible('#main'), false);

  await page.fill('#token', c.layout.token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#nodes tr[data-node="node-a"]', { timeout: 20_000 });
  await page.waitForSelector('#nodes tr[data-node="node-b"]', { timeout: 20_000 });
  await page.waitForSelector(`#vips tr[data-vip="front"][data-owner="${first.owner}"]`, { timeout: 20_000 });
  const vipRow = await page.textContent('#vips tr[data-vip="front"]');
  assert.ok(vipRow?.includes(String(first.epoch)), `epoch ${first.epoch} shown: ${vipRow}`);
  assert.equal(await page.evaluate("sessionStorage.getItem('wsha-admin-token')"), c.layout.token, 'token kept for the tab');

  // The edge: nothing refused yet; then one upgrade from a foreign Origin (403) and one admitted.
  assert.match(String(await page.textContent('#edge-denied')), /no refusals/);
  const vipUrl = `ws://${c.layout.vip.address}:${c.layout.vip.port}/`;
  assert.equal(statusOf(await tryUpgrade(vipUrl, { origin: 'https://evil.test' })), 403);
  assert.equal(statusOf(await tryUpgrade(vipUrl, { origin: 'https://app.test' })), 101);
  await page.waitForSelector(`#edge-denied tr[data-edge="${first.owner}/chat/origin"]`, { timeout: 20_000 });
  assert.match(String(await page.textContent(`#edge-denied tr[data-edge="${first.owner}/chat/origin"]`)), /1$/);
  await page.waitForSelector('#edge-admission tr[data-admission="chat"]', { timeout: 20_000 });
  assert.match(String(await page.textContent('#edge-admission-node')), new RegExp(first.owner));
  assert.ok((await page.$$('#warnings li')).length >= 1);

  // Mark this document: a reload would lose the mark.
  await page.evaluate('window.wshaMark = 42');
  const moved = await runWsha(['failover', '--vip', 'front', '--to', other, '--json', ...c.target], { timeoutMs: 30_000 });
  assert.equal(moved.code, 0, `failover: ${moved.stderr}`);
  assert.equal(JSON.parse(moved.stdout).newOwner, other);
  await page.waitForSelector(`#vips tr[data-vip="front"][data-owner="${other}"]`, { timeout: 15_000 });
  assert.equal(await page.evaluate('window.wshaMark'), 42, 'the page was not reloaded');
  const after = await page.textContent('#vips tr[data-vip="front"]');
  assert.ok(after?.includes(String(JSON.parse(moved.stdout).epoch)), `new epoch shown: ${after}`);

  const dir = join(REPO_ROOT, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, 'live-page.png'), fullPage: true });
});
