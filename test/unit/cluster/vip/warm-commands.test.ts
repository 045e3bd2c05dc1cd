/** Commands spawned ahead of need (the announcement after a takeover): they run only when started, with their arguments intact. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareCommand, succeeded } from '../../../../cluster/vip/drivers/commands';
import { WarmCommands } from '../../../../cluster/vip/guard/warm-commands';
import { silentLogger } from '../../../../shared/logger';

const opts = { timeoutMs: 5000, logger: silentLogger() };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a prepared command does nothing until started, then runs with its arguments unparsed by the shell', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-warm-'));
  try {
    const marker = join(dir, 'ran');
    const p = prepareCommand('/bin/sh', ['-c', 'touch "$1"; printf "%s|" "$@"', 'sh', marker, 'a b', '$HOME;x']);
    await sleep(150);
    assert.equal(existsSync(marker), false, 'ran before start');
    assert.equal(p.ready, true);
    const r = await p.start(opts);
    assert.ok(succeeded(r), JSON.stringify(r));
    assert.equal(r.stdout, `${marker}|a b|$HOME;x|`);
    assert.equal(p.ready, false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a prepared command that is missing reports ENOENT as a spawn would', async () => {
  const p = prepareCommand('wsha-no-such-tool', ['x']);
  const r = await p.start(opts);
  assert.equal((r.spawnError as NodeJS.ErrnoException | undefined)?.code, 'ENOENT');
});

test('a discarded prepared command never runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsha-warm-'));
  try {
    const marker = join(dir, 'ran');
    const p = prepareCommand('/bin/touch', [marker]);
    p.discard();
    await sleep(150);
    assert.equal(p.ready, false);
    assert.equal(existsSync(marker), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('warm commands run from the waiting copy and prepare the next one', async () => {
  const warm = new WarmCommands();
  try {
    warm.prepare('/bin/echo', ['hi']);
    for (let i = 0; i < 3; i++) {
      const r = await warm.run('/bin/echo', ['hi'], opts);
      assert.ok(succeeded(r));
      assert.equal(r.stdout, 'hi\n');
    }
    // Not prepared before: spawned at once, and works the same.
    const other = await warm.run('/bin/echo', ['other'], opts);
    assert.equal(other.stdout, 'other\n');
  } finally { warm.close(); }
});
