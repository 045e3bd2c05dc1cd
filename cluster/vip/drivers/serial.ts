/**
 * Runs a driver's operations one at a time, in call order. The cluster agent
 * may start cleanup() at boot and, moments later, up() for a lease it just
 * won; were the two `ip` commands to race, a late `ip addr del` would remove
 * the address the new owner just added. A failed operation does not block
 * the ones queued behind it. With nothing in flight an operation starts at
 * once, in the caller's turn: a takeover's address add then leaves before
 * whatever else that turn still does.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  /** Operations queued or running; 0: the next one may start at once. */
  #pending = 0;

  /** Runs `op` after every operation queued before it has settled. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const idle = this.#pending === 0;
    this.#pending++;
    const exec = (): Promise<T> => { try { return op(); } catch (err) { return Promise.reject(err); } };
    const next = (idle ? exec() : this.#tail.then(exec, exec)).finally(() => { this.#pending--; });
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
