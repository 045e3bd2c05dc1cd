/**
 * Request/reply between the CLI, the admin API and the nodes, over Redis
 * pub/sub: requests go to a node's channel RedisKeys.commands(id), replies
 * to the requester's own reply channel, matched by request id. A request to
 * a node that nobody listens for fails at once (PUBLISH reached 0 clients).
 *
 *   requester                Redis                    node B
 *      |-- PUBLISH cmd:B {id,op,replyTo} -------------->|
 *      |                                   (handler runs)
 *      |<------------- PUBLISH replyTo {id,ok,result} --|
 */
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { RedisKeys } from '../../shared/redis/keys';
import { HandoverError, WshaError } from '../../shared/errors';

/** Operations a node answers. */
export type CommandOp = 'handover' | 'prepare' | 'commit' | 'abort' | 'drained' | 'state' | 'clients';

/** A request as sent on a node's command channel. */
export interface CommandRequest {
  id: string;
  op: CommandOp;
  vip?: string;
  /** Target node (handover). */
  to?: string;
  /** Requesting or handing-over node. */
  from?: string;
  epoch?: number;
  /** For `drained`. */
  value?: boolean;
  reason?: string;
  replyTo: string;
}

/** A reply; `error` carries the WshaError code and message when not ok. */
export interface CommandReply { id: string; ok: boolean; result?: unknown; error?: { code: string; message: string } }

/** Handles one request; throw a WshaError to answer with its code. */
export type CommandHandler = (req: CommandRequest) => Promise<unknown>;

/** A node's (or the CLI's) end of the command channel. */
export class CommandBus {
  readonly replyChannel: string;
  readonly #pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  readonly #onMessage: (channel: string, message: string) => void;

  /**
   * `pub` publishes (any non-subscriber connection); `sub` is a connection
   * in subscriber mode owned by the caller. With `handler`, this bus also
   * serves requests addressed to `selfId`.
   */
  constructor(readonly pub: Redis, readonly sub: Redis, readonly keys: RedisKeys, readonly selfId: string, readonly handler?: CommandHandler) {
    this.replyChannel = `${keys.commands(selfId)}:reply`;
    this.#onMessage = (channel, message) => {
      if (channel === this.replyChannel) this.#onReply(message);
      else if (channel === keys.commands(selfId) && handler) void this.#onRequest(message);
    };
  }

  /** Subscribes the reply channel (and the request channel when serving). */
  async start(): Promise<void> {
    this.sub.on('message', this.#onMessage);
    const channels = [this.replyChannel];
    if (this.handler) channels.push(this.keys.commands(this.selfId));
    await this.sub.subscribe(...channels);
  }

  async close(): Promise<void> {
    this.sub.off('message', this.#onMessage);
    for (const [, p] of this.#pending) { clearTimeout(p.timer); p.reject(new HandoverError('command bus closed')); }
    this.#pending.clear();
  }

  /** Sends a request to `nodeId` and waits for its reply; rejects with the node's error (as HandoverError) or on timeout. */
  async request(nodeId: string, req: Omit<CommandRequest, 'id' | 'replyTo'>, timeoutMs: number): Promise<unknown> {
    const id = randomBytes(8).toString('hex');
    const full: CommandRequest = { ...req, id, replyTo: this.replyChannel };
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new HandoverError(`node ${nodeId} did not answer ${req.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.pub.publish(this.keys.commands(nodeId), JSON.stringify(full));
    } catch (err) {
      this.#settle(id, new HandoverError(`cannot send ${req.op} to node ${nodeId}: ${(err as Error).message}`));
      return reply;
    }
    if (receivers === 0) this.#settle(id, new HandoverError(`node ${nodeId} is not listening for commands (not running?)`));
    return reply;
  }

  #settle(id: string, err: Error): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.reject(err);
  }

  #onReply(message: string): void {
    let r: CommandReply;
    try { r = JSON.parse(message) as CommandReply; } catch { return; }
    const p = this.#pending.get(r.id);
    if (!p) return;
    this.#pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.ok) p.resolve(r.result);
    else p.reject(new HandoverError(r.error?.message ?? 'failed'));
  }

  async #onRequest(message: string): Promise<void> {
    let req: CommandRequest;
    try { req = JSON.parse(message) as CommandRequest; } catch { return; }
    if (typeof req?.id !== 'string' || typeof req.replyTo !== 'string') return;
    let reply: CommandReply;
    try {
      reply = { id: req.id, ok: true, result: await this.handler!(req) };
    } catch (err) {
      const code = err instanceof WshaError ? err.code : 'WSHA_ERR_HANDOVER';
      reply = { id: req.id, ok: false, error: { code, message: (err as Error).message } };
    }
    await this.pub.publish(req.replyTo, JSON.stringify(reply)).catch(() => {});
  }
}
