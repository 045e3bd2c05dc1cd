/**
 * Server-sent events for the live page (`GET /api/events`). One timer per
 * server, not per client: it builds the snapshot, and sends it to every
 * client only when it changed (plus a comment line as keep-alive), so an
 * idle page costs one provider call per interval.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';

/** Most live-page clients at once; more get 503. */
export const MAX_EVENT_CLIENTS = 64;

/** The set of live-page clients and the shared timer that feeds them. */
export class EventStream {
  #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #last = '';
  #busy = false;
  #ticks = 0;

  constructor(
    private readonly snapshot: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly log?: Logger,
  ) {}

  get clientCount(): number { return this.#clients.size; }

  /** Takes over a response as an event stream; false when full. */
  add(res: ServerResponse): boolean {
    if (this.#clients.size >= MAX_EVENT_CLIENTS) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    if (this.#last) res.write(this.#last);
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
    if (!this.#timer) this.#timer = setInterval(() => void this.#tick(), this.intervalMs);
    void this.#tick();
    return true;
  }

  /** Sends a snapshot now (after an action), whatever the timer says. */
  poke(): void { void this.#tick(); }

  async #tick(): Promise<void> {
    if (this.#busy || this.#clients.size === 0) return;
    this.#busy = true;
    try {
      const frame = `event: status\ndata: ${JSON.stringify(await this.snapshot())}\n\n`;
      this.#ticks++;
      if (frame !== this.#last) {
        this.#last = frame;
        for (const c of this.#clients) c.write(frame);
      } else if (this.#ticks % 10 === 0) {
        for (const c of this.#clients) c.write(': keep-alive\n\n');
      }
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'live page snapshot failed');
      const frame = `event: problem\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`;
      for (const c of this.#clients) c.write(frame);
    } finally {
      this.#busy = false;
    }
  }

  /** Ends every stream and stops the timer. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }
}
