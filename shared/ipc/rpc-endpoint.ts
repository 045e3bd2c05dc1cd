/**
 * One end of a typed request/reply and notification channel over a Node IPC
 * channel (a forked worker and its control process). Calls carry an id and
 * get exactly one reply or a timeout; notifications are fire-and-forget.
 * Both ends use the same class with the op maps swapped, so the message
 * shapes are defined once (shared/ports/worker-protocol.ts).
 */
import { fromWire, toWire, type WireError } from './wire-error';

/** Operations one side serves: name -> argument and result types. */
export type OpMap = { [op: string]: { args: unknown; result: unknown } };
/** Notifications one side receives: kind -> body type. */
export type NoteMap = { [kind: string]: unknown };

/** What travels on the channel. */
export type RpcMessage =
  | { k: 'call'; id: number; op: string; args: unknown }
  | { k: 'ok'; id: number; value: unknown }
  | { k: 'err'; id: number; error: WireError }
  | { k: 'note'; kind: string; body: unknown };

/** Thrown to a caller when no reply came in time or the channel closed first. */
export class RpcUnansweredError extends Error {
  readonly code = 'ERR_RPC_UNANSWERED';
  constructor(op: string, why: string) { super(`${op}: ${why}`); }
}

interface Pending { op: string; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/**
 * `Serves`: ops this end answers; `Calls`: ops it asks of the other end;
 * `Hears`: notifications it receives; `Tells`: notifications it sends.
 */
export class RpcEndpoint<Serves extends OpMap, Calls extends OpMap, Hears extends NoteMap, Tells extends NoteMap> {
  readonly #send: (m: RpcMessage) => void;
  readonly #handlers = new Map<string, (args: unknown) => unknown>();
  readonly #listeners = new Map<string, (body: unknown) => void>();
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | null = null;

  /** `send` may throw when the channel is gone: the call is then failed at once. */
  constructor(send: (m: RpcMessage) => void) { this.#send = send; }

  /** Registers the handler of one op (a thrown error or rejection is sent back as the error). */
  serve<K extends keyof Serves & string>(op: K, fn: (args: Serves[K]['args']) => Serves[K]['result'] | Promise<Serves[K]['result']>): void {
    this.#handlers.set(op, fn as (args: unknown) => unknown);
  }

  /** Registers the listener of one notification kind. */
  on<K extends keyof Hears & string>(kind: K, fn: (body: Hears[K]) => void): void {
    this.#listeners.set(kind, fn as (body: unknown) => void);
  }

  /** Asks the other end; rejects with its error, or RpcUnansweredError after `timeoutMs` or when the channel closes. */
  call<K extends keyof Calls & string>(op: K, args: Calls[K]['args'], timeoutMs: number): Promise<Calls[K]['result']> {
    if (this.#closed) return Promise.reject(new RpcUnansweredError(op, this.#closed.message));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RpcUnansweredError(op, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer });
      try { this.#send({ k: 'call', id, op, args }); } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new RpcUnansweredError(op, `channel closed (${(err as Error).message})`));
      }
    });
  }

  /** Tells the other end; dropped silently when the channel is gone (the other end is dead or dying). */
  notify<K extends keyof Tells & string>(kind: K, body: Tells[K]): void {
    if (this.#closed) return;
    try { this.#send({ k: 'note', kind, body }); } catch { /* the exit handler reports the death */ }
  }

  /** Feeds one message received from the channel. */
  receive(raw: unknown): void {
    const m = raw as RpcMessage;
    if (!m || typeof m !== 'object') return;
    switch (m.k) {
      case 'call': void this.#answer(m.id, m.op, m.args); return;
      case 'ok': case 'err': {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.k === 'ok') p.resolve(m.value); else p.reject(fromWire(m.error));
        return;
      }
      case 'note': this.#listeners.get(m.kind)?.(m.body); return;
      default:
    }
  }

  /** Fails every pending call and refuses new ones (the other end exited). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = new Error(reason);
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new RpcUnansweredError(p.op, reason));
      this.#pending.delete(id);
    }
  }

  /** Calls waiting for their reply. */
  get pending(): number { return this.#pending.size; }

  async #answer(id: number, op: string, args: unknown): Promise<void> {
    const fn = this.#handlers.get(op);
    let reply: RpcMessage;
    try {
      if (!fn) throw new Error(`unknown op ${op}`);
      reply = { k: 'ok', id, value: await fn(args) };
    } catch (err) {
      reply = { k: 'err', id, error: toWire(err) };
    }
    if (this.#closed) return;
    try { this.#send(reply); } catch { /* the caller's timeout reports it */ }
  }
}
