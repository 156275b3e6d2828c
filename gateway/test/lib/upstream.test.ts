import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WAIT_MS, eventually, freePort, within } from 'test-support';
import { GatewayError } from '../../src/errors.js';
import { CommandPool } from '../../src/lib/command-pool.js';
import { POOL_FLOOR, Upstream } from '../../src/lib/upstream.js';
import { startTorServer, waitForClients } from '../helpers.js';

test('connections are counted, released with exit, and all cut by destroyAll', async (t) => {
  const { server, port } = await startTorServer(t);
  const upstream = new Upstream({ host: '127.0.0.1', port });
  const a = await upstream.connect();
  const b = await upstream.connect();
  assert.equal(upstream.openCount, 2);
  await waitForClients(server, 2);
  upstream.release(a);
  await eventually(() => upstream.openCount === 1, 'the released connection to close');
  assert.deepEqual(await upstream.use((client) => client.show()), []);
  upstream.destroyAll();
  await eventually(() => b.closed && upstream.openCount === 0, 'every connection to close');
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

test('transfers never take the slots kept for the command pool, and the pool goes first in line', async (t) => {
  const { port } = await startTorServer(t);
  // Three slots, a pool of two: two kept for the pool (min(pool, POOL_FLOOR)), one for transfers.
  const upstream = new Upstream({ host: '127.0.0.1', port, maxConnections: 3, poolSize: 2, queueTimeoutMs: 10_000 });
  t.after(() => upstream.destroyAll());
  assert.equal(upstream.transferSlots, 1);
  const transfer = await upstream.connect();
  const waitingTransfer = upstream.connect();
  assert.equal(upstream.queuedCount, 1);
  const pooled = await Promise.all([upstream.connect({ pooled: true }), upstream.connect({ pooled: true })]);
  assert.equal(upstream.openCount, 3, 'the pool got both of its slots while a transfer waited');

  // Every slot taken: a pool connection waits too, and is served before the earlier transfer.
  const order: string[] = [];
  void waitingTransfer.then(() => order.push('transfer'));
  const waitingPooled = upstream.connect({ pooled: true }).then((client) => (order.push('pooled'), client));
  upstream.release(pooled[0]!);
  const third = await waitingPooled;
  assert.deepEqual(order, ['pooled']);
  // Its share taken, the waiting transfer is served only when a transfer ends, not when a pooled connection does.
  upstream.release(third);
  await eventually(() => upstream.openCount === 2, 'the pooled connection to close');
  assert.deepEqual(order, ['pooled']);
  upstream.release(transfer);
  upstream.release((await waitingTransfer)!);
  assert.deepEqual(order, ['pooled', 'transfer']);
  upstream.release(pooled[1]!);
});

test("another pooled connection (the change feed) gets an idle command-pool connection's slot at once, not a transfer's", async (t) => {
  const { port } = await startTorServer(t);
  // Four slots, a pool of two: two kept for the pool, two for transfers.
  const upstream = new Upstream({ host: '127.0.0.1', port, maxConnections: 4, poolSize: 2, queueTimeoutMs: 10_000 });
  const pool = new CommandPool({ upstream, size: 2 });
  t.after(() => (pool.close(), upstream.destroyAll()));
  // Two commands at once leave the pool two idle connections: every kept slot.
  await Promise.all([pool.run((client) => client.show()), pool.run((client) => client.show())]);
  assert.equal(pool.openCount, 2);
  const transfers = [await upstream.connect(), await upstream.connect()];
  const waitingTransfer = upstream.connect();
  assert.equal(upstream.queuedCount, 1);

  const feed = await within(upstream.connect({ pooled: true }), WAIT_MS, 'the pooled connection');
  await eventually(() => pool.openCount === 1, "the pool to give up one idle connection's slot");
  assert.equal(upstream.queuedCount, 1, 'the transfer still waits: its share is taken');
  assert.deepEqual(await pool.run((client) => client.show()), [], 'the pool still answers on its other connection');
  upstream.release(feed);
  upstream.release(transfers[0]!);
  upstream.release((await waitingTransfer)!);
  upstream.release(transfers[1]!);
});

test('the pool keeps min(its size, POOL_FLOOR) slots, and transfers always keep one', () => {
  const slots = (maxConnections: number, poolSize?: number) => new Upstream({ host: '127.0.0.1', port: 1, maxConnections, poolSize }).transferSlots;
  assert.equal(slots(48, 16), 48 - POOL_FLOOR);
  assert.equal(slots(48, 2), 46);
  assert.equal(slots(48), 48);
  assert.equal(slots(4, 4), 1);
  assert.equal(slots(1, 1), 1);
});
