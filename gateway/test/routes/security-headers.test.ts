import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import request from 'supertest';
import WebSocket from 'ws';
import { within } from 'test-support';
import { DEFAULT_SECURITY_HEADERS } from '../../src/lib/security-headers.js';
import { listen, rawRequest, startApp, startTorServer } from '../helpers.js';

function assertSecurityHeaders(headers: Record<string, string | string[] | undefined>, what: string): void {
  for (const [name, value] of Object.entries(DEFAULT_SECURITY_HEADERS)) assert.equal(headers[name], value, `${name} on ${what}`);
}

/** Header lines of a raw answer, as lower-case names to values. */
function headersOf(answer: string): Record<string, string> {
  const [head = ''] = answer.split('\r\n\r\n');
  return Object.fromEntries(head.split('\r\n').slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
}

test('every answer carries the security headers: Fastify\'s own 400s, 404s, 413, 415, 421', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { maxUploadSize: 10 });
  const cases: [string, () => request.Test, number][] = [
    ['a URL that does not decode', () => request(app.server).get('/api/files/%E0%A4%A'), 400],
    ['an unknown route', () => request(app.server).get('/nope.txt'), 404],
    ['an unknown API route', () => request(app.server).get('/api/nothing'), 404],
    ['an unknown method', () => request(app.server).delete('/api/health'), 404],
    ['a PUT over the limit', () => request(app.server).put('/api/files/x').send('more than ten bytes'), 413],
    ['a POST that is not a form', () => request(app.server).post('/api/files').set('content-type', 'text/plain').send('x'), 415],
    ['a foreign Host', () => request(app.server).get('/api/files').set('Host', 'evil.example'), 421],
    ['a search text with a line break', () => request(app.server).get('/api/files').query({ search: 'a\nb' }), 400],
  ];
  for (const [what, send, status] of cases) {
    const res = await send();
    assert.equal(res.status, status, what);
    assertSecurityHeaders(res.headers, what);
    assert.equal(typeof res.body.error, 'string', what);
  }
});

test('requests Node\'s HTTP parser refuses (before any route), a 411 and a 417 get the security headers too', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = new URL(await listen(app));
  const bad = await rawRequest(Number(base.port), 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n');
  assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assertSecurityHeaders(headersOf(bad), 'a malformed request');
  const huge = await rawRequest(Number(base.port), `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  assert.match(huge, /^HTTP\/1\.1 431 /);
  assertSecurityHeaders(headersOf(huge), 'oversized headers');
  const chunked = await rawRequest(Number(base.port), 'PUT /api/files/x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  assert.match(chunked, /^HTTP\/1\.1 411 /);
  assertSecurityHeaders(headersOf(chunked), 'a PUT without a length');
  const expectation = await rawRequest(Number(base.port), 'PUT /api/files/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nExpect: something-else\r\n\r\n');
  assert.match(expectation, /^HTTP\/1\.1 417 /);
  assertSecurityHeaders(headersOf(expectation), 'an expectation the gateway cannot meet');
});

test('a WebSocket handshake refused by origin or path is answered with the headers and its socket closed', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = (await listen(app)).replace(/^http/, 'ws');
  for (const [url, origin, status] of [[`${base}/api/ws`, 'http://localhost:3000', 403], [`${base}/api/elsewhere`, undefined, 404]] as const) {
    const socket = new WebSocket(url, origin ? { headers: { origin } } : {});
    socket.on('error', () => {});
    const [, response] = (await within(once(socket, 'unexpected-response'), 5000, 'the refusal')) as [unknown, { statusCode: number; headers: Record<string, string> }];
    assert.equal(response.statusCode, status, url);
    assertSecurityHeaders(response.headers, url);
    // The gateway closes the socket after its answer (app.close() would wait for it otherwise).
    await within(once((response as unknown as { socket: NodeJS.EventEmitter }).socket, 'close'), 5000, 'the gateway to close the refused socket');
  }
});
