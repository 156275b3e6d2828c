import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { eventually, sha256, spawnTorServer, type TorServerProcess } from 'test-support';
import { ErrorKind } from '../../src/protocol/constants.js';
import { PARTIALS_DIR_NAME } from '../../src/server/partials/partial-store.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { runClient } from '../cli/helpers.js';
import { LineClient, patternBytes, visibleNames } from '../helpers.js';
import { begin, put, status } from '../server/resumable-helpers.js';

/** Mounts a small tmpfs (needs root); returns the reason when this machine does not allow it. */
function mountSmallFs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim() || 'mount failed';
  }
}

/** Fills the file system with a hidden file until it is full. */
async function fill(file: string): Promise<void> {
  const handle = await open(file, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) await handle.write(block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * A spawned tor-server serving a fresh small tmpfs (8 MiB unless told), unmounted when the test ends; undefined
 * (the test skipped) when this machine does not allow mounting one.
 */
async function serverOnSmallFs(t: TestContext, size = '8m'): Promise<{ server: TorServerProcess; dir: string } | undefined> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tor-diskfull-'));
  const problem = mountSmallFs(dir, size);
  if (problem) {
    await rm(dir, { recursive: true, force: true });
    console.log(`SKIPPED: disk-full test (cannot mount a small tmpfs here: ${problem})`);
    t.skip(`cannot mount a tmpfs: ${problem}`);
    return undefined;
  }
  const server = await spawnTorServer(t, { dir });
  // Registered after spawnTorServer's own cleanup, so the server is gone before the unmount.
  t.after(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    execFileSync('umount', ['-l', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return { server, dir };
}

test('disk full during an upload: a clear error, nothing partial stored, the server keeps serving', async (t) => {
  const onSmallFs = await serverOnSmallFs(t);
  if (!onSmallFs) return;
  const { server, dir } = onSmallFs;
  const client = await LineClient.connect(t, server.port);

  // Too big for the free space: refused at the size line, before a byte is sent.
  assert.equal(await client.request('upload huge.bin'), 'ok');
  assert.match(await client.request(String(20 * 1024 * 1024)), new RegExp(`^${ErrorKind.NO_SPACE}: `));

  // Fits when accepted, but the disk fills up (another writer) while the bytes arrive.
  const data = patternBytes(3 * 1024 * 1024, 9);
  assert.equal(await client.request('upload fits.bin'), 'ok');
  assert.equal(await client.request(String(data.length)), 'ok');
  client.send(data.subarray(0, 1024 * 1024));
  await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 1, 'the upload started');
  const filler = path.join(dir, '.filler');
  await fill(filler);
  client.send(data.subarray(1024 * 1024));
  assert.equal(await client.line(), `${ErrorKind.NO_SPACE}: the upload did not fit and was discarded`);
  assert.deepEqual(await visibleNames(dir), []);
  await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, 'the temp file removed');

  // The same connection and the server go on: with space back, the upload succeeds.
  await rm(filler);
  assert.equal(await client.request('show'), 'ok');
  assert.deepEqual(await client.listing(), []);
  assert.deepEqual(await client.upload('fits.bin', data), ['ok', 'ok', 'end']);
  assert.deepEqual(await readFile(path.join(dir, 'fits.bin')), data);
});

test('disk full during a put: a clear error, the bytes written before it kept, and the upload resumes once there is space', async (t) => {
  const onSmallFs = await serverOnSmallFs(t);
  if (!onSmallFs) return;
  const { server, dir } = onSmallFs;
  const client = await LineClient.connect(t, server.port);
  const data = patternBytes(3 * 1024 * 1024, 10);
  const { id } = await begin(client, data.length, sha256(data), 'big.bin');
  assert.equal(await client.request(`put ${id} 0 ${data.length}`), 'ok');
  client.send(data.subarray(0, 1024 * 1024));
  const partialData = path.join(dir, PARTIALS_DIR_NAME, `${id}.data`);
  await eventually(async () => (await stat(partialData)).size > 0, 'the put started');
  const filler = path.join(dir, '.filler');
  await fill(filler);
  client.send(data.subarray(1024 * 1024));
  const reply = await client.line();
  assert.match(reply, new RegExp(`^${ErrorKind.NO_SPACE}: \\d+ of its ${data.length} bytes were kept: ask status$`));
  const kept = Number(/: (\d+) of/.exec(reply)![1]);
  assert.equal(await status(client, id), kept === 0 ? 'have none' : `have 0-${kept}`);
  assert.deepEqual(await visibleNames(dir), []);

  await rm(filler);
  assert.deepEqual(await put(client, id, kept, data.subarray(kept)), ['ok', 'stored']);
  assert.equal(await client.request(`commit ${id}`), 'end');
  assert.deepEqual(await readFile(path.join(dir, 'big.bin')), data);
});

test('tor-client downloading into a full disk: a clear error, the part kept, and the download resumes once there is room', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'tor-diskfull-home-'));
  const problem = mountSmallFs(home, '2m');
  if (problem) {
    await rm(home, { recursive: true, force: true });
    console.log(`SKIPPED: tor-client disk-full test (cannot mount a small tmpfs here: ${problem})`);
    t.skip(`cannot mount a tmpfs: ${problem}`);
    return;
  }
  t.after(async () => {
    execFileSync('umount', ['-l', home]);
    await rm(home, { recursive: true, force: true });
  });
  const served = await mkdtemp(path.join(os.tmpdir(), 'tor-diskfull-served-'));
  t.after(() => rm(served, { recursive: true, force: true }));
  const data = patternBytes(3 * 1024 * 1024, 11);
  await writeFile(path.join(served, 'big.bin'), data);
  const server = await spawnTorServer(t, { dir: served });
  const args = ['--host', '127.0.0.1', '--port', String(server.port), '--home', home, 'download', 'big.bin'];

  const full = await runClient(args, { cwd: home });
  assert.equal(full.code, 1);
  assert.match(full.stderr, /ran out of disk space; the partial download is kept for resuming/);
  const downloads = path.join(home, 'tor-files', 'Downloads');
  const [part] = (await readdir(downloads)).filter((name) => name.startsWith('.tor-part-') && !name.endsWith('.json'));
  assert.ok(part, 'the part file is kept');
  const kept = await readFile(path.join(downloads, part));
  assert.ok(kept.length > 0 && data.subarray(0, kept.length).equals(kept), 'the part file is the first bytes of the file');

  // A bigger disk (remounted with room): the same command continues where it stopped.
  execFileSync('mount', ['-o', 'remount,size=8m', home]);
  const resumed = await runClient(args, { cwd: home });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await readFile(path.join(downloads, 'big.bin')), data);
});

