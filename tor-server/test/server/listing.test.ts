import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { scratchDir } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { FOLDER_ONLY, storedRow, LineClient, memoryLogger, placeFile, startServer } from '../helpers.js';

/** A path in `dir` whose last part is exactly these bytes (which need not be UTF-8). */
function bytePath(dir: string, bytes: number[]): Buffer {
  return Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(bytes)]);
}

describe('show', () => {
  it('an empty folder lists nothing: ok, end', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('lists every visible file as name TAB size TAB ISO time, sorted by name', async (t) => {
    const { port, server } = await startServer(t);
    const files: Record<string, string> = { 'b.txt': 'bb', 'A.txt': 'a', 'a b.txt': '', 'été.mp4': 'ééé', '10.log': '1', '9.log': '99' };
    for (const [name, content] of Object.entries(files)) await placeFile(server, name, content);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    const rows = await client.listing();
    const names = ['10.log', '9.log', 'A.txt', 'a b.txt', 'b.txt', 'été.mp4'];
    assert.deepEqual(rows, await Promise.all(names.map((name) => storedRow(server, name))));
    assert.match(rows[5]!, /^été\.mp4\t6\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('never lists hidden files, the temp folder, sub-folders, symlinks or names TFTCP refuses', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t);
    const outside = await scratchDir(t);
    await writeFile(path.join(outside, 'secret.txt'), 'secret');
    await placeFile(server, 'visible.txt', 'v');
    await placeFile(server, '.hidden', 'h');
    await mkdir(path.join(dir, 'folder'));
    await writeFile(path.join(dir, 'folder', 'inner.txt'), 'i');
    await symlink(path.join(outside, 'secret.txt'), path.join(dir, 'link-out.txt'));
    await symlink('visible.txt', path.join(dir, 'link-in.txt'));
    await placeFile(server, 'back\\slash', 'b');
    await placeFile(server, 'bell\u0007', 'b');
    await placeFile(server, 'csi\u009b31m', 'c');
    await placeFile(server, 'invoice\u202efdp.exe', 'i');
    await placeFile(server, 'isolate\u2066x', 'i');
    await writeFile(bytePath(dir, [0x6e, 0xff, 0x2e, 0x74]), 'not UTF-8');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), [await storedRow(server, 'visible.txt')]);
    assert.equal(await client.request('search i'), Reply.OK);
    assert.deepEqual(await client.listing(), [await storedRow(server, 'visible.txt')]);
  });

  it('a name that is not UTF-8 on disk is not listed, so uploading its U+FFFD look-alike gives one row, not two', { skip: FOLDER_ONLY }, async (t) => {
    const log = memoryLogger('warn');
    const { port, dir, server } = await startServer(t, { logger: log.logger });
    await writeFile(bytePath(dir, [0xff, 0x66]), 'latin-1 leftovers');
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('\ufffdf', Buffer.from('uploaded')), [Reply.OK, Reply.OK, Reply.END]);
    for (let i = 0; i < 2; i++) {
      assert.equal(await client.request('show'), Reply.OK);
      assert.deepEqual(await client.listing(), [await storedRow(server, '\ufffdf')]);
    }
    assert.deepEqual(await client.download('download \ufffdf'), Buffer.from('uploaded'));
    // Once per name, however many listings, in escaped form.
    assert.deepEqual(log.lines.filter((line) => line.includes('unlisted-name')).map((line) => line.replace(/^\S+ /, '')), [
      'warn unlisted-name name="\\\\xfff" reason="the name is not valid UTF-8"\n',
    ]);
  });

  it('regression: a file named with a leading byte order mark is not listed as a second copy of the name without it', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'real');
    await placeFile(server, '\ufeffa.txt', 'look-alike');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), [await storedRow(server, 'a.txt')]);
    assert.deepEqual(await client.download('download a.txt'), Buffer.from('real'));
  });

  it('does not list an upload in progress', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'done.txt', 'd');
    const uploader = await LineClient.connect(t, port);
    assert.equal(await uploader.request('upload partial.bin'), Reply.OK);
    assert.equal(await uploader.request('10'), Reply.OK);
    uploader.send('12345');
    const viewer = await LineClient.connect(t, port);
    assert.equal(await viewer.request('show'), Reply.OK);
    assert.deepEqual(await viewer.listing(), [await storedRow(server, 'done.txt')]);
    uploader.send('67890');
    assert.equal(await uploader.line(), Reply.END);
    assert.equal(await viewer.request('show'), Reply.OK);
    assert.deepEqual(await viewer.listing(), [await storedRow(server, 'done.txt'), await storedRow(server, 'partial.bin')]);
  });

  it('a modification time no row can express is clamped, and the listing still works', { skip: FOLDER_ONLY }, async (t) => {
    // ext4 stops at the year 2446; tmpfs takes any time, as some other file systems do.
    if (!existsSync('/dev/shm')) return t.skip('no tmpfs at /dev/shm');
    const dir = await mkdtemp(path.join('/dev/shm', 'tor-mtime-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, 'far.txt'), 'x');
    await writeFile(path.join(dir, 'farther.txt'), 'y');
    await utimes(path.join(dir, 'far.txt'), new Date(), 300_000_000_000); // the year 11476
    await utimes(path.join(dir, 'farther.txt'), new Date(), 9_000_000_000_000); // beyond Date's range
    const { port } = await startServer(t, { dir });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), Reply.OK);
    const rows = await client.listing();
    assert.equal(rows.length, 2);
    for (const row of rows) assert.match(row, /^far(ther)?\.txt\t1\t(9999-12-31T23:59:59\.999Z|1970-01-01T00:00:00\.000Z)$/);
    assert.match(rows[0]!, /9999-12-31T23:59:59\.999Z$/);
  });

  it('show with an argument is bad syntax', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show all'), Reply.UNKNOWN);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });
});

describe('search', () => {
  it('lists the files whose name contains the text, case-insensitively, sorted', async (t) => {
    const { port, server } = await startServer(t);
    for (const name of ['Holiday Clip.MP4', 'holiday notes.txt', 'clip.mp4', 'other.bin', 'ÉTÉ clip.mov']) await placeFile(server, name, name);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('search CLIP'), Reply.OK);
    assert.deepEqual(await client.listing(), await Promise.all(['Holiday Clip.MP4', 'clip.mp4', 'ÉTÉ clip.mov'].map((n) => storedRow(server, n))));
    assert.equal(await client.request('search été'), Reply.OK);
    assert.deepEqual(await client.listing(), [await storedRow(server, 'ÉTÉ clip.mov')]);
    // The argument is verbatim: the space is part of the text searched for.
    assert.equal(await client.request('search y n'), Reply.OK);
    assert.deepEqual(await client.listing(), [await storedRow(server, 'holiday notes.txt')]);
    assert.equal(await client.request('search .MP'), Reply.OK);
    assert.deepEqual(await client.listing(), await Promise.all(['Holiday Clip.MP4', 'clip.mp4'].map((n) => storedRow(server, n))));
  });

  it('no match is ok then end, and hidden files are never found', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, '.secret-clip', 's');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('search clip'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    assert.equal(await client.request('search tor-tmp'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });

  it('search without text is bad syntax, and the connection stays usable', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('search'), Reply.UNKNOWN);
    assert.equal(await client.request('search '), Reply.UNKNOWN);
    assert.equal(await client.request('search x'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
  });
});
