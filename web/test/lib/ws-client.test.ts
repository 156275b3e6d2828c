import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WAIT_MS, eventually, within } from 'test-support';
import { WebSocket, WebSocketServer } from 'ws';
import { WS_CLOSE_SIGNED_OUT, type WsRequest } from 'gateway/api';
import { WebErrorCode, type WebError } from '../../src/lib/errors.js';
import { socketUrl, WsClient, type SocketState, type WebSocketClass } from '../../src/lib/ws-client.js';

const FAST_BACKOFF = { initialMs: 20, maxMs: 100, factor: 2, jitter: 0 };
const files = [{ name: 'a.txt', size: 3, modified: '2026-11-24T10:00:00.000Z' }];
const SEQ = 41;

type Handler = (socket: WebSocket, request: WsRequest) => void;

/** A real WebSocket server on 127.0.0.1 port 0 that answers like the gateway, by a per-test handler. */
async function startServer(handler: Handler, port = 0): Promise<{ server: WebSocketServer; url: string; port: number }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('connection', (socket) => {
    socket.on('message', (data) => handler(socket, JSON.parse(String(data)) as WsRequest));
  });
  const bound = (server.address() as AddressInfo).port;
  return { server, url: `ws://127.0.0.1:${bound}/api/ws`, port: bound };
}

