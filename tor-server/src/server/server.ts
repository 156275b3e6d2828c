import { EventEmitter, once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { listenForMetrics, type MetricsListener } from '../options/metrics.js';
import { ErrorKind, errorReply } from '../protocol/constants.js';
import { ChangeFeed } from './changes/feed.js';
import { DEFAULTS, type ServerConfig } from './config.js';
import { clientAddress } from './client-address.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { HashCache } from './hash/hash-cache.js';
import { silentLogger, type Logger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { FsStore } from './store/fs-store.js';
import { PartialStore } from './partials/partial-store.js';
import type { Store } from './store/store.js';

// A refused client gets this long to read why before its connection is cut.
const REFUSED_LINGER_MS = 2000;
// Refused sockets lingering at once; past this (a connection flood) each is closed at once, unread and unlogged,
// so a flood cannot turn the linger into thousands of held descriptors and log lines.
export const MAX_LINGERING_REFUSALS = 128;

/** Events a TorServer emits. */
export interface TorServerEvents {
  /** The number of connected clients changed. */
  clients: [count: number];
}

/** The authoritative TFTCP server: one folder, many clients, every command checked here. */
export class TorServer extends EventEmitter<TorServerEvents> implements ServerContext {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly hashes = new HashCache();
  readonly metrics: ServerMetrics;
  #metricsListener: MetricsListener | undefined;
  #feed: ChangeFeed | undefined;
  #partials: PartialStore | undefined;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  /** Connections per client address, for the per-address limit. */
  readonly #perAddress = new Map<string, number>();
  /** Each connection's command loop, which may still be cleaning up (a cut upload's temp file) after its socket closed. */
  readonly #runs = new Set<Promise<void>>();
  #lingeringRefusals = 0;
  /** Settles once the folder is ready: connections taken before then wait to run their commands. */
  readonly #ready: Promise<void>;
  #setReady!: (ready: boolean) => void;
  #shuttingDown = false;

  private constructor(config: ServerConfig, store: Store, logger: Logger, registry: Registry) {
    super();
    this.config = config;
    this.store = store;
    this.logger = logger;
    this.metrics = new ServerMetrics(registry, {
      connections: () => this.#connections,
      watchers: () => this.#feed?.listeners ?? 0,
      freeBytes: () => store.freeBytes(),
    });
    this.#ready = new Promise<boolean>((resolve) => (this.#setReady = resolve)).then((ready) => {
      if (!ready) throw new Error('the server did not start');
    });
    this.#ready.catch(() => {});
    this.#server = net.createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /**
   * Locks the folder, starts listening, then empties the folder's temp folder. A folder another
   * server holds, or a port in use, fails the start with nothing in the folder touched.
   * Options not given take the defaults; the metrics go to `registry` (a new one when not given)
   * and, with a `metricsPort`, are served there.
   */
  static async start(options: Partial<ServerConfig> & { logger?: Logger; registry?: Registry } = {}): Promise<TorServer> {
    const { logger = silentLogger, registry = new Registry(), ...rest } = options;
    const config: ServerConfig = { ...DEFAULTS, ...rest };
    const store = await FsStore.open(config.dir, logger);
    const server = new TorServer(config, store, logger, registry);
    try {
      server.#server.listen(config.port, config.host);
      await once(server.#server, 'listening');
      if (config.metricsPort !== undefined) server.#metricsListener = await listenForMetrics(registry, { host: config.metricsHost, port: config.metricsPort });
      await store.clearAbandonedUploads();
      server.#feed = await ChangeFeed.start(store, logger);
      server.#partials = await PartialStore.open(store.root, {
        ttlMs: config.partialTtlMs,
        maxPerOwner: config.maxPartialsPerOwner,
        logger,
        adopt: (name, file) => store.adoptUpload(name, file),
      });
    } catch (error) {
      server.#setReady(false);
      server.#server.close();
      await server.#metricsListener?.close();
      for (const conn of server.#connections) conn.destroy();
      await store.close();
      throw error;
    }
    server.#setReady(true);
    return server;
  }

  /** The address the server listens on. */
  address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** Where the metrics are served, or undefined without a metrics port. */
  metricsAddress(): AddressInfo | undefined {
    return this.#metricsListener?.address();
  }

  /** Resumable uploads in progress. */
  get partials(): PartialStore {
    if (!this.#partials) throw new Error('the server has not started');
    return this.#partials;
  }

  /** The one change feed: every change to the files goes through it. */
  get feed(): ChangeFeed {
    if (!this.#feed) throw new Error('the server has not started');
    return this.#feed;
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
    this.#feed?.close();
    this.#partials?.close();
    await this.#metricsListener?.close();
    await this.store.close();
    this.logger.info('stopped');
  }

  #accept(socket: net.Socket): void {
    const address = clientAddress(socket.remoteAddress);
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#shuttingDown) return this.#refuse(socket, errorReply(ErrorKind.SHUTTING_DOWN, 'try again in a moment'));
    if (fromAddress >= this.config.maxClientsPerAddress) {
      const limit = this.config.maxClientsPerAddress;
      return this.#refuse(socket, errorReply(ErrorKind.TOO_MANY_CLIENTS, `${address} already has ${limit} ${limit === 1 ? 'connection' : 'connections'}, the limit per address`));
    }
    if (this.#connections.size >= this.config.maxClients) {
      return this.#refuse(socket, errorReply(ErrorKind.TOO_MANY_CLIENTS, `the server allows ${this.config.maxClients}, try again later`));
    }
    const conn = new Connection(socket, this);
    this.#connections.add(conn);
    this.metrics.connectionAccepted();
    this.#perAddress.set(address, fromAddress + 1);
    this.logger.info('connect', { client: conn.label, clients: this.#connections.size });
    this.emit('clients', this.#connections.size);
    socket.once('close', () => {
      this.#connections.delete(conn);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
      this.logger.info('disconnect', { client: conn.label, clients: this.#connections.size });
      this.emit('clients', this.#connections.size);
    });
    const run = this.#ready.then(() => conn.run(), () => conn.destroy()).finally(() => this.#runs.delete(run));
    this.#runs.add(run);
  }

  /** Tells a client why it is not served, then closes it; what it sends meanwhile is dropped. */
  #refuse(socket: net.Socket, reason: string): void {
    socket.on('error', () => {});
    if (this.#lingeringRefusals >= MAX_LINGERING_REFUSALS) {
      this.logger.debug('refused', { client: `${clientAddress(socket.remoteAddress)}:${socket.remotePort}`, reason });
      socket.destroy();
      return;
    }
    this.logger.warn('refused', { client: `${clientAddress(socket.remoteAddress)}:${socket.remotePort}`, reason });
    this.#lingeringRefusals++;
    socket.once('close', () => this.#lingeringRefusals--);
    socket.end(`${reason}\n`);
    socket.resume();
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  }
}
