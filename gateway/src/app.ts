import type { Socket } from 'node:net';
import cookie from '@fastify/cookie';
import { Registry } from 'prom-client';
import type { ClientTls } from 'tor-server/client';
import { MIN_TLS_VERSION, type TlsIdentity } from 'tor-server/options';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GatewayError, asGatewayError } from './errors.js';
import { isClientGone } from './lib/client-gone.js';
import type { ChangeFeed } from './lib/change-feed.js';
import type { CommandPool } from './lib/command-pool.js';
import { HostPolicy, defaultAllowedHosts } from './lib/hosts.js';
import { closeAfterResponse } from './lib/linger.js';
import { KnownDigests } from './lib/known-digests.js';
import { GatewayMetrics } from './lib/metrics.js';
import { DEFAULT_SECURITY_HEADERS, HSTS_HEADER, sendsHsts } from './lib/security-headers.js';
import type { TransferPool } from './lib/transfer-pool.js';
import { Identities } from './lib/identities.js';
import { DEFAULT_MAX_TRANSFERS_PER_ADDRESS, TransferLimit } from './lib/transfer-limit.js';
import { redactTokens } from './lib/token-id.js';
import { Upstream } from './lib/upstream.js';
import { UpstreamLink } from './lib/upstream-link.js';
import type { ErrorResponse } from './api/index.js';
import { fileChangesRoutes } from './routes/file-changes.js';
import { filesRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { sessionRoutes } from './routes/session.js';
import { sharedFileRoutes } from './routes/shared-file.js';
import { sharesRoutes } from './routes/shares.js';
import { staticRoutes } from './routes/static.js';
import { uploadsRoutes } from './routes/uploads.js';
import { wsRoutes } from './routes/ws.js';

export interface AppOptions {
  /** The tor-server every request goes to. */
  torHost: string;
  torPort: number;
  /** Speak TLS to the tor-server; undefined: plain TCP. */
  torTls?: ClientTls;
  /** Serve HTTPS with this certificate and key (and send HSTS); undefined: plain HTTP. */
  https?: TlsIdentity;
  /** Largest upload the gateway accepts, in bytes. */
  maxUploadSize: number;
  /** The built web app. */
  webDir: string;
  /** Fastify's log level; default warn (quiet). */
  logLevel?: string;
  /** The address the gateway listens on: its names are allowed Host names. Default 127.0.0.1. */
  listenHost?: string;
  /** More Host names to answer (`--allowed-hosts`). */
  allowedHosts?: string[];
  /** More origins whose pages may upload and open the WebSocket (`--allowed-origins`). */
  allowedOrigins?: string[];
  /** TFTCP connections shared by one user's (one token's, or the anonymous) WebSocket sessions and listings. Default 16. */
  upstreamPool?: number;
  /** All TFTCP connections at once, over every user (pools, downloads, uploads, change feeds). Default 48. */
  maxUpstream?: number;
  /** Signed-in users (tokens) kept at once, each with pools of its own. Default 10,000. */
  maxIdentities?: number;
  /** A signed-in user with no connection, no WebSocket and no request under way is forgotten after this long. Default 15 s. */
  identityIdleMs?: number;
  /**
   * Change feeds of signed-in users at once, each holding a TFTCP connection while the user has
   * a WebSocket open; beyond, a new user's WebSocket goes without live changes. Default a
   * quarter of maxUpstream (at least 1), so feeds never take the slots commands and transfers need.
   */
  maxChangeFeeds?: number;
  /** Sign-ins of tokens not yet accepted that one end-user address may have under way at once; more wait their turn. Default 4. */
  maxSignInsPerAddress?: number;
  /** The tor-server's `Invalid token` for a token is answered from memory this long (no connection). Default 5 s. */
  refusedTokenMs?: number;
  /** Downloads and uploads one client address may have under way (or waiting) at once; beyond, 429. Default 16. */
  maxTransfersPerAddress?: number;
  /** How long a request waits for a free TFTCP connection before a 503. Default 30 s. */
  upstreamQueueTimeoutMs?: number;
  /** WebSocket sessions per client address, and in all. Defaults 32 and 10,000. */
  maxWsPerAddress?: number;
  maxWsSessions?: number;
  /** Unsent WebSocket reply bytes: the session stops reading requests above the first (1 MiB), and closes above the second (4 MiB). */
  wsHighWaterBytes?: number;
  wsMaxBufferedBytes?: number;
  /** Where multipart parts without a size hint are spooled; default the OS temp folder. */
  spoolDir?: string;
  /** Bytes the spool folder must keep free; default 64 MiB. */
  spoolReserveBytes?: number;
  /** A tus PATCH (or POST) body that sends no byte for this long is cut. Default 30 s. */
  tusBodyIdleMs?: number;
  /** Most files stored from one multipart form; default 1000. */
  maxFormFiles?: number;
  upstreamConnectTimeoutMs?: number;
  upstreamReplyTimeoutMs?: number;
  healthTimeoutMs?: number;
  /** Probe backoff bounds while the tor-server is down (one backoff for the whole gateway). */
  wsMinBackoffMs?: number;
  wsMaxBackoffMs?: number;
  /** WebSocket sessions are pinged this often and dropped after two missed pongs. Default 30 s. */
  wsPingIntervalMs?: number;
  /** Change events a WebSocket session may have unsent; beyond, it is sent one resync instead. Default 256. */
  wsMaxUnsentChanges?: number;
  /** Recent changes kept for browsers resuming with `since`. Default 1024. */
  changeRingSize?: number;
  /** A signed-in user's change feed is closed this long after their last WebSocket session left. Default 10 s. */
  changeFeedLingerMs?: number;
  /** Where the gateway's Prometheus metrics go; default a registry of its own (served by main.ts with --metrics-port). */
  metricsRegistry?: Registry;
}

/** The gateway's TFTCP side, as tests and benchmarks look at it. */
export interface GatewayParts {
  upstream: Upstream;
  /** Every user's pools and change feed, by token. */
  identities: Identities;
  /** The anonymous user's connections shared by its WebSocket sessions and listings. */
  commandPool: CommandPool;
  /** The anonymous user's connections downloads and uploads run on, kept between transfers. */
  transferPool: TransferPool;
  /** The anonymous user's `watch` subscription, shared by its WebSocket sessions. */
  changeFeed: ChangeFeed;
  /** The Prometheus metrics, and their registry. */
  metrics: GatewayMetrics;
}

// Plugins get the upstream and the pool as options only; this is for looking in from outside.
const partsOf = new WeakMap<FastifyInstance, GatewayParts>();

/** The TFTCP side of an app made by buildApp. */
export function gatewayParts(app: FastifyInstance): GatewayParts {
  const parts = partsOf.get(app);
  if (!parts) throw new Error('gatewayParts: not an app made by buildApp');
  return parts;
}

// A file's own headers, which must not stick to an error answered instead of it.
const FILE_HEADERS = ['content-disposition', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'repr-digest', 'content-security-policy', 'x-frame-options'];

// A browser finishes its handshake in milliseconds; Node's default (120 s) lets idle sockets pile up.
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

// Signed-in users' change feeds get this share of maxUpstream by default: with each such user's
// command pool keeping one connection too, half the slots stay for commands and transfers.
const FEED_SHARE_DIVISOR = 4;

/** Fastify's request log fields, with any token in the URL cut down to its public id. */
function serializeRequest(request: FastifyRequest) {
  return { method: request.method, url: redactTokens(request.url), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

// File names are up to 255 bytes of UTF-8, i.e. up to 765 characters percent-encoded.
const MAX_PARAM_LENGTH = 1024;

/** Builds the gateway (not listening): the API plugins, the web app, one error handler. */
export function buildApp(options: AppOptions): FastifyInstance {
  const hosts = new HostPolicy([...defaultAllowedHosts(options.listenHost ?? '127.0.0.1'), ...(options.allowedHosts ?? [])]);
  const origins = { allowedOrigins: new Set(options.allowedOrigins ?? []) };
  const everyResponseEntries = Object.entries(DEFAULT_SECURITY_HEADERS);
  const hsts = options.https !== undefined;
  // Fastify types an HTTPS instance apart from an HTTP one; every route here works on both.
  const app = Fastify({
    ...(options.https && { https: { ...options.https, minVersion: MIN_TLS_VERSION, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS } }),
    // Share links carry their token in the path: logs name it by its public id only.
    logger: { level: options.logLevel ?? 'warn', serializers: { req: serializeRequest } },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Fastify's own answer to a URL it cannot decode carries no hooks: answer it here.
    frameworkErrors: (error, request, reply) =>
      sendError(hosts.allows(request.headers.host) ? error : new GatewayError('GW_ERR_MISDIRECTED', 'this gateway does not serve that host'), request, reply),
    clientErrorHandler: answerClientError,
  });
  const poolSize = options.upstreamPool ?? 16;
  const upstream = new Upstream({
    host: options.torHost,
    port: options.torPort,
    ...(options.torTls && { tls: options.torTls }),
    connectTimeoutMs: options.upstreamConnectTimeoutMs,
    replyTimeoutMs: options.upstreamReplyTimeoutMs,
    maxConnections: options.maxUpstream,
    poolSize,
    queueTimeoutMs: options.upstreamQueueTimeoutMs,
  });
  // Cookies are read only where a request's identity is asked for; Set-Cookie is written on send.
  app.register(cookie, { hook: false });
  const link: UpstreamLink = new UpstreamLink({ upstream, pool: { get hasLiveConnection() { return identities.hasLiveConnection; } }, minBackoffMs: options.wsMinBackoffMs, maxBackoffMs: options.wsMaxBackoffMs });
  const identities: Identities = new Identities({
    upstream,
    link,
    log: app.log,
    parseCookie: (header) => app.parseCookie(header),
    poolSize,
    queueTimeoutMs: options.upstreamQueueTimeoutMs,
    maxIdentities: options.maxIdentities,
    idleMs: options.identityIdleMs,
    maxFeeds: options.maxChangeFeeds ?? Math.max(1, Math.floor(upstream.maxConnections / FEED_SHARE_DIVISOR)),
    refusedTokenMs: options.refusedTokenMs,
    signIns: { ...(options.maxSignInsPerAddress !== undefined && { perAddress: options.maxSignInsPerAddress }) },
    ringSize: options.changeRingSize,
    feedLingerMs: options.changeFeedLingerMs,
    minBackoffMs: options.wsMinBackoffMs,
    maxBackoffMs: options.wsMaxBackoffMs,
  });
  const anonymous = identities.anonymous;
  const digests = new KnownDigests();
  const metrics = new GatewayMetrics(options.metricsRegistry ?? new Registry(), { upstream, identities, link });
  metrics.attach(app);
  partsOf.set(app, { upstream, identities, commandPool: anonymous.commandPool, transferPool: anonymous.transferPool, changeFeed: anonymous.feed!, metrics });

  // With a listener here Node no longer answers `Expect: 100-continue` by itself: the upload
  // routes send `100 Continue` when they want the body, and a refusal is answered before it.
  app.server.on('checkContinue', (request, response) => app.server.emit('request', request, response));
  // Any other expectation cannot be met (RFC 9110 §10.1.1); Node's own 417 would lack the headers.
  app.server.on('checkExpectation', (_request, response) => {
    const body = JSON.stringify({ error: 'the only expectation this gateway meets is 100-continue' } satisfies ErrorResponse);
    response.writeHead(417, { ...DEFAULT_SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    response.end(body);
  });

  // First of all, for every route, the WebSocket and the 404s alike: is this our host at all?
  app.addHook('onRequest', hosts.hook());
  app.addHook('onRequest', identities.onRequest);

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(error, request, reply));

  function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const failure = asGatewayError(error);
    metrics.answeredWith(failure.code);
    // A message may quote the path, and a share link's path is its token.
    const logged = redactTokens(failure.message);
    if (isClientGone(error, request)) request.log.info({ code: (error as { code?: string }).code ?? failure.code }, 'the client went away');
    else if (upstream.shuttingDown) request.log.info({ code: failure.code }, `cut by the shutdown: ${logged}`);
    else if (failure.statusCode < 500) request.log.info({ code: failure.code }, logged);
    else if (failure.code !== 'GW_ERR_INTERNAL') request.log.warn({ code: failure.code }, logged);
    else request.log.error({ err: error, code: failure.code }, failure.message);
    for (const header of FILE_HEADERS) reply.removeHeader(header);
    if (failure.statusCode !== 416) reply.removeHeader('content-range');
    // A body we did not read would be drained byte by byte before the next request: close instead.
    if (!request.raw.complete && !isUpgrade(request)) closeAfterResponse(request, reply);
    // The tor-server refused the request's sign-in: that user's sessions end, a dead cookie goes.
    // A 401 of the gateway's own (none other is made) would end nobody.
    if (failure.signInRefused) identities.refused(request, reply, failure.message);
    if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', failure.retryAfterSeconds);
    const body: ErrorResponse = { error: failure.message };
    // The GW_ERR_CLIENT_GONE status (499) is never seen; any status is as good for nobody.
    const status = failure.statusCode === 499 ? 400 : failure.statusCode;
    return reply.code(status).headers(DEFAULT_SECURITY_HEADERS).type('application/json; charset=utf-8').send(body);
  }

  // Callback hooks, not async ones, on every response: no promise per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    for (const [name, value] of everyResponseEntries) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
    if (hsts && sendsHsts(request.hostname)) reply.headers(HSTS_HEADER);
    done(null, payload);
  });
  // A refused WebSocket upgrade (wrong host, origin or path) is answered over a socket Node has
  // handed over for good: no HTTP machinery closes it after the answer, so it is closed here.
  app.addHook('onResponse', (request, _reply, done) => {
    if (isUpgrade(request)) request.raw.socket?.destroy();
    done();
  });
  // Whatever is still open when the server has closed (sockets signing out) is cut.
  app.addHook('onClose', async () => {
    link.close();
    identities.close();
    upstream.destroyAll();
  });

  app.register(healthRoutes, { upstream, timeoutMs: options.healthTimeoutMs });
  // One count of transfers per client address, over the files and the share links.
  const transfers = new TransferLimit(options.maxTransfersPerAddress ?? DEFAULT_MAX_TRANSFERS_PER_ADDRESS, (request, reply) => metrics.transferStarted(request, reply));
  app.register(filesRoutes, {
    identities,
    transfers,
    digests,
    origins,
    metrics,
    maxUploadSize: options.maxUploadSize,
    maxTransfersPerAddress: options.maxTransfersPerAddress,
    maxFormFiles: options.maxFormFiles,
    spoolDir: options.spoolDir,
    spoolReserveBytes: options.spoolReserveBytes,
  });
  app.register(fileChangesRoutes, { identities, origins });
  app.register(uploadsRoutes, { identities, transfers, origins, metrics, maxUploadSize: options.maxUploadSize, spoolDir: options.spoolDir, spoolReserveBytes: options.spoolReserveBytes, bodyIdleMs: options.tusBodyIdleMs });
  app.register(sessionRoutes, { identities, origins });
  app.register(sharesRoutes, { identities, origins });
  app.register(sharedFileRoutes, { identities, digests, transfers, origins });
  app.register(wsRoutes, {
    identities,
    link,
    origins,
    upstreamAddress: upstream.address,
    maxPerAddress: options.maxWsPerAddress ?? 32,
    maxSessions: options.maxWsSessions ?? 10_000,
    highWaterBytes: options.wsHighWaterBytes,
    maxBufferedBytes: options.wsMaxBufferedBytes,
    pingIntervalMs: options.wsPingIntervalMs,
    maxUnsentChanges: options.wsMaxUnsentChanges,
  });
  app.register(staticRoutes, { webDir: options.webDir });
  return app;
}

/** True for a request Node handed over as an upgrade (a WebSocket handshake). */
function isUpgrade(request: FastifyRequest): boolean {
  return request.headers.upgrade !== undefined && /\bupgrade\b/i.test(request.headers.connection ?? '');
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'the request took too long to arrive'],
  HPE_HEADER_OVERFLOW: [431, 'the request headers are too large'],
};

/** Answers a request Node's HTTP parser refused (no route ever sees it), with the security headers too. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'the request is not valid HTTP'];
  const body = JSON.stringify({ error: message } satisfies ErrorResponse);
  const headers = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close', ...DEFAULT_SECURITY_HEADERS };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\n${head}\r\n${body}`);
  socket.destroySoon();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
