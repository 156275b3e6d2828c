import type { FastifyBaseLogger } from 'fastify';
import { TftcpConnectionError, TftcpReplyError } from 'tor-server/client';
import { WebSocket, type RawData } from 'ws';
import { GatewayError, endsSignIn } from '../errors.js';
import type { ChangeFeed } from '../lib/change-feed.js';
import type { CommandPool } from '../lib/command-pool.js';
import type { UpstreamLink } from '../lib/upstream-link.js';
import { WS_CLOSE_SIGNED_OUT, WS_PING_INTERVAL_MS, type FileChange, type WsReply, type WsRequest, type WsServerMessage } from '../api/index.js';
import { keepAlive } from './keep-alive.js';
import { parseWsRequest } from './parse-request.js';

export interface SessionOptions {
  pool: CommandPool;
  link: UpstreamLink;
  /** The user's change feed; undefined when every feed slot is taken (the session then gets no live changes, and its `upstream` events say so). */
  feed: ChangeFeed | undefined;
  /** The browser's address, named on any connection opened for its commands. */
  clientAddress: string;
  log: FastifyBaseLogger;
  /** The tor-server's address, for messages. */
  upstreamAddress: string;
  /** The socket is not read (requests wait in the browser) while more than this many reply bytes are unsent. */
  highWaterBytes?: number;
  /** A session with more than this many reply bytes unsent is closed. */
  maxBufferedBytes?: number;
  /** The session is pinged this often and dropped after two missed pongs. Default WS_PING_INTERVAL_MS. */
  pingIntervalMs?: number;
  /** Change events unsent at most before the session is sent one resync instead. Default MAX_UNSENT_CHANGES. */
  maxUnsentChanges?: number;
  /** A command met a refused sign-in (its reply line): the user's sessions must end (see signOut). */
  onSignedOut?: (reply: string) => void;
}

// RFC 6455 close reasons are at most 123 bytes of UTF-8.
const MAX_CLOSE_REASON_BYTES = 123;

/** What a session without a change feed is told (with `liveChanges: false` on its `upstream` events). */
export const NO_FEED_REASON = 'live changes are unavailable: the gateway is following as many users as it may; list again to see changes, or reload later';

/** Close code when the gateway ends a session for a reason of policy (RFC 6455). */
export const WS_POLICY_VIOLATION = 1008;
/** Close code for "try again later": a limit was reached (RFC 6455 registry). */
export const WS_TRY_AGAIN_LATER = 1013;

// At this many queued requests the session stops reading the socket; the few that ws had
// already read by then are refused (in order), so one socket cannot pile up unbounded work.
export const MAX_QUEUED_REQUESTS = 100;
const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
// After the close frame, a client that does not read it is cut this much later.
const CLOSE_GRACE_MS = 1000;
/**
 * Change events handed to ws and not yet written, at most (by default): beyond, the session
 * stops sending single changes and, once it has caught up, sends one `resync` (list again).
 */
export const MAX_UNSENT_CHANGES = 256;

/**
 * One browser WebSocket. Its requests run one after another (so replies keep request order)
 * on the gateway's shared command pool; it holds no tor-server connection of its own. Its
 * unsent replies are bounded: while more than `highWaterBytes` are unsent, or its line of
 * requests is full, the session stops reading the socket (the browser's own sends back up),
 * and a client that lets more than `maxBufferedBytes` pile up is closed. Every change of the
 * shared feed is sent as a `files-changed` event, up to maxUnsentChanges unsent; a session
 * further behind is sent one `resync` once it has caught up. A peer that stops answering
 * pings is dropped.
 */
export class WsSession {
  readonly #socket: WebSocket;
  readonly #options: SessionOptions;
  readonly #highWaterBytes: number;
  readonly #maxBufferedBytes: number;
  /** Aborted when the session ends: commands still waiting for a pooled connection give up. */
  readonly #stop = new AbortController();
  #announced: boolean | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  /** Settles when the last reply handed to ws has been written to the socket. */
  #flushed: Promise<void> = Promise.resolve();
  #closed = false;
  /** Change events handed to ws and not yet written. */
  #unsentChanges = 0;
  /** Changes were dropped for a session too far behind: it gets a resync once it has caught up. */
  #missedChanges = false;
  #stopKeepAlive: (() => void) | undefined;
  readonly #onChange = (change: FileChange) => this.#pushChange(change);
  readonly #onLinkChange = (connected: boolean) => this.#announce(connected);

