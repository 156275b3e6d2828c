import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { eventually } from 'test-support';
import { listen, startApp, startTorServer } from '../helpers.js';

/** Opens a TCP connection from `localAddress` that never sends a byte; resolves once it is open or refused. */
function idleConnection(port: number, localAddress: string, sockets: net.Socket[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    sockets.push(socket);
    socket.on('error', () => {});
    // Reads what the server says (a refusal, a timeout line) but never sends a byte.
    socket.resume();
    socket.once('connect', () => resolve());
    socket.once('close', () => resolve());
  });
}

test('one address holding idle connections cannot starve the gateway: it stays served, and the idle ones are closed after the first-command deadline', { timeout: 30_000 }, async (t) => {
  // The tor-server's defaults (64 per address), but a short first-command deadline to keep the test quick.
  const { server, dir, port } = await startTorServer(t, { firstCommandTimeoutMs: 1500 });
  await fs.writeFile(path.join(dir, 'notes.txt'), 'hello');
  const attacker: net.Socket[] = [];
  t.after(() => attacker.forEach((socket) => socket.destroy()));
  await Promise.all(Array.from({ length: 300 }, () => idleConnection(port, '127.0.0.2', attacker)));
  const held = () => [...server.connections].filter((c) => c.remoteAddress === '127.0.0.2').length;
  const refused = () => attacker.filter((socket) => socket.destroyed || socket.readableEnded).length;
  await eventually(() => held() === 64 && refused() === 300 - 64, 'the attacker to hold exactly its per-address share of 64, the rest refused');

  const base = await listen(await startApp(t, port));
  const listing = await fetch(`${base}/api/files`);
  assert.equal(listing.status, 200);
  assert.deepEqual(((await listing.json()) as { name: string }[]).map((f) => f.name), ['notes.txt']);
  const file = await fetch(`${base}/api/files/notes.txt`);
  assert.equal(file.status, 200);
  assert.equal(await file.text(), 'hello');
  assert.equal(((await (await fetch(`${base}/api/health`)).json()) as { upstream: string }).upstream, 'ok');

  await eventually(() => held() === 0, "the attacker's idle connections closed by the first-command deadline", 10_000);
  await eventually(() => attacker.every((socket) => socket.destroyed || socket.readableEnded), 'every attacker socket told to go', 10_000);
});
