/**
 * pino factory. JSON lines by default; pretty when stdout is a terminal (or
 * WSHA_LOG_PRETTY=1). Components take child loggers bound to nodeId,
 * component and, where it applies, vip.
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  nodeId?: string;
  /** Force pretty (true) or JSON (false); by default pretty on a TTY. */
  pretty?: boolean;
  /** Write to this fd instead of stdout (1). */
  fd?: number;
  /**
   * One write(2) per line. The processes of a node share one stdout, and a
   * pipe keeps a write whole only up to 4 KiB: buffered writes of several
   * lines could interleave with another process's mid-line.
   */
  sync?: boolean;
}

/** Creates the process logger. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const pretty = opts.pretty ?? (process.env.WSHA_LOG_PRETTY === '1' || (process.env.WSHA_LOG_PRETTY !== '0' && process.stdout.isTTY === true));
  const base = opts.nodeId ? { nodeId: opts.nodeId } : undefined;
  const level = opts.level ?? 'info';
  if (pretty) {
    const transport = pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: opts.fd ?? 1 } });
    return pino({ level, base }, transport);
  }
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: opts.fd ?? 1, sync: opts.sync ?? false }));
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
