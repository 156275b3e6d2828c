import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';

/** One request as the fake gateway received it, body read whole. */
export interface Received {
  method: string;
  url: string;
  body: string;
}

/** How a route answers. */
export interface Answer {
  json(status: number, value: unknown, headers?: Record<string, string>): void;
  /** A status with no body (204), or another type of body (a proxy's HTML page). */
  send(status: number, body?: string, headers?: Record<string, string>): void;
}

export interface FakeGateway {
  /** `http://127.0.0.1:<port>`, once started. */
  readonly base: string;
  /** Each request as `METHOD url[ body]`, in order; tests splice what they check. */
  readonly requests: string[];
}

/**
 * A real HTTP server on 127.0.0.1 port 0 answering like the gateway, by `route`, for the tests of
 * a describe block (started before them, closed after them).
 */
export function useFakeGateway(route: (request: Received, answer: Answer) => void): FakeGateway {
  let server: http.Server;
  let base = '';
  const requests: string[] = [];
  before(async () => {
    server = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const method = request.method ?? '';
        const url = request.url ?? '';
        requests.push(`${method} ${url}${body ? ` ${body}` : ''}`);
        route(
          { method, url, body },
          {
            json: (status, value, headers = {}) => response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value)),
            send: (status, text, headers = {}) => response.writeHead(status, headers).end(text),
          },
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));
  return {
    get base() {
      return base;
    },
    requests,
  };
}
