/**
 * The composition root of a node process: the one place where a node is
 * assembled from its parts. The control process (this one) holds the
 * config, the shared state through Redis, the control-plane agent (leases,
 * heartbeats, peer link, VIP guard) and the admin API; the data plane runs
 * in `node.workers` worker processes (cluster/workers/worker-fleet.ts,
 * forked from shared/ports/worker-entry.ts), driven through the DataPlane
 * port. `workers: 1` is one worker process, which behaves as a node always
 * did.
 *
 *   load config -> shared state -> workers start (plain listeners) -> signals
 *     -> admin API -> Redis reads + agent start (VIPs once ready)
 *
 * Without Redis the node still serves its plain-address listeners, routing
 * on its own health checks.
 */
import { loadConfig } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';
import { createLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import type { Config } from '../../shared/config/schema';
import { WORKER_ENTRY, workerExecArgv } from '../../shared/ports/worker-entry';
import { CONTROL_EXEC_ARGV, controlFlagsApplied } from '../../shared/control-flags';
import { ControlPriority } from './control-priority';
import { startAdminServer, type RunningAdmin } from '../admin/start-admin';
import { loadAdminTls } from '../admin/admin-tls';
import { ClusterAgent } from '../cluster-agent';
import { SharedState } from '../shared-state';
import { NodeHistory } from '../events/node-history';
import { WorkerFleet } from '../workers/worker-fleet';
import { checkWorkerCount, resolveWorkerCount } from '../workers/worker-count';
import { fleetSources } from './fleet-sources';
import { nodeMetrics } from './node-metrics';
import { wireSignals, type ReloadHooks, type Stoppable } from './signals';

/** Exit code for a config that fails validation. */
export const EXIT_CONFIG = 2;
/** Exit code when the node cannot start (address in use, certificate error at bind time, a worker that cannot start). */
export const EXIT_START = 1;

function configOrExit(load: () => Config): Config {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

/** Runs one node until SIGTERM/SIGINT; never returns on its own. */
export async function runNode(configPath: string): Promise<void> {
  const config = configOrExit(() => loadConfig(configPath));
  const count = resolveWorkerCount(config.node.workers);
  configOrExit(() => { checkWorkerCount(count); return config; });
  // One write per line: the workers share this process's stdout.
  const logger = createLogger({ level: config.logging.level, nodeId: config.node.id, sync: true });
  // Before any fork: the VIP guard inherits the raised priority, the workers are forked without it.
  const priority = new ControlPriority();
  const raised = priority.raise();
  const metrics = new Metrics({ nodeId: config.node.id });

  const shared = new SharedState({ config, log: logger, metrics });
  const fleet = new WorkerFleet({ config, count, entry: WORKER_ENTRY, execArgv: workerExecArgv(), forkWith: (f) => priority.atNormalPriority(f), log: logger, metrics, sources: fleetSources(shared) });
  shared.health.onRoutingChange(() => fleet.pushHealth());
  try {
    await fleet.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const e = err as Error;
    logger.fatal({ err: e }, 'node failed to start');
    process.stderr.write(`wsha: cannot start node: ${e.message}\n`);
    process.exit(EXIT_START);
  }
  shared.attach(fleet);
  // The cluster event history (cluster/events/): buffered in memory until Redis answers, so it starts before everything else.
  const history = new NodeHistory({ config, log: logger, metrics, connections: () => fleet.connectionCount(), metricsJson: async (names) => [await metrics.json(names) as unknown[], ...await fleet.metricsJson(names)] });
  history.followPools(shared.pools);
  history.followHealth(shared.health);
  history.start();

  let running: RunningAdmin | undefined;
  const stoppables: Stoppable[] = [];
  // Signals first: the workers already serve, so SIGTERM must drain and SIGHUP reload even while Redis is still out of reach.
  const livePools: ReloadHooks = {
    prepare: (c) => {
      // Bad admin certificates reject the whole reload, as bad listener certificates do.
      loadAdminTls(c);
      return Object.freeze({ ...c, pools: shared.pools.preview(c.pools) }) as Config;
    },
    applied: (c) => {
      shared.pools.setBase(c.pools);
      running?.reload(c);
    },
    outcome: (err) => history.configReload(err),
  };
  wireSignals(configPath, () => fleet.config, { plane: fleet, stop: () => fleet.stop(), connectionCount: () => fleet.connectionCount() }, logger, stoppables, livePools);

  let adminAddress = config.node.admin.listen;
  const fatal = (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    logger.flush?.();
    void fleet.stop().finally(() => process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_START));
  };
  const agent = new ClusterAgent({
    config, logger, metrics, adminAddress: () => adminAddress, connections: () => fleet.connectionCount(), workers: () => fleet.workers(), edge: () => fleet.edge(),
    version: require('../../../package.json').version, sharedState: shared, backendsDown: () => shared.downBackends(), onFatal: fatal, history: history.port,
  });

  // Before the control plane starts, so that /healthz and /readyz answer even while Redis is out of reach.
  let admin: Stoppable;
  try {
    running = await startAdminServer({ config, logger, metrics: nodeMetrics(metrics, fleet), node: fleet, agent });
    adminAddress = running.address;
    admin = running;
  } catch (err) {
    logger.fatal({ err, admin: config.node.admin.listen }, 'admin api failed to start');
    process.stderr.write(`wsha: cannot start the admin API on ${config.node.admin.listen}: ${(err as Error).message}\n`);
    await fleet.stop();
    process.exit(EXIT_START);
  }

  await shared.start();
  try {
    await agent.start(fleet);
  } catch (err) {
    if (err instanceof ConfigError) fatal(err);
    else throw err;
  }
  // Stopped in this order on SIGTERM: VIPs handed over first, then shared state, then the admin API, then the history
  // (it writes what the others recorded); then the workers drain.
  stoppables.push(agent, shared, admin, history);
  logger.info({ listeners: config.listeners.map((l) => l.name), workers: count }, 'node started');
  if (raised.applied) logger.info({ nice: raised.nice }, 'control plane runs ahead of the workers (nice value raised)');
  else logger.info({ nice: raised.nice, why: raised.error }, 'control plane runs at the workers\' priority: raising it needs CAP_SYS_NICE (the systemd unit grants it); takeovers on a busy host are slower');
  if (!controlFlagsApplied()) {
    logger.info({ flags: CONTROL_EXEC_ARGV }, 'the control process runs without its node flags (deploy/systemd/wsha.service passes them): its larger heap makes its death seen a few ms later');
  }
}
