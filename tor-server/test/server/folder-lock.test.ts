import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { eventually, scratchDir, within } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { FolderLock, FolderLockedError, LOCK_FILE_NAME } from '../../src/server/store/folder-lock.js';
import { TorServer } from '../../src/server/server.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { LineClient, startServer } from '../helpers.js';

/** A pid no process has: above the kernel's largest (pid_max is at most 2^22). */
const NO_SUCH_PID = 2 ** 22 + 1;

/** What the lock file says now. */
async function lockHolder(dir: string): Promise<{ pid: number; token: string; started?: string }> {
  return JSON.parse(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8'));
}

/** A live process that is not a tor-server, killed when the test ends. */
async function bystanderProcess(t: TestContext): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  return child.pid!;
}

/** Leaves a partial upload of an earlier run in the folder's temp folder. */
async function leftover(dir: string): Promise<string> {
  const file = path.join(dir, TEMP_DIR_NAME, 'someone-elses.part');
  await mkdir(path.join(dir, TEMP_DIR_NAME), { recursive: true });
  await writeFile(file, 'half an upload');
  return file;
}

describe('folder lock', () => {
  it('a second server on the same folder is refused, naming the holder, and the first serves on', async (t) => {
    const first = await startServer(t);
    const uploader = await LineClient.connect(t, first.port);
    assert.equal(await uploader.request('upload mid.bin'), Reply.OK);
    assert.equal(await uploader.request('10'), Reply.OK);
    uploader.send('12345');
    await assert.rejects(TorServer.start({ host: '127.0.0.1', port: 0, dir: first.dir }), (error: Error) => {
      assert.ok(error instanceof FolderLockedError);
      assert.equal(error.message, `${first.dir} is already served by another tor-server (pid ${process.pid}); stop it first or choose another --dir`);
      return true;
    });
    assert.equal((await readdir(path.join(first.dir, TEMP_DIR_NAME))).length, 1, 'the partial upload is still there');
    uploader.send('67890');
    assert.equal(await uploader.line(), Reply.END);
    assert.equal(await readFile(path.join(first.dir, 'mid.bin'), 'utf8'), '1234567890');
  });

  it('holds the lock while serving and gives it back on close', async (t) => {
    const dir = await scratchDir(t);
    const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir });
    assert.equal((await lockHolder(dir)).pid, process.pid);
    await within(server.close(0));
    assert.deepEqual((await readdir(dir)).filter((name) => name.startsWith(LOCK_FILE_NAME)), []);
    const again = await startServer(t, { dir });
    assert.ok(again.port > 0);
  });

  it('a live process that holds the lock keeps it: the start fails and touches nothing', async (t) => {
    const dir = await scratchDir(t);
    const pid = await bystanderProcess(t);
    const lock = `${JSON.stringify({ pid, token: 'held' })}\n`;
    await writeFile(path.join(dir, LOCK_FILE_NAME), lock);
    const partial = await leftover(dir);
    const before = (await readdir(dir)).sort();
    await assert.rejects(TorServer.start({ host: '127.0.0.1', port: 0, dir }), (error: Error) => error instanceof FolderLockedError && error.pid === pid);
    assert.equal(await readFile(partial, 'utf8'), 'half an upload');
    assert.equal(await readFile(path.join(dir, LOCK_FILE_NAME), 'utf8'), lock);
    assert.deepEqual((await readdir(dir)).sort(), before);
  });

  const stale: Array<[string, (t: TestContext) => Promise<string>]> = [
    ['its pid is gone', async () => JSON.stringify({ pid: NO_SUCH_PID, token: 'gone' })],
    ['its pid is our own (a restarted container is pid 1 again)', async () => JSON.stringify({ pid: process.pid, token: 'earlier-life' })],
    ['its pid was recycled by another process since', async (t) => JSON.stringify({ pid: await bystanderProcess(t), started: '1', token: 'recycled' })],
    ['it is not a lock file at all', async () => 'garbage'],
    ['it names pid 0 (which would signal a process group)', async () => JSON.stringify({ pid: 0, token: 'zero' })],
  ];
  for (const [why, content] of stale) {
    it(`a stale lock is taken over when ${why}`, async (t) => {
      const dir = await scratchDir(t);
      await writeFile(path.join(dir, LOCK_FILE_NAME), await content(t));
      const partial = await leftover(dir);
      const { port } = await startServer(t, { dir });
      assert.equal((await lockHolder(dir)).pid, process.pid);
      await assert.rejects(readFile(partial), { code: 'ENOENT' }, 'the old temp folder was emptied');
      const client = await LineClient.connect(t, port);
      assert.equal(await client.request('show'), Reply.OK);
    });
  }

  it('a lock from another host (a container on a shared volume) is judged by its heartbeat, not its pid: alive while touched', async (t) => {
    const dir = await scratchDir(t);
    const lockPath = path.join(dir, LOCK_FILE_NAME);
    // pid 1 on another host: the pid means nothing here, and may even be ours in a container.
    await writeFile(lockPath, `${JSON.stringify({ pid: process.pid, token: 'other', host: 'other-host', heartbeatMs: 200 })}\n`);
    const beat = setInterval(() => {
      const now = new Date();
      void utimes(lockPath, now, now).catch(() => {});
    }, 100);
    t.after(() => clearInterval(beat));
    const partial = await leftover(dir);
    await assert.rejects(TorServer.start({ host: '127.0.0.1', port: 0, dir }), (error: Error) => {
      assert.ok(error instanceof FolderLockedError);
      assert.equal(error.host, 'other-host');
      assert.match(error.message, /\(pid \d+ on host other-host\)/);
      return true;
    });
    assert.equal(await readFile(partial, 'utf8'), 'half an upload');
  });

  it('a lock from another host whose heartbeat has stopped is taken over after one heartbeat', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, LOCK_FILE_NAME), `${JSON.stringify({ pid: process.pid, token: 'killed', host: 'old-container', heartbeatMs: 200 })}\n`);
    const partial = await leftover(dir);
    const { port } = await startServer(t, { dir });
    assert.equal((await lockHolder(dir)).pid, process.pid);
    assert.equal((await lockHolder(dir) as { host?: string }).host, os.hostname());
    await assert.rejects(readFile(partial), { code: 'ENOENT' }, 'the old temp folder was emptied');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
  });

  it('a held lock is touched at every heartbeat', async (t) => {
    const dir = await scratchDir(t);
    const lock = await FolderLock.acquire(dir, { heartbeatMs: 50 });
    t.after(() => lock.release());
    const first = (await stat(path.join(dir, LOCK_FILE_NAME))).mtimeMs;
    await eventually(async () => (await stat(path.join(dir, LOCK_FILE_NAME))).mtimeMs !== first, 'the lock to be touched');
  });

  it('a port in use fails the start, gives the lock back and leaves the temp folder alone', async (t) => {
    const busy = await startServer(t);
    const dir = await scratchDir(t);
    const partial = await leftover(dir);
    await assert.rejects(TorServer.start({ host: '127.0.0.1', port: busy.port, dir }), { code: 'EADDRINUSE' });
    assert.equal(await readFile(partial, 'utf8'), 'half an upload');
    await assert.rejects(readFile(path.join(dir, LOCK_FILE_NAME)), { code: 'ENOENT' });
    const next = await startServer(t, { dir });
    assert.ok(next.port > 0);
  });
});
