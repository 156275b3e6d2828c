import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { asGatewayError } from './errors.js';
import { FileEvents } from './lib/file-events.js';
import { DEFAULT_SECURITY_HEADERS } from './lib/security-headers.js';
import { Upstream } from './lib/upstream.js';
import type { ErrorResponse } from './routes/api-types.js';
import { filesRoutes } from './routes/files.js';
import { healthRoutes } from './routes/health.js';
import { staticRoutes } from './routes/static.js';
import { wsRoutes } from './routes/ws.js';

export interface AppOptions {
  /** The tor-server every request goes to. */
  torHost: string;
  torPort: number;
  /** Largest upload the gateway accepts, in bytes. */
  maxUploadSize: number;
  /** The built web app. */
  webDir: string;
  /** Fastify's log level; default warn (quiet). */
  logLevel?: string;
  /** Where multipart parts without a size hint are spooled; default the OS temp folder. */
  spoolDir?: string;
  upstreamConnectTimeoutMs?: number;
  upstreamReplyTimeoutMs?: number;
  healthTimeoutMs?: number;
  wsMinBackoffMs?: number;
  wsMaxBackoffMs?: number;
  /** Upstream connections older than this are reconnected quietly when they drop (idle timeout). */
  wsQuietReconnectAfterMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The TFTCP side of the gateway. */
    upstream: Upstream;
  }
}

// A file's own headers, which must not stick to an error answered instead of it.
const FILE_HEADERS = ['content-disposition', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'content-security-policy', 'x-frame-options'];

// File names are up to 255 bytes of UTF-8, i.e. up to 765 characters percent-encoded.
const MAX_PARAM_LENGTH = 1024;

/** Builds the gateway (not listening): the API plugins, the web app, one error handler. */
export function buildApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel ?? 'warn' },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  });
  const upstream = new Upstream({
    host: options.torHost,
    port: options.torPort,
    connectTimeoutMs: options.upstreamConnectTimeoutMs,
    replyTimeoutMs: options.upstreamReplyTimeoutMs,
  });
  const events = new FileEvents();
  app.decorate('upstream', upstream);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const failure = asGatewayError(error);
    if (failure.statusCode >= 500) request.log.error({ err: error, code: failure.code }, failure.message);
    else request.log.info({ code: failure.code }, failure.message);
    for (const header of FILE_HEADERS) reply.removeHeader(header);
    if (failure.statusCode !== 416) reply.removeHeader('content-range');
    // A body we did not read would be drained byte by byte before the next request: close instead.
    if (!request.raw.complete) reply.header('connection', 'close');
    const body: ErrorResponse = { error: failure.message };
    return reply.code(failure.statusCode).type('application/json; charset=utf-8').send(body);
  });

  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(DEFAULT_SECURITY_HEADERS)) {
      if (!reply.hasHeader(name)) reply.header(name, value);
    }
  });
  // Whatever is still open when the server has closed (sockets signing out) is cut.
  app.addHook('onClose', async () => upstream.destroyAll());

  app.register(healthRoutes, { upstream, timeoutMs: options.healthTimeoutMs });
  app.register(filesRoutes, { upstream, events, maxUploadSize: options.maxUploadSize, spoolDir: options.spoolDir });
  app.register(wsRoutes, { upstream, events, minBackoffMs: options.wsMinBackoffMs, maxBackoffMs: options.wsMaxBackoffMs, quietReconnectAfterMs: options.wsQuietReconnectAfterMs });
  app.register(staticRoutes, { webDir: options.webDir });
  return app;
}
