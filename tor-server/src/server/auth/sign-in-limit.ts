/** Failed sign-ins allowed per address in a window; the next attempt is refused unchecked. */
export const MAX_FAILED_SIGN_INS = 10;
export const FAILED_SIGN_IN_WINDOW_MS = 60_000;
// Addresses remembered at once: a flood from many addresses forgets the oldest, never grows without bound.
const MAX_ADDRESSES = 10_000;

/** Counts failed sign-ins per client address over a sliding minute. */
export class SignInLimit {
  readonly #failures = new Map<string, number[]>();

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryInSeconds(address: string, now = Date.now()): number {
    const times = this.#recent(address, now);
    if (times.length < MAX_FAILED_SIGN_INS) return 0;
    return Math.max(1, Math.ceil((times[0]! + FAILED_SIGN_IN_WINDOW_MS - now) / 1000));
  }

  /**
   * Counts a sign-in from `address` as failed before its token is even looked at, so attempts
   * sent all at once meet the limit too; call the returned function when it succeeds.
   */
  attempt(address: string, now = Date.now()): () => void {
    this.failed(address, now);
    return () => {
      const times = this.#failures.get(address);
      const at = times?.lastIndexOf(now) ?? -1;
      if (at >= 0) times!.splice(at, 1);
    };
  }

  /** Records a failed sign-in from `address`. */
  failed(address: string, now = Date.now()): void {
    const times = this.#recent(address, now);
    times.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, times);
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
  }

  #recent(address: string, now: number): number[] {
    const times = (this.#failures.get(address) ?? []).filter((t) => now - t < FAILED_SIGN_IN_WINDOW_MS);
    if (times.length === 0) this.#failures.delete(address);
    return times;
  }
}
