import { EventEmitter } from 'node:events';
import { Backoff, DEFAULT_MAX_BACKOFF_MS, DEFAULT_MIN_BACKOFF_MS } from './backoff.js';
import type { Upstream } from './upstream.js';

export interface UpstreamLinkOptions {
  upstream: Upstream;
  /** The command pools: while one of them holds a live connection, its closing would tell of an outage. */
  pool: { readonly hasLiveConnection: boolean };
  /** A probe gives up after this long. */
  probeTimeoutMs?: number;
  /** First retry delay while the tor-server is down; it doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** While sessions are open and no pooled connection would notice an outage, probe this often. */
  idleCheckMs?: number;
  /** Probes prompted by lost connections are at least this far apart while the tor-server is up. */
  minCheckGapMs?: number;
}

interface UpstreamLinkEvents {
  /** The tor-server went away (false) or came back (true). */
  change: [connected: boolean];
}

/**
 * Whether the tor-server is reachable, as every WebSocket session is told: one state and one
 * backoff for the whole gateway. A connection lost anywhere (pool, download, upload) prompts a
 * probe; while the tor-server is down, probes retry with jittered exponential backoff until
 * one succeeds. Probes run only while at least one session is open.
 */
export class UpstreamLink extends EventEmitter<UpstreamLinkEvents> {
  readonly #upstream: Upstream;
  readonly #pool: { readonly hasLiveConnection: boolean };
  readonly #probeTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #idleCheckMs: number;
  readonly #minCheckGapMs: number;
  readonly #onLost = () => this.suspect();
  #connected: boolean | undefined;
  #checking: Promise<boolean> | undefined;
  #checkAgain = false;
  #checkedAt = -Infinity;
  #suspectTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #sessions = 0;

  constructor(options: UpstreamLinkOptions) {
    super();
    // One listener per open WebSocket: thousands are expected, not a leak.
    this.setMaxListeners(0);
    this.#upstream = options.upstream;
    this.#pool = options.pool;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 2000;
    this.#backoff = new Backoff(options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS, options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
    this.#idleCheckMs = options.idleCheckMs ?? 30_000;
    this.#minCheckGapMs = options.minCheckGapMs ?? 1000;
    this.#upstream.on('lost', this.#onLost);
  }

  /** The last known state; undefined before the first probe. */
  get connected(): boolean | undefined {
    return this.#connected;
  }

  /** Sessions watching the link. */
  get sessions(): number {
    return this.#sessions;
  }

  /** A session opens: resolves with the state to tell it, probing first when nothing recent is known. */
  async join(): Promise<boolean> {
    this.#sessions++;
    if (this.#sessions === 1) {
      this.#idleTimer = setInterval(() => this.#idleCheck(), this.#idleCheckMs);
      this.#idleTimer.unref();
    }
    const stale = !this.#pool.hasLiveConnection && Date.now() - this.#checkedAt > this.#minCheckGapMs;
    if (this.#connected === undefined || stale) await this.check();
    return this.#connected ?? false;
  }

  /** A session closed. */
  leave(): void {
    this.#sessions = Math.max(0, this.#sessions - 1);
    if (this.#sessions > 0) return;
    clearInterval(this.#idleTimer);
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#suspectTimer);
    this.#suspectTimer = undefined;
    // Nobody is watching: what is known now will be stale when the next session opens.
    this.#checkedAt = -Infinity;
  }

  /** A command just got its answer: the tor-server is up. */
  confirmUp(): void {
    this.#checkedAt = Date.now();
    this.#set(true);
  }

  /** Something failed in a way an outage would explain: probe soon (probes are coalesced). */
  suspect(): void {
    if (this.#sessions === 0) {
      this.#checkedAt = -Infinity;
      return;
    }
    // While down, the backoff loop is probing already.
    if (this.#connected === false || this.#suspectTimer) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    const wait = Math.max(0, this.#checkedAt + this.#minCheckGapMs - Date.now());
    this.#suspectTimer = setTimeout(() => {
      this.#suspectTimer = undefined;
      void this.check();
    }, wait);
    this.#suspectTimer.unref();
  }

  /** Probes the tor-server now (or joins the probe under way) and updates the state. */
  check(): Promise<boolean> {
    this.#checking ??= this.#upstream.probe(this.#probeTimeoutMs).then((up) => {
      this.#checking = undefined;
      this.#checkedAt = Date.now();
      this.#set(up);
      if (this.#checkAgain) {
        this.#checkAgain = false;
        this.suspect();
      }
      return up;
    });
    return this.#checking;
  }

  /** Stops probing for good. */
  close(): void {
    this.#sessions = 0;
    this.leave();
    this.#upstream.off('lost', this.#onLost);
  }

  #set(connected: boolean): void {
    clearTimeout(this.#retryTimer);
    if (connected) this.#backoff.reset();
    else if (this.#sessions > 0) {
      this.#retryTimer = setTimeout(() => void this.check(), this.#backoff.next());
      this.#retryTimer.unref();
    }
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.emit('change', connected);
  }

  #idleCheck(): void {
    if (this.#connected === true && !this.#pool.hasLiveConnection && !this.#checking) void this.check();
  }
}
