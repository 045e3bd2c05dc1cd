/**
 * The peer link, dialing side: this node's own authenticated connection to
 * one peer, as an explicit machine. It carries this node's beats (and the
 * owner's grant requests) and brings back the answers.
 *
 *   connecting --connected--> handshaking --OK verified--> up
 *       |                         |                        |
 *       | refused/timeout         | no HELLO, bad MAC,      | closed (FIN/RST)
 *       v                         v wrong peer              v
 *     waiting <------------------ ' <----- window over --- lost --(retries every few ms:
 *       |                                                    refused -> 'refused' event,
 *       '--retry timer--> connecting                         HELLO -> handshaking)
 *
 * `lost` is where a dead process shows itself: the link to its incarnation
 * was up and closed, and a fresh connect is refused by its kernel. A connect
 * that succeeds but brings no HELLO (the VIP guard still holds the
 * listening socket, or the process is stopped) proves nothing and is
 * retried. The mesh combines `refused` with what Redis says (death-proof.ts).
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock';
import { StateMachine, type TransitionTable } from '../../shared/state-machine';
import { freshNonce, handshakeMac, macEqual, sessionKey, type PeerIdentity } from './peer-auth';
import { FrameSigner, FrameVerifier, LineSplitter, handshakeLine, parseHandshakeLine } from './peer-frame';
import { parsePeerMessage, type PeerMessage } from './peer-messages';

/** States of one outbound link. */
export const LINK_STATES = ['connecting', 'handshaking', 'up', 'lost', 'waiting', 'closed'] as const;
export type LinkState = typeof LINK_STATES[number];

const LINK_TRANSITIONS: TransitionTable<LinkState> = Object.freeze({
  connecting: ['handshaking', 'waiting', 'lost', 'closed'],
  handshaking: ['up', 'waiting', 'lost', 'closed'],
  up: ['lost', 'closed'],
  lost: ['connecting', 'handshaking', 'waiting', 'closed'],
  waiting: ['connecting', 'closed'],
  closed: [],
});

/** Spacing of reconnect attempts while a lost link is being confirmed. */
const CONFIRM_RETRY_MS = 3;
/**
 * Resets in a row that are retried at once while confirming. A dead node's
 * guard holds the peer port until the address is gone, so the first
 * reconnect completes and is reset when the guard lets go; the next connect
 * is the refusal the proof waits for, and a timer's few ms there sat on the
 * takeover's path. Past this many, the spacing applies again (something that
 * resets every connect must not make a connect loop).
 */
const RESETS_RETRIED_AT_ONCE = 2;
/** A connect that succeeded but brought no HELLO within this time is retried. */
const HELLO_TIMEOUT_MS = 60;
/** Spacing of reconnects outside the confirm window. */
const RETRY_MS = 250;
/** Timeout of an ordinary connect (outside the confirm window). */
const CONNECT_TIMEOUT_MS = 1000;

/** Where and who to dial. */
export interface LinkTarget { id: string; address: string }

/** Options shared by every link of a node. */
export interface LinkOptions {
  cluster: string;
  self: PeerIdentity;
  secret: Buffer;
  confirmTimeoutMs: number;
  confirmWindowMs: number;
  maxLineBytes: number;
  clock: Clock;
  logger: Logger;
}

/** Events: 'up' (PeerIdentity), 'lost' (LinkLoss), 'refused' (LinkRefusal), 'message' (PeerMessage, arrivedMs), 'wrong-peer' (found: string). */
export interface LinkLoss { inc: string; atMs: number }
export interface LinkRefusal { inc: string | null; lostAtMs: number | null; atMs: number }

/** How one connect attempt ended. */
type Outcome = 'refused' | 'reset' | 'timeout' | 'no-hello' | 'closed' | 'bad-handshake' | 'wrong-peer';

function splitHostPort(hp: string): { host: string; port: number } {
  const i = hp.lastIndexOf(':');
  return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) };
}

/** One outbound link (see the file comment). */
export class PeerLink extends EventEmitter {
  readonly target: LinkTarget;
  readonly sm: StateMachine<LinkState>;
  readonly #o: LinkOptions;
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | null = null;
  #timer: NodeJS.Timeout | undefined;
  #signer: FrameSigner | null = null;
  /** The incarnation the link was last up with. */
  #inc: string | null = null;
  /** When the last up link closed (monotonic), while it is being confirmed. */
  #lostAtMs: number | null = null;
  /** Confirm attempts in a row that ended in a reset. */
  #resets = 0;

  constructor(target: LinkTarget, o: LinkOptions) {
    super();
    this.target = target;
    this.#o = o;
    const hp = splitHostPort(target.address);
    this.#host = hp.host;
    this.#port = hp.port;
    this.sm = new StateMachine<LinkState>(`peer link ${target.id}`, 'connecting', LINK_TRANSITIONS);
  }

