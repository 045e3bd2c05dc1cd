/**
 * Child-process WebSocket echo backend for the benchmark. It runs in its own
 * process so that its file descriptors (one per held connection) do not count
 * against the benchmark process's limit. Reports `{ port }` over IPC once
 * listening and exits when its parent disconnects.
 */
import { WebSocketServer, type WebSocket } from 'ws';

/** Backlog large enough for the burst of connections the memory phase opens. */
const LISTEN_BACKLOG = 4096;

function socketOnMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  this.send(data, { binary: isBinary });
}

function main(): void {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: LISTEN_BACKLOG, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => {
    ws.on('message', socketOnMessage);
    ws.on('error', () => ws.terminate());
  });
  wss.on('listening', () => {
    const { port } = wss.address() as { port: number };
    process.send?.({ port });
  });
  wss.on('error', (err) => {
    process.stderr.write(`echo backend: ${err.message}\n`);
    process.exit(1);
  });
  // The parent going away (even by SIGKILL) closes the IPC channel: never outlive it.
  process.on('disconnect', () => process.exit(0));
}

main();
