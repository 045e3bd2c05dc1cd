/**
 * Child process of the scale test (scale-100k.ts): holds many WebSocket
 * client connections to one URL, bound to the source addresses it is given,
 * and times the broadcasts that arrive on them.
 *
 * A bare client: a raw TCP socket, one handshake request written whole,
 * the 101 checked, then only the small binary frames of the broadcasts are
 * parsed. A `ws` client costs tens of KiB per connection, which at 100,000
 * connections would take the machine's memory from the processes being
 * measured. No per-connection closures or timers: state lives on the
 * socket and the listeners are module-level.
 *
 * Parent messages: { open: { port, count, addresses, concurrency,
 * timeoutMs } } -> progress { opened, failed } every second, then
 * { done: { opened, failed, errors } }; { expect: round } -> { got: {
 * round, received, closed, latenciesUs } } once every open connection has
 * the round's broadcast, or after `waitMs`. Exits when the parent goes.
 */
import { connect, type Socket } from 'node:net';

/** The handshake key is the same for every connection: the proxy checks the backend's accept against it all the same. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const MAX_HEAD_BYTES = 4096;

interface OpenOrder { port: number; count: number; addresses: string[]; concurrency: number; timeoutMs: number }
interface ExpectOrder { round: number; waitMs: number }

const kState = Symbol('scale.state');
/** Per socket: 0 handshaking, 1 open, 2 closed; bytes of the response head or of a partial frame. */
interface ConnState { phase: 0 | 1 | 2; buf: Buffer | null }

let request: Buffer;
const open = new Set<Socket>();
let opened = 0;
let failed = 0;
let closedAfterOpen = 0;
const errors = new Map<string, number>();
let round = -1;
let latencies = new Float64Array(0);
let received = 0;
/** Connections that have this round's broadcast (so a duplicate is not counted twice). */
let seen = new WeakSet<Socket>();

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const stateOf = (s: Socket) => (s as unknown as { [kState]: ConnState })[kState];

function noteError(what: string): void { errors.set(what, (errors.get(what) ?? 0) + 1); }

function onFrameBytes(s: Socket, chunk: Buffer): void {
  const st = stateOf(s);
  let buf = st.buf ? Buffer.concat([st.buf, chunk]) : chunk;
  // Bounded: each pass consumes one whole frame or stops.
  for (let guard = 0; guard < 1000 && buf.length >= 2; guard++) {
    const len = buf[1]! & 0x7f;
    if (len >= 126 || buf.length < 2 + len) break;
    const opcode = buf[0]! & 0x0f;
    if (opcode === 0x2 && len === 8 && round >= 0 && !seen.has(s)) {
      seen.add(s);
      if (received < latencies.length) latencies[received] = nowUs() - Number(buf.readBigUInt64BE(2));
      received++;
    }
    buf = buf.subarray(2 + len);
  }
  st.buf = buf.length ? Buffer.from(buf) : null;
}

function onData(this: Socket, chunk: Buffer): void {
  const st = stateOf(this);
  if (st.phase === 1) return onFrameBytes(this, chunk);
  const head = st.buf ? Buffer.concat([st.buf, chunk]) : chunk;
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) {
    if (head.length > MAX_HEAD_BYTES) { noteError('response head too long'); this.destroy(); return; }
    st.buf = head;
    return;
  }
  st.buf = null;
  if (!head.subarray(0, 13).equals(Buffer.from('HTTP/1.1 101 '))) {
    noteError(`answered ${head.subarray(0, Math.min(end, 40)).toString('latin1')}`);
    this.destroy();
    return;
  }
  st.phase = 1;
  this.setTimeout(0);
  open.add(this);
  opened++;
  pump();
  const rest = head.subarray(end + 4);
  if (rest.length) onFrameBytes(this, rest);
}

function onConnect(this: Socket): void { this.write(request); }
function onTimeout(this: Socket): void { noteError('handshake timeout'); this.destroy(); }
function onError(this: Socket, err: NodeJS.ErrnoException): void { noteError(err.code ?? err.message); }
function onClose(this: Socket): void {
  const st = stateOf(this);
  if (st.phase === 0) { failed++; pump(); }
  else if (st.phase === 1) { closedAfterOpen++; open.delete(this); }
  st.phase = 2;
}

let order: OpenOrder | null = null;
let started = 0;
let inFlight = 0;

/** Keeps `concurrency` handshakes in flight until `count` have been started. */
function pump(): void {
  const o = order;
  if (!o) return;
  inFlight = started - opened - failed;
  while (started < o.count && inFlight < o.concurrency) {
    const s = connect({ host: '127.0.0.1', port: o.port, localAddress: o.addresses[started % o.addresses.length], noDelay: true });
    (s as unknown as { [kState]: ConnState })[kState] = { phase: 0, buf: null };
    s.setTimeout(o.timeoutMs);
    s.on('connect', onConnect);
    s.on('data', onData);
    s.on('timeout', onTimeout);
    s.on('error', onError);
    s.on('close', onClose);
    started++;
    inFlight++;
  }
  if (opened + failed >= o.count) finishOpening();
}

let progressTimer: NodeJS.Timeout | undefined;
function finishOpening(): void {
  if (!order) return;
  order = null;
  clearInterval(progressTimer);
  process.send?.({ done: { opened, failed, errors: Object.fromEntries(errors) } });
}

function startOpening(o: OpenOrder): void {
  request = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`, 'latin1');
  order = o;
  progressTimer = setInterval(() => process.send?.({ progress: { opened, failed } }), 1000);
  pump();
}

function expect(e: ExpectOrder): void {
  round = e.round;
  received = 0;
  seen = new WeakSet();
  latencies = new Float64Array(open.size);
  const deadline = Date.now() + e.waitMs;
  const check = () => {
    if (received >= open.size || Date.now() >= deadline) {
      process.send?.({ got: { round: e.round, received, closed: closedAfterOpen, open: open.size, latenciesUs: Array.from(latencies.subarray(0, Math.min(received, latencies.length))) } });
      return;
    }
    setTimeout(check, 20);
  };
  process.send?.({ expecting: e.round });
  check();
}

process.on('message', (m: { open?: OpenOrder; expect?: ExpectOrder }) => {
  if (m.open) startOpening(m.open);
  else if (m.expect) expect(m.expect);
});
// The parent going away (even by SIGKILL) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));
