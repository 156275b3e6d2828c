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
