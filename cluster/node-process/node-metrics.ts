/**
 * /metrics of a node: the control process's registry and every worker's,
 * summed per series with prom-client's AggregatorRegistry (counters and
 * gauges add up; a worker label is not added, so `wsha_connections_open`
 * is the node's total). Worker registries are asked on each scrape; a
 * worker that does not answer is left out of that scrape.
 */
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from '../../shared/metrics';
import type { MetricsSource } from '../admin/admin-server';

/** The summed metrics of the control process (`control`) and its workers. */
export function nodeMetrics(control: Metrics, workers: { metricsJson(): Promise<unknown[][]> }): MetricsSource {
  return {
    contentType: control.contentType,
    text: async () => {
      const [own, others] = await Promise.all([control.json(), workers.metricsJson()]);
      return AggregatorRegistry.aggregate([own, ...others] as object[]).metrics();
    },
  };
}
