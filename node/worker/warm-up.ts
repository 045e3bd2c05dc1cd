/**
 * One WebSocket connection through a throwaway copy of this worker's data
 * plane, at start, before it has served anybody. A worker that never served
 * an upgrade runs its first one through code V8 has not compiled yet, and in
 * an unplanned takeover that first upgrade is the new owner's first answer:
 * measured here, 13-31 ms for the first handshake through a fresh worker
 * against 3-6 ms once warm. The copy has its own listener on 127.0.0.1:0, a
 * backend inside this process, its own metrics and a silent logger, so that
 * nothing of it is counted, logged or reachable from outside; the same
 * classes and functions run, which is what warms them.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { Config } from '../../shared/config/schema';
import { ListenerSchema, PoolSchema, RouteSchema } from '../../shared/config/schema';
import { localClusterView } from '../../shared/cluster-view';
import { silentLogger } from '../../shared/logger';
import { Metrics } from '../../shared/metrics';
import { ProxyNode } from '../proxy-node';

/** Connections made, each with a few echoed messages: a function is optimised only after several runs. */
const ROUNDS = 3;
const MESSAGES = 4;
/** The whole warm-up gives up after this long (it is an optimisation: a failure only costs the first client time). */
const TIMEOUT_MS = 5000;

/** Runs the warm-up; resolves with how long it took, or rejects with why it could not run (nothing is left open). */
export async function warmUpDataPath(config: Config): Promise<number> {
  const started = performance.now();
  const backend = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  backend.on('connection', (ws) => ws.on('message', (d, binary) => ws.send(d, { binary })));
  let node: ProxyNode | null = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => { backend.once('listening', resolve); backend.once('error', reject); });
    const port = (backend.address() as AddressInfo).port;
    const warmConfig: Config = {
      ...config,
      vips: [],
      listeners: [ListenerSchema.parse({ name: 'warm-up', on: '127.0.0.1', port: 0 })],
      routes: [RouteSchema.parse({ pool: 'warm-up' })],
      pools: { 'warm-up': PoolSchema.parse({ backends: [{ id: 'warm-up', url: `http://127.0.0.1:${port}` }] }) },
    };
    node = new ProxyNode({ config: warmConfig, logger: silentLogger(), metrics: new Metrics({ defaultMetrics: false }), view: localClusterView() });
    await node.start();
    const proxyPort = node.boundPorts(null)['warm-up'];
    if (!proxyPort) throw new Error('warm-up listener has no port');
    const deadline = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`warm-up took over ${TIMEOUT_MS} ms`)), TIMEOUT_MS); });
    for (let i = 0; i < ROUNDS; i++) await Promise.race([oneConnection(`ws://127.0.0.1:${proxyPort}/warm-up`), deadline]);
    return Math.round(performance.now() - started);
  } finally {
    clearTimeout(timer);
    node?.destroy();
    for (const c of backend.clients) c.terminate();
    backend.close();
  }
}

/** One handshake, MESSAGES echoes, a close. */
function oneConnection(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let echoed = 0;
    ws.on('open', () => ws.send('warm-up'));
    ws.on('message', () => {
      if (++echoed < MESSAGES) ws.send('warm-up');
      else ws.close(1000);
    });
    ws.on('close', () => (echoed >= MESSAGES ? resolve() : reject(new Error('warm-up connection closed early'))));
    ws.on('error', reject);
  });
}
