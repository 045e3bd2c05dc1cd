/**
 * Progress of long CLI operations on a terminal: one line rewritten in
 * place (nothing at all when stdout is not a TTY or `--json` asked for the
 * final result only), and the clients of a planned handover followed while
 * the old owner closes them and they come back to the new owner:
 *
 *   VIP front node-a -> node-b: 812/1000 closed, 790 reconnected, 3.1 s left in the close window
 *
 * The counts come from each node's `clients` command (its WebSocket
 * clients per VIP and its close window) over the command bus.
 */
import type { CommandBus } from '../control/command-bus';

/** One rewritable status line. */
export class ProgressLine {
  readonly #on: boolean;
  #shown = false;

  /** Shown only on a terminal and when the caller wants progress (not with --json). */
  constructor(wanted: boolean, readonly stream: NodeJS.WriteStream = process.stdout) {
    this.#on = wanted && stream.isTTY === true;
  }

  get on(): boolean { return this.#on; }

  update(text: string): void {
    if (!this.#on) return;
    const width = Math.max(20, (this.stream.columns ?? 100) - 1);
    this.stream.write(`\r\u001b[2K${text.slice(0, width)}`);
    this.#shown = true;
  }

  /** Clears the line (the final result is printed after it). */
  done(): void {
    if (this.#on && this.#shown) this.stream.write('\r\u001b[2K');
    this.#shown = false;
  }
}

/** Clients per VIP of one node and its close window, as the `clients` command answers. */
interface ClientsReply { vips: Record<string, number>; closeWindowMs: number }

async function clientsOf(bus: CommandBus, node: string, vip: string): Promise<{ n: number; windowMs: number } | null> {
  try {
    const r = (await bus.request(node, { op: 'clients' }, 1000)) as ClientsReply;
    return { n: r.vips?.[vip] ?? 0, windowMs: r.closeWindowMs };
  } catch {
    return null;
  }
}

/** How often the clients are counted while a handover closes them. */
const POLL_MS = 250;
/** How long after the close window the clients are still followed (stragglers, slow reconnects). */
const AFTER_WINDOW_MS = 2000;

/** Counts before a handover, so that the clients coming back can be told from those already there. */
export async function clientsBefore(bus: CommandBus, from: string, to: string | undefined, vip: string): Promise<{ from: number; to: number }> {
  const [a, b] = await Promise.all([clientsOf(bus, from, vip), to ? clientsOf(bus, to, vip) : Promise.resolve(null)]);
  return { from: a?.n ?? 0, to: b?.n ?? 0 };
}

/**
 * After a handover moved `vip` from `from` to `to`: shows closed / reconnected
 * / total and the time left in the close window, until the old owner has no
 * client left or the window (plus a little) is over. Bounded in time.
 */
export async function followClients(line: ProgressLine, bus: CommandBus, o: { vip: string; from: string; to: string; before: { from: number; to: number } }): Promise<void> {
  if (!line.on || o.before.from === 0) return;
  const started = Date.now();
  let windowMs = 10_000;
  for (let i = 0; i < 1000; i++) {
    const [a, b] = await Promise.all([clientsOf(bus, o.from, o.vip), clientsOf(bus, o.to, o.vip)]);
    if (a) windowMs = a.windowMs;
    const closed = Math.max(0, o.before.from - (a?.n ?? 0));
    const back = Math.max(0, (b?.n ?? o.before.to) - o.before.to);
    const left = Math.max(0, windowMs - (Date.now() - started));
    line.update(`VIP ${o.vip} ${o.from} -> ${o.to}: ${closed}/${o.before.from} closed, ${back} reconnected, ${(left / 1000).toFixed(1)} s left in the close window`);
    if ((a && a.n === 0 && back >= closed) || Date.now() - started > windowMs + AFTER_WINDOW_MS) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  line.done();
}

/** Shows `text` with the seconds since the start while `work` runs. */
export async function withTicker<T>(line: ProgressLine, text: () => string, work: Promise<T>): Promise<T> {
  if (!line.on) return work;
  const started = Date.now();
  const tick = () => line.update(`${text()} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  tick();
  const timer = setInterval(tick, 200);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    line.done();
  }
}
