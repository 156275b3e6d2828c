import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, scratchDir, spawnTorServer } from 'test-support';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, patternBytes, visibleNames } from '../helpers.js';
import { loggedClients } from './server-log.js';

/** Open file descriptors of a process (sockets and files alike). */
async function fdCount(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

const data = patternBytes(512 * 1024, 11);

/** Each stage of the upload exchange at which a client can vanish. */
const stages: Array<[string, (client: LineClient) => Promise<void>]> = [
  ['right after connecting', async () => {}],
  ['after sending the upload line, before reading ok', async (c) => c.send('upload v.bin\n')],
  ['after ok, before the size line', async (c) => void (await c.request('upload v.bin'))],
  ['after the size line, before reading ok', async (c) => {
    assert.equal(await c.request('upload v.bin'), 'ok');
    c.send(`${data.length}\n`);
  }],
  ['after the second ok, before any byte', async (c) => {
    assert.equal(await c.request('upload v.bin'), 'ok');
    assert.equal(await c.request(String(data.length)), 'ok');
  }],
  ['midway through the bytes', async (c) => {
    assert.equal(await c.request('upload v.bin'), 'ok');
    assert.equal(await c.request(String(data.length)), 'ok');
    c.send(data.subarray(0, data.length / 2));
  }],
  ['one byte short of the end', async (c) => {
    assert.equal(await c.request('upload v.bin'), 'ok');
    assert.equal(await c.request(String(data.length)), 'ok');
    c.send(data.subarray(0, data.length - 1));
  }],
  ['midway through a download', async (c) => {
    assert.equal(await c.request('download seed.bin'), 'ok');
    assert.equal(await c.line(), 'found');
    await c.line();
    await c.bytes(1000);
  }],
];

test('clients that vanish at every stage of a transfer leak no connection, file handle or temp file', async (t: TestContext) => {
  const dir = await scratchDir(t);
  await writeFile(path.join(dir, 'seed.bin'), patternBytes(8 * 1024 * 1024, 5));
  const server = await spawnTorServer(t, { dir });
  const pid = server.child.pid!;

  // Warm up once, so lazily opened descriptors (the thread pool, the event loop) are counted in the baseline.
  const warm = await LineClient.connect(t, server.port);
  assert.deepEqual(await warm.upload('warm.bin', data), ['ok', 'ok', 'end']);
  warm.send('exit\n');
  await warm.closed();
  await eventually(() => loggedClients(server) === 0, 'no client online after warm-up');
  const baseline = await fdCount(pid);

  for (const [stage, act] of stages) {
    const client = await LineClient.connect(t, server.port);
    await act(client);
    client.destroy();
    await eventually(() => loggedClients(server) === 0, `client count back to 0 (${stage})`);
    await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, `temp folder empty (${stage})`);
    await eventually(async () => (await fdCount(pid)) <= baseline, `file descriptors back to ${baseline} (${stage})`);
    assert.deepEqual(await visibleNames(dir), ['seed.bin', 'warm.bin'], `nothing stored (${stage})`);
  }

  // And the server still serves.
  const after = await LineClient.connect(t, server.port);
  assert.deepEqual(await after.upload('v.bin', data), ['ok', 'ok', 'end']);
});
