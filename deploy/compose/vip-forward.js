#!/usr/bin/env node
// Published-port forwarder for docker-compose.yml. Docker publishes a host
// port to one container's own address, but the VIP moves between the proxy
// containers, so this small service owns the published port and opens a
// fresh TCP connection to the VIP for every client: after a failover, new
// connections reach the new owner (the compose bridge learned the VIP's new
// MAC from the gratuitous ARP). Bytes are piped both ways; when either side
// closes or fails, the other is closed too.
//
//   node vip-forward.js LISTEN_PORT VIP_HOST:VIP_PORT      forward
//   node vip-forward.js --check VIP_HOST:VIP_PORT          exit 0 if the VIP accepts a connection
'use strict';
const net = require('node:net');

function parseTarget(s) {
  const m = /^(.+):(\d{1,5})$/.exec(String(s || ''));
  if (!m) throw new Error(`expected HOST:PORT, got ${s}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function forward(listenPort, target) {
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    const closeBoth = () => { client.destroy(); upstream.destroy(); };
    client.on('error', closeBoth).on('close', () => upstream.end());
    upstream.on('error', closeBoth).on('close', () => client.end());
  });
  // VIP_FORWARD_HOST lets a test bind the loopback address only.
  const host = process.env.VIP_FORWARD_HOST || '0.0.0.0';
  server.listen(listenPort, host, () => {
    process.stdout.write(`vip-forward: ${host}:${server.address().port} -> ${target.host}:${target.port}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop).on('SIGINT', stop);
  return server;
}

function check(target) {
  const sock = net.connect(target, () => { sock.end(); process.exit(0); });
  sock.setTimeout(2000, () => process.exit(1));
  sock.on('error', () => process.exit(1));
}

const args = process.argv.slice(2);
if (args[0] === '--check') check(parseTarget(args[1]));
else if (args.length === 2 && /^\d+$/.test(args[0])) forward(Number(args[0]), parseTarget(args[1]));
else {
  process.stderr.write('usage: vip-forward.js LISTEN_PORT HOST:PORT | --check HOST:PORT\n');
  process.exit(2);
}
