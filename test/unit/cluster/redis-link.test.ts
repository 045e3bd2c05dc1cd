/** Redis reachability machine, driven by ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisLink } from '../../../cluster/redis-link';
import { ManualClock } from '../../../shared/clock';
import { Metrics } from '../../../shared/metrics';
import { silentLogger } from '../../../shared/logger';

test('connecting -> connected -> degraded -> lost -> connected, errors counted', async () => {
  const clock = new ManualClock(0);
  const metrics = new Metrics({ defaultMetrics: false });
  const link = new RedisLink(800, clock, silentLogger(), metrics);
  assert.equal(link.state, 'connecting');
  link.report('state', true);
  assert.equal(link.state, 'connected');
  clock.advance(100);
  link.report('lease', false, new Error('timeout'));
  assert.equal(link.state, 'degraded');
  clock.advance(600);
  link.report('lease', false, new Error('timeout'));
  assert.equal(link.state, 'degraded', 'not lost before lostAfterMs without success');
  clock.advance(100);
  link.report('state', false, new Error('timeout'));
  assert.equal(link.state, 'lost');
  link.report('lease', true);
  assert.equal(link.state, 'connected');
  const text = await metrics.registry.getSingleMetricAsString('wsha_redis_errors_total');
  assert.match(text, /purpose="lease"} 2/);
  assert.match(text, /purpose="state"} 1/);
});
