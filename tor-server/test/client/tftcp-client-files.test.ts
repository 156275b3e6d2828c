import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { TftcpConnectionError, TftcpReplyError } from '../../src/client/errors.js';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import type { ChangeEvent } from '../../src/protocol/changes.js';
import { ErrorKind } from '../../src/protocol/constants.js';
import { eventually, scratchDir, sha256, within } from 'test-support';
import { patternBytes, placeFile, startServer, storedBytes } from '../helpers.js';

async function connect(t: TestContext, port: number): Promise<TftcpClient> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  t.after(() => client.destroy());
  return client;
}

/** Reads `count` events from a watch's iterator. */
async function take(iterator: AsyncIterator<ChangeEvent>, count: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  while (out.length < count) {
    const next = await within(iterator.next(), 5000, 'the next change');
    assert.ok(!next.done, 'the watch ended early');
    out.push(next.value);
  }
  return out;
}

describe('TftcpClient TFTCP/1.1 commands', () => {
  it('stat, hash, rename, delete and whoami', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    const data = patternBytes(5000, 3);
    await placeFile(server, 'a b.bin', data);
    const client = await connect(t, port);
    assert.equal(await client.whoami(), 'admin');
    assert.deepEqual({ ...(await client.stat('a b.bin')), modified: undefined }, { name: 'a b.bin', size: 5000, modified: undefined });
    assert.equal(await client.stat('missing'), undefined);
    assert.equal(await client.hash('a b.bin'), sha256(data));
    assert.equal(await client.hash('missing'), undefined);
    assert.equal(await client.rename('a b.bin', 'c.bin'), true);
    assert.equal(await client.rename('a b.bin', 'c.bin'), false);
    assert.deepEqual((await storedBytes(server, 'c.bin')), data);
    assert.equal(await client.delete('c.bin'), true);
    assert.equal(await client.delete('c.bin'), false);
    assert.deepEqual(await client.show(), []);
  });

  it('refusals throw TftcpReplyError with the right kind; the connection stays usable', async (t) => {
    const dir = await scratchDir(t);
    await writeFile(path.join(dir, 'a.txt'), 'A');
    await writeFile(path.join(dir, 'b.txt'), 'B');
    const write = await connect(t, (await startServer(t, { dir })).port);
    const denied = await write.delete('a.txt').catch((error: unknown) => error);
    assert.ok(denied instanceof TftcpReplyError);
    assert.equal(denied.kind, ErrorKind.PERMISSION_DENIED);
    assert.equal(denied.reply, 'Permission denied: delete needs admin access (this server gives write)');
    await assert.rejects(write.rename('a.txt', 'c.txt'), { kind: ErrorKind.PERMISSION_DENIED });
    assert.equal(await write.whoami(), 'write');
    await write.exit();
  });

  it('rename to a taken name throws File already exists; invalid names are refused before anything is sent', async (t) => {
    const { server, port } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'A');
    await placeFile(server, 'b.txt', 'B');
    const client = await connect(t, port);
    await assert.rejects(client.rename('a.txt', 'b.txt'), { kind: ErrorKind.FILE_EXISTS, reply: 'File already exists: b.txt' });
    await assert.rejects(client.rename('a.txt', 'x\ty'), { kind: ErrorKind.INVALID_NAME });
    await assert.rejects(client.delete('../a.txt'), { kind: ErrorKind.INVALID_NAME });
    await assert.rejects(client.stat('a\nshow'), { kind: ErrorKind.INVALID_NAME });
    assert.equal(await client.rename('a.txt', 'c.txt'), true);
  });
});

describe('TftcpClient.watch', () => {
  it('yields typed changes in order, exposes its start seq, and close() signs out', async (t) => {
    const { port } = await startServer(t, { openAccess: 'admin' });
    const watching = await connect(t, port);
    const watch = await watching.watch();
    const client = await connect(t, port);
    await client.upload('a.txt', 2, [Buffer.from('hi')]);
    await client.rename('a.txt', 'b.txt');
    await client.delete('b.txt');
    const iterator = watch[Symbol.asyncIterator]();
    const events = await take(iterator, 3);
    const added = events[0];
    assert.ok(added?.type === 'added');
    assert.deepEqual([added.seq, added.entry.name, added.entry.size], [watch.seq + 1, 'a.txt', 2]);
    assert.deepEqual(events.slice(1), [
      { type: 'renamed', seq: watch.seq + 2, from: 'a.txt', to: 'b.txt' },
      { type: 'removed', seq: watch.seq + 3, name: 'b.txt' },
    ]);
    assert.equal(watch.lastSeq, watch.seq + 3);
    await within(watch.close(), 5000, 'closing the watch');
    await within(watch.finished, 5000, 'the watch to finish');
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
    await eventually(() => watching.closed, 'the signed-out connection closed');
  });

  it('breaking out of for-await signs out; watch(since) resumes with what was missed; an old since yields resync', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    const first = await (await connect(t, port)).watch();
    await client.upload('one', 1, [Buffer.from('1')]);
    for await (const event of first) {
      assert.equal(event.type, 'added');
      break;
    }
    const since = first.lastSeq;
    await client.upload('two', 1, [Buffer.from('2')]);
    const resumed = await (await connect(t, port)).watch(since);
    const [missed] = await take(resumed[Symbol.asyncIterator](), 1);
    assert.ok(missed?.type === 'added');
    assert.deepEqual([missed.seq, missed.entry.name], [since + 1, 'two']);
    await resumed.close();
    const stale = await (await connect(t, port)).watch(1);
    assert.deepEqual(await take(stale[Symbol.asyncIterator](), 1), [{ type: 'resync', seq: stale.seq }]);
    await stale.close();
  });

  it('a watch whose server goes away rejects with TftcpConnectionError', async (t) => {
    const { port, server } = await startServer(t);
    const watch = await (await connect(t, port)).watch();
    const next = watch.next();
    await server.close(0);
    await assert.rejects(next, TftcpConnectionError);
  });
});