  get state(): LinkState { return this.sm.state; }
  /** The peer's incarnation while up (or the last one seen). */
  get incarnation(): string | null { return this.#inc; }
  get host(): string { return this.#host; }
  get port(): number { return this.#port; }

  /** Starts dialing. */
  start(): void { this.#dial(CONNECT_TIMEOUT_MS); }

  /** Sends a message when up; false when not up. */
  send(msg: object): boolean {
    if (this.sm.state !== 'up' || !this.#socket?.writable || !this.#signer) return false;
    this.#socket.write(this.#signer.line(msg));
    return true;
  }

  /** Drops the link for good (peer left the view, node stopping). */
  close(): void {
    if (this.sm.state === 'closed') return;
    clearTimeout(this.#timer);
    this.#socket?.destroy();
    this.#socket = null;
    this.sm.transition('closed', 'dropped');
  }

  #dial(timeoutMs: number): void {
    if (this.sm.state === 'closed') return;
    if (this.sm.state === 'waiting') this.sm.transition('connecting', 'retry');
    const s = connect({ host: this.#host, port: this.#port, noDelay: true });
    this.#socket = s;
    const lines = new LineSplitter(this.#o.maxLineBytes);
    let phase: 'tcp' | 'hello' | 'ok' | 'up' = 'tcp';
    let nonce = '';
    let serverNonce = '';
    let server: PeerIdentity | null = null;
    let verifier: FrameVerifier | null = null;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(phase === 'tcp' ? 'timeout' : 'no-hello'), ms);
    };
    arm(timeoutMs);
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      if (this.#socket === s) this.#socket = null;
      if (this.sm.state === 'closed') return;
      this.#afterAttempt(outcome);
    };
    s.on('connect', () => {
      if (done) return;
      phase = 'hello';
      arm(HELLO_TIMEOUT_MS);
      s.setKeepAlive(true, 1000);
    });
    s.on('data', (chunk: Buffer) => {
      if (done) return;
      const got = lines.push(chunk);
      if (got === null) return finish('bad-handshake');
      for (const line of got) {
        if (done) return;
        if (phase === 'hello') {
          const h = parseHandshakeLine(line);
          const b = h?.body;
          if (!h || h.word !== 'HELLO' || !b || typeof b.node !== 'string' || typeof b.inc !== 'string' || typeof b.nonce !== 'string') return finish('bad-handshake');
          if (b.cluster !== this.#o.cluster || b.node !== this.target.id) {
            this.emit('wrong-peer', `${String(b.node)} of cluster ${String(b.cluster)}`);
            return finish('wrong-peer');
          }
          if (this.sm.state === 'connecting' || this.sm.state === 'lost') this.sm.transition('handshaking', 'hello');
          server = { node: b.node, inc: b.inc };
          serverNonce = b.nonce;
          nonce = freshNonce();
          const mac = handshakeMac(this.#o.secret, 'c', this.#o.cluster, serverNonce, nonce, this.#o.self, server, 'node');
          s.write(handshakeLine('AUTH', { v: 1, node: this.#o.self.node, inc: this.#o.self.inc, role: 'node', nonce, mac }));
          phase = 'ok';
          arm(HELLO_TIMEOUT_MS);
        } else if (phase === 'ok') {
          const h = parseHandshakeLine(line);
          const want = server && handshakeMac(this.#o.secret, 's', this.#o.cluster, serverNonce, nonce, this.#o.self, server, 'node');
          if (!h || h.word !== 'OK' || !want || !macEqual(String(h.body.mac ?? ''), want)) return finish('bad-handshake');
          clearTimeout(timer);
          const key = sessionKey(this.#o.secret, serverNonce, nonce);
          this.#signer = new FrameSigner(key, 'c');
          verifier = new FrameVerifier(key, 's');
          phase = 'up';
          this.#inc = server!.inc;
          this.#lostAtMs = null;
          this.sm.transition('up', 'authenticated', { inc: server!.inc });
          this.emit('up', server);
        } else {
          const raw = verifier!.open(line);
          const msg = raw && parsePeerMessage(raw);
          if (!msg) return finish('bad-handshake');
          this.emit('message', msg as PeerMessage, this.#o.clock.nowMs());
        }
      }
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') finish('refused');
      else if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(phase === 'up' ? 'closed' : 'reset');
      else finish(phase === 'up' ? 'closed' : 'timeout');
    });
    s.on('close', () => finish(phase === 'up' ? 'closed' : phase === 'tcp' ? 'timeout' : 'no-hello'));
  }

  #afterAttempt(outcome: Outcome): void {
    const now = this.#o.clock.nowMs();
    if (outcome === 'closed') {
      // The authenticated link went down: look for the death of its incarnation.
      this.#lostAtMs = now;
      this.sm.transition('lost', 'link closed', { inc: this.#inc });
      this.emit('lost', { inc: this.#inc ?? '', atMs: now } satisfies LinkLoss);
      return this.#retryIn(0, this.#o.confirmTimeoutMs);
    }
    if (outcome === 'refused') this.emit('refused', { inc: this.#lostAtMs !== null ? this.#inc : null, lostAtMs: this.#lostAtMs, atMs: now } satisfies LinkRefusal);
    const confirming = this.#lostAtMs !== null && now - this.#lostAtMs < this.#o.confirmWindowMs && outcome !== 'wrong-peer' && outcome !== 'bad-handshake';
    this.#resets = outcome === 'reset' ? this.#resets + 1 : 0;
    if (confirming) {
      if (this.sm.state === 'handshaking') this.sm.transition('lost', `confirm attempt: ${outcome}`);
      return this.#retryIn(this.#resets > 0 && this.#resets <= RESETS_RETRIED_AT_ONCE ? 0 : CONFIRM_RETRY_MS, this.#o.confirmTimeoutMs);
    }
    if (this.sm.state !== 'waiting') this.sm.transition('waiting', outcome);
    this.#lostAtMs = null;
    this.#retryIn(RETRY_MS, CONNECT_TIMEOUT_MS);
  }

  #retryIn(ms: number, timeoutMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.sm.state === 'lost') this.#dial(timeoutMs);
      else if (this.sm.state === 'waiting') this.#dial(timeoutMs);
    }, ms);
  }
}
