import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, startServer } from '../helpers.js';
import { begin, put, status } from './resumable-helpers.js';

/** `create` over a raw connection: asserts `ok`, returns the id and the `have` line. */
async function create(client: LineClient, size: number, name: string): Promise<{ id: string; have: string }> {
  assert.equal(await client.request(`create ${size} - ${name}`), Reply.OK);
  const [upload, have] = await client.lines(2);
  const match = /^upload ([a-z0-9]{32})$/.exec(upload!);
  assert.ok(match, `expected "upload <id>", got ${upload}`);
  return { id: match[1]!, have: have! };
}

describe('create: a resumable upload that never resumes another', () => {
  it('gives two uploads of one name and size their own ids and bytes; the first committed wins, the other gets File already exists', async (t) => {
    const { port, dir } = await startServer(t);
    const a = await LineClient.connect(t, port);
    const b = await LineClient.connect(t, port);
    const first = await create(a, 8, 'report with spaces.bin');
    const second = await create(b, 8, 'report with spaces.bin');
    assert.notEqual(first.id, second.id);
    assert.deepEqual([first.have, second.have], ['have none', 'have none']);
    // begin still resumes (one of them): what a TFTCP client that lost its id relies on.
    assert.match((await begin(a, 8, undefined, 'report with spaces.bin')).id, new RegExp(`^(${first.id}|${second.id})$`));
    assert.deepEqual(await put(a, first.id, 0, Buffer.from('AAAA')), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(b, second.id, 0, Buffer.from('BBBB')), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(a, first.id, 4, Buffer.from('aaaa')), [Reply.OK, Reply.STORED]);
    assert.deepEqual(await put(b, second.id, 4, Buffer.from('bbbb')), [Reply.OK, Reply.STORED]);
    assert.equal(await status(b, second.id), 'have 0-8');
    assert.equal(await b.request(`commit ${second.id}`), Reply.END);
    assert.equal(await a.request(`commit ${first.id}`), 'File already exists: report with spaces.bin');
    assert.equal(await fs.readFile(path.join(dir, 'report with spaces.bin'), 'utf8'), 'BBBBbbbb');
  });

  it('answers a malformed argument with its own usage line', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('create x - a.bin'), 'Invalid size: send create <size> <sha256 in hex, or -> <name>');
    assert.equal(await client.request('create 5 -'), 'Invalid size: send create <size> <sha256 in hex, or -> <name>');
  });

  it('TftcpClient.create never returns the id of an upload begun before', async (t) => {
    const { port } = await startServer(t);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    t.after(() => client.destroy());
    const begun = await client.begin('same.bin', 10);
    await client.put(begun.id, 0, Buffer.from('12345'));
    const created = await client.create('same.bin', 10);
    assert.notEqual(created.id, begun.id);
    assert.deepEqual(created.have, []);
    assert.deepEqual(await client.status(begun.id), [[0, 5]]);
  });
});

describe('status <id> details of a committed upload', () => {
  it('answers have 0-<size> and committed <size> <name> to its owner; plain status still calls it unknown', async (t) => {
    const { port } = await startServer(t);
    const client = await LineClient.connect(t, port);
    const { id } = await create(client, 5, 'done now.txt');
    assert.deepEqual(await put(client, id, 0, Buffer.from('hello')), [Reply.OK, Reply.STORED]);
    assert.equal(await client.request(`commit ${id}`), Reply.END);
    assert.equal(await client.request(`status ${id} details`), Reply.OK);
    assert.deepEqual(await client.lines(2), ['have 0-5', 'committed 5 done now.txt']);
    // Byte for byte as before for clients that do not ask for details.
    assert.match(await client.request(`status ${id}`), /^Unknown upload: /);
    assert.match(await client.request(`commit ${id}`), /^Unknown upload: /);
    assert.equal(await client.request('show'), Reply.OK);
  });

  it('TftcpClient.details says committed, and an aborted upload stays unknown', async (t) => {
    const { port } = await startServer(t);
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    t.after(() => client.destroy());
    const done = await client.create('kept.bin', 3);
    await client.put(done.id, 0, Buffer.from('abc'));
    await client.commit(done.id);
    assert.deepEqual(await client.details(done.id), { id: done.id, have: [[0, 3]], size: 3, name: 'kept.bin', committed: true });
    const gone = await client.create('gone.bin', 3);
    await client.abort(gone.id);
    await assert.rejects(client.details(gone.id), /Unknown upload/);
  });

  it('forgets a commit after the partial TTL', async (t) => {
    const ttlMs = 200;
    const { port } = await startServer(t, { partialTtlMs: ttlMs });
    const client = await TftcpClient.connect({ host: '127.0.0.1', port });
    t.after(() => client.destroy());
    const { id } = await client.create('brief.bin', 1);
    await client.put(id, 0, Buffer.from('x'));
    await client.commit(id);
    assert.equal((await client.details(id)).committed, true);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const forgotten = await client.details(id).then(() => false, (error: Error) => /Unknown upload/.test(error.message));
      if (forgotten) break;
      assert.ok(Date.now() < deadline, 'the commit is still remembered 10 s after a 200 ms TTL');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});
