import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { eventually } from 'test-support';
import { GatewayError } from '../../src/errors.js';
import { CommandPool } from '../../src/lib/command-pool.js';
import { Upstream } from '../../src/lib/upstream.js';
import { startTorServer, waitForClients } from '../helpers.js';

test('connects lazily, reuses its connections, and never holds more than its size', async (t) => {
  const { server, port } = await startTorServer(t);
  const upstream = new Upstream({ host: '127.0.0.1', port });
  const pool = new CommandPool({ upstream, size: 3 });
  t.after(() => pool.close());
  assert.equal(server.connections.size, 0, 'nothing before the first command');
  assert.deepEqual(await pool.run((client) => client.show()), []);
  assert.deepEqual(await pool.run((client) => client.show()), []);
  assert.equal(pool.openCount, 1, 'commands one after another share one connection');

  let most = 0;
  const counting = () => (most = Math.max(most, server.connections.size));
  server.on('clients', counting);
  t.after(() => server.off('clients', counting));
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.run((client) => (i % 2 ? client.show() : client.search('x')))));
  assert.equal(results.length, 50);
  assert.ok(most <= 3, `at most 3 tor-server connections at once (saw ${most})`);
  assert.ok(pool.openCount <= 3);
  pool.close();
  await waitForClients(server, 0);
});

test('a connection the tor-server closed while idle is dropped; the next command gets a fresh one', async (t) => {
  const { server, port } = await startTorServer(t, { idleTimeoutMs: 200 });
  const upstream = new Upstream({ host: '127.0.0.1', port });
  const pool = new CommandPool({ upstream, size: 2 });
  t.after(() => pool.close());
  await pool.run((client) => client.show());
  await eventually(() => server.connections.size === 0 && pool.openCount === 0, 'the idle connection to be closed and dropped');
  assert.deepEqual(await pool.run((client) => client.show()), []);
});

/**
 * A TFTCP server whose connections answer their first `show` and then die on the next command
 * without answering (or with the idle-timeout goodbye): a pooled connection that died unseen.
 */
async function dyingServer(t: { after(fn: () => unknown): void }, goodbye: string | undefined): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    let commands = 0;
    socket.on('data', () => {
      commands++;
      if (commands === 1 || accepted > 1) socket.write('ok\nend\n');
      else if (goodbye) socket.end(`${goodbye}\n`);
      else socket.destroy();
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

for (const [what, goodbye] of [['dies without a word', undefined], ['says its idle-timeout goodbye', 'Idle timeout: closing the connection']] as const) {
  test(`a command on a pooled connection that ${what} is retried once on a fresh connection`, async (t) => {
    const { port, accepted } = await dyingServer(t, goodbye);
    const pool = new CommandPool({ upstream: new Upstream({ host: '127.0.0.1', port }), size: 1 });
    t.after(() => pool.close());
    assert.deepEqual(await pool.run((client) => client.show()), []);
    assert.deepEqual(await pool.run((client) => client.show()), []);
    assert.equal(accepted(), 2, 'one retry on a second connection');
  });
}

test('commands beyond the pool wait in line, for a bounded time; a cancelled one leaves the line', async (t) => {
  const { port } = await startTorServer(t);
  const pool = new CommandPool({ upstream: new Upstream({ host: '127.0.0.1', port }), size: 1, queueTimeoutMs: 300 });
  t.after(() => pool.close());
  let unblock!: () => void;
  const blocked = new Promise<void>((resolve) => (unblock = resolve));
  const holder = pool.run(async (client) => {
    await blocked;
    return client.show();
  });
  await assert.rejects(pool.run((client) => client.show()), (error: unknown) => error instanceof GatewayError && error.statusCode === 503 && /the tor-server is busy/.test(error.message));
  const cancel = new AbortController();
  const cancelled = pool.run((client) => client.show(), { signal: cancel.signal });
  const waiting = pool.run((client) => client.show());
  cancel.abort();
  await assert.rejects(cancelled, (error: unknown) => error instanceof GatewayError && error.code === 'GW_ERR_CLIENT_GONE');
  unblock();
  assert.deepEqual(await holder, []);
  assert.deepEqual(await waiting, []);
});