test('tor-client uploading while the server runs out of room: a clear error, what was stored kept, and the same command resumes once there is room', async (t) => {
  const onSmallFs = await serverOnSmallFs(t, '16m');
  if (!onSmallFs) return;
  const { server, dir } = onSmallFs;
  const home = await mkdtemp(path.join(os.tmpdir(), 'tor-diskfull-upload-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  // Above the one-shot threshold, so tor-client goes by begin/put/commit.
  const data = patternBytes(12 * 1024 * 1024, 12);
  const uploads = path.join(home, 'tor-files', 'Uploads');
  await mkdir(uploads, { recursive: true });
  await writeFile(path.join(uploads, 'big.bin'), data);
  // An earlier attempt stored the first 2 MiB (as tor-client begins it: sha256 not yet known), then the disk filled up.
  const earlier = await LineClient.connect(t, server.port);
  const { id } = await begin(earlier, data.length, undefined, 'big.bin');
  const stored = 2 * 1024 * 1024;
  assert.deepEqual(await put(earlier, id, 0, data.subarray(0, stored)), ['ok', 'stored']);
  const filler = path.join(dir, '.filler');
  await fill(filler);
  const args = ['--host', '127.0.0.1', '--port', String(server.port), '--home', home, 'upload', 'big.bin'];

  const full = await runClient(args, { cwd: home });
  assert.equal(full.code, 1, full.stderr);
  assert.match(full.stderr, new RegExp(`^${ErrorKind.NO_SPACE}: .*\\nWhat the server stored of big\\.bin \\(\\d+%\\) is kept; once it has room, run upload big\\.bin again to resume\\.$`, 'm'));
  assert.deepEqual(await visibleNames(dir), []);
  assert.equal(await status(earlier, id), `have 0-${stored}`);

  await rm(filler);
  const resumed = await runClient(args, { cwd: home });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming at 16%/);
  assert.deepEqual(await readFile(path.join(dir, 'big.bin')), data);
});
