import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { GatewayError, signsOut } from '../errors.js';
import { diedWhileIdle } from './died-while-idle.js';
import type { ConnectOptions, Connector } from './upstream.js';
import { WaitLine } from './wait-line.js';

export interface CommandPoolOptions {
  upstream: Connector;
  /** Most connections the pool holds (busy or idle). */
  size: number;
  /** A command waits this long for a pooled connection before it is told the tor-server is busy. */
  queueTimeoutMs?: number;
  /** Most commands waiting; more are refused at once. */
  maxQueued?: number;
  /** An idle connection is signed out after this long (the last one stays while keepOne() says so). */
  idleMs?: number;
  /** True while someone (a WebSocket session) wants the pool to keep a connection open to notice an outage. */
  keepOne?: () => boolean;
}

interface Lease {
  client: TftcpClient;
  /** It had served a command before: it may have died while idle. */
  reused: boolean;
}

const DEFAULT_QUEUE_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_QUEUED = 20_000;
const DEFAULT_IDLE_MS = 60_000;

/**
 * A bounded pool of TFTCP connections for short commands (show, search) from every WebSocket
 * session and listing request, so the number of browsers costs gateway memory only. Commands
 * run one per connection at a time (TFTCP is sequential); beyond `size` they wait in a
 * first-come first-served line. Connections are opened lazily (the tor-server closes one that
 * sends no command soon after connecting), dropped when the server closes them, and a command
 * that meets a connection that died while idle is retried once on a fresh one.
 */
export class CommandPool {
  readonly size: number;
  readonly #upstream: Connector;
  readonly #idleMs: number;
  readonly #keepOne: () => boolean;
  /** Idle connections, most recently used last. */
  readonly #idle: TftcpClient[] = [];
  readonly #idleTimers = new Map<TftcpClient, NodeJS.Timeout>();
  readonly #waiting: WaitLine<Lease>;
  readonly #unregister: () => void;
  /** Connections open or being opened by the pool. */
  #count = 0;
  #closed = false;

  constructor(options: CommandPoolOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new Error('CommandPool: size must be at least 1');
    this.size = options.size;
    this.#upstream = options.upstream;
    this.#waiting = new WaitLine({ timeoutMs: options.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS, maxLength: options.maxQueued ?? DEFAULT_MAX_QUEUED, noun: 'commands', busy });
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#keepOne = options.keepOne ?? (() => false);
    this.#unregister = this.#upstream.addReclaimer(() => this.#reclaimIdle(), 'pooled');
  }

  /** Connections the pool holds now (open or opening). */
  get openCount(): number {
    return this.#count;
  }

  /** True while at least one pooled connection is open: its closing would tell of an outage. */
  get hasLiveConnection(): boolean {
    return this.#idle.some((client) => !client.closed) || this.#count > this.#idle.length;
  }

  /** Runs one command on a pooled connection; TFTCP refusals and connection errors reach the caller. */
  async run<T>(task: (client: TftcpClient) => Promise<T>, options: ConnectOptions = {}): Promise<T> {
    const lease = await this.#lease(options, false);
    try {
      return await this.#runOn(lease.client, task);
    } catch (error) {
      // Only a connection that sat idle can have died unnoticed; a fresh one failing is news.
      if (!lease.reused || !diedWhileIdle(error)) throw error;
      const fresh = await this.#lease(options, true);
      return await this.#runOn(fresh.client, task);
    }
  }

