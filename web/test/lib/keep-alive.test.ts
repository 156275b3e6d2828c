import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import type { WsRequest } from 'gateway/api';
import { KeepAlive, MAX_MISSED_PINGS } from '../../src/lib/keep-alive.js';
import { WsClient, type WebSocketClass } from '../../src/lib/ws-client.js';

const INTERVAL_MS = 20;
const WAIT_LIMIT_MS = 5000;

/** Resolves once `check` holds, polling; fails after a bounded wait. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('KeepAlive', () => {
  const alives: KeepAlive[] = [];
  after(() => alives.forEach((alive) => alive.stop()));

  it(`gives up after ${MAX_MISSED_PINGS} unanswered pings in a row, once`, async () => {
    let pings = 0;
    let dead = 0;
    const alive = new KeepAlive({ ping: () => ((pings += 1), new Promise(() => {})), onDead: () => (dead += 1), intervalMs: INTERVAL_MS });
    alives.push(alive);
    alive.start();
    await until(() => dead === 1, 'the keep-alive to give up');
    // The first ping, then one more per tick until the third miss: no ping after giving up.
    assert.equal(pings, MAX_MISSED_PINGS);
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 5));
    assert.equal(dead, 1);
    assert.equal(pings, MAX_MISSED_PINGS);
  });

  it('keeps going while pings are answered, and a reply clears earlier misses', async () => {
    let pings = 0;
    let dead = 0;
    // Every other ping goes unanswered: never three in a row.
    const alive = new KeepAlive({
      ping: () => ((pings += 1), pings % 2 === 0 ? Promise.resolve() : Promise.reject(new Error('no reply'))),
      onDead: () => (dead += 1),
      intervalMs: INTERVAL_MS,
    });
    alives.push(alive);
    alive.start();
    await until(() => pings >= 10, 'ten pings');
    assert.equal(dead, 0);
    assert.ok(alive.missed < MAX_MISSED_PINGS);
  });

  it('stops pinging when stopped (the socket closed)', async () => {
    let pings = 0;
    const alive = new KeepAlive({ ping: () => ((pings += 1), Promise.resolve()), onDead: () => {}, intervalMs: INTERVAL_MS });
    alive.start();
    await until(() => pings >= 2, 'two pings');
    alive.stop();
    const stoppedAt = pings;
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 5));
    assert.equal(pings, stoppedAt);
  });
});

describe('KeepAlive with WsClient', () => {
  it('replaces a socket whose gateway stopped answering pings, and the new one is used', async () => {
    // A real WebSocket server that answers pings only on the second connection.
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    let connections = 0;
    server.on('connection', (socket) => {
      connections += 1;
      const answers = connections > 1;
      socket.on('message', (data) => {
        const request = JSON.parse(String(data)) as WsRequest;
        if (request.command === 'ping' && answers) socket.send(JSON.stringify({ id: request.id, ok: true, pong: true }));
      });
    });
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/ws`;
    const client = new WsClient({ url, WebSocket: WebSocket as unknown as WebSocketClass, backoff: { initialMs: 10, maxMs: 50, factor: 2, jitter: 0 } });
    let pongs = 0;
    const alive = new KeepAlive({
      ping: () => client.ping(INTERVAL_MS).then(() => void (pongs += 1)),
      onDead: () => client.reconnect(),
      intervalMs: INTERVAL_MS,
    });
    client.onState((state) => (state === 'open' ? alive.start() : alive.stop()));
    try {
      client.start();
      await until(() => pongs >= 2, 'pongs on the replacement socket');
      assert.equal(connections, 2, 'one replacement, not a reconnect storm');
      assert.equal(client.state, 'open');
    } finally {
      alive.stop();
      client.stop();
      for (const socket of server.clients) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
