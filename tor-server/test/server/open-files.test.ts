import assert from 'node:assert/strict';
import { readdir, readlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from 'test-support';
import { LineClient, patternBytes, startServer } from '../helpers.js';

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
});