function closeServer(server: WebSocketServer): Promise<void> {
  for (const client of server.clients) client.terminate();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Resolves when the client reaches `state`, failing after a bounded wait. */
async function waitForState(client: WsClient, state: SocketState, timeoutMs = WAIT_MS): Promise<void> {
  if (client.state === state) return;
  let stop = () => {};
  try {
    await within(new Promise<void>((resolve) => (stop = client.onState((now) => now === state && resolve()))), timeoutMs, `the client to become ${state}`);
  } finally {
    stop();
  }
}

function newClient(url: string, requestTimeoutMs?: number): WsClient {
  const client = new WsClient({
    url,
    WebSocket: WebSocket as unknown as WebSocketClass,
    backoff: FAST_BACKOFF,
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  });
  clients.push(client);
  return client;
}

const clients: WsClient[] = [];
const servers: WebSocketServer[] = [];
after(async () => {
  for (const client of clients) client.stop();
  await Promise.all(servers.map(closeServer));
});

const echoFiles: Handler = (socket, request) => {
  socket.send(JSON.stringify({ id: request.id, ok: true, files: request.command === 'show' ? files : [], seq: SEQ }));
};

describe('WsClient', () => {
  it('matches replies to requests by id, even out of order', async () => {
    const held: Array<[WebSocket, WsRequest]> = [];
    const { server, url } = await startServer((socket, request) => {
      held.push([socket, request]);
      if (held.length < 2) return;
      // Answer the second request first.
      for (const [s, r] of held.reverse()) {
        const name = r.command === 'search' ? `match-${r.text}` : 'all';
        s.send(JSON.stringify({ id: r.id, ok: true, files: [{ ...files[0], name }], seq: SEQ }));
      }
    });
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    const [shown, found] = await Promise.all([client.show(), client.search('pdf')]);
    assert.equal(shown.files[0]!.name, 'all');
    assert.equal(found.files[0]!.name, 'match-pdf');
    assert.equal(shown.seq, SEQ);
  });

  it("rejects with the server's own line on ok: false", async () => {
    const { server, url } = await startServer((socket, request) => {
      socket.send(JSON.stringify({ id: request.id, ok: false, error: 'Server is shutting down' }));
    });
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    await assert.rejects(client.show(), (error: WebError) => {
      assert.equal(error.code, WebErrorCode.WS_REPLY);
      assert.equal(error.message, 'Server is shutting down');
      return true;
    });
  });

  it('delivers pushed events to listeners', async () => {
    const { server, url } = await startServer(echoFiles);
    servers.push(server);
    server.on('connection', (socket) => {
      socket.send(JSON.stringify({ event: 'upstream', connected: false }));
      socket.send(JSON.stringify({ event: 'files-changed', change: { type: 'removed', seq: 7, name: 'a.txt' } }));
    });
    const client = newClient(url);
    const events: unknown[] = [];
    const twoEvents = new Promise<void>((resolve) => {
      client.onEvent((event) => {
        events.push(event);
        if (events.length === 2) resolve();
      });
    });
    client.start();
    await twoEvents;
    assert.deepEqual(events, [
      { event: 'upstream', connected: false },
      { event: 'files-changed', change: { type: 'removed', seq: 7, name: 'a.txt' } },
    ]);
  });

  it('refuses requests while not connected instead of queueing them forever', async () => {
    const client = newClient('ws://127.0.0.1:9/api/ws');
    await assert.rejects(client.show(), (error: WebError) => error.code === WebErrorCode.WS_CLOSED);
  });

  it('times out a request the server never answers, keeping the socket', async () => {
    const { server, url } = await startServer(() => {});
    servers.push(server);
    const client = newClient(url, 100);
    client.start();
    await waitForState(client, 'open');
    await assert.rejects(client.show(), (error: WebError) => error.code === WebErrorCode.WS_TIMEOUT);
    assert.equal(client.state, 'open');
  });

  it('fails waiting requests when the socket drops, then reconnects by itself', async () => {
    let answer = false;
    const { server, url } = await startServer((socket, request) => {
      if (answer) echoFiles(socket, request);
      else socket.terminate();
    });
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    await assert.rejects(client.show(), (error: WebError) => error.code === WebErrorCode.WS_CLOSED);
    answer = true;
    await waitForState(client, 'open');
    assert.deepEqual(await client.show(), { files, seq: SEQ });
  });

  it('keeps retrying while the server is down and recovers when it is back on the same port', async () => {
    const first = await startServer(echoFiles);
    const client = newClient(first.url);
    const seen: SocketState[] = [];
    client.onState((state) => seen.push(state));
    client.start();
    await waitForState(client, 'open');

    await closeServer(first.server);
    await waitForState(client, 'closed');
    // A few retries fail against the closed port.
    await eventually(() => seen.filter((state) => state === 'connecting').length >= 2, 'two retries');
    assert.ok(seen.filter((state) => state === 'connecting').length >= 2, `retried: ${seen.join(',')}`);

    const second = await startServer(echoFiles, first.port);
    servers.push(second.server);
    await waitForState(client, 'open');
    assert.deepEqual(await client.show(), { files, seq: SEQ });
  });

  it('asks for the changes since a position, and reads a resync answer', async () => {
    const change = { type: 'added', seq: 12, file: files[0] };
    const { server, url } = await startServer((socket, request) => {
      if (request.command !== 'since') return;
      const reply = request.seq >= 10 ? { changes: [change], seq: 12 } : { resync: true, seq: 12 };
      socket.send(JSON.stringify({ id: request.id, ok: true, ...reply }));
    });
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    assert.deepEqual(await client.since(11), { resync: false, changes: [change], seq: 12 });
    assert.deepEqual(await client.since(3), { resync: true, seq: 12 });
  });

  it('answers ping with the pong, and fails it after its own timeout', async () => {
    let pong = true;
    const { server, url } = await startServer((socket, request) => {
      if (request.command === 'ping' && pong) socket.send(JSON.stringify({ id: request.id, ok: true, pong: true }));
    });
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    await client.ping(1000);
    pong = false;
    await assert.rejects(client.ping(50), (error: WebError) => error.code === WebErrorCode.WS_TIMEOUT);
  });

  it('reconnect() replaces a socket at once, failing what waited on the old one', async () => {
    let connections = 0;
    const { server, url } = await startServer(() => {});
    server.on('connection', () => (connections += 1));
    servers.push(server);
    const client = newClient(url);
    const seen: SocketState[] = [];
    client.onState((state) => seen.push(state));
    client.start();
    await waitForState(client, 'open');
    const waiting = client.show();
    client.reconnect();
    await assert.rejects(waiting, (error: WebError) => error.code === WebErrorCode.WS_CLOSED);
    await waitForState(client, 'open');
    assert.equal(connections, 2);
    assert.deepEqual(seen, ['connecting', 'open', 'connecting', 'open']);
  });

  it('stays closed after stop()', async () => {
    const { server, url } = await startServer(echoFiles);
    servers.push(server);
    const client = newClient(url);
    client.start();
    await waitForState(client, 'open');
    client.stop();
    assert.equal(client.state, 'closed');
    // Staying closed for a while is what is tested: longer than the backoff before a retry.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(client.state, 'closed');
    assert.equal(server.clients.size, 0);
  });
});

describe('socketUrl', () => {
  it('a close for a refused sign-in is reported with its reason, and waits for reconnectNow() instead of retrying', async () => {
    let connections = 0;
    let refuse = true;
    const { server, url } = await startServer(echoFiles);
    servers.push(server);
    server.on('connection', (socket) => {
      connections += 1;
      if (refuse) socket.close(WS_CLOSE_SIGNED_OUT, 'Invalid token');
    });
    const client = newClient(url);
    const reasons: string[] = [];
    client.onSignedOut((reason) => reasons.push(reason));
    client.start();
    await eventually(() => reasons.length === 1, 'the sign-out to be reported');
    assert.deepEqual(reasons, ['Invalid token']);
    assert.equal(client.state, 'closed');
    // Many backoff steps later, still one connection: nothing retried on its own.
    await new Promise((resolve) => setTimeout(resolve, FAST_BACKOFF.maxMs * 3));
    assert.equal(connections, 1);

    refuse = false;
    client.reconnectNow();
    await waitForState(client, 'open');
    assert.deepEqual((await client.show()).files, files);
    assert.equal(connections, 2);
  });

  it('uses ws: for http pages and wss: for https pages', () => {
    assert.equal(socketUrl({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/api/ws');
    assert.equal(socketUrl({ protocol: 'https:', host: 'files.example' }), 'wss://files.example/api/ws');
  });
});
