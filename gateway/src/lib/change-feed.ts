import { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import { TftcpReplyError, type ChangeEvent, type TftcpClient } from 'tor-server/client';
import { HttpStatus, type FileChange } from '../api/index.js';
import { statusForRefusal } from '../errors.js';
import { Backoff, DEFAULT_MAX_BACKOFF_MS, DEFAULT_MIN_BACKOFF_MS } from './backoff.js';
import type { Connector } from './upstream.js';
import type { UpstreamLink } from './upstream-link.js';

export interface ChangeFeedOptions {
  upstream: Connector;
  /** Told when the subscription drops (so sessions learn of an outage); its coming back up wakes a waiting retry. */
  link: UpstreamLink;
  log: FastifyBaseLogger;
  /** Recent changes kept for browsers resuming with `since`. Default 1024. */
  ringSize?: number;
  /** Retry bounds while the tor-server is down. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** The end-user address of the session that started it, named on its connections. */
  clientAddress?: string;
}

interface ChangeFeedEvents {
  /** One change, in seq order; a `resync` says changes were missed: listings must be asked again. */
  change: [FileChange];
  /** The subscription is up (true) or dropped (false). */
  subscribed: [boolean];
  /**
   * The tor-server refused the subscription for good (its reply line): the token is no
   * longer valid, or its level or file does not allow a watch. The feed has stopped.
   */
  refused: [error: TftcpReplyError];
}

const DEFAULT_RING_SIZE = 1024;

/**
 * The gateway's one `watch` subscription to the tor-server, shared by every WebSocket session.
 * Started by the first session and kept until the gateway closes; after the connection drops
 * it subscribes again with `since` (so no change is lost while the server still holds it),
 * retrying with backoff while the tor-server is down. Keeps a bounded ring of recent changes,
 * so a browser that reconnects can ask for what it missed (`since`) instead of listing again.
 */
export class ChangeFeed extends EventEmitter<ChangeFeedEvents> {
  readonly #options: ChangeFeedOptions;
  readonly #ringSize: number;
  readonly #backoff: Backoff;
  /** Changes after #floor, oldest first, at most #ringSize. */
  readonly #ring: FileChange[] = [];
  /** The ring holds every change after this seq. */
  #floor: number | undefined;
  /** The last change seen, or where the subscription started. */
  #position: number | undefined;
  #client: TftcpClient | undefined;
  #started = false;
  #closed = false;
  #subscribed = false;
  #wake: (() => void) | undefined;
  #settle!: () => void;
  /** Settles once the first subscription is up or has failed. */
  readonly settled = new Promise<void>((resolve) => (this.#settle = resolve));
  readonly #onLinkChange = (connected: boolean) => {
    if (connected) this.#wake?.();
  };

  constructor(options: ChangeFeedOptions) {
    super();
    // One listener per open WebSocket: thousands are expected, not a leak.
    this.setMaxListeners(0);
    this.#options = options;
    this.#ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    this.#backoff = new Backoff(options.minBackoffMs ?? DEFAULT_MIN_BACKOFF_MS, options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
  }

  /** The feed's position: the seq of the last change seen (0 before the first subscription, which any `since` resyncs from). */
  get seq(): number {
    return this.#position ?? 0;
  }

  /** Connections the feed holds now (0 or 1). */
  get connectionCount(): number {
    return this.#client && !this.#client.closed ? 1 : 0;
  }

  /** True while the subscription is up. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Subscribes (once; later calls do nothing). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#options.link.on('change', this.#onLinkChange);
    void this.#run();
  }

  /**
   * Every change after `seq`, oldest first, or undefined when the feed no longer holds them
   * all (too old, from before a resync, or not a position of this feed): then list again.
   */
  since(seq: number): FileChange[] | undefined {
    if (this.#floor === undefined || this.#position === undefined) return undefined;
    if (!Number.isSafeInteger(seq) || seq < this.#floor || seq > this.#position) return undefined;
    return this.#ring.filter((change) => change.seq > seq);
  }

  /** Ends the subscription for good. */
  close(): void {
    this.#closed = true;
    this.#settle();
    this.#options.link.off('change', this.#onLinkChange);
    this.#wake?.();
    if (this.#client) this.#options.upstream.discard(this.#client);
  }

  async #run(): Promise<void> {
    const { upstream, link, log } = this.#options;
    while (!this.#closed) {
      let retryAfterMs = 0;
      try {
        this.#client = await upstream.connect({ pooled: true, clientAddress: this.#options.clientAddress });
        if (this.#closed) break;
        const watch = await this.#client.watch(this.#position);
        this.#setSubscribed(true, watch.seq);
        this.#settle();
        this.#backoff.reset();
        for await (const event of watch) this.#take(event);
        if (!this.#closed) log.warn('the tor-server ended the change feed; subscribing again');
      } catch (error) {
        // A refusal of the sign-in or the level will not change by asking again (each try of a
        // dead token would count as a failed sign-in); a sign-in limit says when to try again.
        if (isFinalRefusal(error) && !this.#closed) {
          log.info({ reply: error.reply }, 'the tor-server refused the change feed');
          this.#closed = true;
          this.#settle();
          this.#setSubscribed(false);
          this.emit('refused', error);
          break;
        }
        if (!this.#closed) log.info({ err: (error as Error).message }, 'the change feed dropped; subscribing again');
        retryAfterMs = error instanceof TftcpReplyError ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
      } finally {
        if (this.#client) upstream.discard(this.#client);
        this.#client = undefined;
      }
      this.#settle();
      if (this.#closed) break;
      this.#setSubscribed(false);
      link.suspect();
      await this.#pause(Math.max(retryAfterMs, this.#backoff.next()));
    }
  }

  #setSubscribed(subscribed: boolean, seq?: number): void {
    // The first subscription's start is the feed's start: there is nothing before it to hold.
    if (seq !== undefined && this.#position === undefined) this.#floor = this.#position = seq;
    if (this.#subscribed === subscribed) return;
    this.#subscribed = subscribed;
    this.emit('subscribed', subscribed);
  }

  #take(event: ChangeEvent): void {
    const change = toFileChange(event);
    if (change.type === 'resync') {
      // What happened since our position is unknown: start over from the server's position.
      this.#ring.length = 0;
      this.#floor = this.#position = change.seq;
      this.emit('change', change);
      return;
    }
    // A resumed subscription may replay what was already seen.
    if (this.#position !== undefined && change.seq <= this.#position) return;
    this.#position = change.seq;
    this.#ring.push(change);
    if (this.#ring.length > this.#ringSize) this.#floor = this.#ring.shift()!.seq;
    this.emit('change', change);
  }

  /** Waits `ms`, or less when the link comes back up or the feed closes. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.#wake = done;
    });
  }
}

/** A refusal asking again would not change: no valid sign-in (401), or not allowed (403). */
function isFinalRefusal(error: unknown): error is TftcpReplyError {
  if (!(error instanceof TftcpReplyError)) return false;
  const status = statusForRefusal(error.kind);
  return status === HttpStatus.UNAUTHORIZED || status === HttpStatus.FORBIDDEN;
}

/** The browser's form of a tor-server change: a row is a FileEntry under `file`. */
function toFileChange(event: ChangeEvent): FileChange {
  switch (event.type) {
    case 'added':
      return { type: 'added', seq: event.seq, file: event.entry };
    case 'removed':
      return { type: 'removed', seq: event.seq, name: event.name };
    case 'renamed':
      return { type: 'renamed', seq: event.seq, from: event.from, to: event.to, ...(event.entry ? { file: event.entry } : {}) };
    case 'resync':
      return { type: 'resync', seq: event.seq };
  }
}