  constructor(socket: WebSocket, options: SessionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#highWaterBytes = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /** Starts listening to the browser and tells it whether the tor-server is reachable. */
  start(): void {
    this.#socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#socket.once('close', () => this.close());
    this.#socket.on('error', (error) => this.#options.log.debug({ err: error }, 'websocket error'));
    this.#options.feed?.on('change', this.#onChange);
    this.#options.link.on('change', this.#onLinkChange);
    this.#stopKeepAlive = keepAlive(this.#socket, this.#options.pingIntervalMs ?? WS_PING_INTERVAL_MS, () => this.#dropSilentPeer());
    // The link state is the first message; requests queue up behind it, and behind the change
    // feed's first subscription, so no change after a first listing can be missed.
    this.#queue = Promise.all([this.#options.link.join(), this.#options.feed?.settled]).then(
      ([connected]) => this.#announce(connected),
      () => this.#announce(false),
    );
  }

  /** The tor-server refused this user's sign-in: the browser is told why (WS_CLOSE_SIGNED_OUT, the reply line) and the session ends. */
  signOut(reply: string): void {
    if (this.#closed) return;
    this.#options.log.info({ reply }, 'websocket closed: the sign-in was refused');
    this.#socket.close(WS_CLOSE_SIGNED_OUT, truncateUtf8(reply, MAX_CLOSE_REASON_BYTES));
    setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS).unref();
    this.close();
  }

