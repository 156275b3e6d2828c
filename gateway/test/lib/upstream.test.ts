import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/errors.js';
import { Upstream } from '../../src/lib/upstream.js';
import { freePort, startTorServer, waitFor, waitForClients } from '../helpers.js';

test('connections are counted, released with exit, and all cut by destroyAll', async (t) => {
  const { server, port } = await startTorServer(t);
  const upstream = new Upstream({ host: '127.0.0.1', port });
  const a = await upstream.connect();
  const b = await upstream.connect();
  assert.equal(upstream.openCount, 2);
  await waitForClients(server, 2);
  upstream.release(a);
  await waitFor(() => upstream.openCount === 1, 'the released connection to close');
  assert.deepEqual(await upstream.use((client) => client.show()), []);
  upstream.destroyAll();
  await waitFor(() => b.closed && upstream.openCount === 0, 'every connection to close');
  await waitForClients(server, 0);
});

test('an unreachable tor-server is a 503 GatewayError and a false probe', async () => {
  const upstream = new Upstream({ host: '127.0.0.1', port: await freePort() });
  await assert.rejects(upstream.connect(), (error: unknown) => error instanceof GatewayError && error.statusCode === 503 && /unreachable/.test(error.message));
  assert.equal(await upstream.probe(500), false);
});

test('at most maxConnections at once: the rest wait in line, first come first served, for a bounded time', async (t) => {
  const { port } = await startTorServer(t);
  const upstream = new Upstream({ host: '127.0.0.1', port, maxConnections: 2, queueTimeoutMs: 2000 });
  t.after(() => upstream.destroyAll());
  const a = await upstream.connect();
  const b = await upstream.connect();
  const order: string[] = [];
  const third = upstream.connect().then((client) => (order.push('third'), client));
  const fourth = upstream.connect().then((client) => (order.push('fourth'), client));
  assert.equal(upstream.queuedCount, 2);
  upstream.release(a);
  const c = await third;
  upstream.release(b);
  const d = await fourth;
  assert.deepEqual(order, ['third', 'fourth']);
  assert.equal(upstream.openCount, 2);

  const impatient = new Upstream({ host: '127.0.0.1', port, maxConnections: 1, queueTimeoutMs: 200 });
  t.after(() => impatient.destroyAll());
  await impatient.connect();
  await assert.rejects(impatient.connect(), (error: unknown) => error instanceof GatewayError && error.statusCode === 503 && /^the tor-server is busy/.test(error.message));
  const gone = new AbortController();
  const leaving = impatient.connect({ signal: gone.signal });
  gone.abort();
  await assert.rejects(leaving, (error: unknown) => error instanceof GatewayError && error.code === 'GW_ERR_CLIENT_GONE');
  assert.equal(impatient.queuedCount, 0);
  upstream.release(c);
  upstream.release(d);
});
