/** A small seeded PRNG (mulberry32), so that a fuzz run can be replayed from its seed. */
export class Rng {
  #s: number;
  constructor(seed: number) { this.#s = seed >>> 0; }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number { return Math.floor(this.next() * n); }

  pick<T>(list: readonly T[]): T { return list[this.int(list.length)]; }

  chance(p: number): boolean { return this.next() < p; }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}