  /** Ends the session: stops its waiting commands and its event subscriptions. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop.abort();
    this.#stopKeepAlive?.();
    this.#options.feed?.off('change', this.#onChange);
    this.#options.link.off('change', this.#onLinkChange);
    this.#options.link.leave();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    const parsed = parseWsRequest(toBuffer(data), isBinary);
    // Reading stopped at the limit, but messages ws had already read still arrive: they are
    // refused, behind the earlier answers.
    const overflow = this.#queued >= MAX_QUEUED_REQUESTS;
    this.#queued++;
    this.#updateReading();
    // Every reply, refusals included, goes through the queue so replies keep request order.
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#repliesReadSoFar();
        if (this.#closed) return;
        const id = parsed.ok ? parsed.request.id : parsed.id;
        if (overflow) this.#send({ id, ok: false, error: `more than ${MAX_QUEUED_REQUESTS} requests are waiting; wait for the answers` });
        else this.#send(parsed.ok ? await this.#run(parsed.request) : { id, ok: false, error: parsed.error });
      } finally {
        this.#queued--;
        this.#updateReading();
      }
    });
  }

  /**
   * Stops reading the socket while the line of requests is full or more than highWaterBytes
   * of replies are unsent, and reads again once neither holds: a client that sends without
   * reading then fills its own buffers, not the gateway's.
   */
  #updateReading(): void {
    if (this.#closed) return;
    const hold = this.#queued >= MAX_QUEUED_REQUESTS || this.#socket.bufferedAmount > this.#highWaterBytes;
    if (hold && !this.#socket.isPaused) this.#socket.pause();
    else if (!hold && this.#socket.isPaused) this.#socket.resume();
  }

  /** Waits while the browser has too many reply bytes unread, so a client that does not read stops costing work. */
  async #repliesReadSoFar(): Promise<void> {
    while (!this.#closed && this.#socket.bufferedAmount > this.#highWaterBytes) {
      const flushed = this.#flushed;
      await flushed;
      // Nothing newer was sent meanwhile and still too much is pending: the socket is gone.
      if (flushed === this.#flushed && this.#socket.bufferedAmount > this.#highWaterBytes) return;
    }
  }

  async #run(request: WsRequest): Promise<WsReply> {
    const { pool, link, feed } = this.#options;
    const { id } = request;
    if (request.command === 'ping') return { id, ok: true, pong: true };
    if (request.command === 'since') {
      const changes = feed?.since(request.seq);
      return changes ? { id, ok: true, changes, seq: feed!.seq } : { id, ok: true, resync: true, seq: feed?.seq ?? 0 };
    }
    // Taken before the listing is asked for: every change after it is sent as an event, to apply on top.
    const seq = feed?.seq ?? 0;
    try {
      const files = await pool.run((client) => client.list(request.command === 'search' ? request.text : ''), { signal: this.#stop.signal, clientAddress: this.#options.clientAddress });
      link.confirmUp();
      return { id, ok: true, files, seq };
    } catch (error) {
      // A refusal is the server's reply line verbatim; anything else is the connection failing.
      if (error instanceof TftcpReplyError) {
        // Told after this answer is handed to the socket, so the browser reads the reason twice, in order.
        if (endsSignIn(error.kind)) setImmediate(() => this.#options.onSignedOut?.(error.reply));
        return { id: request.id, ok: false, error: error.reply };
      }
      if (error instanceof GatewayError && error.code === 'GW_ERR_UNAUTHORIZED') return { id: request.id, ok: false, error: error.message };
      if (error instanceof TftcpConnectionError || (error instanceof GatewayError && error.code === 'GW_ERR_UPSTREAM_UNREACHABLE')) {
        link.suspect();
        return { id: request.id, ok: false, error: `the tor-server at ${this.#options.upstreamAddress} is unreachable; retrying` };
      }
      return { id: request.id, ok: false, error: (error as Error).message };
    }
  }

  /** Tells the browser the link state, once per change. */
  #announce(connected: boolean): void {
    if (this.#announced === connected) return;
    this.#announced = connected;
    this.#send({ event: 'upstream', connected, ...(!this.#options.feed && { liveChanges: false, reason: NO_FEED_REASON }) });
  }

  /** Sends one change; a session too far behind gets one resync instead, once it has caught up. */
  #pushChange(change: FileChange): void {
    if (this.#missedChanges) return;
    if (this.#unsentChanges >= (this.#options.maxUnsentChanges ?? MAX_UNSENT_CHANGES)) {
      this.#missedChanges = true;
      return;
    }
    this.#unsentChanges++;
    this.#send({ event: 'files-changed', change }, () => {
      this.#unsentChanges--;
      if (this.#unsentChanges > 0 || !this.#missedChanges) return;
      this.#missedChanges = false;
      this.#pushChange({ type: 'resync', seq: this.#options.feed?.seq ?? 0 });
    });
  }

  /** The peer missed its pongs: it is gone without having closed, and is cut. */
  #dropSilentPeer(): void {
    this.#options.log.info('websocket dropped: the client stopped answering pings');
    this.#socket.terminate();
    this.close();
  }

  /**
   * Sends a message (a reply or an event), unless the client has left more than
   * maxBufferedBytes unread: then it is not reading at all, and is closed.
   */
  #send(message: WsServerMessage, onWritten?: () => void): void {
    if (this.#closed || this.#socket.readyState !== WebSocket.OPEN) return;
    if (this.#socket.bufferedAmount > this.#maxBufferedBytes) return this.#closeSlowReader();
    this.#flushed = new Promise((resolve) =>
      this.#socket.send(JSON.stringify(message), () => {
        onWritten?.();
        resolve();
        this.#updateReading();
      }),
    );
    this.#updateReading();
  }

  #closeSlowReader(): void {
    if (this.#closed) return;
    const limit = this.#maxBufferedBytes;
    this.#options.log.info({ buffered: this.#socket.bufferedAmount, limit }, 'websocket closed: the client does not read its replies');
    this.#socket.close(WS_POLICY_VIOLATION, `more than ${limit / 1024 / 1024} MiB of replies are unread`);
    // The close frame waits behind the unread replies; a client that reads nothing never gets it.
    setTimeout(() => this.#socket.terminate(), CLOSE_GRACE_MS).unref();
    this.close();
  }
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  let end = text.length;
  while (Buffer.byteLength(text.slice(0, end)) > maxBytes) end--;
  return text.slice(0, end);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
