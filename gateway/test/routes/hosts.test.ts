import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import request from 'supertest';
import WebSocket from 'ws';
import { within } from 'test-support';
import { DEFAULT_SECURITY_HEADERS } from '../../src/lib/security-headers.js';
import { listen, rawRequest, startApp, startTorServer } from '../helpers.js';

const ROUTES: [string, string][] = [
  ['GET', '/api/files'],
  ['GET', '/api/files/notes.txt'],
  ['HEAD', '/api/files/notes.txt'],
  ['PUT', '/api/files/notes.txt'],
  ['POST', '/api/files'],
  ['GET', '/api/health'],
  ['GET', '/'],
  ['GET', '/some/app/route'],
  ['GET', '/assets/app.js'],
  ['GET', '/api/nothing'],
  ['DELETE', '/api/files/notes.txt'],
  ['GET', '/api/files/%E0%A4%A'],
];

test('every route answers 421 Misdirected Request to a Host that is not the gateway\'s, with the security headers', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  for (const [method, url] of ROUTES) {
    const res = await request(app.server)[method.toLowerCase() as 'get'](url).set('Host', 'rebound.evil.example:8080');
    assert.equal(res.status, 421, `${method} ${url}`);
    if (method !== 'HEAD') assert.match(res.body.error, /does not serve/);
    for (const [name, value] of Object.entries(DEFAULT_SECURITY_HEADERS)) assert.equal(res.headers[name], value, `${name} on ${method} ${url}`);
  }
  // The WebSocket too: the upgrade is refused before any session starts.
  const base = await listen(app);
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws`, { headers: { host: 'rebound.evil.example' } });
  socket.on('error', () => {});
  const [, response] = (await within(once(socket, 'unexpected-response'), 5000, 'the refusal')) as [unknown, { statusCode: number }];
  assert.equal(response.statusCode, 421);
  socket.terminate();
});

test('a request without a Host header (HTTP/1.0) is refused too', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = new URL(await listen(app));
  const answer = await rawRequest(Number(base.port), 'GET /api/files HTTP/1.0\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 421 Misdirected Request\r\n/);
  assert.match(answer, /no Host header/);
  assert.match(answer, /\r\nx-content-type-options: nosniff\r\n/);
});

test('the gateway\'s own names on any port, and --allowed-hosts, are served', async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port, { allowedHosts: ['files.example.org'] });
  for (const host of ['127.0.0.1:8080', 'localhost', 'LocalHost:1234', '[::1]:8080', 'files.example.org', 'files.example.org.:443']) {
    await request(app.server).get('/api/files').set('Host', host).expect(200);
  }
  await request(app.server).get('/api/files').set('Host', 'files.example.org.evil.example').expect(421);
});
