import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { eventually, scratchDir, spawnGateway, within } from 'test-support';
import WebSocket from 'ws';
import { DEFAULT_MAX_IDLE as MAX_IDLE_TRANSFERS } from '../../src/lib/transfer-pool.js';
import { startTorServer, storedNames, tempFiles } from '../helpers.js';

const MiB = 1024 * 1024;
const EACH = 20;
const POOL_SIZE = 16;

/** Opens a raw connection to the gateway, writes `text`, and leaves it to the caller. */
async function rawOpen(port: number, text: string | Buffer): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(text);
  return socket;
}

/** Waits until `socket` has seen the start of an answer (or closed), boundedly. */
async function firstBytes(socket: net.Socket, what: string): Promise<string> {
  return within(
    new Promise<string>((resolve) => {
      socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1')));
      socket.once('close', () => resolve(''));
    }),
    10_000,
    `an answer to ${what}`,
  );
}

test('hostile clients (idle sockets, lying sizes, cuts at every stage, dropped sessions) leave the gateway with no extra descriptor, connection or spool file', { timeout: 60_000 }, async (t) => {
  const { server, dir, port: torPort } = await startTorServer(t);
  await fs.writeFile(path.join(dir, 'big.bin'), Buffer.alloc(32 * MiB, 7));
  const spoolDir = await scratchDir(t, 'gw-spool-');
  // TMPDIR is where the gateway spools form parts that came without a size.
  // Every hostile client comes from 127.0.0.1 here: lift the per-address transfer limit to reach the other defences.
  const gateway = await spawnGateway(t, { torPort: torPort, args: ['--max-transfers-per-address', '1000'], env: { TMPDIR: spoolDir }, fromSource: true });
  // tsx keeps its cache in the same temporary folder.
  const spoolFiles = async () => (await fs.readdir(spoolDir)).filter((name) => name.startsWith('tor-gateway-'));
  const { port, host } = new URL(gateway.url);
  const p = Number(port);
  // Warm up: the first requests load code and open the pooled connection.
  await fetch(`${gateway.url}/api/files`);
  const baseline = await gateway.fds();
  const pooled = server.connections.size;

  const sockets: net.Socket[] = [];
  t.after(() => sockets.forEach((socket) => socket.destroy()));
  const boundary = 'hostile';
  const formHead = (name: string, size?: number) =>
    `POST /api/files HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${100 * MiB}\r\n\r\n` +
    (size === undefined ? '' : `--${boundary}\r\nContent-Disposition: form-data; name="size"\r\n\r\n${size}\r\n`) +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`;

  for (let i = 0; i < EACH; i++) {
    // Half a request line, then nothing.
    sockets.push(await rawOpen(p, 'GET /api/fi'));
    // Headers announcing 10 MiB, 1 MiB sent, then silence.
    sockets.push(await rawOpen(p, Buffer.concat([Buffer.from(`PUT /api/files/lying-${i}.bin HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${10 * MiB}\r\n\r\n`), randomBytes(MiB)])));
    // Expect: 100-continue, then never a body.
    const waiting = await rawOpen(p, `PUT /api/files/never-${i}.bin HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${MiB}\r\nExpect: 100-continue\r\n\r\n`);
    assert.match(await firstBytes(waiting, 'a PUT expecting 100-continue'), /^HTTP\/1\.1 100 Continue/);
    sockets.push(waiting);
    // A form whose size field lies (more bytes follow than it said).
    const liar = await rawOpen(p, Buffer.concat([Buffer.from(formHead(`liar-${i}.bin`, 1000)), randomBytes(64 * 1024)]));
    assert.match(await firstBytes(liar, 'a form with a lying size'), /^HTTP\/1\.1 400 /);
    sockets.push(liar);
    // A form part without a size, cut while it is being spooled.
    sockets.push(await rawOpen(p, Buffer.concat([Buffer.from(formHead(`spooled-${i}.bin`)), randomBytes(2 * MiB)])));
    // A download and a range cut right after their headers.
    for (const range of ['', 'Range: bytes=1000-\r\n']) {
      const download = await rawOpen(p, `GET /api/files/big.bin HTTP/1.1\r\nHost: ${host}\r\n${range}\r\n`);
      assert.match(await firstBytes(download, `a download ${range}`), /^HTTP\/1\.1 20[06] /);
      download.destroy();
    }
    // A WebSocket dropped mid-request, without a close frame.
    const ws = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/api/ws`);
    ws.on('error', () => {});
    await once(ws, 'message');
    ws.send(JSON.stringify({ id: 1, command: 'show' }));
    ws.terminate();
  }
  // Every spool file is being written now; the uploads are waiting for bytes.
  await eventually(async () => (await spoolFiles()).length > 0, 'a spool file to appear');
  for (const socket of sockets) socket.destroy();

  // Downloads look files up over the command pool, which may have grown a little, and keep a
  // few clean transfer connections for the next ones; besides the one change feed (watching),
  // nothing else is left.
  const transferring = () => [...server.connections].filter((c) => c.activity.kind !== 'idle' && c.activity.kind !== 'watching').length;
  const kept = POOL_SIZE + MAX_IDLE_TRANSFERS + 1;
  await eventually(() => transferring() === 0 && server.connections.size <= kept, `the tor-server to be left with kept connections only (has ${server.connections.size}, at most ${kept})`, 15_000);
  await eventually(async () => (await spoolFiles()).length === 0, 'the spool files to be removed', 15_000);
  await eventually(async () => (await tempFiles(dir)).length === 0, 'the tor-server temp folder to empty', 15_000);
  await eventually(async () => (await gateway.fds()) <= baseline + (server.connections.size - pooled), `the gateway's descriptors to return to ${baseline} (has ${await gateway.fds()})`, 15_000);
  assert.deepEqual(await storedNames(dir), ['big.bin']);
  // And it still serves.
  const res = await fetch(`${gateway.url}/api/files/big.bin`, { headers: { range: 'bytes=0-9' } });
  assert.equal(res.status, 206);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.alloc(10, 7));
});
