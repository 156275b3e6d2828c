import { EventEmitter, once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { ErrorKind, errorReply } from '../protocol/constants.js';
import { DEFAULTS, type ServerConfig } from './config.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { silentLogger, type Logger } from './logger.js';
import { Storage } from './storage.js';

/** Events a TorServer emits. */
export interface TorServerEvents {
  /** The number of connected clients changed. */
  clients: [count: number];
}

/** The authoritative TFTCP server: one folder, many clients, every command checked here. */
export class TorServer extends EventEmitter<TorServerEvents> implements ServerContext {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly logger: Logger;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  /** Each connection's command loop, which may still be cleaning up (a cut upload's temp file) after its socket closed. */
  readonly #runs = new Set<Promise<void>>();
  #shuttingDown = false;

  private constructor(config: ServerConfig, storage: Storage, logger: Logger) {
    super();
    this.config = config;
    this.storage = storage;
    this.logger = logger;
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /** Opens the folder and starts listening. Options not given take the defaults. */
  static async start(options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<TorServer> {
    const { logger = silentLogger, ...rest } = options;
    const config: ServerConfig = { ...DEFAULTS, ...rest };
    const storage = await Storage.open(config.dir);
    const server = new TorServer(config, storage, logger);
    server.#server.listen(config.port, config.host);
    await once(server.#server, 'listening');
    return server;
  }

  /** The address the server listens on. */
  address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** The clients online now. */
  get connections(): ReadonlySet<Connection> {
    return this.#connections;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops accepting, closes idle clients, lets transfers in flight finish for `graceMs`,
   * then cuts whatever is left. Cut uploads leave nothing behind.
   */
  async close(graceMs = this.config.shutdownGraceMs): Promise<void> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#server.close();
      this.logger.info('shutdown', { clients: this.#connections.size, grace_ms: graceMs });
    }
    for (const conn of this.#connections) if (!conn.busy) conn.destroy();
    if (this.#connections.size > 0) {
      const timer = setTimeout(() => {
        for (const conn of this.#connections) {
          this.logger.warn('shutdown-cut', { client: conn.label });
          conn.destroy();
        }
      }, graceMs);
      while (this.#connections.size > 0) await once(this, 'clients');
      clearTimeout(timer);
    }
    await Promise.allSettled(this.#runs);
    this.logger.info('stopped');
  }

  #accept(socket: net.Socket): void {
    if (this.#shuttingDown || this.#connections.size >= this.config.maxClients) {
      const reason = this.#shuttingDown
        ? errorReply(ErrorKind.SHUTTING_DOWN, 'try again in a moment')
        : errorReply(ErrorKind.TOO_MANY_CLIENTS, `the server allows ${this.config.maxClients}, try again later`);
      this.logger.warn('refused', { client: `${socket.remoteAddress}:${socket.remotePort}`, reason });
      socket.on('error', () => {});
      socket.end(`${reason}\n`);
      socket.resume();
      setTimeout(() => socket.destroy(), 2000).unref();
      return;
    }
    const conn = new Connection(socket, this);
    this.#connections.add(conn);
    this.logger.info('connect', { client: conn.label, clients: this.#connections.size });
    this.emit('clients', this.#connections.size);
    socket.once('close', () => {
      this.#connections.delete(conn);
      this.logger.info('disconnect', { client: conn.label, clients: this.#connections.size });
      this.emit('clients', this.#connections.size);
    });
    const run = conn.run().finally(() => this.#runs.delete(run));
    this.#runs.add(run);
  }
}
