import { EventEmitter, once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type tls from 'node:tls';
import { Registry } from 'prom-client';
import { listenForMetrics, type MetricsListener } from '../options/metrics.js';
import { readTlsIdentity, replaceIdentity, type TlsIdentity } from '../options/tls.js';
import { ErrorKind, errorReply } from '../protocol/constants.js';
import { TOKEN_REVOKED } from '../protocol/auth.js';
import { Authority } from './auth/authority.js';
import { checkStateDir, openModeWarning } from './auth/state-dir.js';
import { ChangeFeed } from './changes/feed.js';
import { DEFAULTS, type ServerConfig } from './config.js';
import { TrustedProxies, clientAddress } from './client-address.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { HashCache } from './hash/hash-cache.js';
import { silentLogger, type Logger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { openStore, partialBytesOf, storeState, type ServedStore } from './store/open-store.js';
import type { StoreState } from './store/s3/s3-store.js';
import { PartialStore } from './partials/partial-store.js';
import type { Store } from './store/store.js';
import { createTlsListener } from './tls-listener.js';

// A refused client gets this long to read why before its connection is cut.
const REFUSED_LINGER_MS = 2000;
// Refused sockets lingering at once; past this (a connection flood) each is closed at once, unread and unlogged,
// so a flood cannot turn the linger into thousands of held descriptors and log lines.
export const MAX_LINGERING_REFUSALS = 128;

/** Where a started server listens. */
export interface ListenInfo {
  host: string;
  port: number;
  /** Whether `port` speaks TLS. */
  tls: boolean;
  /** The TLS listener beside a plain `port`, if any. */
  tlsPort?: number;
}

/** Events a TorServer emits. */
export interface TorServerEvents {
  /** The number of connected clients changed. */
  clients: [count: number];
}

/** How often the host names of --trusted-proxies are looked up again. */
const TRUSTED_PROXY_REFRESH_MS = 10_000;

/** The authoritative TFTCP server: one folder, many clients, every command checked here. */
export class TorServer extends EventEmitter<TorServerEvents> implements ServerContext {
  readonly config: ServerConfig;
  readonly store: Store;
  readonly logger: Logger;
  readonly hashes = new HashCache();
  readonly metrics: ServerMetrics;
  readonly auth: Authority;
  /** The gateways that may name their users' addresses (--trusted-proxies), host names resolved. */
  readonly trustedProxies: TrustedProxies;
  #proxyRefresh: NodeJS.Timeout | undefined;
  #proxyProblems = '';
  #metricsListener: MetricsListener | undefined;
  #feed: ChangeFeed | undefined;
  #partials: PartialStore | undefined;
  readonly #storeState: () => StoreState;
  /** The listener on `port`: plain, or TLS when there is a certificate and no `tlsPort`. */
  readonly #server: net.Server;
  /** The TLS listener on `tlsPort`, beside the plain one. */
  readonly #tlsServer: tls.Server | undefined;
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

  private constructor(config: ServerConfig, store: ServedStore, logger: Logger, registry: Registry, auth: Authority, identity: TlsIdentity | undefined) {
    super();
    this.config = config;
    this.auth = auth;
    this.trustedProxies = new TrustedProxies(config.trustedProxies);
    auth.on('revoked', (ids) => this.#signOutIdle(ids));
    this.store = store;
    this.#storeState = () => storeState(store);
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
    const accept = (socket: net.Socket) => this.#accept(socket);
    const limits = { total: config.maxClients, perAddress: (address: string) => this.#limitFor(address) };
    const tlsListener = (id: TlsIdentity) => createTlsListener(id, { handshakeTimeoutMs: config.firstCommandTimeoutMs, limits, logger }, accept);
    this.#server = identity && config.tlsPort === undefined ? tlsListener(identity) : net.createServer({ allowHalfOpen: true }, accept);
    this.#tlsServer = identity && config.tlsPort !== undefined ? tlsListener(identity) : undefined;
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
    // Read before the folder is locked: a wrong file fails the start with nothing touched.
    const identity = config.tlsCert !== undefined && config.tlsKey !== undefined ? readTlsIdentity(config.tlsCert, config.tlsKey) : undefined;
    checkStateDir(config.stateDir, config.dir);
    const auth = await Authority.start(config.stateDir, config.auth, logger);
    let store: ServedStore;
    try {
      store = await openStore(config, logger);
    } catch (error) {
      auth.close();
      throw error;
    }
    const server = new TorServer(config, store, logger, registry, auth, identity);
    try {
      // Not waited for: a name that does not resolve yet (a service starting after this one) must not hold up the start.
      void server.resolveTrustedProxies();
      server.#server.listen(config.port, config.host);
      await once(server.#server, 'listening');
      if (server.#tlsServer) {
        server.#tlsServer.listen(config.tlsPort, config.host);
        await once(server.#tlsServer, 'listening');
      }
      if (config.metricsPort !== undefined) server.#metricsListener = await listenForMetrics(registry, { host: config.metricsHost, port: config.metricsPort });
      await store.clearAbandonedUploads();
      server.#feed = await ChangeFeed.start(store, logger);
      server.#partials = await PartialStore.open(store.root, {
        ttlMs: config.partialTtlMs,
        maxPerOwner: config.maxPartialsPerOwner,
        logger,
        bytes: (dir) => partialBytesOf(store, dir, logger),
      });
    } catch (error) {
      server.#setReady(false);
      server.#server.close();
      server.#tlsServer?.close();
      await server.#metricsListener?.close();
      for (const conn of server.#connections) conn.destroy();
      await store.close();
      auth.close();
      throw error;
    }
    const warning = openModeWarning(config.host, config.openAccess, auth.required);
    if (warning) logger.warn('open-access', { host: config.host, access: config.openAccess, note: warning });
    server.#setReady(true);
    return server;
  }

  /** The address the server listens on. */
  address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** Where the server listens, and which of its ports speak TLS. */
  listening(): ListenInfo {
    const { address, port } = this.address();
    const tlsPort = (this.#tlsServer?.address() as AddressInfo | null)?.port;
    return { host: address, port, tls: this.config.tlsCert !== undefined && this.config.tlsPort === undefined, ...(tlsPort !== undefined && { tlsPort }) };
  }

  /**
   * Reads the certificate and key files again and serves them from the next handshake on
   * (a renewed certificate without a restart). Throws TlsSetupError and keeps the old ones
   * when the new files are not a usable pair.
   */
  reloadCertificate(): void {
    const { tlsCert, tlsKey } = this.config;
    if (tlsCert === undefined || tlsKey === undefined) return;
    const identity = readTlsIdentity(tlsCert, tlsKey);
    for (const listener of [this.#server, this.#tlsServer]) if (listener && 'setSecureContext' in listener) replaceIdentity(listener as tls.Server, identity);
    this.logger.info('tls-reloaded', { cert: tlsCert });
  }

  /**
   * Looks up the host names of --trusted-proxies again: at start, every TRUSTED_PROXY_REFRESH_MS
   * (a compose service starts after this server, and may come back with a new address) and on
   * SIGHUP. A name that does not resolve is logged once per new problem.
   */
  async resolveTrustedProxies(): Promise<void> {
    if (!this.trustedProxies.hasHostNames) return;
    const problems = (await this.trustedProxies.resolve()).join('; ');
    if (problems !== this.#proxyProblems && problems !== '') this.logger.warn('trusted-proxy-unresolved', { problem: problems });
    this.#proxyProblems = problems;
    if (this.#proxyRefresh === undefined && !this.#shuttingDown) {
      this.#proxyRefresh = setInterval(() => void this.resolveTrustedProxies(), TRUSTED_PROXY_REFRESH_MS);
      this.#proxyRefresh.unref();
    }
  }

  /** Where the metrics are served, or undefined without a metrics port. */
  metricsAddress(): AddressInfo | undefined {
    return this.#metricsListener?.address();
  }

  /** Where the files live and whether the store answers, for the operator console. */
  storeState(): StoreState {
    return this.#storeState();
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
      this.#tlsServer?.close();
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
    this.auth.close();
    clearInterval(this.#proxyRefresh);
    this.logger.info('stopped');
  }

  /** Connections one address may hold: a gateway carries many users' connections and has a limit of its own. */
  #limitFor(address: string): number {
    return this.trustedProxies.has(address) ? this.config.maxClientsPerProxy : this.config.maxClientsPerAddress;
  }

  #accept(socket: net.Socket): void {
    const address = clientAddress(socket.remoteAddress);
    const fromAddress = this.#perAddress.get(address) ?? 0;
    if (this.#shuttingDown) return this.#refuse(socket, errorReply(ErrorKind.SHUTTING_DOWN, 'try again in a moment'));
    const proxy = this.trustedProxies.has(address);
    const limit = this.#limitFor(address);
    if (fromAddress >= limit) {
      return this.#refuse(socket, errorReply(ErrorKind.TOO_MANY_CLIENTS, `${address} already has ${limit} ${limit === 1 ? 'connection' : 'connections'}, the limit per ${proxy ? 'trusted proxy' : 'address'}`));
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

  /** Closes the connections that sit signed in, between commands, with a token just revoked; commands under way finish. */
  #signOutIdle(ids: ReadonlySet<string>): void {
    for (const conn of this.#connections) {
      if (!conn.idleWithToken(ids)) continue;
      this.logger.info('revoked-disconnect', { client: conn.label, token: conn.session?.label });
      conn.send(TOKEN_REVOKED).catch(() => {});
      conn.close();
    }
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
