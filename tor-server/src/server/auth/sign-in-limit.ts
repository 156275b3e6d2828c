import { isIPv6 } from 'node:net';

/** Failed sign-ins allowed per address in a window; the next attempt is refused unchecked. */
export const MAX_FAILED_SIGN_INS = 10;
export const FAILED_SIGN_IN_WINDOW_MS = 60_000;
// Addresses remembered at once: a flood from many addresses forgets the oldest, never grows without bound.
const MAX_ADDRESSES = 10_000;

// One IPv6 subscriber usually holds a whole /64: its first four groups are one "address" here.
const IPV6_PREFIX_GROUPS = 4;
const IPV6_GROUPS = 8;

/**
 * The key failed sign-ins are counted under: an IPv4 address itself, an IPv6 address's /64
 * (so a client cannot get ten more tries by moving to the next of its 2^64 addresses).
 */
export function signInLimitKey(address: string): string {
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  // An embedded IPv4 tail (`::ffff:192.0.2.1`) is two groups; only its prefix part matters here.
  const backCount = back.reduce((count, group) => count + (group.includes('.') ? 2 : 1), 0);
  const full = [...front, ...Array<string>(Math.max(0, IPV6_GROUPS - front.length - backCount)).fill('0'), ...back];
  if (full.slice(0, 5).join(':') === '0:0:0:0:0' && full[5]?.toLowerCase() === 'ffff' && full[6]?.includes('.')) return full[6];
  return `${full.slice(0, IPV6_PREFIX_GROUPS).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/** Counts failed sign-ins per client address (an IPv6 address per /64) over a sliding minute. */
export class SignInLimit {
  readonly #failures = new Map<string, number[]>();

  /** Seconds until `address` may try again, or 0 when it may try now. */
  retryInSeconds(address: string, now = Date.now()): number {
    const times = this.#recent(signInLimitKey(address), now);
    if (times.length < MAX_FAILED_SIGN_INS) return 0;
    return Math.max(1, Math.ceil((times[0]! + FAILED_SIGN_IN_WINDOW_MS - now) / 1000));
  }

  /**
   * Counts a sign-in from `address` as failed before its token is even looked at, so attempts
   * sent all at once meet the limit too; call the returned function when it succeeds.
   */
  attempt(address: string, now = Date.now()): () => void {
    this.failed(address, now);
    const key = signInLimitKey(address);
    return () => {
      const times = this.#failures.get(key);
      const at = times?.lastIndexOf(now) ?? -1;
      if (at >= 0) times!.splice(at, 1);
    };
  }

  /** Records a failed sign-in from `address`. */
  failed(address: string, now = Date.now()): void {
    const key = signInLimitKey(address);
    const times = this.#recent(key, now);
    times.push(now);
    this.#failures.delete(key);
    this.#failures.set(key, times);
    if (this.#failures.size > MAX_ADDRESSES) this.#failures.delete(this.#failures.keys().next().value!);
  }

  #recent(key: string, now: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => now - t < FAILED_SIGN_IN_WINDOW_MS);
    if (times.length === 0) this.#failures.delete(key);
    return times;
  }
}
