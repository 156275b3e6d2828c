import assert from 'node:assert/strict';
import { stat as fsStat, symlink, utimes, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Reply } from '../../src/protocol/constants.js';
import { sha256 } from 'test-support';
import { FOLDER_ONLY, LineClient, patternBytes, placeFile, startServer, storedBytes, storedNames, visibleNames } from '../helpers.js';

const UNKNOWN = Reply.UNKNOWN;
const WHEN = new Date('2026-01-02T03:04:05.678Z');

describe('stat', () => {
  it('answers ok and the listing row, or ok and Not found file', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t);
    await placeFile(server, 'my notes.txt', 'hello');
    await utimes(path.join(dir, 'my notes.txt'), WHEN, WHEN);
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('stat my notes.txt'), await client.line()], ['ok', 'my notes.txt\t5\t2026-01-02T03:04:05.678Z']);
    assert.deepEqual([await client.request('stat missing.txt'), await client.line()], ['ok', 'Not found file']);
  });

  it('does not see hidden files, folders or symbolic links', async (t) => {
    const { port, dir, server } = await startServer(t);
    await placeFile(server, 'real.txt', 'x');
    await symlink(path.join(dir, 'real.txt'), path.join(dir, 'link.txt'));
    await mkdir(path.join(dir, 'folder'));
    const client = await LineClient.connect(t, port);
    for (const name of ['link.txt', 'folder']) assert.deepEqual([await client.request(`stat ${name}`), await client.line()], ['ok', 'Not found file'], name);
    assert.equal(await client.request('stat .tor-lock'), 'Invalid file name: names starting with . are reserved');
  });
});

describe('hash', () => {
  it('answers ok and sha256 with 64 lower-case hex digits, or ok and Not found file', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(3 * 1024 * 1024 + 17, 5);
    await placeFile(server, 'data.bin', data);
    await placeFile(server, 'empty.txt', '');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('hash data.bin'), await client.line()], ['ok', `sha256 ${sha256(data)}`]);
    assert.deepEqual([await client.request('hash empty.txt'), await client.line()], ['ok', `sha256 ${sha256(Buffer.alloc(0))}`]);
    assert.deepEqual([await client.request('hash nope.bin'), await client.line()], ['ok', 'Not found file']);
  });
});

describe('delete', () => {
  it('admin: ok then deleted, and the file is gone; a second delete gets ok then Not found file', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'old report.pdf', 'x');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('delete old report.pdf'), await client.line()], ['ok', 'deleted']);
    assert.deepEqual(await storedNames(server), []);
    assert.deepEqual([await client.request('delete old report.pdf'), await client.line()], ['ok', 'Not found file']);
  });

  it('does not delete a symbolic link or a folder (they are no files to TFTCP)', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'target.txt', 'x');
    await symlink(path.join(dir, 'target.txt'), path.join(dir, 'link.txt'));
    await mkdir(path.join(dir, 'folder'));
    const client = await LineClient.connect(t, port);
    for (const name of ['link.txt', 'folder']) assert.deepEqual([await client.request(`delete ${name}`), await client.line()], ['ok', 'Not found file'], name);
    assert.deepEqual(await visibleNames(dir), ['folder', 'link.txt', 'target.txt']);
  });
});

describe('rename', () => {
  it('admin: ok then renamed; the bytes move, the old name is gone', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'abc');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('rename a.txt\tb c.txt'), await client.line()], ['ok', 'renamed']);
    assert.deepEqual(await storedNames(server), ['b c.txt']);
    assert.equal(String(await storedBytes(server, 'b c.txt')), 'abc');
  });

  it('never overwrites: File already exists, both files untouched', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'A');
    await placeFile(server, 'b.txt', 'B');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('rename a.txt\tb.txt'), await client.line()], ['ok', 'File already exists: b.txt']);
    assert.deepEqual([await client.request('rename a.txt\ta.txt'), await client.line()], ['ok', 'File already exists: a.txt']);
    assert.equal(String(await storedBytes(server, 'a.txt')), 'A');
    assert.equal(String(await storedBytes(server, 'b.txt')), 'B');
  });

  it('a missing file: ok then Not found file; a name being uploaded is taken', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'A');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('rename missing.txt\tx.txt'), await client.line()], ['ok', 'Not found file']);
    const uploader = await LineClient.connect(t, port);
    assert.equal(await uploader.request('upload coming.txt'), 'ok');
    assert.deepEqual([await client.request('rename a.txt\tcoming.txt'), await client.line()], ['ok', 'File already exists: coming.txt is being uploaded right now']);
    assert.deepEqual(await storedNames(server), ['a.txt']);
  });

  it('a malformed argument is an unknown command; an invalid name is refused instead of ok', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'A');
    const client = await LineClient.connect(t, port);
    for (const line of ['rename', 'rename a.txt', 'rename a.txt b.txt', 'rename a.txt\tb\tc', 'rename \tb.txt', 'rename a.txt\t'])
      assert.equal(await client.request(line), UNKNOWN, JSON.stringify(line));
    assert.equal(await client.request('rename a.txt\t.hidden'), 'Invalid file name: names starting with . are reserved');
    assert.equal(await client.request('rename ../a.txt\tb.txt'), 'Invalid file name: the name must not contain / or \\');
    assert.deepEqual(await storedNames(server), ['a.txt']);
    assert.equal(await client.request('show'), 'ok');
  });
});

