/** A transfer rate over a sliding window, so the rate and ETA follow the recent speed without jitter. */
export class RateMeter {
  readonly #windowMs: number;
  #samples: Array<{ time: number; bytes: number }> = [];

  constructor(windowMs = 3000) {
    this.#windowMs = windowMs;
  }

  /** Records that `bytes` in total had moved at `time` (ms). */
  add(time: number, bytes: number): void {
    this.#samples.push({ time, bytes });
    // Keep one sample older than the window as the starting point of the measurement.
    while (this.#samples.length > 2 && time - this.#samples[1]!.time >= this.#windowMs) this.#samples.shift();
  }

  /** Bytes per second over the window, or null until two samples at least 200 ms apart exist. */
  rate(): number | null {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.time - first.time < 200) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.time - first.time);
  }

  /** Seconds left for `remaining` bytes at the current rate, or null when unknown. */
  eta(remaining: number): number | null {
    const rate = this.rate();
    if (rate === null) return null;
    if (remaining <= 0) return 0;
    return rate > 0 ? remaining / rate : null;
  }
}
