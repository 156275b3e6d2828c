/**
 * Application-level keep-alive for the gateway's WebSocket: browsers neither send nor show
 * protocol pings, so a connection that died silently (a NAT dropped it, the laptop slept)
 * would look open for minutes. The page asks `ping` at an interval and gives the socket up
 * after a few unanswered ones.
 */

/** How often the page pings the gateway. */
export const PING_INTERVAL_MS = 15_000;
/** Unanswered pings in a row after which the socket is replaced. */
export const MAX_MISSED_PINGS = 3;

export interface KeepAliveOptions {
  /** Sends one ping; resolves on the reply (a rejection counts as no reply). */
  ping(): Promise<unknown>;
  /** Called once when `maxMissed` pings in a row went unanswered; the pinging stops. */
  onDead(): void;
  intervalMs?: number;
  maxMissed?: number;
}

/** Pings while started; a reply to any ping clears the count of missed ones. */
export class KeepAlive {
  readonly #ping: () => Promise<unknown>;
  readonly #onDead: () => void;
  readonly #intervalMs: number;
  readonly #maxMissed: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #missed = 0;
  #waiting = false;
  /** Bumped by stop(), so a reply to a ping of an earlier run does not count. */
  #run = 0;

  constructor(options: KeepAliveOptions) {
    this.#ping = options.ping;
    this.#onDead = options.onDead;
    this.#intervalMs = options.intervalMs ?? PING_INTERVAL_MS;
    this.#maxMissed = options.maxMissed ?? MAX_MISSED_PINGS;
  }

  /** Unanswered pings in a row so far. */
  get missed(): number {
    return this.#missed;
  }

  /** Starts pinging (the socket opened); calling it again restarts the count. */
  start(): void {
    this.stop();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  /** Stops pinging (the socket closed). */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#missed = 0;
    this.#waiting = false;
    this.#run += 1;
  }

  #tick(): void {
    if (this.#waiting) {
      this.#missed += 1;
      if (this.#missed >= this.#maxMissed) {
        this.stop();
        this.#onDead();
        return;
      }
    }
    this.#waiting = true;
    const run = this.#run;
    this.#ping().then(
      () => {
        if (run !== this.#run) return;
        this.#waiting = false;
        this.#missed = 0;
      },
      // No reply: the next tick counts it.
      () => {},
    );
  }
}
