/**
 * `wsha status --watch --json` against a real redis-server: one document
 * per line at the interval, each following the documented shape, and a
 * clean exit on SIGINT with the exit code of the last document.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { validateStatusDocument } from '../../cluster/status/status-document';
import { startRedis } from '../harness/redis';
import { waitFor } from '../harness/ports';
import { WSHA_MAIN } from '../harness/wsha-cli';

test('status --watch --json streams documents and stops on SIGINT', { timeout: 60_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const child = spawn(process.execPath, [WSHA_MAIN, 'status', '--watch', '--json', '--interval', '200', '--redis', redis.url, '--cluster', 'watched'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  await waitFor(() => out.split('\n').filter(Boolean).length >= 3, 'three documents', 20_000, 50);
  child.kill('SIGINT');
  const code = await exited;
  const docs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(docs.length >= 3);
  for (const d of docs) assert.deepEqual(validateStatusDocument(d), []);
  assert.ok(docs[2].generatedAt > docs[0].generatedAt, 'each document is fresh');
  // An empty cluster has no live node: down, exit 2.
  assert.equal(docs[0].health, 'down');
  assert.equal(code, 2);
});
