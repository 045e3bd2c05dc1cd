/**
 * Process entry of one proxy node (composition root): loads the config,
 * builds the logger, metrics and ProxyNode, wires signals.
 *
 *   SIGHUP  -> re-read the file; apply it in process, or log its errors and keep the running config
 *   SIGTERM -> graceful drain (node.drain), then exit 0
 *   SIGINT  -> same as SIGTERM
 *
 * The shared state (cluster/shared-state.ts: merged health, affinity,
 * counts, live pool changes), the control plane agent and the admin server
 * plug in at the marked spots below. Without Redis the node still serves its
 * plain-address listeners, routing on its own health checks.
 */
import { loadConfig } from '../shared/config/load';
import { ConfigError } from '../shared/errors';
import { createLogger, type Logger } from '../shared/logger';
import { Metrics } from '../shared/metrics';
import type { ClusterView } from '../shared/cluster-view';
import type { Config } from '../shared/config/schema';
import { ProxyNode } from './proxy-node';
import { startAdminServer, type RunningAdmin } from './admin/start-admin';
import { loadAdminTls } from './admin/admin-tls';
import { ClusterAgent } from '../cluster/cluster-agent';
import { SharedState, proxyNodeHooks } from '../cluster/shared-state';
import { NodeHistory } from '../cluster/events/node-history';

/** Something that must stop before the process exits (control plane agent, admin server). */
export interface Stoppable { stop(): Promise<void> | void }

/** Exit code for a config that fails validation. */
export const EXIT_CONFIG = 2;
/** Exit code when the node cannot start (address in use, certificate error at bind time). */
export const EXIT_START = 1;

function loadOrExit(configPath: string): Config {
  try {
    return loadConfig(configPath);
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
  const config = loadOrExit(configPath);
  const logger = createLogger({ level: config.logging.level, nodeId: config.node.id });
  const metrics = new Metrics({ nodeId: config.node.id });
  const stoppables: Stoppable[] = [];

  // --- plug-in spot 1 (control plane): shared state (merged health, affinity, cluster-wide counts, live pool changes) through Redis.
  const shared = new SharedState({ config, log: logger, metrics });
  const view: ClusterView = shared.view;

  const node = new ProxyNode({ config, logger, metrics, view });
  try {
    await node.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    logger.fatal({ err: e }, 'node failed to start');
    process.stderr.write(`wsha: cannot start node: ${e.message}\n`);
    process.exit(EXIT_START);
  }

  shared.attach(proxyNodeHooks(node, config.node.drain.graceMs));
  // The cluster event history (cluster/events/): buffered in memory until Redis answers, so it starts before everything else.
  const history = new NodeHistory({ config, log: logger, metrics, connections: () => node.rt.registry.size });
  history.followPools(shared.pools);
  history.followHealth(shared.health);
  history.start();
  let running: RunningAdmin | undefined;
  // Signals first: the node already serves, so SIGTERM must drain and SIGHUP reload even while Redis is still out of reach.
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
  wireSignals(configPath, node, logger, stoppables, livePools);

  // --- plug-in spot 2 (control plane): the agent drives the node's VIP listeners (cluster/cluster-agent.ts).
  let adminAddress = config.node.admin.listen;
  const fatal = (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    logger.flush?.();
    process.exit(err instanceof ConfigError ? EXIT_CONFIG : EXIT_START);
  };
  const agent = new ClusterAgent({
    config, logger, metrics, adminAddress: () => adminAddress, connections: () => node.rt.registry.size, version: require('../../package.json').version,
    sharedState: shared, backendsDown: () => shared.downBackends(), onFatal: fatal, history: history.port,
  });

  // --- plug-in spot 3 (admin server): health, metrics, state, actions and the live page on node.admin.listen.
  // Before the control plane starts, so that /healthz and /readyz answer even while Redis is out of reach.
  let admin: Stoppable;
  try {
    running = await startAdminServer({ config, logger, metrics, node, agent });
    adminAddress = running.address;
    admin = running;
  } catch (err) {
    logger.fatal({ err, admin: config.node.admin.listen }, 'admin api failed to start');
    process.stderr.write(`wsha: cannot start the admin API on ${config.node.admin.listen}: ${(err as Error).message}\n`);
    process.exit(EXIT_START);
  }

  await shared.start();
  try {
    await agent.start(node);
  } catch (err) {
    if (err instanceof ConfigError) fatal(err);
    throw err;
  }
  // Stopped in this order on SIGTERM: VIPs handed over first, then shared state, then the admin API; the history last (it writes what the others recorded).
  stoppables.push(agent, shared, admin, history);

  logger.info({ listeners: config.listeners.map((l) => l.name) }, 'node started');
}

function wireSignals(configPath: string, node: ProxyNode, logger: Logger, stoppables: Stoppable[], hooks?: ReloadHooks): void {
  process.on('SIGHUP', () => reloadFromFile(configPath, node, logger, hooks));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, tunnels: node.rt.registry.size }, 'draining');
    void (async () => {
      for (const s of stoppables) { try { await s.stop(); } catch (err) { logger.error({ err }, 'stop failed'); } }
      await node.drain();
      logger.info('drained, exiting');
      logger.flush?.();
      setTimeout(() => process.exit(0), 50).unref();
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection (kept running)'));
}

/** Reload hooks: live pool changes (Redis) apply over the new file pools, and only once the reload succeeded. */
export interface ReloadHooks {
  /** The config to apply instead of the file's (file pools with live changes on top). */
  prepare(c: Config): Config;
  /** Called after the node took the config, with the file's config. */
  applied(c: Config): void;
  /** Told how the reload ended: null when applied, else the error that rejected it (recorded in the cluster history). */
  outcome?(err: unknown): void;
}

/** SIGHUP: a config that fails validation or certificate loading is logged and rejected; the running one stays. */
export function reloadFromFile(configPath: string, node: ProxyNode, logger: Logger, hooks?: ReloadHooks): boolean {
  try {
    const next = loadConfig(configPath);
    node.reload(hooks ? hooks.prepare(next) : next);
    hooks?.applied(next);
    hooks?.outcome?.(null);
    return true;
  } catch (err) {
    hooks?.outcome?.(err);
    if (err instanceof ConfigError) logger.error({ problems: err.problems, code: err.code }, `config reload rejected: ${err.message.split('\n')[0]}`);
    else logger.error({ err }, 'config reload failed; running config kept');
    return false;
  }
}
