import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, scratchDir, sha256, within } from 'test-support';
import { ErrorKind, Reply, errorKindOf, errorReply } from '../../src/protocol/constants.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { MAX_LINGERING_REFUSALS, TorServer } from '../../src/server/server.js';
import { LineClient, memoryLogger, patternBytes, startServer, visibleNames } from '../helpers.js';

describe('start', () => {
  it('creates a missing folder, serves the files already in it, and empties the temp folder of an earlier run', async (t) => {
    const root = await scratchDir(t);
    const dir = path.join(root, 'new', 'nested');
    const first = await startServer(t, { dir });
    await first.server.close(0);
    await writeFile(path.join(dir, 'old.txt'), 'from before');
    await writeFile(path.join(dir, TEMP_DIR_NAME, 'abandoned.part'), 'half an upload');
    await mkdir(path.join(dir, TEMP_DIR_NAME, 'junk'));
    const { port } = await startServer(t, { dir });
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual((await client.listing()).map((row) => row.split('\t').slice(0, 2).join('\t')), ['old.txt\t11']);
    assert.deepEqual(await client.download('download old.txt'), Buffer.from('from before'));
  });

  it('reports the address it listens on', async (t) => {
    const { server, port } = await startServer(t);
    assert.equal(server.address().address, '127.0.0.1');
    assert.ok(port > 0);
  });

  it('a port in use fails start with EADDRINUSE', async (t) => {
    const { port } = await startServer(t);
    await assert.rejects(TorServer.start({ host: '127.0.0.1', port, dir: await scratchDir(t) }), { code: 'EADDRINUSE' });
  });
});

describe('many clients', () => {
  it('50 concurrent clients upload and download distinct files, all byte-identical', async (t) => {
    const { port, dir, server } = await startServer(t);
    const count = 50;
    const served = Array.from({ length: count }, (_, i) => patternBytes(64 * 1024 + i * 4099, 1000 + i));
    const uploads = Array.from({ length: count }, (_, i) => patternBytes(64 * 1024 + i * 3001, 2000 + i));
    await Promise.all(served.map((data, i) => writeFile(path.join(dir, `served-${i}.bin`), data)));
    const clients = await Promise.all(Array.from({ length: count }, () => LineClient.connect(t, port)));
    await eventually(() => server.connections.size === count, `${count} clients connected`);
    const everyClient = (work: (client: LineClient, i: number) => Promise<void>) => within(Promise.all(clients.map(work)), 30_000, `${count} clients`);
    await everyClient(async (client, i) => {
      assert.deepEqual(await client.upload(`up-${i}.bin`, uploads[i]!, 20_000), [Reply.OK, Reply.OK, Reply.END]);
      assert.equal(sha256(await client.download(`download served-${i}.bin`, 20_000)), sha256(served[i]!));
    });
    // Then each fetches what its neighbour uploaded.
    await everyClient(async (client, i) => {
      const j = (i + 1) % count;
      assert.equal(sha256(await client.download(`download up-${j}.bin`, 20_000)), sha256(uploads[j]!));
      assert.equal(await client.request('exit'), Reply.EXIT);
    });
    for (let i = 0; i < count; i++) assert.equal(sha256(await readFile(path.join(dir, `up-${i}.bin`))), sha256(uploads[i]!), `up-${i}.bin`);
    assert.equal((await visibleNames(dir)).length, 2 * count);
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
  });
});

describe('close', () => {
  it('closes idle clients at once and stops accepting', async (t) => {
    const { server, port } = await startServer(t);
    const idle = await LineClient.connect(t, port);
    await within(server.close(5000));
    assert.equal(await idle.rest(), '');
    await assert.rejects(
      new Promise((resolve, reject) => net.connect({ host: '127.0.0.1', port }).once('connect', resolve).once('error', reject)),
      { code: 'ECONNREFUSED' },
    );
  });

  it('lets an upload in flight finish within the grace, then closes that client', async (t) => {
    const { server, port, dir } = await startServer(t);
    const data = patternBytes(500_000);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload graceful.bin'), Reply.OK);
    assert.equal(await client.request(String(data.length)), Reply.OK);
    client.send(data.subarray(0, 100_000));
    await eventually(() => [...server.connections].some((c) => c.activity.kind === 'uploading'), 'the upload is under way');
    const closing = server.close(10_000);
    let closed = false;
    void closing.then(() => (closed = true));
    client.send(Buffer.concat([data.subarray(100_000), Buffer.from('show\n')]));
    assert.equal(await client.line(), Reply.END);
    // No new command is taken once shutdown began: the pipelined show is not answered.
    assert.equal(await client.rest(), '');
    await within(closing);
    assert.ok(closed);
    assert.equal(sha256(await readFile(path.join(dir, 'graceful.bin'))), sha256(data));
  });

  it('lets a download in flight finish within the grace', async (t) => {
    const { server, port, dir } = await startServer(t);
    const data = patternBytes(8 * 1024 * 1024);
    await writeFile(path.join(dir, 'big.bin'), data);
    const client = await LineClient.connect(t, port);
    client.send('download big.bin\n');
    assert.deepEqual(await client.lines(3), [Reply.OK, Reply.FOUND, String(data.length)]);
    const closing = server.close(10_000);
    assert.equal(sha256(await client.bytes(data.length)), sha256(data));
    await within(closing);
  });

  it('cuts an upload still running after the grace and leaves nothing visible', async (t) => {
    const { server, port, dir } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload slow.bin'), Reply.OK);
    assert.equal(await client.request('1000000'), Reply.OK);
    client.send(patternBytes(1000));
    await eventually(() => [...server.connections].some((c) => c.activity.kind === 'uploading'), 'the upload is under way');
    await within(server.close(200));
    // Regression: close() used to resolve before the cut upload's temp file was removed, so the bin exited leaving it.
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
    assert.deepEqual(await visibleNames(dir), []);
    assert.equal(await client.rest(), '');
  });
});

