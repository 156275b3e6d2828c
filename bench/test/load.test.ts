/** The small-files load generator against a real Node HTTP server on 127.0.0.1. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { keepAliveLoad, type LoadOptions } from '../load.js';

const BODY = randomBytes(4096);
const SHORT: LoadOptions = { connections: 3, warmupMs: 100, durationMs: 300 };

/** A server answering every GET with `body`; counts the connections it accepted. */
async function serve(t: TestContext, body: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', ...headers });
    res.end(body);
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)).finally(() => server.closeAllConnections()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/small.bin`, connections: () => connections };
}

test('keeps one connection per client open and counts the right answers', async (t) => {
  const { url, connections } = await serve(t, BODY);
  const result = await keepAliveLoad(url, BODY, SHORT);
  assert.equal(result.errors, 0);
  assert.ok(result.perSecond > 0, `no answers counted: ${JSON.stringify(result)}`);
  assert.ok(result.p50 <= result.p99);
  assert.equal(connections(), SHORT.connections, 'the load opened more connections than clients: keep-alive was not used');
});

test('answers with other bytes do not count: a load that only gets those fails and says why', async (t) => {
  const { url } = await serve(t, Buffer.from('not it'));
  await assert.rejects(keepAliveLoad(url, BODY, SHORT), /answered 200 with 6 bytes/);
});

test('an answer larger than the expected body is refused, not buffered', async (t) => {
  const { url } = await serve(t, randomBytes(BODY.length * 4));
  await assert.rejects(keepAliveLoad(url, BODY, SHORT), /an answer of 16384 bytes, more than the 4096 expected/);
});

test('a server closing the kept-alive connections fails the load, saying so, instead of leaving a client waiting', { timeout: 20_000 }, async (t) => {
  const { url } = await serve(t, BODY, { connection: 'close' });
  await assert.rejects(keepAliveLoad(url, BODY, SHORT), /the load on .* failed \d+ times; the last: the server closed the connection/);
});
