import { GatewayError } from '../errors.js';
import { WaitLine } from './wait-line.js';

export interface SignInGateOptions {
  /** Sign-ins of tokens not yet known good one end-user address may have under way at once. */
  perAddress: number;
  /** Most sign-ins of one address waiting for their turn; more are refused at once (429). */
  maxWaiting: number;
  /** A sign-in waits this long for its turn, then is refused (429). */
  timeoutMs: number;
}

/** Sign-ins of new tokens one address may have under way at once, unless configured otherwise. */
export const DEFAULT_SIGN_INS_PER_ADDRESS = 4;
/** What a client refused for too many sign-ins under way is told to wait, in seconds. */
export const SIGN_IN_RETRY_AFTER_SECONDS = 1;
const DEFAULT_MAX_WAITING = 64;
const DEFAULT_TIMEOUT_MS = 30_000;
// The key of connections opened for no request (a change feed): they share one turn line.
const NO_ADDRESS = '';

interface AddressTurns {
  inFlight: number;
  line: WaitLine<void>;
}

/**
 * Turns for signing in tokens the gateway has not yet seen accepted, per end-user address:
 * each such sign-in costs a TFTCP connection, so one address sending made-up tokens (or a
 * page of another site making its visitors do so) can hold at most `perAddress` connections,
 * and at most `maxWaiting` requests waiting, never every slot of the gateway.
 */
export class SignInGate {
  readonly #options: SignInGateOptions;
  readonly #byAddress = new Map<string, AddressTurns>();

  constructor(options: Partial<SignInGateOptions> = {}) {
    this.#options = { perAddress: options.perAddress ?? DEFAULT_SIGN_INS_PER_ADDRESS, maxWaiting: options.maxWaiting ?? DEFAULT_MAX_WAITING, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS };
    if (!Number.isSafeInteger(this.#options.perAddress) || this.#options.perAddress < 1) throw new Error('SignInGate: perAddress must be at least 1');
  }

  /** Sign-ins under way for `address` now. */
  inFlight(address: string | undefined): number {
    return this.#byAddress.get(address ?? NO_ADDRESS)?.inFlight ?? 0;
  }

  /** Waits for a turn of `address`; resolves with the function that ends it (call it once the sign-in is answered). */
  async enter(address: string | undefined, signal?: AbortSignal): Promise<() => void> {
    const key = address ?? NO_ADDRESS;
    let turns = this.#byAddress.get(key);
    if (!turns) {
      turns = { inFlight: 0, line: new WaitLine({ timeoutMs: this.#options.timeoutMs, maxLength: this.#options.maxWaiting, noun: 'sign-ins', busy: (detail) => tooMany(key, detail) }) };
      this.#byAddress.set(key, turns);
    }
    if (turns.inFlight < this.#options.perAddress && turns.line.length === 0) turns.inFlight++;
    else {
      try {
        // The turn is handed over by the one that ends (inFlight stays counted).
        await turns.line.wait(signal);
      } catch (error) {
        this.#forgetIfIdle(key, turns);
        throw error;
      }
    }
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (turns.line.serve()) return;
      turns.inFlight--;
      this.#forgetIfIdle(key, turns);
    };
  }

  #forgetIfIdle(key: string, turns: AddressTurns): void {
    if (turns.inFlight === 0 && turns.line.length === 0 && this.#byAddress.get(key) === turns) this.#byAddress.delete(key);
  }
}

function tooMany(address: string, detail: string): GatewayError {
  return new GatewayError('GW_ERR_TOO_MANY_SIGN_INS', `too many sign-ins from ${address.slice(0, 45) || 'the gateway'} under way at once (${detail}); wait for one to finish`, {
    retryAfterSeconds: SIGN_IN_RETRY_AFTER_SECONDS,
  });
}
