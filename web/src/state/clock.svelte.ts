/** A coarse "now" that ticks, so relative times ("5 minutes ago") stay true while the page is open. */
export class Clock {
  #now = $state(Date.now());

  get now(): number {
    return this.#now;
  }

  /** Starts ticking every `intervalMs`; returns the stop function. */
  start(intervalMs = 30_000): () => void {
    const timer = setInterval(() => (this.#now = Date.now()), intervalMs);
    return () => clearInterval(timer);
  }

  /** Re-reads the time at once (the tab became visible again). */
  tick(): void {
    this.#now = Date.now();
  }
}
