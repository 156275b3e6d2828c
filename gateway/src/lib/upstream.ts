import { EventEmitter } from 'node:events';
import { TftcpClient, TftcpConnectionError, type ClientTls } from 'tor-server/client';
import { GatewayError } from '../errors.js';
import { WaitLine, clientGone } from './wait-line.js';

export interface UpstreamOptions {
  /** The one tor-server this gateway talks to; nothing a browser sends can change it. */
  host: string;
  port: number;
  /** Speak TLS to it (`--tor-tls`, `--tor-ca`); undefined: plain TCP. */
  tls?: ClientTls;
  /** Give up opening a connection after this long. */
  connectTimeoutMs?: number;
  /** Cut a connection whose server stays silent this long while an answer is due. */
  replyTimeoutMs?: number;
  /** Most connections open at once (pool, downloads, uploads); the tor-server limits connections per address. */
  maxConnections?: number;
  /**
   * The command pool's size: min(poolSize, POOL_FLOOR) of the slots are kept for it, so
   * transfers can never take every connection its commands need. Default 0 (no pool).
   */
  poolSize?: number;
  /** A request waits this long in line for a connection before it is told the tor-server is busy. */
  queueTimeoutMs?: number;
  /** Most requests waiting in line; more are refused at once. */
  maxQueued?: number;
}

export interface ConnectOptions {
  /** Aborting it takes the request out of the line (the browser went away). */
  signal?: AbortSignal;
  /** The command pool's own connection: it may use the slots kept for the pool, and goes first in line. */
  pooled?: boolean;
  /** The end user's address of the request the connection is opened for, named to the tor-server with `client`. */
  clientAddress?: string;
}

/** Whose slot a connection holds: the command pool's, or a transfer's. */
export type SlotKind = 'pooled' | 'transfer';

/**
 * What the pools and the change feed need of the way to the tor-server: the Upstream itself,
 * or one identity's view of it (lib/identity.ts), whose connections are signed in.
 */
export interface Connector {
  connect(options?: ConnectOptions): Promise<TftcpClient>;
  release(client: TftcpClient): void;
  discard(client: TftcpClient, error?: TftcpConnectionError): void;
  addReclaimer(reclaim: () => boolean, kind: SlotKind): () => void;
  /** Requests waiting for a slot of the Upstream right now. */
  readonly queuedCount: number;
  /** Of those, the command pools' and change feeds' (pooled) ones. */
  readonly pooledQueuedCount: number;
}

interface UpstreamEvents {
  /** A connection closed without the gateway asking, or could not be opened: the tor-server may be gone. */
  lost: [];
}

// A polite `exit` that gets no answer within this long is cut instead.
const EXIT_WAIT_MS = 2000;
const DEFAULT_MAX_CONNECTIONS = 48;
const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_QUEUED = 1000;
/**
 * Slots kept for the command pool (or all of it, when smaller): enough for listings and every
 * WebSocket session to go on while transfers hold all the others.
 */
export const POOL_FLOOR = 4;

/**
 * Opens TFTCP connections to the configured tor-server, at most `maxConnections` at a time,
 * of which transfers (downloads, uploads) may hold `transferSlots`: the rest are kept for the
 * command pool. Beyond that, requests wait in a first-come first-served line for a bounded
 * time (the pool's own line goes first). Keeps track of every connection, so that closing
 * the gateway can cut them and tests can count them.
 */
export class Upstream extends EventEmitter<UpstreamEvents> implements Connector {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  /** Slots transfers may hold; the others are kept for the command pool. */
  readonly transferSlots: number;
  readonly #tls: ClientTls | undefined;
  readonly #connectTimeoutMs: number;
  readonly #replyTimeoutMs: number;
  readonly #open = new Set<TftcpClient>();
  /** Connections the gateway closed itself: their closing says nothing about the tor-server. */
  readonly #expected = new WeakSet<TftcpClient>();
  readonly #transferLine: WaitLine<void>;
  readonly #poolLine: WaitLine<void>;
  readonly #reclaimers = new Map<() => boolean, SlotKind>();
  /** Connections open or being opened, each holding one of the maxConnections slots. */
  #transfers = 0;
  #pooled = 0;
  #probing: Promise<boolean> | undefined;
  #shuttingDown = false;

