/**
 * Child process of the scale test (scale-100k.ts): a ws WebSocket server,
 * as the application behind the proxy would be, that can broadcast to every
 * client it holds. A broadcast is one 8-byte binary message, the time it
 * started (µs of the monotonic clock, which every process of the machine
 * shares), sent to each client in turn: the clients' latency covers the
 * fan-out loop, the proxy and their own reading.
 *
 * Reports { port } over IPC once listening; { broadcast: round } ->
 * { sent: { round, clients } }; { count: true } -> { clients }. Exits when
 * the parent goes.
 */
import { WebSocketServer } from 'ws';

const LISTEN_BACKLOG = 4096;

function main(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: LISTEN_BACKLOG, perMessageDeflate: false, clientTracking: true });
  wss.on('connection', (ws) => { ws.on('error', () => ws.terminate()); });
  wss.on('listening', () => process.send?.({ port: (wss.address() as { port: number }).port }));
  wss.on('error', (err) => { process.stderr.write(`scale backend: ${err.message}\n`); process.exit(1); });
  process.on('message', (m: { broadcast?: number; count?: boolean }) => {
    if (m.count) { process.send?.({ clients: wss.clients.size }); return; }
    if (m.broadcast === undefined) return;
    const payload = Buffer.allocUnsafe(8);
    payload.writeBigUInt64BE(process.hrtime.bigint() / 1000n);
    let n = 0;
    for (const ws of wss.clients) { ws.send(payload, { binary: true }); n++; }
    process.send?.({ sent: { round: m.broadcast, clients: n } });
  });
  process.on('disconnect', () => process.exit(0));
}

main();
