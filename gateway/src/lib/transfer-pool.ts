import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { signsOut } from '../errors.js';
import { diedWhileIdle } from './died-while-idle.js';
import type { Connector } from './upstream.js';

export interface TransferPoolOptions {
  upstream: Connector;
  /** Most connections kept idle between transfers. Default DEFAULT_MAX_IDLE (32). */
  maxIdle?: number;
  /** An idle connection is signed out after this long. Default 30 s. */
  idleMs?: number;
}

/** A connection lent for one transfer, with what the transfer's first command returned. */
export interface TransferLease<T> {
  client: TftcpClient;
  result: T;
}

/**
 * Connections kept idle between transfers, unless told otherwise: two addresses' worth of
 * transfers at once (16 each by default). With fewer, 16 clients fetching small files made
 * one request in twenty open a TFTCP connection and sign another out; idle ones cost nothing
 * while anyone waits, since the Upstream takes their slots back first.
 */
export const DEFAULT_MAX_IDLE = 32;
const DEFAULT_IDLE_MS = 30_000;

/**
 * The connections downloads and uploads run on. A transfer that finished cleanly (every byte
 * read, the server's last line received) gives its connection back, and the next transfer
 * uses it instead of connecting and signing out again; a transfer cut midway leaves unread
 * bytes on its connection, which is then cut, never reused. Idle connections are few
 * (`maxIdle`), signed out after `idleMs`, and given up at once when any request waits for a
 * slot of the Upstream: they never keep the pool or another transfer waiting.
 */
export class TransferPool {
  readonly #upstream: Connector;
  readonly #maxIdle: number;
  readonly #idleMs: number;
  /** Idle connections, most recently used last. */
  readonly #idle: TftcpClient[] = [];
  /** Per idle connection: its idle timer, and what forgets it when it closes meanwhile. */
  readonly #watchers = new Map<TftcpClient, { timer: NodeJS.Timeout; onClose: () => void }>();
  readonly #unregister: () => void;
  #closed = false;

  constructor(options: TransferPoolOptions) {
    this.#upstream = options.upstream;
    this.#maxIdle = options.maxIdle ?? DEFAULT_MAX_IDLE;
    this.#idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.#unregister = this.#upstream.addReclaimer(() => this.#reclaimIdle(), 'transfer');
  }

  /** Connections waiting idle for the next transfer. */
  get idleCount(): number {
    return this.#idle.length;
  }

  /**
   * Lends a connection (an idle one when there is one) and runs the transfer's first command
   * on it. A reused connection the tor-server closed while it was idle is replaced by a fresh
   * one, once, provided `moved()` says the command had not yet taken any bytes from its source.
   * Refusals and failures reach the caller with the connection already given back (a refusal
   * leaves it in step) or cut. A new connection names `clientAddress` (the request's end user).
   */
  async start<T>(begin: (client: TftcpClient) => Promise<T>, signal?: AbortSignal, moved: () => boolean = () => false, clientAddress?: string): Promise<TransferLease<T>> {
    const reused = this.#takeIdle();
    try {
      return await this.#begin(reused ?? (await this.#upstream.connect({ signal, clientAddress })), begin);
    } catch (error) {
      if (!reused || !diedWhileIdle(error) || moved() || signal?.aborted) throw error;
      return await this.#begin(await this.#upstream.connect({ signal, clientAddress }), begin);
    }
  }

  /** A transfer finished cleanly: its connection waits for the next one (or is signed out when a request waits for a slot). */
  finish(client: TftcpClient): void {
    if (client.closed) return;
    if (this.#closed || this.#upstream.queuedCount > 0) return this.#upstream.release(client);
    this.#idle.push(client);
    const timer = setTimeout(() => this.#retire(client), this.#idleMs);
    timer.unref();
    // A connection already cut (its close not yet seen) or closed by the server while idle leaves at once.
    const onClose = () => this.#forget(client);
    client.once('close', onClose);
    this.#watchers.set(client, { timer, onClose });
    if (this.#idle.length > this.#maxIdle) this.#retire(this.#idle[0]!);
  }

  /** A transfer stopped midway: its connection is out of step and is cut. */
  cut(client: TftcpClient): void {
    this.#upstream.discard(client);
  }

  /** Signs every idle connection out and keeps none from now on. */
  close(): void {
    this.#closed = true;
    this.#unregister();
    for (const client of [...this.#idle]) this.#retire(client);
  }

  async #begin<T>(client: TftcpClient, begin: (client: TftcpClient) => Promise<T>): Promise<TransferLease<T>> {
    try {
      return { client, result: await begin(client) };
    } catch (error) {
      // After a plain refusal the connection is still in step; after anything else it may not be,
      // and after a refusal that signed it out it is no longer this user's.
      if (diedWhileIdle(error) || !(error instanceof TftcpReplyError) || signsOut(error)) this.cut(client);
      else this.finish(client);
      throw error;
    }
  }

  #takeIdle(): TftcpClient | undefined {
    for (;;) {
      const client = this.#idle.pop();
      if (!client) return undefined;
      this.#forget(client);
      if (!client.closed) return client;
    }
  }

  /** Gives an idle connection's slot to a request waiting in the Upstream line. */
  #reclaimIdle(): boolean {
    const client = this.#idle[0];
    if (!client) return false;
    this.#retire(client);
    return true;
  }

  #retire(client: TftcpClient): void {
    this.#forget(client);
    this.#upstream.release(client);
  }

  #forget(client: TftcpClient): void {
    const watcher = this.#watchers.get(client);
    if (watcher) {
      clearTimeout(watcher.timer);
      client.off('close', watcher.onClose);
      this.#watchers.delete(client);
    }
    const index = this.#idle.indexOf(client);
    if (index >= 0) this.#idle.splice(index, 1);
  }
}
