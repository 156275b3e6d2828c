import { GatewayError } from '../errors.js';

export interface WaitLineOptions {
  /** A caller waits this long at most, then is refused. */
  timeoutMs: number;
  /** Most callers waiting; more are refused at once. */
  maxLength: number;
  /** What waits, for messages ("requests", "commands"). */
  noun: string;
  /** The refusal for a line too long or a wait too long, given what happened. */
  busy(detail: string): Error;
}

interface Waiter<T> {
  resolve(value: T | PromiseLike<T>): void;
  reject(error: Error): void;
  /** What the caller said of itself (the address it waits for). */
  note: string | undefined;
}

/**
 * A first-come first-served line of callers waiting for something scarce (a connection, a
 * slot), bounded in length and in time; a caller whose client went away leaves it.
 */
export class WaitLine<T> {
  readonly #options: WaitLineOptions;
  readonly #waiters: Waiter<T>[] = [];

  constructor(options: WaitLineOptions) {
    this.#options = options;
  }

  /** Callers waiting now. */
  get length(): number {
    return this.#waiters.length;
  }

  /** True when one more caller would be refused at once. */
  get full(): boolean {
    return this.#waiters.length >= this.#options.maxLength;
  }

  /** The note of the first caller in line. */
  get firstNote(): string | undefined {
    return this.#waiters[0]?.note;
  }

  /** Waits for serve(); refused when the line is full, after timeoutMs, or when `signal` aborts. `note` is kept for firstNote. */
  wait(signal?: AbortSignal, note?: string): Promise<T> {
    const { timeoutMs, maxLength, noun, busy } = this.#options;
    if (signal?.aborted) return Promise.reject(clientGone());
    if (this.full) return Promise.reject(busy(`${maxLength} ${noun} are already waiting`));
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      const waiter: Waiter<T> = {
        resolve: (value) => {
          done();
          resolve(value);
        },
        reject: (error) => {
          done();
          reject(error);
        },
        note,
      };
      const timer = setTimeout(() => waiter.reject(busy(`none became free within ${timeoutMs / 1000} s`)), timeoutMs);
      const onAbort = () => waiter.reject(clientGone());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Hands `value` to the first caller in line; false when nobody waits. */
  serve(value: T | PromiseLike<T>): boolean {
    const waiter = this.#waiters[0];
    if (!waiter) return false;
    waiter.resolve(value);
    return true;
  }

  /** Refuses every caller waiting. */
  rejectAll(error: Error): void {
    for (const waiter of [...this.#waiters]) waiter.reject(error);
  }
}

/** The refusal for a caller whose client went away while it waited. */
export function clientGone(): GatewayError {
  return new GatewayError('GW_ERR_CLIENT_GONE', 'the client went away while waiting for a tor-server connection');
}
