/** Refusals are read as a scrape reads them: handshake failures and access denials, summed over the node's processes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refusalCounts } from '../../../../cluster/events/node-history';
import { Metrics } from '../../../../shared/metrics';

test('handshake failures and access denials by reason, summed over processes; other metrics ignored', async () => {
  const control = new Metrics({ defaultMetrics: false });
  const worker1 = new Metrics({ defaultMetrics: false });
  const worker2 = new Metrics({ defaultMetrics: false });
  worker1.handshakeFailuresTotal.inc({ reason: 'no-route' }, 3);
  worker2.handshakeFailuresTotal.inc({ reason: 'no-route' }, 2);
  worker2.accessDeniedTotal.inc({ route: 'chat', reason: 'rate-limit' }, 7);
  worker1.accessDeniedTotal.inc({ route: 'api', reason: 'rate-limit' }, 1);
  worker1.bytesTotal.inc({ direction: 'in' }, 1000);
  // A collector that copies hot-path counters runs before the read, as at a scrape.
  worker1.addCollector(() => worker1.handshakeFailuresTotal.inc({ reason: 'bad-origin' }, 1));
  const counts = refusalCounts([await control.json(), await worker1.json(), await worker2.json()]);
  assert.deepEqual(Object.fromEntries(counts), { 'no-route': 5, 'bad-origin': 1, 'access-rate-limit': 8 });
});