describe('connections per address', () => {
  it('one address holding its limit of idle connections is refused more, while other addresses are served', async (t) => {
    const { port, server } = await startServer(t, { maxClientsPerAddress: 3 });
    const held = await Promise.all([1, 2, 3].map(() => LineClient.connect(t, port, '127.0.0.2')));
    await eventually(() => server.connections.size === 3, 'the three are online');
    for (let i = 0; i < 3; i++) {
      const extra = await LineClient.connect(t, port, '127.0.0.2');
      const refused = await extra.line();
      assert.equal(refused, errorReply(ErrorKind.TOO_MANY_CLIENTS, '127.0.0.2 already has 3 connections, the limit per address'));
      assert.equal(errorKindOf(refused), ErrorKind.TOO_MANY_CLIENTS);
      assert.equal(await extra.rest(), '');
    }
    const bystander = await LineClient.connect(t, port, '127.0.0.1');
    assert.equal(await bystander.request('show'), Reply.OK);
    assert.deepEqual(await bystander.listing(), []);
    // One of the three leaves: that address gets a slot again.
    held[0]!.destroy();
    await eventually(() => server.connections.size === 3, 'the one that left is forgotten');
    const again = await LineClient.connect(t, port, '127.0.0.2');
    assert.equal(await again.request('show'), Reply.OK);
    assert.equal(held[1]!.ended, false);
  });

  it(`a flood of refused connections that never read holds at most ${MAX_LINGERING_REFUSALS} lingering, and logs no more`, async (t) => {
    const log = memoryLogger('debug');
    const { port } = await startServer(t, { maxClientsPerAddress: 1, logger: log.logger });
    const flood = 4 * MAX_LINGERING_REFUSALS;
    // Sockets that never read: a lingering refusal holds each one for its whole linger time.
    await Promise.all(
      Array.from({ length: flood + 1 }, () =>
        new Promise<void>((resolve) => {
          const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
          t.after(() => socket.destroy());
          socket.pause();
          socket.on('error', () => {});
          socket.once('connect', () => resolve());
          socket.once('close', () => resolve());
        }),
      ),
    );
    const refusals = (level: string) => log.lines.filter((line) => line.includes(` ${level} refused `)).length;
    await eventually(() => refusals('warn') + refusals('debug') === flood, `all ${flood} refusals made`);
    assert.ok(refusals('debug') > 0, 'past the cap, refusals are closed at once and logged at debug only');
    assert.ok(refusals('warn') < flood, `${refusals('warn')} refusal warnings for ${flood} refusals`);
    const bystander = await LineClient.connect(t, port, '127.0.0.3');
    assert.equal(await bystander.request('show'), Reply.OK);
  });

  it('counts an IPv4 client of a dual-stack listener (::ffff:1.2.3.4) as its IPv4 address', async (t) => {
    const dir = await scratchDir(t);
    const server = await TorServer.start({ host: '::', port: 0, dir, maxClientsPerAddress: 1 });
    t.after(() => within(server.close(0), 5000, 'server.close()'));
    const { port } = server.address();
    const first = await LineClient.connect(t, port, '127.0.0.2');
    assert.equal(await first.request('show'), Reply.OK);
    await first.listing();
    assert.deepEqual([...server.connections].map((c) => c.remoteAddress), ['127.0.0.2']);
    const second = await LineClient.connect(t, port, '127.0.0.2');
    assert.equal(await second.line(), errorReply(ErrorKind.TOO_MANY_CLIENTS, '127.0.0.2 already has 1 connection, the limit per address'));
  });
});
