/**
 * An in-process ProxyNode for integration tests: validated config, silent
 * logger (or WSHA_TEST_LOG=1 for JSON logs on stderr), its own Metrics,
 * localClusterView() unless a view is given; teardown by destroy().
 */
import WebSocket from 'ws';
import { ProxyNode } from '../../node/proxy-node';
import { Metrics } from '../../shared/metrics';
import { createLogger, silentLogger } from '../../shared/logger';
import { localClusterView, type ClusterView } from '../../shared/cluster-view';
import type { Config } from '../../shared/config/schema';

/** Starts a node in this process; register `node.destroy()` as teardown. */
export async function startProxy(config: Config, view: ClusterView = localClusterView()): Promise<ProxyNode> {
  const logger = process.env.WSHA_TEST_LOG === '1' ? createLogger({ level: 'debug', pretty: false, fd: 2 }) : silentLogger();
  const node = new ProxyNode({ config, logger, metrics: new Metrics({ defaultMetrics: false }), view });
  await node.start();
  return node;
}

/** Opens a ws client and waits for 'open' (rejects on error or unexpected response). */
export function openWs(url: string, opts: WebSocket.ClientOptions = {}, protocols?: string | string[], onUpgrade?: (res: import('node:http').IncomingMessage) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: 5000, ...opts });
    if (onUpgrade) ws.once('upgrade', onUpgrade);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`unexpected response ${res.statusCode}`), { statusCode: res.statusCode })); ws.terminate(); });
  });
}

/** Sends `msg` and resolves with the next message as text. */
export function roundTrip(ws: WebSocket, msg: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no echo within 5 s')), 5000);
    ws.once('message', (d) => { clearTimeout(t); resolve(d.toString()); });
    ws.send(msg);
  });
}

/** Resolves with the close code of `ws`. */
export function closeCode(ws: WebSocket, timeoutMs = 10000): Promise<number> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return reject(new Error('already closed'));
    const t = setTimeout(() => reject(new Error('no close within timeout')), timeoutMs);
    ws.once('close', (code) => { clearTimeout(t); resolve(code); });
  });
}
