import assert from 'node:assert/strict';
import { readdir, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from 'test-support';
import { LineClient, patternBytes, startServer } from '../helpers.js';
import { begin, put } from './resumable-helpers.js';

/** Clients that reset right after their command, each a chance for the server to lose a file handle. */
const RESETS = 60;

/** How many of this process's file descriptors are open on `file` (the server runs in-process). */
async function openHandles(file: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(path.join('/proc/self/fd', fd)).catch(() => '');
    if (target === file) count++;
  }
  return count;
}

describe('file handles of clients that leave before their reply', () => {
  // A lost handle may be closed by the garbage collector before it is counted: Node says so with a warning.
  const collected: string[] = [];
  const onWarning = (warning: Error) => {
    if (/Closing file descriptor/.test(warning.message)) collected.push(warning.message);
  };
  before(() => process.on('warning', onWarning));
  after(() => process.off('warning', onWarning));

  for (const command of ['download', 'range 0 10', 'hash']) {
    it(`\`${command}\` then an immediate reset, ${RESETS} times: no handle to the file stays open`, async (t) => {
      const { server, port, dir } = await startServer(t);
      const file = path.join(dir, 'f.bin');
      await writeFile(file, patternBytes(4 * 1024 * 1024));
      for (let i = 0; i < RESETS; i++) {
        const client = await LineClient.connect(t, port);
        client.send(`${command} f.bin\n`);
        client.socket.resetAndDestroy();
      }
      await eventually(async () => server.connections.size === 0, 'every reset connection to be gone');
      await eventually(async () => (await openHandles(file)) === 0, 'no open handle to f.bin');
      assert.deepEqual(collected, [], 'no handle was left for the garbage collector to close');
    });
  }

  it(`puts cut by a reset, ${RESETS} times, then an abort while stored bytes are read back to be hashed: no handle to the partial stays open`, async (t) => {
    const { server, port, dir } = await startServer(t);
    const size = 8 * 1024 * 1024;
    const data = patternBytes(size, 3);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, size, undefined, 'cut.bin');
    const file = path.join(dir, '.tor-partials', `${id}.data`);
    for (let i = 0; i < RESETS; i++) {
      const cutter = await LineClient.connect(t, port);
      const start = (i * 65_536) % (size / 2);
      cutter.send(`put ${id} ${start} ${size / 2 - start}\n`);
      cutter.send(data.subarray(start, start + 10_000 + i * 1000));
      cutter.socket.resetAndDestroy();
    }
    await eventually(async () => server.connections.size === 1, 'every reset connection to be gone');
    // The second half first, then the first: filling the gap starts reading the second half back.
    assert.deepEqual(await put(client, id, size / 2, data.subarray(size / 2)), ['ok', 'stored']);
    assert.deepEqual(await put(client, id, 0, data.subarray(0, size / 2)), ['ok', 'stored']);
    assert.equal(await client.request(`abort ${id}`), 'ok');
    await eventually(async () => (await openHandles(file)) === 0, 'no open handle to the partial');
    assert.deepEqual(collected, [], 'no handle was left for the garbage collector to close');
  });
});
