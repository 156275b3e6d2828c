import type { FastifyBaseLogger } from 'fastify';
import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { WebSocket, type RawData } from 'ws';
import type { FileEvents } from '../lib/file-events.js';
import type { Upstream } from '../lib/upstream.js';
import type { WsReply, WsRequest, WsServerMessage } from './messages.js';
import { parseWsRequest } from './parse-request.js';

export interface SessionOptions {
  upstream: Upstream;
  events: FileEvents;
  log: FastifyBaseLogger;
  /** First reconnect delay; it doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A dropped upstream connection older than this is reconnected before the browser is told. */
  quietReconnectAfterMs?: number;
}

// Requests queued beyond this are refused at once, so one socket cannot pile up unbounded work.
const MAX_QUEUED_REQUESTS = 100;

/**
 * One browser WebSocket and its own TFTCP connection, so the server's console lists every
 * browser as a client. Requests run one after another over that connection; when it drops,
 * the browser is told (`upstream` event) and the session reconnects with backoff.
 */
export class WsSession {
  readonly #socket: WebSocket;
  readonly #options: SessionOptions;
  #client: TftcpClient | undefined;
  #connecting: Promise<TftcpClient | undefined> | undefined;
  #announced: boolean | undefined;
  #backoffMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #closed = false;
  readonly #onFilesChanged = () => this.#send({ event: 'files-changed' });

  constructor(socket: WebSocket, options: SessionOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#backoffMs = options.minBackoffMs ?? 250;
  }

  /** Starts listening to the browser and connects upstream. */
  start(): void {
    this.#socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#socket.once('close', () => this.close());
    this.#socket.on('error', (error) => this.#options.log.debug({ err: error }, 'websocket error'));
    this.#options.events.on('files-changed', this.#onFilesChanged);
    void this.#connect();
  }

  /** Ends the session: signs the TFTCP connection out and stops reconnecting. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#options.events.off('files-changed', this.#onFilesChanged);
    if (this.#client) this.#options.upstream.release(this.#client);
    this.#client = undefined;
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    const parsed = parseWsRequest(toBuffer(data), isBinary);
    if (this.#queued >= MAX_QUEUED_REQUESTS) {
      this.#send({ id: parsed.ok ? parsed.request.id : parsed.id, ok: false, error: `more than ${MAX_QUEUED_REQUESTS} requests are waiting; wait for the answers` });
      return;
    }
    this.#queued++;
    // Every reply, refusals included, goes through the queue so replies keep request order.
    this.#queue = this.#queue.then(async () => {
      try {
        this.#send(parsed.ok ? await this.#run(parsed.request) : { id: parsed.id, ok: false, error: parsed.error });
      } finally {
        this.#queued--;
      }
    });
  }

  async #run(request: WsRequest): Promise<WsReply> {
    const client = this.#client ?? (await this.#connect());
    if (!client) return { id: request.id, ok: false, error: `the tor-server at ${this.#options.upstream.address} is unreachable; retrying` };
    try {
      const files = request.command === 'show' || request.text === '' ? await client.show() : await client.search(request.text);
      return { id: request.id, ok: true, files };
    } catch (error) {
      // A refusal is the server's reply line verbatim; anything else is the connection failing.
      return { id: request.id, ok: false, error: error instanceof TftcpReplyError ? error.reply : (error as Error).message };
    }
  }

  /** Connects now unless a connection is already being made; resolves with the client or undefined. */
  #connect(): Promise<TftcpClient | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    if (this.#client) return Promise.resolve(this.#client);
    clearTimeout(this.#retryTimer);
    this.#connecting ??= this.#options.upstream.connect().then(
      (client) => {
        this.#connecting = undefined;
        if (this.#closed) {
          this.#options.upstream.release(client);
          return undefined;
        }
        this.#client = client;
        this.#backoffMs = this.#options.minBackoffMs ?? 250;
        const connectedAt = Date.now();
        client.once('close', () => this.#onUpstreamClosed(client, connectedAt));
        this.#announce(true);
        return client;
      },
      (error: Error) => {
        this.#connecting = undefined;
        this.#options.log.debug({ err: error }, 'tor-server connect failed');
        this.#announce(false);
        this.#retryLater();
        return undefined;
      },
    );
    return this.#connecting;
  }

  #onUpstreamClosed(client: TftcpClient, connectedAt: number): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#closed) return;
    // A connection that lived a while was most likely closed for being idle: reconnect at once
    // and tell the browser only if that fails, so an open tab does not flash "unreachable".
    // One that died young goes through the backoff, so a server that keeps closing is not hammered.
    if (Date.now() - connectedAt >= (this.#options.quietReconnectAfterMs ?? 5000)) {
      void this.#connect();
      return;
    }
    this.#announce(false);
    this.#retryLater();
  }

  #retryLater(): void {
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    // Jitter, so a tor-server coming back is not hit by every browser in the same millisecond.
    const delay = this.#backoffMs * (0.75 + Math.random() / 2);
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.maxBackoffMs ?? 5000);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }

  /** Tells the browser the link state, once per change. */
  #announce(connected: boolean): void {
    if (this.#announced === connected) return;
    this.#announced = connected;
    this.#send({ event: 'upstream', connected });
  }

  #send(message: WsServerMessage): void {
    if (this.#socket.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
