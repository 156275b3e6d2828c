import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { port, text } from './parsers.js';
import { listenProblem } from './startup.js';
import { option } from './table.js';

/** The one path a metrics listener answers on. */
export const METRICS_PATH = '/metrics';
/** Metrics listen here unless told otherwise: scrapers on the same machine only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/**
 * The two option rows both programs take for their metrics (`<envPrefix>_METRICS_PORT`,
 * `<envPrefix>_METRICS_HOST`). Off unless a port is given: an operator opts in to another open port.
 */
export function metricsOptions(envPrefix: string) {
  return {
    /** Serve Prometheus metrics on this port; undefined: no metrics listener. */
    metricsPort: option<number | undefined>({
      flag: 'metrics-port',
      env: `${envPrefix}_METRICS_PORT`,
      help: `serve Prometheus metrics at http://<metrics-host>:<port>${METRICS_PATH} (off unless given; 0 picks a free port)`,
      parse: port,
      default: undefined,
    }),
    metricsHost: option({ flag: 'metrics-host', env: `${envPrefix}_METRICS_HOST`, help: 'address the metrics listen on', parse: text, default: DEFAULT_METRICS_HOST }),
  };
}

/** The metrics could not listen; the message says why and what to do. */
export class MetricsListenError extends Error {}

/** A running metrics listener. */
export interface MetricsListener {
  address(): AddressInfo;
  /** Stops listening and closes scrapers' kept-alive connections. */
  close(): Promise<void>;
}

/**
 * Serves `registry` in the Prometheus text format at GET /metrics on its own listener, apart from
 * the program's clients: no Host rule, access level or route of theirs reaches it, and it is
 * bound to `host` only (127.0.0.1 by default). Anything else is 404, other methods 405.
 */
export async function listenForMetrics(registry: Registry, where: { host: string; port: number }): Promise<MetricsListener> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) return answer(response, 404, `not found: the metrics are at ${METRICS_PATH}\n`);
    if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'use GET\n', { allow: 'GET, HEAD' });
    registry.metrics().then(
      (body) => answer(response, 200, request.method === 'HEAD' ? '' : body, { 'content-type': registry.contentType }),
      (error: unknown) => answer(response, 500, `the metrics could not be collected: ${(error as Error).message}\n`),
    );
  });
  server.listen(where.port, where.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    const problem = listenProblem(error as NodeJS.ErrnoException, { ...where, portFlag: 'metrics-port', accessHint: 'Choose a port above 1023 with --metrics-port.' });
    throw new MetricsListenError(`metrics: ${problem.replace('--host', '--metrics-host')}`, { cause: error });
  }
  return {
    address: () => server.address() as AddressInfo,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

function answer(response: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(body);
}

/** `<program> metrics on http://<host>:<port>/metrics`, printed once the metrics listen. */
export function metricsListening(program: string, where: { host: string; port: number }): string {
  const host = where.host.includes(':') ? `[${where.host}]` : where.host;
  return `${program} metrics on http://${host}:${where.port}${METRICS_PATH}`;
}

const METRICS_LINE = /^(\S+) metrics on (http:\/\/\S+)$/;

/** What a metrics line says, or undefined when `line` is not one. */
export function parseMetricsListening(line: string): { program: string; url: string } | undefined {
  const match = METRICS_LINE.exec(line);
  return match ? { program: match[1]!, url: match[2]! } : undefined;
}
