import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import request from 'supertest';
import { freePort, within } from 'test-support';
import { startApp, startTorServer, waitForClients } from '../helpers.js';

test('health is 200 with upstream ok while the tor-server answers, and leaves no connection behind', async (t) => {
  const { server, port } = await startTorServer(t);
  const app = await startApp(t, port);
  const res = await request(app.server).get('/api/health').expect(200);
  assert.deepEqual(res.body, { gateway: 'ok', upstream: 'ok' });
  assert.equal(res.headers['cache-control'], 'no-store');
  await waitForClients(server, 0);
});

test('health is 503 with upstream unreachable when nothing listens', async (t) => {
  const app = await startApp(t, await freePort());
  const res = await request(app.server).get('/api/health').expect(503);
  assert.deepEqual(res.body, { gateway: 'ok', upstream: 'unreachable' });
});

test('health still answers (503) when the tor-server accepts but never replies', async (t) => {
  // A hung server: it takes the connection and says nothing.
  const sockets = new Set<net.Socket>();
  const hung = net.createServer((socket) => sockets.add(socket)).listen(0, '127.0.0.1');
  await once(hung, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    hung.close();
  });
  const app = await startApp(t, (hung.address() as net.AddressInfo).port, { healthTimeoutMs: 300 });
  const res = await within(request(app.server).get('/api/health'), 5000, 'the health answer');
  assert.equal(res.status, 503);
  assert.deepEqual(res.body, { gateway: 'ok', upstream: 'unreachable' });
});
