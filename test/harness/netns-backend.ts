/**
 * A WebSocket backend for the netns lab, run as its own process inside a
 * host's namespace: `node netns-backend.js PORT NAME`. It greets each client
 * with `hello from NAME` (so a probe knows which host answered), then echoes.
 */
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const name = process.argv[3] ?? 'backend';
const wss = new WebSocketServer({ host: '127.0.0.1', port });
wss.on('connection', (ws) => {
  ws.send(`hello from ${name}`);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => ws.terminate());
});
wss.on('listening', () => process.stdout.write(`listening ${port}\n`));
