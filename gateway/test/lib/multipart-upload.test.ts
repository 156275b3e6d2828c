import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { test } from 'node:test';
import request from 'supertest';
import { ErrorKind, errorReply } from 'tor-server/protocol';
import { scratchDir, startApp, startTorServer, storedNames } from '../helpers.js';

/**
 * A TCP proxy to the tor-server that can play its first-command deadline crossing the
 * gateway's first command: the next `cut` connections are answered, as soon as the gateway
 * sends anything, with the tor-server's goodbye, and closed.
 */
async function deadlineProxy(t: { after(fn: () => unknown): void }, torPort: number): Promise<{ port: number; cutNext(count: number): void; cut(): number }> {
  let toCut = 0;
  let cut = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    sockets.add(inbound);
    inbound.on('error', () => {});
    if (toCut > 0) {
      toCut--;
      inbound.once('data', () => {
        cut++;
        inbound.end(`${errorReply(ErrorKind.IDLE_TIMEOUT, 'no command within 10 s, closing the connection')}\n`);
      });
      return;
    }
    const outbound = net.connect(torPort, '127.0.0.1');
    sockets.add(outbound);
    pipeline(inbound, outbound, inbound, () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, cutNext: (count) => (toCut = count), cut: () => cut };
}

test('a form whose connection the tor-server closes just as its first command goes out is retried once on a fresh one, with or without a size hint', async (t) => {
  const { dir, port: torPort } = await startTorServer(t);
  const proxy = await deadlineProxy(t, torPort);
  const spoolDir = await scratchDir(t, 'gw-spool-');
  // A gateway of its own for each form: a gateway keeps a clean connection for its next transfer.
  const freshApp = () => startApp(t, proxy.port, { spoolDir });

  proxy.cutNext(1);
  const hinted = await request((await freshApp()).server).post('/api/files').field('size', '5').attach('file', Buffer.from('hello'), 'hinted.txt');
  assert.equal(hinted.status, 201, JSON.stringify(hinted.body));
  assert.equal(proxy.cut(), 1);

  proxy.cutNext(1);
  const spooled = await request((await freshApp()).server).post('/api/files').attach('file', Buffer.from('spooled'), 'spooled.txt');
  assert.equal(spooled.status, 201, JSON.stringify(spooled.body));
  assert.equal(proxy.cut(), 2);
  assert.deepEqual(await storedNames(dir), ['hinted.txt', 'spooled.txt']);
  assert.equal(await fs.readFile(path.join(dir, 'spooled.txt'), 'utf8'), 'spooled');

  // Once only: a second closing in a row is the answer.
  proxy.cutNext(2);
  const twice = await request((await freshApp()).server).post('/api/files').field('size', '3').attach('file', Buffer.from('abc'), 'twice.txt');
  assert.equal(twice.status, 503);
  assert.equal(twice.body.files[0].ok, false);
  assert.equal(proxy.cut(), 4);
  assert.deepEqual(await storedNames(dir), ['hinted.txt', 'spooled.txt']);
});
