import { ApiPath, WS_CLOSE_SIGNED_OUT, type FileChange, type WsAnswers, type WsCommand, type WsEvent, type WsReply, type WsRequest, type WsServerMessage } from 'gateway/api';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { WebError, WebErrorCode } from './errors.js';
import type { Listing } from './live-listing.js';

export type SocketState = 'connecting' | 'open' | 'closed';

/** The WebSocket class to use; Node tests pass `ws`'s, browsers use their own. */
export type WebSocketClass = typeof WebSocket;

export interface WsClientOptions {
  url: string;
  WebSocket?: WebSocketClass;
  backoff?: BackoffOptions;
  /** A request without a reply after this long fails (the socket stays). */
  requestTimeoutMs?: number;
  random?: () => number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type RequestBody<C extends WsCommand> = DistributiveOmit<Extract<WsRequest, { command: C }>, 'id'>;
type OkReply = WsAnswers[WsCommand];

/** The answer to `since`: the changes after the position asked for, or `resync` when the gateway no longer holds them all. */
export type CatchUp = { resync: false; changes: FileChange[]; seq: number } | { resync: true; seq: number };

interface Pending {
  resolve(reply: OkReply): void;
  reject(error: WebError): void;
  timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const CONNECTION_LOST = 'The connection to the gateway was lost';

/**
 * The browser's end of `GET /api/ws`: numbered requests matched to replies, pushed events,
 * and reconnection with backoff until stop() is called.
 */
export class WsClient {
  readonly #options: Required<Omit<WsClientOptions, 'random'>> & { random: () => number };
  #socket: WebSocket | null = null;
  #state: SocketState = 'closed';
  #nextId = 1;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = true;
  /** Closed by the gateway because the sign-in was refused: no retries until reconnectNow(). */
  #signedOut = false;
  readonly #pending = new Map<number, Pending>();
  readonly #stateListeners = new Set<(state: SocketState) => void>();
  readonly #eventListeners = new Set<(event: WsEvent) => void>();
  readonly #signedOutListeners = new Set<(reason: string) => void>();

  constructor(options: WsClientOptions) {
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocketClass) throw new TypeError('WsClient needs a WebSocket class (none is global here)');
    this.#options = {
      url: options.url,
      WebSocket: WebSocketClass,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      random: options.random ?? Math.random,
    };
  }

  /** The socket's state right now. */
  get state(): SocketState {
    return this.#state;
  }

  /** Opens the socket and keeps it open (reconnecting) until stop(). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#connect();
  }

  /** Closes the socket for good and fails every waiting request. */
  stop(): void {
    this.#stopped = true;
    this.#clearRetry();
    this.#dropSocket('The connection was closed');
    this.#setState('closed');
  }

  /** Skips the remaining backoff wait (the tab became visible, the network came back, the user signed in again). */
  reconnectNow(): void {
    if (this.#stopped || (this.#retryTimer === null && !this.#signedOut)) return;
    this.#signedOut = false;
    this.#clearRetry();
    this.#attempt = 0;
    this.#connect();
  }

  /** Calls `listener` on every state change; returns the unsubscribe function. */
  onState(listener: (state: SocketState) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Calls `listener` for each event the gateway pushes; returns the unsubscribe function. */
  onEvent(listener: (event: WsEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  /**
   * Calls `listener` with the gateway's reason (the tor-server's line) when it closes the socket
   * because the sign-in was refused; the socket then waits for reconnectNow(). Returns the unsubscribe function.
   */
  onSignedOut(listener: (reason: string) => void): () => void {
    this.#signedOutListeners.add(listener);
    return () => this.#signedOutListeners.delete(listener);
  }

  /** Replaces the socket at once (the keep-alive found it dead): pending requests fail, a new one opens. */
  reconnect(): void {
    if (this.#stopped) return;
    this.#clearRetry();
    this.#dropSocket(CONNECTION_LOST);
    this.#attempt = 0;
    this.#connect();
  }

  /** Every file on the tor-server, with the feed position the listing starts from. */
  async show(): Promise<Listing> {
    const { files, seq } = await this.#request({ command: 'show' });
    return { files, seq };
  }

  /** The files whose names contain `text`, as the tor-server's `search` decides. */
  async search(text: string): Promise<Listing> {
    const { files, seq } = await this.#request({ command: 'search', text });
    return { files, seq };
  }

  /** The changes after feed position `seq`, or `resync` when the gateway cannot replay them all. */
  async since(seq: number): Promise<CatchUp> {
    const reply = await this.#request({ command: 'since', seq });
    return 'resync' in reply ? { resync: true, seq: reply.seq } : { resync: false, changes: reply.changes, seq: reply.seq };
  }

  /** The application-level keep-alive; resolves on the gateway's pong, within `timeoutMs`. */
  async ping(timeoutMs?: number): Promise<void> {
    await this.#request({ command: 'ping' }, timeoutMs);
  }

  /** Sends one request; the reply is matched by id, so its shape is the one `command` gets. */
  #request<C extends WsCommand>(body: RequestBody<C> & { command: C }, timeoutMs = this.#options.requestTimeoutMs): Promise<WsAnswers[C]> {
    const socket = this.#socket;
    if (this.#state !== 'open' || !socket) {
      return Promise.reject(new WebError(WebErrorCode.WS_CLOSED, 'Not connected to the gateway'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new WebError(WebErrorCode.WS_TIMEOUT, 'The gateway did not answer in time'));
      }, timeoutMs);
      this.#pending.set(id, { resolve: resolve as (reply: OkReply) => void, reject, timer });
      socket.send(JSON.stringify({ ...body, id } satisfies WsRequest));
    });
  }

  #connect(): void {
    this.#setState('connecting');
    let socket: WebSocket;
    try {
      socket = new this.#options.WebSocket(this.#options.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      this.#attempt = 0;
      this.#setState('open');
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.#socket === socket && typeof message.data === 'string') this.#receive(message.data);
    };
    // 'error' is always followed by 'close', where the reconnection happens.
    socket.onerror = () => {};
    socket.onclose = (event: CloseEvent) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#failPending(CONNECTION_LOST);
      if (this.#stopped) return;
      this.#setState('closed');
      // Retrying cannot help until the user signs in again.
      if (event.code === WS_CLOSE_SIGNED_OUT) {
        this.#signedOut = true;
        for (const listener of this.#signedOutListeners) listener(event.reason);
        return;
      }
      this.#scheduleRetry();
    };
  }

  #receive(text: string): void {
    let message: WsServerMessage;
    try {
      message = JSON.parse(text) as WsServerMessage;
    } catch {
      return; // Not ours to interpret; the gateway only sends JSON.
    }
    if ('event' in message) {
      for (const listener of this.#eventListeners) listener(message);
      return;
    }
    this.#settle(message);
  }

  #settle(reply: WsReply): void {
    if (reply.id === null) return;
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new WebError(WebErrorCode.WS_REPLY, reply.error));
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt, this.#options.backoff, this.#options.random);
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, delay);
  }

  #clearRetry(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  /** Closes the current socket (its close event is then ignored) and fails what waited on it. */
  #dropSocket(message: string): void {
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
    this.#failPending(message);
  }

  #failPending(message: string): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new WebError(WebErrorCode.WS_CLOSED, message));
      this.#pending.delete(id);
    }
  }

  #setState(state: SocketState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const listener of this.#stateListeners) listener(state);
  }
}

/** Path of the gateway's WebSocket. */
export const SOCKET_PATH = ApiPath.ws;

/** The gateway's WebSocket URL for a page served from `location` (ws: for http:, wss: for https:). */
export function socketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${SOCKET_PATH}`;
}
