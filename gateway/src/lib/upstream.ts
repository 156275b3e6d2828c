import { EventEmitter } from 'node:events';
import { TftcpClient, TftcpConnectionError } from 'tor-server/client';
import { GatewayError } from '../errors.js';

export interface UpstreamOptions {
  /** The one tor-server this gateway talks to; nothing a browser sends can change it. */
  host: string;
  port: number;
  /** Give up opening a connection after this long. */
  connectTimeoutMs?: number;
  /** Cut a connection whose server stays silent this long while an answer is due. */
  replyTimeoutMs?: number;
  /** Most connections open at once (pool, downloads, uploads); the tor-server limits connections per address. */
  maxConnections?: number;
  /** A request waits this long in line for a connection before it is told the tor-server is busy. */
  queueTimeoutMs?: number;
  /** Most requests waiting in line; more are refused at once. */
  maxQueued?: number;
}

export interface ConnectOptions {
  /** Aborting it takes the request out of the line (the browser went away). */
  signal?: AbortSignal;
}

interface UpstreamEvents {
  /** A connection closed without the gateway asking, or could not be opened: the tor-server may be gone. */
  lost: [];
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

// A polite `exit` that gets no answer within this long is cut instead.
const EXIT_WAIT_MS = 2000;
const DEFAULT_MAX_CONNECTIONS = 48;
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_QUEUED = 1000;

/**
 * Opens TFTCP connections to the configured tor-server, at most `maxConnections` at a time:
 * beyond that, requests wait in a first-come first-served line for a bounded time. Keeps
 * track of every connection, so that closing the gateway can cut them and tests can count them.
 */
export class Upstream extends EventEmitter<UpstreamEvents> {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly #connectTimeoutMs: number;
  readonly #replyTimeoutMs: number;
  readonly #queueTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #open = new Set<TftcpClient>();
  /** Connections the gateway closed itself: their closing says nothing about the tor-server. */
  readonly #expected = new WeakSet<TftcpClient>();
  readonly #waiting: Waiter[] = [];
  readonly #reclaimers = new Set<() => boolean>();
  /** Connections open or being opened, each holding one of the maxConnections slots. */
  #slotsInUse = 0;
  #probing: Promise<boolean> | undefined;
  #shuttingDown = false;

  constructor(options: UpstreamOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
    this.#queueTimeoutMs = options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isSafeInteger(this.maxConnections) || this.maxConnections < 1) throw new Error('Upstream: maxConnections must be at least 1');
  }

  /** `host:port` of the tor-server. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Connections open right now (probes excluded). */
  get openCount(): number {
    return this.#open.size;
  }

  /** Requests waiting for a connection right now. */
  get queuedCount(): number {
    return this.#waiting.length;
  }

  /** True once destroyAll() ran: the gateway is closing. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Registers a way to free a slot for a waiting request (the pool closing an idle connection);
   * it returns true when it did. Returns the function that unregisters it.
   */
  addReclaimer(reclaim: () => boolean): () => void {
    this.#reclaimers.add(reclaim);
    return () => this.#reclaimers.delete(reclaim);
  }

  /** Opens a connection, waiting in line while all slots are taken; unreachable is 503, a line too long is 503 busy. */
  async connect(options: ConnectOptions = {}): Promise<TftcpClient> {
    await this.#acquireSlot(options.signal);
    let client: TftcpClient;
    try {
      client = await TftcpClient.connect({ host: this.host, port: this.port, connectTimeoutMs: this.#connectTimeoutMs, replyTimeoutMs: this.#replyTimeoutMs });
    } catch (error) {
      this.#releaseSlot();
      this.emit('lost');
      throw new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', `the tor-server is unreachable: ${(error as Error).message}`, { cause: error });
    }
    this.#open.add(client);
    client.once('close', (error) => {
      this.#open.delete(client);
      this.#releaseSlot();
      if (error && !this.#expected.has(client) && !this.#shuttingDown) this.emit('lost');
    });
    if (this.#shuttingDown) this.discard(client);
    return client;
  }

  /** Signs a connection out with `exit`, cutting it if the server does not answer soon. Never throws. */
  release(client: TftcpClient): void {
    if (client.closed) return;
    this.#expected.add(client);
    const timer = setTimeout(() => client.destroy(), EXIT_WAIT_MS);
    timer.unref();
    client
      .exit()
      .catch(() => client.destroy())
      .finally(() => clearTimeout(timer));
  }

  /** Cuts a connection the gateway no longer wants (one left mid-transfer, or out of step). */
  discard(client: TftcpClient, error?: TftcpConnectionError): void {
    this.#expected.add(client);
    client.destroy(error);
  }

  /** Runs `task` on a fresh connection and releases it afterwards, whatever happens. */
  async use<T>(task: (client: TftcpClient) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
    const client = await this.connect(options);
    try {
      return await task(client);
    } finally {
      this.release(client);
    }
  }

  /**
   * True when the tor-server accepts a connection and answers `exit` within `timeoutMs`.
   * A server that is full or shutting down says so instead of `exit`, which counts as down.
   * At most one probe runs at a time (callers share it), outside the slots, so a gateway
   * busy with transfers can still tell whether its tor-server is up.
   */
  probe(timeoutMs: number): Promise<boolean> {
    this.#probing ??= this.#probeOnce(timeoutMs).finally(() => (this.#probing = undefined));
    return this.#probing;
  }

  async #probeOnce(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let client: TftcpClient;
    try {
      client = await TftcpClient.connect({ host: this.host, port: this.port, connectTimeoutMs: timeoutMs, replyTimeoutMs: timeoutMs });
    } catch {
      return false;
    }
    const timer = setTimeout(() => client.destroy(), Math.max(1, deadline - Date.now()));
    try {
      await client.exit();
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
      client.destroy();
    }
  }

  /** Cuts every open connection (transfers under way fail; the server keeps nothing partial) and empties the line. */
  destroyAll(): void {
    this.#shuttingDown = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    for (const client of this.#open) this.discard(client, new TftcpConnectionError('the gateway is shutting down'));
  }

  #acquireSlot(signal: AbortSignal | undefined): Promise<void> {
    if (this.#shuttingDown) return Promise.reject(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    if (signal?.aborted) return Promise.reject(clientGone());
    if (this.#slotsInUse < this.maxConnections && this.#waiting.length === 0) {
      this.#slotsInUse++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#maxQueued) return Promise.reject(busy(`${this.#maxQueued} requests are already waiting`));
    // An idle pooled connection is worth less than a request waiting for its slot.
    for (const reclaim of this.#reclaimers) if (reclaim()) break;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#dequeue(waiter);
        waiter.reject(busy(`none became free within ${this.#queueTimeoutMs / 1000} s`));
      }, this.#queueTimeoutMs);
      const onAbort = () => {
        this.#dequeue(waiter);
        waiter.reject(clientGone());
      };
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #dequeue(waiter: Waiter): void {
    const index = this.#waiting.indexOf(waiter);
    if (index >= 0) this.#waiting.splice(index, 1);
  }

  /** A connection closed (or failed to open): its slot goes to the first in line, if any. */
  #releaseSlot(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve();
    else this.#slotsInUse--;
  }
}

function busy(detail: string): GatewayError {
  return new GatewayError('GW_ERR_UPSTREAM_BUSY', `the tor-server is busy (every gateway connection to it is in use and ${detail}); try again shortly`);
}

function clientGone(): GatewayError {
  return new GatewayError('GW_ERR_CLIENT_GONE', 'the client went away while waiting for a tor-server connection');
}
