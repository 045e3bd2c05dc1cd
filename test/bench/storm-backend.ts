/**
 * Backend process of the reconnect-storm bench: `node storm-backend.js ID`.
 * A WebSocket server that answers `whoami` with its id and echoes the rest,
 * and counts handshakes in 100 ms buckets (wall clock). Reports `{ port }`
 * over IPC when listening; answers `stats` with `{ buckets: [[ms, n], ...] }`;
 * exits when its parent goes away.
 */
import { WebSocketServer } from 'ws';

const id = process.argv[2] ?? 'backend';
const BUCKET_MS = 100;
const buckets = new Map<number, number>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 8192, perMessageDeflate: false, clientTracking: false });
wss.on('headers', () => {
  const b = Math.floor(Date.now() / BUCKET_MS) * BUCKET_MS;
  buckets.set(b, (buckets.get(b) ?? 0) + 1);
});
wss.on('connection', (ws) => {
  ws.on('message', (d, bin) => { if (!bin && d.toString() === 'whoami') ws.send(id); else ws.send(d, { binary: bin }); });
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => process.send?.({ port: (wss.address() as { port: number }).port }));
process.on('message', (m) => { if (m === 'stats') process.send?.({ buckets: [...buckets] }); });
process.on('disconnect', () => process.exit(0));
