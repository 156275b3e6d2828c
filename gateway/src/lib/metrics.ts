import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { GatewayErrorCode } from '../errors.js';
import type { Identities } from './identities.js';
import type { Upstream } from './upstream.js';
import type { UpstreamLink } from './upstream-link.js';

/** The `route` label of a request no route matched (never its URL: labels stay bounded). */
export const NO_ROUTE = '(none)';

// Up to 5 minutes: a download is one request, however long it streams.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

// The gateway codes that say the tor-server side failed.
const UPSTREAM_CODES = new Set<GatewayErrorCode>(['GW_ERR_UPSTREAM_FAILED', 'GW_ERR_UPSTREAM_UNREACHABLE', 'GW_ERR_UPSTREAM_BUSY']);

/** What the metrics read at scrape time. */
export interface GatewayMetricsSources {
  upstream: Upstream;
  /** Every user's pools: the gauges sum over them (no token or user in any label). */
  identities: Pick<Identities, 'commandConnections' | 'idleTransferConnections'>;
  link: UpstreamLink;
}

type Direction = 'upload' | 'download';

/**
 * The gateway's Prometheus metrics, in a registry of its own. Bytes are counted on the
 * clients' sockets (what really went over the wire, headers and WebSocket frames included),
 * read at scrape time; pool sizes and sessions are looked up only then.
 */
export class GatewayMetrics {
  readonly registry: Registry;
  readonly #durations: Histogram<'method' | 'route' | 'status'>;
  readonly #transfers: Record<Direction, Gauge.Internal<string>>;
  readonly #upstreamErrors: Counter<'code'>;
  readonly #sockets = new Set<Socket>();
  /** Bytes of client sockets already closed; the open ones are read at scrape time. */
  #closedRead = 0;
  #closedWritten = 0;

  constructor(registry: Registry, sources: GatewayMetricsSources) {
    this.registry = registry;
    const registers = [registry];
    this.#durations = new Histogram({
      name: 'tor_gateway_http_request_duration_seconds',
      help: 'HTTP requests by method, route pattern and status, from arrival to the last byte of the response.',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const transfers = new Gauge({ name: 'tor_gateway_transfers_in_progress', help: 'Downloads and uploads under way (or waiting for a tor-server connection) now, by direction.', labelNames: ['direction'], registers });
    this.#transfers = { upload: transfers.labels('upload'), download: transfers.labels('download') };
    this.#transfers.upload.set(0);
    this.#transfers.download.set(0);
    this.#upstreamErrors = new Counter({ name: 'tor_gateway_upstream_errors_total', help: 'Requests answered with a tor-server failure, by gateway error code (GW_ERR_UPSTREAM_FAILED, _UNREACHABLE, _BUSY).', labelNames: ['code'], registers });
    const lost = new Counter({ name: 'tor_gateway_upstream_connections_lost_total', help: 'tor-server connections that closed without the gateway asking, or could not be opened.', registers });
    sources.upstream.on('lost', () => lost.inc());
    const metrics = this;
    new Counter({
      name: 'tor_gateway_http_received_bytes_total',
      help: 'Bytes read from HTTP clients (requests and WebSocket frames, headers included).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.#closedRead + sum(metrics.#sockets, (socket) => socket.bytesRead));
      },
    });
    new Counter({
      name: 'tor_gateway_http_sent_bytes_total',
      help: 'Bytes written to HTTP clients (responses and WebSocket frames, headers included).',
      registers,
      collect() {
        this.reset();
        this.inc(metrics.#closedWritten + sum(metrics.#sockets, (socket) => socket.bytesWritten));
      },
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('tor_gateway_websocket_sessions', 'WebSocket sessions open now.', () => sources.link.sessions);
    gauge('tor_gateway_upstream_connections', 'tor-server connections open now (command pool, transfers and idle transfer connections).', () => sources.upstream.openCount);
    gauge('tor_gateway_upstream_pool_connections', 'Connections of the command pools (one per signed-in user, and the anonymous one) open now.', () => sources.identities.commandConnections);
    gauge('tor_gateway_upstream_idle_transfer_connections', 'Transfer connections kept open for the next download or upload, over every user.', () => sources.identities.idleTransferConnections);
    gauge('tor_gateway_upstream_waiters', 'Requests waiting for a tor-server connection now.', () => sources.upstream.queuedCount);
  }

  /** Times every response and counts the bytes of every client connection of `app`. */
  attach(app: FastifyInstance): void {
    app.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#closedRead += socket.bytesRead;
        this.#closedWritten += socket.bytesWritten;
      });
    });
    app.addHook('onResponse', (request, reply, done) => {
      this.#durations.observe({ method: request.method, route: request.routeOptions.url ?? NO_ROUTE, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  }

  /** A download or upload began; it counts until its response closes. */
  transferStarted(request: FastifyRequest, reply: FastifyReply): void {
    const gauge = this.#transfers[request.method === 'GET' || request.method === 'HEAD' ? 'download' : 'upload'];
    gauge.inc();
    reply.raw.once('close', () => gauge.dec());
  }

  /** A request was answered with `code`: counted when it is a tor-server failure. */
  answeredWith(code: GatewayErrorCode): void {
    if (UPSTREAM_CODES.has(code)) this.#upstreamErrors.inc({ code });
  }
}

function sum<T>(items: Iterable<T>, value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
