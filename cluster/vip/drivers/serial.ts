/**
 * Runs a driver's operations one at a time, in call order. The cluster agent
 * may start cleanup() at boot and, moments later, up() for a lease it just
 * won; were the two `ip` commands to race, a late `ip addr del` would remove
 * the address the new owner just added. A failed operation does not block
 * the ones queued behind it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `op` after every operation queued before it has settled. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(op, op);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
