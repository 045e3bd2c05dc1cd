import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepAliveDelayMs, KEEPALIVE_JITTER } from '../../../node/tcp-keepalive';
import { LimitsSchema } from '../../../shared/config/schema';
import { validateConfig } from '../../../shared/config/validate';
import { rawNodeConfig } from '../../fixtures/node-config';

test('a socket adds up to a quarter of the delay, spread evenly', () => {
  assert.equal(keepAliveDelayMs(60_000, () => 0), 60_000);
  assert.equal(keepAliveDelayMs(60_000, () => 0.999_999), 60_000 + Math.floor(0.999_999 * 60_000 * KEEPALIVE_JITTER));
  // A burst of sockets armed in the same second: their delays fall into many different seconds.
  const seconds = new Set<number>();
  for (let i = 0; i < 2000; i++) seconds.add(Math.floor(keepAliveDelayMs(7_200_000) / 1000));
  assert.ok(seconds.size > 1000, `${seconds.size} distinct seconds over a 1,800 s spread`);
  for (const s of seconds) assert.ok(s >= 7200 && s < 9000);
});

test('limits.tcpKeepAliveMs: 2 h by default, 0 is off, anything else from 1 s, named when wrong', () => {
  assert.equal(LimitsSchema.parse({}).tcpKeepAliveMs, 7_200_000);
  assert.equal(LimitsSchema.parse({ tcpKeepAliveMs: 0 }).tcpKeepAliveMs, 0);
  assert.equal(LimitsSchema.parse({ tcpKeepAliveMs: 1000 }).tcpKeepAliveMs, 1000);
  for (const bad of [500, -1, 1.5, 'soon', 30_000_000]) {
    assert.throws(() => validateConfig(rawNodeConfig({ port: 0, backendUrls: ['ws://127.0.0.1:9'], limits: { tcpKeepAliveMs: bad } }), 'test config'),
      (e: Error) => /limits\.tcpKeepAliveMs/.test(e.message) && /0 \(off\)/.test(e.message), `tcpKeepAliveMs ${bad}`);
  }
});
