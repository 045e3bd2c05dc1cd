/**
 * Signals of a node's control process. The workers ignore signals; this
 * process turns each into calls over the data-plane port, so that every
 * worker does the same thing:
 *
 *   SIGHUP  -> re-read the file; the first worker tries it, then the others (a bad config changes nothing)
 *   SIGTERM -> hand the VIPs over, stop the control plane, drain every worker, end them, exit 0
 *   SIGINT  -> same as SIGTERM
 */
import { loadConfig } from '../../shared/config/load';
import { ConfigError } from '../../shared/errors';
import type { Logger } from '../../shared/logger';
import type { Config } from '../../shared/config/schema';
import type { DataPlane } from '../../shared/ports/data-plane';

/** Something that must stop before the process exits (control plane agent, shared state, admin server). */
export interface Stoppable { stop(): Promise<void> | void }

/** Reload hooks: live pool changes (Redis) apply over the new file pools, and only once the reload succeeded. */
export interface ReloadHooks {
  /** The config to apply instead of the file's (file pools with live changes on top). */
  prepare(c: Config): Config;
  /** Called after the data plane took the config, with the file's config. */
  applied(c: Config): void;
  /** Told how the reload ended: null when applied, else the error that rejected it (recorded in the cluster history). */
  outcome?(err: unknown): void;
}

/** The data plane as the signals drive it. */
export interface SignalTarget {
  plane: DataPlane;
  /** Ends the worker processes after the drain. */
  stop(): Promise<void>;
  /** Open connections, for the drain log line. */
  connectionCount(): number;
}

/** Wires SIGHUP, SIGTERM and SIGINT; `stoppables` are stopped in order before the drain. */
export function wireSignals(configPath: string, running: () => Config, target: SignalTarget, logger: Logger, stoppables: Stoppable[], hooks?: ReloadHooks): void {
  let reloading: Promise<unknown> = Promise.resolve();
  // One reload at a time: a second SIGHUP waits for the first, then reads the file again.
  process.on('SIGHUP', () => { reloading = reloading.then(() => reloadFromFile(configPath, running(), target.plane, logger, hooks)); });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, connections: target.connectionCount() }, 'draining');
    void (async () => {
      for (const s of stoppables) { try { await s.stop(); } catch (err) { logger.error({ err }, 'stop failed'); } }
      await target.plane.drain();
      await target.stop();
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

/** SIGHUP: a config that fails validation or certificate loading is logged and rejected; the running one stays. */
export async function reloadFromFile(configPath: string, current: Config, plane: DataPlane, logger: Logger, hooks?: ReloadHooks): Promise<boolean> {
  try {
    const next = loadConfig(configPath);
    if (JSON.stringify(next.node.workers) !== JSON.stringify(current.node.workers)) logger.warn({ workers: next.node.workers, running: current.node.workers }, 'node.workers changed: takes effect after a restart');
    await plane.reload(hooks ? hooks.prepare(next) : next);
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