  /** Signs every connection out and refuses new commands; waiting ones get `reason` (default: the gateway is shutting down). */
  close(reason: GatewayError = new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down')): void {
    this.#closed = true;
    this.#unregister();
    this.#waiting.rejectAll(reason);
    for (const client of this.#idle.splice(0)) this.#signOut(client);
  }

  async #runOn<T>(client: TftcpClient, task: (client: TftcpClient) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await task(client);
    } catch (error) {
      // After a plain refusal the connection is still in step; after anything else it may not be,
      // and after a refusal that signed it out it is no longer this user's.
      if (error instanceof TftcpReplyError && !diedWhileIdle(error) && !signsOut(error)) this.#giveBack(client);
      else this.#upstream.discard(client);
      throw error;
    }
    this.#giveBack(client);
    return result;
  }

  #lease({ signal, clientAddress }: ConnectOptions, fresh: boolean): Promise<Lease> {
    if (this.#closed) return Promise.reject(new GatewayError('GW_ERR_SHUTTING_DOWN', 'the gateway is shutting down'));
    if (!fresh) {
      const idle = this.#takeIdle();
      if (idle) return Promise.resolve({ client: idle, reused: true });
    }
    if (this.#count < this.size && this.#waiting.length === 0) return this.#open(signal, clientAddress);
    return this.#waiting.wait(signal, clientAddress);
  }

  /** Opens a connection named for `clientAddress` (the request it is opened for). */
  async #open(signal: AbortSignal | undefined, clientAddress: string | undefined): Promise<Lease> {
    this.#count++;
    let client: TftcpClient;
    try {
      client = await this.#upstream.connect({ signal, pooled: true, clientAddress });
    } catch (error) {
      this.#count--;
      this.#serveWaiter();
      throw error;
    }
    client.once('close', () => {
      this.#count--;
      this.#forgetIdle(client);
      this.#serveWaiter();
    });
    return { client, reused: false };
  }

  /**
   * A connection is free again: the first waiting command gets it; else, while another pool
   * (another user's, or a change feed) waits for a slot, it is signed out to make room; else
   * it waits idle.
   */
  #giveBack(client: TftcpClient): void {
    if (client.closed) return;
    if (this.#closed) return this.#signOut(client);
    if (this.#waiting.serve({ client, reused: true })) return;
    if (this.#upstream.pooledQueuedCount > 0) return this.#signOut(client);
    this.#idle.push(client);
    this.#armIdleTimer(client);
  }

  /** Room for one more connection: open it for the first waiting command. */
  #serveWaiter(): void {
    if (this.#closed || this.#count >= this.size || this.#waiting.length === 0) return;
    this.#waiting.serve(this.#open(undefined, this.#waiting.firstNote));
  }

  #takeIdle(): TftcpClient | undefined {
    for (;;) {
      const client = this.#idle.pop();
      if (!client) return undefined;
      this.#clearIdleTimer(client);
      if (!client.closed) return client;
    }
  }

  #onIdleTimeout(client: TftcpClient): void {
    this.#idleTimers.delete(client);
    // The last idle connection stays while sessions are open: its closing is how an outage shows.
    if (this.#keepOne() && this.#idle.length === 1) return this.#armIdleTimer(client);
    this.#forgetIdle(client);
    this.#signOut(client);
  }

  #armIdleTimer(client: TftcpClient): void {
    const timer = setTimeout(() => this.#onIdleTimeout(client), this.#idleMs);
    timer.unref();
    this.#idleTimers.set(client, timer);
  }

  /** Gives an idle connection's slot to a request waiting in the Upstream line. */
  #reclaimIdle(): boolean {
    const client = this.#idle.shift();
    if (!client) return false;
    this.#clearIdleTimer(client);
    this.#signOut(client);
    return true;
  }

  #signOut(client: TftcpClient): void {
    this.#upstream.release(client);
  }

  #forgetIdle(client: TftcpClient): void {
    this.#clearIdleTimer(client);
    const index = this.#idle.indexOf(client);
    if (index >= 0) this.#idle.splice(index, 1);
  }

  #clearIdleTimer(client: TftcpClient): void {
    clearTimeout(this.#idleTimers.get(client));
    this.#idleTimers.delete(client);
  }
}

function busy(detail: string): GatewayError {
  return new GatewayError('GW_ERR_UPSTREAM_BUSY', `the tor-server is busy (every pooled connection to it is in use and ${detail}); try again shortly`);
}
