/**
 * A TCP relay on a free loopback port that a test can freeze: while frozen
 * it stops moving bytes both ways (connections stay open, like a stalled
 * network path), and `cut()` resets every connection. Used to take one
 * client's Redis away without touching the others.
 */
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

/** A running gate. */
export interface TcpGate {
  port: number;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

/** Starts a gate to targetHost:targetPort on a free loopback port. */
export async function startTcpGate(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpGate> {
  const pairs = new Set<[Socket, Socket]>();
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (frozen) { client.pause(); upstream.pause(); }
    const end = () => { client.destroy(); upstream.destroy(); pairs.delete(pair); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => { frozen = true; for (const [a, b] of pairs) { a.unpipe(b); b.unpipe(a); a.pause(); b.pause(); } },
    thaw: () => { frozen = false; for (const [a, b] of pairs) { a.pipe(b); b.pipe(a); a.resume(); b.resume(); } },
    close: () => { for (const [a, b] of pairs) { a.destroy(); b.destroy(); } return new Promise((r) => server.close(() => r())); },
  };
}
