import assert from 'node:assert/strict';
import { link, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { ErrorKind, Reply, errorReply } from '../../src/protocol/constants.js';
import { PARTIALS_DIR_NAME } from '../../src/server/partials/partial-store.js';
import { FOLDER_ONLY, LineClient, patternBytes, startServer, storedBytes, storedNames } from '../helpers.js';
import { begin, put, status } from './resumable-helpers.js';

const UNKNOWN = errorReply(ErrorKind.UNKNOWN_UPLOAD, 'no upload of yours has this id (it may have expired, been committed or aborted): begin again');

describe('resumable uploads', () => {
  it('takes puts out of order and overlapping, reports what it has, and commits identical bytes', async (t) => {
    const { port, dir, server } = await startServer(t);
    const data = patternBytes(300_000, 3);
    const client = await LineClient.connect(t, port);
    const { id, have } = await begin(client, data.length, sha256(data), 'clip.bin');
    assert.match(id, /^[a-z0-9]{32}$/);
    assert.equal(have, 'have none');
    assert.deepEqual(await put(client, id, 200_000, data.subarray(200_000)), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(client, id, 0, data.subarray(0, 50_000)), [Reply.OK, Reply.STORED]);
    assert.equal(await status(client, id), 'have 0-50000,200000-300000');
    // Invisible until committed.
    assert.equal(await client.request('show'), Reply.OK);
    assert.deepEqual(await client.listing(), []);
    assert.deepEqual(await storedNames(server), []);
    assert.equal(await client.request(`commit ${id}`), 'Incomplete upload: missing 50000-200000');
    assert.deepEqual(await put(client, id, 40_000, data.subarray(40_000, 210_000)), [Reply.OK, Reply.STORED]);
    assert.equal(await status(client, id), 'have 0-300000');
    assert.equal(await client.request(`commit ${id}`), Reply.END);
    assert.deepEqual((await storedBytes(server, 'clip.bin')), data);
    assert.equal(await client.request('hash clip.bin'), Reply.OK);
    assert.equal(await client.line(), `sha256 ${sha256(data)}`);
    assert.deepEqual(await readdir(path.join(dir, PARTIALS_DIR_NAME)), []);
    assert.equal(await client.request(`status ${id}`), UNKNOWN);
  });

  it('a partial found linked into place at start (committed just before a crash) is dropped, never written again', { skip: FOLDER_ONLY }, async (t) => {
    const first = await startServer(t);
    const data = patternBytes(10_000, 4);
    const client = await LineClient.connect(t, first.port);
    const { id } = await begin(client, data.length, sha256(data), 'late.bin');
    assert.deepEqual(await put(client, id, 0, data), [Reply.OK, Reply.STORED]);
    client.destroy();
    await first.server.close(0);
    // What a crash between commit's link and the removal of the partial leaves on disk.
    await link(path.join(first.dir, PARTIALS_DIR_NAME, `${id}.data`), path.join(first.dir, 'late.bin'));
    const second = await startServer(t, { dir: first.dir });
    const again = await LineClient.connect(t, second.port);
    assert.equal(await again.request(`status ${id}`), UNKNOWN);
    assert.equal(await again.request(`put ${id} 0 4`), UNKNOWN);
    assert.deepEqual(await readFile(path.join(first.dir, 'late.bin')), data);
    assert.deepEqual(await readdir(path.join(first.dir, PARTIALS_DIR_NAME)), []);
  });

  it('commits an empty file, with the mode an upload gets', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir } = await startServer(t);
    const client = await LineClient.connect(t, port);
    const { id, have } = await begin(client, 0, sha256(Buffer.alloc(0)), 'empty.txt');
    assert.equal(have, 'have none');
    assert.equal(await client.request(`commit ${id}`), Reply.END);
    const { size, mode } = await stat(path.join(dir, 'empty.txt'));
    assert.equal(size, 0);
    assert.deepEqual(await client.upload('other.txt', Buffer.alloc(0)), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(mode, (await stat(path.join(dir, 'other.txt'))).mode);
  });

  it('takes four connections putting at once', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(4 * 256 * 1024, 5);
    const first = await LineClient.connect(t, port);
    const { id } = await begin(first, data.length, undefined, 'four.bin');
    const quarter = data.length / 4;
    const clients = [first, ...(await Promise.all([1, 2, 3].map(() => LineClient.connect(t, port))))];
    const replies = await Promise.all(clients.map((c, i) => put(c, id, i * quarter, data.subarray(i * quarter, (i + 1) * quarter))));
    for (const reply of replies) assert.deepEqual(reply, [Reply.OK, Reply.STORED]);
    assert.equal(await first.request(`commit ${id}`), Reply.END);
    assert.deepEqual((await storedBytes(server, 'four.bin')), data);
  });

  it('resumes the same partial on a second begin with the same name, size and sha256', async (t) => {
    const { port } = await startServer(t);
    const data = patternBytes(1000);
    const a = await LineClient.connect(t, port);
    const { id } = await begin(a, data.length, sha256(data), 'r.bin');
    await put(a, id, 0, data.subarray(0, 400));
    const b = await LineClient.connect(t, port);
    assert.deepEqual(await begin(b, data.length, sha256(data), 'r.bin'), { id, have: 'have 0-400' });
    // Another size is another upload.
    assert.notEqual((await begin(b, 999, undefined, 'r.bin')).id, id);
  });

  it('refuses a put past the size, an unknown id, and a malformed line, changing nothing', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, 100, undefined, 'p.bin');
    assert.deepEqual(await put(client, id, 90, Buffer.alloc(11)), [errorReply(ErrorKind.INVALID_RANGE, "90-101 is past the upload's size of 100 bytes")]);
    assert.deepEqual(await put(client, 'abc123', 0, Buffer.alloc(1)), [UNKNOWN]);
    assert.equal(await client.request(`commit ${'f'.repeat(32)}`), UNKNOWN);
    assert.equal(await client.request(`abort ${'f'.repeat(32)}`), UNKNOWN);
    assert.equal(await client.request('put x y z'), errorReply(ErrorKind.INVALID_RANGE, 'send put <id> <offset> <length>'));
    assert.equal(await status(client, id), 'have none');
  });

  it('checks the name as upload does: invalid, taken, too large', async (t) => {
    const { port } = await startServer(t, { maxFileSize: 1000 });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('taken.txt', Buffer.from('x')), [Reply.OK, Reply.OK, Reply.END]);
    assert.equal(await client.request('begin 1 - taken.txt'), errorReply(ErrorKind.FILE_EXISTS, 'taken.txt'));
    assert.equal(await client.request('begin 1 - .hidden'), errorReply(ErrorKind.INVALID_NAME, 'names starting with . are reserved'));
    assert.equal(await client.request('begin 1001 - big.bin'), errorReply(ErrorKind.TOO_LARGE, '1001 bytes, the limit is 1000 bytes'));
    assert.equal(await client.request('begin 1 xyz a.bin'), errorReply(ErrorKind.INVALID_SIZE, 'send begin <size> <sha256 in hex, or -> <name>'));
  });

  it('refuses a range another connection is writing before ok, so its bytes are never sent', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(200_000, 7);
    const a = await LineClient.connect(t, port);
    const { id } = await begin(a, data.length, undefined, 'busy.bin');
    assert.equal(await a.request(`put ${id} 0 100000`), Reply.OK);
    a.send(data.subarray(0, 10));
    const b = await LineClient.connect(t, port);
    assert.deepEqual(await put(b, id, 50_000, data.subarray(50_000, 150_000)), [errorReply(ErrorKind.RANGE_BUSY, '50000-150000 is being written by another connection: send it later')]);
    // A range that does not overlap goes in meanwhile.
    assert.deepEqual(await put(b, id, 100_000, data.subarray(100_000)), [Reply.OK, Reply.STORED]);
    assert.equal(await b.request(`commit ${id}`), 'Incomplete upload: missing 0-100000');
    a.send(data.subarray(10, 100_000));
    assert.equal(await a.line(), Reply.STORED);
    assert.equal(await b.request(`commit ${id}`), Reply.END);
    assert.deepEqual((await storedBytes(server, 'busy.bin')), data);
  });

  it('a checksum mismatch discards the partial', async (t) => {
    const { port, dir, server } = await startServer(t);
    const data = patternBytes(5000);
    const wrong = sha256(Buffer.from('other'));
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, data.length, wrong, 'sum.bin');
    await put(client, id, 0, data);
    assert.equal(await client.request(`commit ${id}`), `Checksum mismatch: expected ${wrong} got ${sha256(data)}`);
    assert.equal(await client.request(`status ${id}`), UNKNOWN);
    assert.deepEqual(await storedNames(server), []);
    assert.deepEqual(await readdir(path.join(dir, PARTIALS_DIR_NAME)), []);
  });

  it('abort removes the partial and its bytes', async (t) => {
    const { port, dir } = await startServer(t);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, 10, undefined, 'gone.bin');
    await put(client, id, 0, Buffer.alloc(5, 1));
    assert.equal(await client.request(`abort ${id}`), Reply.OK);
    assert.equal(await client.request(`status ${id}`), UNKNOWN);
    assert.deepEqual(await readdir(path.join(dir, PARTIALS_DIR_NAME)), []);
  });

  it('two partials racing to commit one name: one end, one File already exists', async (t) => {
    const { port, server } = await startServer(t);
    const one = patternBytes(100_000, 1);
    const two = patternBytes(100_001, 2);
    const a = await LineClient.connect(t, port);
    const b = await LineClient.connect(t, port);
    const first = await begin(a, one.length, undefined, 'same.bin');
    const second = await begin(b, two.length, undefined, 'same.bin');
    await put(a, first.id, 0, one);
    await put(b, second.id, 0, two);
    const replies = await Promise.all([a.request(`commit ${first.id}`), b.request(`commit ${second.id}`)]);
    assert.deepEqual([...replies].sort(), [Reply.END, errorReply(ErrorKind.FILE_EXISTS, 'same.bin')].sort());
    const stored = (await storedBytes(server, 'same.bin'));
    assert.deepEqual(stored, replies[0] === Reply.END ? one : two);
    // The loser keeps its partial: its client may abort it, or commit it once the name is free.
    const loser = replies[0] === Reply.END ? { c: b, id: second.id, size: two.length } : { c: a, id: first.id, size: one.length };
    assert.equal(await status(loser.c, loser.id), `have 0-${loser.size}`);
  });

  it('a put cut midway keeps the bytes that reached the disk, and the upload resumes from them', async (t) => {
    const { port, dir, server } = await startServer(t);
    const data = patternBytes(2 * 1024 * 1024, 11);
    const a = await LineClient.connect(t, port);
    const { id } = await begin(a, data.length, sha256(data), 'cut.bin');
    assert.equal(await a.request(`put ${id} 0 ${data.length}`), Reply.OK);
    a.send(data.subarray(0, 700_000));
    const partialData = path.join(dir, PARTIALS_DIR_NAME, `${id}.data`);
    await eventually(async () => (await readFile(partialData)).length > 0, 'some bytes written');
    a.destroy();
    const b = await LineClient.connect(t, port);
    let have = '';
    await eventually(async () => (have = await status(b, id)) !== 'have none', 'the cut put recorded');
    const match = /^have 0-(\d+)$/.exec(have);
    assert.ok(match, have);
    const kept = Number(match[1]);
    assert.ok(kept > 0 && kept <= 700_000, have);
    // The cut put holds its range until it has recorded what it kept, a moment after `have` shows it.
    await eventually(async () => {
      const reply = await b.request(`put ${id} ${kept} ${data.length - kept}`);
      if (reply.startsWith(`${ErrorKind.RANGE_BUSY}:`)) return false;
      assert.equal(reply, Reply.OK);
      b.send(data.subarray(kept));
      assert.equal(await b.line(), Reply.STORED);
      return true;
    }, 'the rest put');
    assert.equal(await b.request(`commit ${id}`), Reply.END);
    assert.deepEqual((await storedBytes(server, 'cut.bin')), data);
  });

  it('expires a partial after the TTL of inactivity', async (t) => {
    const { port, dir } = await startServer(t, { partialTtlMs: 300 });
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, 10, undefined, 'old.bin');
    await eventually(async () => (await readdir(path.join(dir, PARTIALS_DIR_NAME))).length === 0, 'the partial expired');
    assert.equal(await client.request(`status ${id}`), UNKNOWN);
  });

  it('bounds partials per owner', async (t) => {
    const { port } = await startServer(t, { maxPartialsPerOwner: 2 });
    const client = await LineClient.connect(t, port);
    await begin(client, 1, undefined, 'a.bin');
    await begin(client, 1, undefined, 'b.bin');
    assert.equal(await client.request('begin 1 - c.bin'), errorReply(ErrorKind.TOO_MANY_UPLOADS, 'at most 2: commit or abort one first'));
  });

  it('bounds partials per owner when many begin at once, and makes no duplicates of one file', async (t) => {
    const { port } = await startServer(t, { maxPartialsPerOwner: 4 });
    const clients = await Promise.all(Array.from({ length: 12 }, () => LineClient.connect(t, port)));
    const answers = await Promise.all(clients.map(async (client, i) => {
      const first = await client.request(`begin 100 - n${i % 3}.bin`);
      return first === Reply.OK ? (await client.line()).split(' ')[1]! : first;
    }));
    const ids = answers.filter((answer) => /^[0-9a-f]{32}$/.test(answer));
    // Three files: the first begin of each makes it, the others resume it; none is refused or doubled.
    assert.equal(ids.length, 12, answers.join(' | '));
    assert.equal(new Set(ids).size, 3);
  });

  it('keeps a foreign owner out', async (t) => {
    const { server, port } = await startServer(t);
    const partial = await server.partials.begin('someone-else', 'theirs.bin' as never, 10, undefined);
    assert.notEqual(partial, 'too-many');
    const id = (partial as { partial: { id: string } }).partial.id;
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request(`status ${id}`), UNKNOWN);
    assert.deepEqual(await put(client, id, 0, Buffer.alloc(1)), [UNKNOWN]);
    assert.equal(await client.request(`commit ${id}`), UNKNOWN);
  });

  it('needs write access', async (t) => {
    const { port } = await startServer(t, { openAccess: 'read' });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('begin 1 - a.bin'), 'Permission denied: begin needs write access (this server gives read)');
  });
});
