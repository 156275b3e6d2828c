/** How long the tor-server's `Invalid token` for a token is remembered, unless configured otherwise. */
export const DEFAULT_REFUSED_TOKEN_MS = 5000;
/** Most refused tokens remembered at once; beyond, the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000;

/**
 * Tokens (by their hash) the tor-server has just answered `Invalid token`, remembered for a
 * few seconds: asking again with the same made-up token answers the same refusal without a
 * TFTCP connection. Bounded in time and in number.
 */
export class RefusedTokens {
  readonly #ttlMs: number;
  /** Token hash → when it is forgotten; oldest first. */
  readonly #until = new Map<string, number>();

  constructor(ttlMs: number = DEFAULT_REFUSED_TOKEN_MS) {
    this.#ttlMs = ttlMs;
  }

  /** Remembers that the tor-server refused the token of `key`. */
  add(key: string): void {
    this.#until.delete(key);
    this.#until.set(key, Date.now() + this.#ttlMs);
    this.#prune();
    if (this.#until.size > MAX_REMEMBERED) this.#until.delete(this.#until.keys().next().value!);
  }

  /** True while the refusal of the token of `key` is remembered. */
  has(key: string): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(key);
    return false;
  }

  /** Forgets the refusals whose time is over (the oldest come first). */
  #prune(): void {
    const now = Date.now();
    for (const [key, until] of this.#until) {
      if (until > now) return;
      this.#until.delete(key);
    }
  }
}
