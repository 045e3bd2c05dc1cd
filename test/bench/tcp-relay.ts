/**
 * Child-process baseline for the benchmark: the least a user-space proxy in
 * Node can do, a relay that pipes each client socket to the backend with no
 * HTTP parsing, routing or limits; with `tls` it also terminates TLS (with a
 * self-signed certificate), as the floor of a wss:// hop. wsha's figures are
 * read against it to tell the cost of an extra process hop on this machine
 * from wsha's own.
 * Usage: node tcp-relay.js BACKEND_PORT [tls]; reports `{ port }` over IPC.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generateSelfSigned } from '../../node/tls/self-signed';

function relay(client: Socket, backendPort: number): void {
  const upstream = createConnection({ host: '127.0.0.1', port: backendPort, noDelay: true });
  client.setNoDelay(true);
  const destroyBoth = () => { client.destroy(); upstream.destroy(); };
  client.on('error', destroyBoth).on('close', destroyBoth);
  upstream.on('error', destroyBoth).on('close', destroyBoth);
  client.pipe(upstream);
  upstream.pipe(client);
}

function main(): void {
  const backendPort = Number(process.argv[2]);
  const tls = process.argv[3] === 'tls';
  if (!Number.isInteger(backendPort) || backendPort <= 0) { process.stderr.write('usage: tcp-relay BACKEND_PORT [tls]\n'); process.exit(2); }
  const onClient = (c: Socket) => relay(c, backendPort);
  let srv;
  if (tls) {
    const pem = generateSelfSigned({ commonName: 'bench-relay', altNames: ['localhost', '127.0.0.1'] });
    srv = createTlsServer({ cert: pem.certPem, key: pem.keyPem }, onClient);
  } else {
    srv = createServer(onClient);
  }
  srv.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => process.send?.({ port: (srv.address() as { port: number }).port }));
  process.on('disconnect', () => process.exit(0));
}

main();
