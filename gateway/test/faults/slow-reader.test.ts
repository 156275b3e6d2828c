import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { WsProbe, replyOf, scratchDir, spawnGateway, spawnTorServer, withTimeout } from '../helpers.js';

const FILES = 10_000;
const RSS_LIMIT = 250 * 1024 * 1024;
const FLOOD_FOR_MS = 15_000;

/** A WebSocket client by hand: handshake, then masked text frames; it never reads a reply. */
async function rawWebSocket(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    `GET /api/ws HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
  // From here on it reads nothing: every reply stays unread.
  socket.pause();
  return socket;
}

/** One masked text frame (client frames must be masked), for payloads under 126 bytes. */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = randomBytes(4);
  const masked = payload.map((byte, i) => byte ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

test('a WebSocket client that sends show over and over but never reads is closed, and the gateway stays small; others are still served', { timeout: 60_000 }, async (t) => {
  const dir = await scratchDir(t);
  for (let i = 0; i < FILES; i += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, j) => fs.writeFile(path.join(dir, `file-${String(i + j).padStart(5, '0')}.txt`), '')));
  }
  const tor = await spawnTorServer(dir);
  t.after(() => tor.kill());
  const gateway = await spawnGateway(t, tor.port);
  const reader = await WsProbe.open(t, gateway.url);
  await reader.next();

  const slow = await rawWebSocket(gateway.url);
  t.after(() => slow.destroy());
  let closed = false;
  slow.on('error', () => {});
  slow.on('close', () => (closed = true));
  // Write errors also tell a client that reads nothing that the gateway hung up.
  const gone = new Promise<void>((resolve) => slow.once('close', () => resolve()));

  let maxRss = await gateway.rss();
  let sent = 0;
  let answeredMeanwhile = false;
  const until = Date.now() + FLOOD_FOR_MS;
  while (!closed && Date.now() < until) {
    let room = true;
    for (let i = 0; i < 100 && room; i++) room = slow.write(textFrame(JSON.stringify({ id: ++sent, command: 'show' })));
    if (!room) await Promise.race([new Promise((resolve) => slow.once('drain', resolve)), gone, new Promise((resolve) => setTimeout(resolve, 200))]);
    maxRss = Math.max(maxRss, await gateway.rss());
    if (!answeredMeanwhile && sent >= 2000) {
      reader.send({ id: 1, command: 'show' });
      const reply = replyOf(await reader.next((m) => 'id' in m, 15_000));
      assert.equal(reply.ok && reply.files.length, FILES, 'a normal session is answered meanwhile');
      answeredMeanwhile = true;
    }
  }
  assert.ok(maxRss < RSS_LIMIT, `the gateway grew to ${Math.round(maxRss / 1024 / 1024)} MB`);

  // Reading now, the client finds the connection closed by the gateway after what it had been sent.
  slow.resume();
  slow.on('data', () => {});
  await withTimeout(gone, 10_000, `the gateway to close the session (${sent} requests sent)`);
  if (!answeredMeanwhile) {
    reader.send({ id: 1, command: 'show' });
    const reply = replyOf(await reader.next((m) => 'id' in m, 15_000));
    assert.equal(reply.ok && reply.files.length, FILES);
  }
  maxRss = Math.max(maxRss, await gateway.rss());
  assert.ok(maxRss < RSS_LIMIT, `the gateway grew to ${Math.round(maxRss / 1024 / 1024)} MB`);
});