describe('whoami and access levels', () => {
  it('whoami answers ok then access <level>, for each level', async (t) => {
    for (const level of ['read', 'write', 'admin'] as const) {
      const { port } = await startServer(t, { openAccess: level });
      const client = await LineClient.connect(t, port);
      assert.deepEqual([await client.request('whoami'), await client.line()], ['ok', `access ${level}`]);
      assert.equal(await client.request('whoami me'), UNKNOWN);
    }
  });

  it('write (the default): delete and rename are refused with Permission denied instead of ok, nothing changes', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'A');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('delete a.txt'), 'Permission denied: delete needs admin access (this server gives write)');
    assert.equal(await client.request('rename a.txt\tb.txt'), 'Permission denied: rename needs admin access (this server gives write)');
    // Access is checked before the name: a client learns nothing about names it may not touch.
    assert.equal(await client.request('delete .x'), 'Permission denied: delete needs admin access (this server gives write)');
    assert.deepEqual(await client.upload('b.txt', Buffer.from('B')), ['ok', 'ok', 'end']);
    assert.deepEqual(await storedNames(server), ['a.txt', 'b.txt']);
  });

  it('read: upload is refused too, while every reading command works', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'read' });
    await placeFile(server, 'a.txt', 'A');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload b.txt'), 'Permission denied: upload needs write access (this server gives read)');
    assert.equal(await client.request('delete a.txt'), 'Permission denied: delete needs admin access (this server gives read)');
    assert.equal(await client.request('rename a.txt\tb.txt'), 'Permission denied: rename needs admin access (this server gives read)');
    assert.equal(await client.request('show'), 'ok');
    assert.deepEqual((await client.listing()).length, 1);
    assert.deepEqual(await client.download('download a.txt'), Buffer.from('A'));
    assert.deepEqual(await client.download('range 0 1 a.txt'), Buffer.from('A'));
    assert.deepEqual([await client.request('stat a.txt'), (await client.line()).split('\t')[0]], ['ok', 'a.txt']);
    assert.deepEqual([await client.request('hash a.txt'), await client.line()], ['ok', `sha256 ${sha256(Buffer.from('A'))}`]);
    assert.equal(await client.request('watch'), 'ok');
    assert.match(await client.line(), /^watching \d+$/);
    assert.deepEqual(await storedNames(server), ['a.txt']);
  });

  it('admin may do everything', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('A')), ['ok', 'ok', 'end']);
    assert.deepEqual([await client.request('rename a.txt\tb.txt'), await client.line()], ['ok', 'renamed']);
    assert.deepEqual([await client.request('delete b.txt'), await client.line()], ['ok', 'deleted']);
    assert.deepEqual(await storedNames(server), []);
  });
});

describe('argument checks of the TFTCP/1.1 commands', () => {
  it('missing or extra arguments are unknown commands, invalid names are refused instead of ok', async (t) => {
    const { port } = await startServer(t, { openAccess: 'admin' });
    const client = await LineClient.connect(t, port);
    for (const line of ['stat', 'hash', 'delete', 'STAT a.txt', 'whoami x', 'watch x', 'watch -1', 'watch 1.5', 'watch 99999999999999999'])
      assert.equal(await client.request(line), UNKNOWN, JSON.stringify(line));
    for (const command of ['stat', 'hash', 'delete']) {
      assert.equal(await client.request(`${command} a/b`), 'Invalid file name: the name must not contain / or \\', command);
      assert.equal(await client.request(`${command} ..`), 'Invalid file name: the name must not be . or ..', command);
    }
    assert.equal(await client.request('whoami'), 'ok');
  });

  it('a hand-written file and its stat agree with the disk', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t);
    await placeFile(server, 'x.bin', patternBytes(1000));
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('stat x.bin'), 'ok');
    const [name, size, modified] = (await client.line()).split('\t');
    const disk = await fsStat(path.join(dir, 'x.bin'));
    assert.deepEqual([name, Number(size), modified], ['x.bin', 1000, disk.mtime.toISOString()]);
  });
});
