/**
 * Admission of backend WebSocket handshakes for one pool (issue 12: after a
 * failover every client reconnects at once, and the backends must not take
 * them all in the same second). A token bucket paces handshakes; those that
 * find it empty wait in a short FIFO queue for their turn; when the queue
 * is full, or a waiter's time is up, the client gets 503 with a Retry-After
 * drawn at random from [1, retryAfterMaxSec] seconds, so the retries of a
 * storm spread out instead of coming back together.
 *
 *   enter ──token──> go
 *     └── queue has room ──> wait ──token within queueTimeoutMs──> go
 *     │                        └── time up ──> 503 Retry-After: rand
 *     └── queue full ──> 503 Retry-After: rand
 *
 * One timer for the whole queue, armed for the next token. Waiters whose
 * client already went away are skipped without spending a token.
 */
import type { AdmissionConfig } from '../../shared/config/edge-schema';
import { TokenBucket, bucketParams, type BucketParams } from './token-bucket';

/** Why a handshake was not admitted. */
export interface AdmissionRefusal { why: 'queue-full' | 'queue-timeout'; retryAfterSec: number }

interface Waiter {
  resolve: (r: AdmissionRefusal | null) => void;
  deadlineMs: number;
  gone: () => boolean;
}

/** One pool's admission. */
export class AdmissionQueue {
  readonly config: AdmissionConfig;
  readonly #p: BucketParams;
  readonly #bucket: TokenBucket;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #now: () => number;
  readonly #random: () => number;
  /** Handshakes admitted, queued, refused (status and tests). */
  admitted = 0;
  queued = 0;
  refused = 0;

  constructor(config: AdmissionConfig, opts: { share?: number; nowMs?: () => number; random?: () => number } = {}) {
    this.config = config;
    this.#p = bucketParams({ ratePerSec: config.handshakesPerSec, burst: config.burst }, opts.share ?? 1);
    this.#now = opts.nowMs ?? (() => performance.now());
    this.#random = opts.random ?? Math.random;
    this.#bucket = new TokenBucket(this.#p, this.#now());
  }

  /** Waiting handshakes now. */
  get waiting(): number { return this.#queue.length; }

  /** Admits at once (null), or after a wait, or refuses. `gone` tells whether the client left meanwhile. */
  enter(gone: () => boolean): AdmissionRefusal | null | Promise<AdmissionRefusal | null> {
    if (this.#queue.length === 0 && this.#bucket.take(this.#p, this.#now()) === 0) { this.admitted++; return null; }
    if (this.#queue.length >= this.config.queueSize) return this.#refuse('queue-full');
    this.queued++;
    return new Promise((resolve) => {
      this.#queue.push({ resolve, deadlineMs: this.#now() + this.config.queueTimeoutMs, gone });
      this.#arm();
    });
  }

  #refuse(why: AdmissionRefusal['why']): AdmissionRefusal {
    this.refused++;
    return { why, retryAfterSec: 1 + Math.floor(this.#random() * this.config.retryAfterMaxSec) };
  }

  #arm(): void {
    // A token that came due meanwhile releases the head at once; whoever still waits then needs the timer (each
    // turn of the loop takes at least one waiter off the queue, so it ends).
    while (this.#timer === null && this.#queue.length > 0) {
      const now = this.#now();
      const wait = this.#bucket.take(this.#p, now);
      if (wait === 0) { this.#release(now, true); continue; }
      const untilDeadline = Math.max(0, this.#queue[0].deadlineMs - now);
      // Kept referenced: waiters are real work, and every wait ends by queueTimeoutMs.
      this.#timer = setTimeout(admissionOnTimer, Math.max(1, Math.min(wait, untilDeadline)), this);
    }
  }

  /** Releases waiters: the first gets the token already taken (`haveToken`), the rest as tokens allow; expired ones are refused. */
  #release(now: number, haveToken: boolean): void {
    let token = haveToken;
    while (this.#queue.length) {
      const w = this.#queue[0];
      if (w.gone()) { this.#queue.shift(); w.resolve(null); continue; }
      if (!token) token = this.#bucket.take(this.#p, now) === 0;
      if (token) { this.#queue.shift(); this.admitted++; token = false; w.resolve(null); continue; }
      if (w.deadlineMs <= now) { this.#queue.shift(); w.resolve(this.#refuse('queue-timeout')); continue; }
      break;
    }
    // A token taken for a queue that emptied meanwhile is given back.
    if (token) this.#bucket.tokens += 1;
  }

  /** Timer: release what the bucket allows now, then re-arm. */
  onTimer(): void {
    this.#timer = null;
    this.#release(this.#now(), false);
    this.#arm();
  }

  /** Refuses every waiter (the pool went away or the node closes). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const w of this.#queue.splice(0)) w.resolve(this.#refuse('queue-full'));
  }
}

function admissionOnTimer(q: AdmissionQueue): void { q.onTimer(); }
