/**
 * Errors that cross a process boundary (worker <-> control process) as plain
 * data and come back as the classes callers test for: a ConfigError keeps
 * its problems, any other WSHA_ERR_* code keeps its code, and system errors
 * keep their errno code (EADDRINUSE) so that the VIP machine's logs and
 * retries read the same as in one process.
 */
import { ConfigError, WshaError } from '../errors';

/** An error as it travels over IPC. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  problems?: readonly string[];
  httpStatus?: number;
}

/** Plain-data form of any thrown value. */
export function toWire(err: unknown): WireError {
  if (err instanceof ConfigError) return { name: err.name, message: err.message, code: err.code, problems: err.problems };
  if (err instanceof WshaError) return { name: err.name, message: err.message, code: err.code, httpStatus: err.httpStatus };
  if (err instanceof Error) return { name: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code };
  return { name: 'Error', message: String(err) };
}

/** The error a WireError stands for. */
export function fromWire(w: WireError): Error {
  if (w.code === 'WSHA_ERR_CONFIG') {
    // ConfigError puts its problems into its message; rebuild it from the head so they are not listed twice.
    const problems = w.problems ?? [];
    const head = problems.length ? (w.message.split('\n')[0] ?? w.message).replace(/:$/, '') : w.message;
    return new ConfigError(head, problems);
  }
  if (w.code?.startsWith('WSHA_ERR_')) {
    const e = new WshaError(w.code, w.message, { httpStatus: w.httpStatus });
    e.name = w.name;
    return e;
  }
  const e = new Error(w.message) as NodeJS.ErrnoException;
  e.name = w.name;
  if (w.code) e.code = w.code;
  return e;
}
