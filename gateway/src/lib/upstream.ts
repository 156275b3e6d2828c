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
}

// A polite `exit` that gets no answer within this long is cut instead.
const EXIT_WAIT_MS = 2000;

/**
 * Opens TFTCP connections to the configured tor-server and keeps track of them, so that
 * closing the gateway can cut every one and tests can count them.
 */
export class Upstream {
  readonly host: string;
  readonly port: number;
  readonly #connectTimeoutMs: number;
  readonly #replyTimeoutMs: number;
  readonly #open = new Set<TftcpClient>();

  constructor(options: UpstreamOptions) {
    this.host = options.host;
    this.port = options.port;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 30_000;
  }

  /** `host:port` of the tor-server. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /** Connections open right now. */
  get openCount(): number {
    return this.#open.size;
  }

  /** Opens a connection; an unreachable server is a 503 GatewayError. */
  async connect(connectTimeoutMs = this.#connectTimeoutMs): Promise<TftcpClient> {
    let client: TftcpClient;
    try {
      client = await TftcpClient.connect({ host: this.host, port: this.port, connectTimeoutMs, replyTimeoutMs: this.#replyTimeoutMs });
    } catch (error) {
      throw new GatewayError('GW_ERR_UPSTREAM_UNREACHABLE', `the tor-server is unreachable: ${(error as Error).message}`, { cause: error });
    }
    this.#open.add(client);
    client.once('close', () => this.#open.delete(client));
    return client;
  }

  /** Signs a connection out with `exit`, cutting it if the server does not answer soon. Never throws. */
  release(client: TftcpClient): void {
    if (client.closed) return;
    const timer = setTimeout(() => client.destroy(), EXIT_WAIT_MS);
    timer.unref();
    client
      .exit()
      .catch(() => client.destroy())
      .finally(() => clearTimeout(timer));
  }

  /** Runs `task` on a fresh connection and releases it afterwards, whatever happens. */
  async use<T>(task: (client: TftcpClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      return await task(client);
    } finally {
      this.release(client);
    }
  }

  /**
   * True when the tor-server accepts a connection and answers `exit` within `timeoutMs`.
   * A server that is full or shutting down says so instead of `exit`, which counts as down.
   */
  async probe(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let client: TftcpClient;
    try {
      client = await this.connect(timeoutMs);
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

  /** Cuts every open connection (transfers under way fail; the server keeps nothing partial). */
  destroyAll(): void {
    for (const client of this.#open) client.destroy(new TftcpConnectionError('the gateway is shutting down'));
  }
}
