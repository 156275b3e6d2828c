import assert from 'node:assert/strict';
import { mkdir, readdir, statfs, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { ErrorKind, Reply, errorKindOf, errorReply } from '../../src/protocol/constants.js';
import { TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { FOLDER_ONLY, LineClient, patternBytes, placeFile, startServer, storedBytes, storedNames, tempFolderEmpty } from '../helpers.js';

const INVALID_SIZE = errorReply(ErrorKind.INVALID_SIZE, 'send the size in bytes as a decimal number');

describe('upload', () => {
  it('stores the bytes under the name, answers end, and the file is then listed and served', async (t) => {
    const { port, dir, server } = await startServer(t);
    const data = patternBytes(1_000_000);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('my clip.mp4', data), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(sha256((await storedBytes(server, 'my clip.mp4'))), sha256(data));
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
    const other = await LineClient.connect(t, port);
    assert.equal(await other.request('search clip'), Reply.OK);
    const rows = await other.listing();
    assert.equal(rows.length, 1);
    assert.match(rows[0]!, /^my clip\.mp4\t1000000\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(sha256(await other.download('download my clip.mp4')), sha256(data));
  });

  it('stores an empty file', async (t) => {
    const { port, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('empty.txt', Buffer.alloc(0)), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(((await storedBytes(server, 'empty.txt'))).length, 0);
  });

  it('takes a command pipelined right after the last byte', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload a.txt'), Reply.OK);
    assert.equal(await client.request('3'), Reply.OK);
    client.send('abcsearch a.t\n');
    assert.deepEqual(await client.lines(2), [Reply.END, Reply.OK]);
    assert.equal((await client.listing()).length, 1);
  });

  it('refuses an existing name, before any size is asked, and leaves the file alone', async (t) => {
    const { port, server } = await startServer(t);
    await placeFile(server, 'a.txt', 'original');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload a.txt'), errorReply(ErrorKind.FILE_EXISTS, 'a.txt'));
    // Not waiting for a size: the next line is a command again.
    assert.equal(await client.request('show'), Reply.OK);
    assert.equal((await client.listing()).length, 1);
    assert.equal(String(await storedBytes(server, 'a.txt')), 'original');
  });

  it('refuses a name held by a folder or a symlink in the served folder', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir } = await startServer(t);
    await mkdir(path.join(dir, 'folder'));
    await symlink('/nonexistent/target', path.join(dir, 'dangling'));
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload folder'), errorReply(ErrorKind.FILE_EXISTS, 'folder'));
    assert.equal(await client.request('upload dangling'), errorReply(ErrorKind.FILE_EXISTS, 'dangling'));
  });

  it('never overwrites: a file that appears under the name during the upload wins, the upload is refused and discarded', async (t) => {
    const { port, dir, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload late.txt'), Reply.OK);
    assert.equal(await client.request('5'), Reply.OK);
    await placeFile(server, 'late.txt', 'put there by someone else');
    client.send('12345');
    assert.equal(await client.line(), errorReply(ErrorKind.FILE_EXISTS, 'late.txt'));
    assert.equal(String(await storedBytes(server, 'late.txt')), 'put there by someone else');
    await tempFolderEmpty(dir);
  });

  it('refuses a size over maxFileSize with File too large, accepts exactly the limit', async (t) => {
    const { port, server } = await startServer(t, { maxFileSize: 1000 });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('big.bin', Buffer.alloc(1001)), [Reply.OK, errorReply(ErrorKind.TOO_LARGE, '1001 bytes, the limit is 1000 bytes')]);
    // The connection is back at commands, and the name is free again.
    assert.deepEqual(await client.upload('big.bin', Buffer.alloc(1000, 7)), [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual((await storedBytes(server, 'big.bin')), Buffer.alloc(1000, 7));
  });

  it('refuses a size larger than the free disk space with Not enough space', { skip: FOLDER_ONLY }, async (t) => {
    const { port, server } = await startServer(t, { maxFileSize: Number.MAX_SAFE_INTEGER });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload huge.bin'), Reply.OK);
    const reply = await client.request(String(2 ** 52));
    assert.equal(errorKindOf(reply), ErrorKind.NO_SPACE, reply);
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    assert.deepEqual(await storedNames(server), []);
  });

  it('uploads in flight that announce more than the free space, and send little, lock no one out', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t, { maxFileSize: Number.MAX_SAFE_INTEGER });
    const { bavail, bsize } = await statfs(dir);
    const free = bavail * bsize;
    if (free < 64 * 1024 * 1024) return t.skip(`only ${free} bytes free here`);
    // Each alone fits; the five together announce one and a half times the free space.
    const announced = Math.floor(free * 0.3);
    for (let i = 0; i < 5; i++) {
      const hog = await LineClient.connect(t, port, '127.0.0.2');
      assert.equal(await hog.request(`upload hog-${i}.bin`), Reply.OK);
      assert.equal(await hog.request(String(announced)), Reply.OK, `hog ${i}`);
      hog.send('x');
    }
    const data = patternBytes(1024 * 1024, 4);
    const honest = await LineClient.connect(t, port, '127.0.0.3');
    assert.deepEqual(await honest.upload('honest.bin', data), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(sha256((await storedBytes(server, 'honest.bin'))), sha256(data));
  });

  it('refuses a size line that is not a decimal byte count with Invalid size', async (t) => {
    const { port, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    for (const size of ['', 'ten', '-1', '+5', '1.5', '1e3', '0x10', ' 5', '5 ', '12345678901234567']) {
      assert.equal(await client.request('upload s.txt'), Reply.OK, size);
      assert.equal(await client.request(size), INVALID_SIZE, JSON.stringify(size));
    }
    client.send('upload s.txt\n');
    client.send(Buffer.from([0xff, 0xfe, 0x0a]));
    assert.deepEqual(await client.lines(2), [Reply.OK, INVALID_SIZE]);
    assert.deepEqual(await storedNames(server), []);
    assert.deepEqual(await client.upload('s.txt', Buffer.from('fine')), [Reply.OK, Reply.OK, Reply.END]);
  });

  it('upload without a name is bad syntax', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload'), Reply.UNKNOWN);
    assert.equal(await client.request('upload '), Reply.UNKNOWN);
  });

  it('a connection cut in the middle of the bytes leaves no file and an empty temp folder', async (t) => {
    const { port, dir, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload cut.bin'), Reply.OK);
    assert.equal(await client.request('100000'), Reply.OK);
    client.send(patternBytes(50_000));
    await new Promise((resolve) => client.socket.write('', resolve));
    client.destroy();
    await tempFolderEmpty(dir);
    assert.deepEqual(await storedNames(server), []);
    // The name is free again for the next client.
    const next = await LineClient.connect(t, port);
    assert.deepEqual(await next.upload('cut.bin', Buffer.from('whole')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(server.connections.size, 1);
  });

  it('a client that half-closes before sending every byte stores nothing', async (t) => {
    const { port, dir, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    client.socket.end('upload short.bin\n10\n12345');
    assert.equal(await client.rest(), `${Reply.OK}\n${Reply.OK}\n`);
    await tempFolderEmpty(dir);
    assert.deepEqual(await storedNames(server), []);
  });

  it('an overlong size line gets the unknown-command reply, closes the connection and frees the name', async (t) => {
    const { port, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload long.bin'), Reply.OK);
    client.send(`${'9'.repeat(5000)}\n`);
    assert.equal(await client.line(), Reply.UNKNOWN);
    assert.equal(await client.rest(), '');
    const next = await LineClient.connect(t, port);
    assert.deepEqual(await next.upload('long.bin', Buffer.from('ok')), [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual(await storedNames(server), ['long.bin']);
  });

  it('a connection cut between the name and the size leaves nothing and frees the name', async (t) => {
    const { port, server } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('upload early.bin'), Reply.OK);
    client.destroy();
    const next = await LineClient.connect(t, port);
    // Until the server notices the cut, the name may still be reserved; it must be freed soon after.
    const replies = await eventually(async () => {
      const answer = await next.upload('early.bin', Buffer.from('x'));
      return answer[0] === Reply.OK && answer;
    }, 'the name freed');
    assert.deepEqual(replies, [Reply.OK, Reply.OK, Reply.END]);
    assert.deepEqual(await storedNames(server), ['early.bin']);
  });
});

describe('the same-name race', () => {
  it('two clients uploading one name at once: exactly one gets ok and end, the stored bytes are exactly the winner\'s', async (t) => {
    const { port, dir, server } = await startServer(t);
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}.bin`;
      const contents = [patternBytes(200_000, 2 * round + 1), patternBytes(200_000, 2 * round + 2)];
      const clients = [await LineClient.connect(t, port), await LineClient.connect(t, port)];
      for (const c of clients) c.send(`upload ${name}\n`);
      const first = await Promise.all(clients.map((c) => c.line()));
      const winners = first.flatMap((reply, i) => (reply === Reply.OK ? [i] : []));
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(first)}`);
      const winner = winners[0]!;
      const loserReply = first[1 - winner]!;
      assert.equal(errorKindOf(loserReply), ErrorKind.FILE_EXISTS, loserReply);
      assert.equal(await clients[winner]!.request(String(contents[winner]!.length)), Reply.OK);
      clients[winner]!.send(contents[winner]!);
      assert.equal(await clients[winner]!.line(), Reply.END);
      assert.equal(sha256((await storedBytes(server, name))), sha256(contents[winner]!));
      // Once stored, a late upload of the name is refused the same way.
      assert.equal(await clients[1 - winner]!.request(`upload ${name}`), errorReply(ErrorKind.FILE_EXISTS, name));
      for (const c of clients) c.destroy();
    }
    await tempFolderEmpty(dir);
  });

  it('the loser of a race cut mid-bytes never disturbs the winner', async (t) => {
    const { port, server } = await startServer(t);
    const a = await LineClient.connect(t, port);
    const b = await LineClient.connect(t, port);
    assert.equal(await a.request('upload same.bin'), Reply.OK);
    assert.equal(errorKindOf(await b.request('upload same.bin')), ErrorKind.FILE_EXISTS);
    assert.equal(await a.request('4'), Reply.OK);
    a.send('ab');
    b.destroy();
    a.send('cd');
    assert.equal(await a.line(), Reply.END);
    assert.equal(String(await storedBytes(server, 'same.bin')), 'abcd');
  });
});
