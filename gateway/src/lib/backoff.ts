/** Retry delays that double from `minMs` up to `maxMs`, jittered so many retriers do not strike at once. */
export class Backoff {
  readonly #minMs: number;
  readonly #maxMs: number;
  #nextMs: number;

  constructor(minMs: number, maxMs: number) {
    this.#minMs = minMs;
    this.#maxMs = maxMs;
    this.#nextMs = minMs;
  }

  /** The delay before the next retry (and doubles the one after). */
  next(): number {
    // Jitter, so a tor-server coming back is not hit by every retrier in the same millisecond.
    const delay = this.#nextMs * (0.75 + Math.random() / 2);
    this.#nextMs = Math.min(this.#nextMs * 2, this.#maxMs);
    return delay;
  }

  /** It worked: the next retry waits the shortest time again. */
  reset(): void {
    this.#nextMs = this.#minMs;
  }
}

/** The default bounds of the gateway's retries while the tor-server is down. */
export const DEFAULT_MIN_BACKOFF_MS = 250;
export const DEFAULT_MAX_BACKOFF_MS = 5000;
