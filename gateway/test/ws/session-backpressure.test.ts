import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import type { WsServerMessage } from '../../src/api/index.js';
import { MAX_QUEUED_REQUESTS } from '../../src/ws/session.js';
import { listen, scratchDir, startApp, startTorServer, waitFor, withTimeout } from '../helpers.js';

const MiB = 1024 * 1024;
const UNSENT_CHANGES = 5;

/** A folder whose listing is about half a megabyte of JSON. */
async function bigListing(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await scratchDir(t, 'gw-tor-');
  const names = Array.from({ length: 2000 }, (_, i) => `${String(i).padStart(5, '0')}-${'x'.repeat(190)}.txt`);
  for (let i = 0; i < names.length; i += 250) await Promise.all(names.slice(i, i + 250).map((name) => fs.writeFile(path.join(dir, name), '')));
  return dir;
}

interface Client {
  socket: WebSocket;
  messages: WsServerMessage[];
  /** The gateway's end of the same TCP connection. */
  gatewaySide: net.Socket;
}

/** A client socket recording every message; resolves once it is open and has had the upstream event. */
async function openClient(t: { after(fn: () => unknown): void }, app: FastifyInstance, base: string): Promise<Client> {
  const accepted = once(app.server, 'connection') as Promise<[net.Socket]>;
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/api/ws`);
  t.after(() => socket.terminate());
  const messages: WsServerMessage[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data)) as WsServerMessage));
  const [gatewaySide] = await withTimeout(accepted, 5000, 'the gateway to accept the connection');
  await withTimeout(once(socket, 'open'), 5000, 'the socket to open');
  await waitFor(() => messages.length > 0, 'the upstream event');
  return { socket, messages, gatewaySide };
}

const replyIds = (messages: WsServerMessage[]) => messages.flatMap((m) => ('id' in m ? [m.id] : []));

test('a burst of requests beyond the queue limit is answered in request order, refusals included', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t);
  const app = await startApp(t, port);
  const base = await listen(app);
  const { socket, messages } = await openClient(t, app, base);
  const count = 3 * MAX_QUEUED_REQUESTS;
  for (let id = 1; id <= count; id++) socket.send(JSON.stringify({ id, command: id % 2 ? 'show' : 'search', text: 'x' }));
  await waitFor(() => replyIds(messages).length === count, `${count} replies`, 20_000);
  assert.deepEqual(replyIds(messages), Array.from({ length: count }, (_, i) => i + 1));
  for (const message of messages) {
    if ('id' in message && !message.ok) assert.match(message.error, /requests are waiting; wait for the answers/);
  }
});

test('a session whose client does not read stops reading its requests, and past its bound of unsent changes gets one resync instead', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t, { dir: await bigListing(t) });
  const app = await startApp(t, port, { wsMaxUnsentChanges: UNSENT_CHANGES });
  const base = await listen(app);
  const { socket, messages, gatewaySide } = await openClient(t, app, base);
  // From here the client reads nothing: the gateway's replies back up.
  socket.pause();
  const requests = 40;
  for (let id = 1; id <= requests; id++) socket.send(JSON.stringify({ id, command: 'show' }));
  await waitFor(() => gatewaySide.writableLength > MiB && gatewaySide.isPaused(), 'the gateway to stop reading, with a megabyte of replies unsent', 20_000);

  const uploads = 4 * UNSENT_CHANGES;
  for (let i = 0; i < uploads; i++) {
    const res = await fetch(`${base}/api/files/upload-${i}.txt`, { method: 'PUT', body: 'hi' });
    assert.equal(res.status, 201);
  }
  assert.ok(gatewaySide.writableLength < 4 * MiB, `${gatewaySide.writableLength} bytes unsent`);

  socket.resume();
  await waitFor(() => replyIds(messages).includes(requests), 'every reply once the client reads', 30_000);
  assert.deepEqual(replyIds(messages), Array.from({ length: requests }, (_, i) => i + 1), 'every request answered, in order');
  await waitFor(() => messages.some((m) => 'event' in m && m.event === 'files-changed' && m.change.type === 'resync'), 'the resync once the client caught up', 10_000);
  const changes = messages.flatMap((m) => ('event' in m && m.event === 'files-changed' ? [m.change] : []));
  // The changes handed over before the session fell behind, in order, then one resync: list again.
  assert.ok(changes.length <= UNSENT_CHANGES + 1, `${changes.length} files-changed events for ${uploads} uploads`);
  assert.equal(changes.at(-1)!.type, 'resync');
  const added = changes.slice(0, -1);
  assert.ok(added.every((change, i) => change.type === 'added' && (i === 0 || change.seq === added[i - 1]!.seq + 1)), 'single changes in seq order');
});

test('a client that lets more than the limit of replies pile up unread is still closed', { timeout: 30_000 }, async (t) => {
  const { port } = await startTorServer(t, { dir: await bigListing(t) });
  // A high-water mark above the limit: nothing pauses the session before the limit is passed.
  const app = await startApp(t, port, { wsHighWaterBytes: 64 * MiB, wsMaxBufferedBytes: MiB / 4 });
  const base = await listen(app);
  const { socket, gatewaySide } = await openClient(t, app, base);
  socket.pause();
  for (let id = 1; id <= 60; id++) socket.send(JSON.stringify({ id, command: 'show' }));
  await waitFor(() => gatewaySide.destroyed, 'the gateway to close the session', 20_000);
});