  constructor(options: UpstreamOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.#tls = options.tls;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
    if (!Number.isSafeInteger(this.maxConnections) || this.maxConnections < 1) throw new Error('Upstream: maxConnections must be at least 1');
    // Transfers keep at least one slot, even when the pool is as large as the cap.
    this.transferSlots = this.maxConnections - Math.min(options.poolSize ?? 0, POOL_FLOOR, this.maxConnections - 1);
    const line = { timeoutMs: options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS, maxLength: options.maxQueued ?? DEFAULT_MAX_QUEUED, noun: 'requests', busy };
    this.#transferLine = new WaitLine(line);
    this.#poolLine = new WaitLine(line);
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
    return this.#transferLine.length + this.#poolLine.length;
  }

  /** Pooled connections (command pools, change feeds) waiting for a slot right now. */
  get pooledQueuedCount(): number {
    return this.#poolLine.length;
  }

  /** True once destroyAll() ran: the gateway is closing. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Registers a way to free a slot of the given kind for a waiting request (a pool closing an
   * idle connection); it returns true when it did. Returns the function that unregisters it.
   */
  addReclaimer(reclaim: () => boolean, kind: SlotKind): () => void {
    this.#reclaimers.set(reclaim, kind);
    return () => this.#reclaimers.delete(reclaim);
  }

  /** Opens a connection, waiting in line while all slots are taken; unreachable is 503, a line too long is 503 busy. */
  async connect(options: ConnectOptions = {}): Promise<TftcpClient> {
    const pooled = options.pooled ?? false;
    await this.#acquireSlot(pooled, options.signal);
    let client: TftcpClient;
    try {
      // Every route checks a file name where its request arrives (lib/names.ts), so the client does not again.
      client = await TftcpClient.connect({ host: this.host, port: this.port, ...(this.#tls && { tls: this.#tls }), connectTimeoutMs: this.#connectTimeoutMs, replyTimeoutMs: this.#replyTimeoutMs, namesChecked: true });
    } catch (error) {
      this.#releaseSlot(pooled);
      this.emit('lost');
      throw new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', `the tor-server is unreachable: ${(error as Error).message}`, { cause: error });
    }
    this.#open.add(client);
    client.once('close', (error) => {
      this.#open.delete(client);
      this.#releaseSlot(pooled);
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
      client = await TftcpClient.connect({ host: this.host, port: this.port, ...(this.#tls && { tls: this.#tls }), connectTimeoutMs: timeoutMs, replyTimeoutMs: timeoutMs });
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
    for (const line of [this.#poolLine, this.#transferLine]) line.rejectAll(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    for (const client of this.#open) this.discard(client, new TftcpConnectionError('the gateway is shutting down'));
  }

  #acquireSlot(pooled: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (this.#shuttingDown) return Promise.reject(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    if (signal?.aborted) return Promise.reject(clientGone());
    const line = pooled ? this.#poolLine : this.#transferLine;
    if (line.length === 0 && this.#hasRoom(pooled)) {
      this.#holdSlot(pooled);
      return Promise.resolve();
    }
    // An idle connection is worth less than a request waiting for its slot: an idle transfer
    // connection's slot serves anyone; an idle pooled one's serves another pooled request (the
    // change feed, when the command pool's idle connections hold every kept slot: the command
    // pool itself asks only when it has none idle), and a transfer only within the transfers'
    // share (closing one beyond it would not help).
    if (!line.full) this.#reclaim(pooled || this.#transfers < this.transferSlots ? ['transfer', 'pooled'] : ['transfer']);
    return line.wait(signal);
  }

  /** Frees one idle slot, trying the kinds in order. */
  #reclaim(kinds: SlotKind[]): void {
    for (const wanted of kinds) for (const [reclaim, kind] of this.#reclaimers) if (kind === wanted && reclaim()) return;
  }

  #hasRoom(pooled: boolean): boolean {
    return this.#transfers + this.#pooled < this.maxConnections && (pooled || this.#transfers < this.transferSlots);
  }

  /** Counts a slot as held, by the pool or by a transfer. */
  #holdSlot(pooled: boolean): void {
    if (pooled) this.#pooled++;
    else this.#transfers++;
  }

  /** A connection closed (or failed to open): free slots go to the first in line, the pool's line first. */
  #releaseSlot(pooled: boolean): void {
    if (pooled) this.#pooled--;
    else this.#transfers--;
    for (;;) {
      if (this.#hasRoom(true) && this.#poolLine.serve()) this.#holdSlot(true);
      else if (this.#hasRoom(false) && this.#transferLine.serve()) this.#holdSlot(false);
      else return;
    }
  }
}

function busy(detail: string): GatewayError {
  return new GatewayError('GW_ERR_UPSTREAM_BUSY', `the tor-server is busy (every gateway connection to it is in use and ${detail}); try again shortly`);
}

