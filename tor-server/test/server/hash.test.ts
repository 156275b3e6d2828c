import assert from 'node:assert/strict';
import { stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { HashAbandonedError, HashCache } from '../../src/server/hash/hash-cache.js';
import { FsStore } from '../../src/server/store/fs-store.js';
import { toFileName, type FileName } from '../../src/server/store/store.js';
import { eventually, scratchDir, sha256 } from 'test-support';
import { FOLDER_ONLY, LineClient, memoryLogger, patternBytes, placeFile, startServer } from '../helpers.js';

const SECONDS = 1_700_000_000;

/** Overwrites a file's bytes in place with others of the same length and puts its mtime back: its version stays the same. */
async function swapBytesKeepingVersion(file: string, bytes: Buffer): Promise<void> {
  const before = await stat(file);
  await writeFile(file, bytes, { flag: 'r+' });
  await utimes(file, before.atime, before.mtimeMs / 1000);
  const after = await stat(file);
  assert.deepEqual([after.ino, after.size, after.mtimeMs], [before.ino, before.size, before.mtimeMs], 'the version must not change');
}

function fileName(name: string): FileName {
  const checked = toFileName(name);
  if (checked.problem !== undefined) throw new Error(checked.problem);
  return checked.name;
}

describe('hash cache over TCP', () => {
  it('a second hash of an unchanged file does not read it again (the bytes were swapped under the same version)', { skip: FOLDER_ONLY }, async (t) => {
    const { logger, text } = memoryLogger();
    const { port, dir } = await startServer(t, { logger });
    const file = path.join(dir, 'data.bin');
    const original = patternBytes(256 * 1024, 1);
    await writeFile(file, original);
    await utimes(file, SECONDS, SECONDS);
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('hash data.bin'), await client.line()], ['ok', `sha256 ${sha256(original)}`]);
    await swapBytesKeepingVersion(file, patternBytes(original.length, 2));
    // Only a read of the file could see the new bytes: the answer is still the first digest.
    assert.deepEqual([await client.request('hash data.bin'), await client.line()], ['ok', `sha256 ${sha256(original)}`]);
    assert.match(text(), /hash .*name=data.bin .*source=computed/);
    assert.match(text(), /hash .*name=data.bin .*source=cached/);
  });

  it('a file changed on disk (new mtime) is hashed again', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir } = await startServer(t);
    const file = path.join(dir, 'data.bin');
    await writeFile(file, 'one');
    await utimes(file, SECONDS, SECONDS);
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('hash data.bin'), await client.line()], ['ok', `sha256 ${sha256(Buffer.from('one'))}`]);
    await writeFile(file, 'two');
    await utimes(file, SECONDS + 1, SECONDS + 1);
    assert.deepEqual([await client.request('hash data.bin'), await client.line()], ['ok', `sha256 ${sha256(Buffer.from('two'))}`]);
  });

  it('an upload fills the cache as its bytes pass: the first hash after it reads nothing', async (t) => {
    const { logger, text } = memoryLogger();
    const { port } = await startServer(t, { logger });
    const data = patternBytes(300 * 1024, 3);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('up.bin', data), ['ok', 'ok', 'end']);
    assert.deepEqual([await client.request('hash up.bin'), await client.line()], ['ok', `sha256 ${sha256(data)}`]);
    assert.match(text(), /hash .*name=up.bin .*source=cached/);
    assert.doesNotMatch(text(), /source=computed/);
  });

  it('the digest follows a rename', async (t) => {
    const { logger, text } = memoryLogger();
    const { port } = await startServer(t, { logger, openAccess: 'admin' });
    const data = patternBytes(1000, 5);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.bin', data), ['ok', 'ok', 'end']);
    assert.deepEqual([await client.request('rename a.bin\tb.bin'), await client.line()], ['ok', 'renamed']);
    assert.deepEqual([await client.request('hash b.bin'), await client.line()], ['ok', `sha256 ${sha256(data)}`]);
    assert.match(text(), /hash .*name=b.bin .*source=cached/);
  });

  it('a client that leaves mid-hash stops it; the server keeps serving and hashes afresh later', async (t) => {
    const { logger, text } = memoryLogger();
    const { port, server } = await startServer(t, { logger });
    const data = Buffer.alloc(96 * 1024 * 1024, 7);
    await placeFile(server, 'big.bin', data);
    const leaver = await LineClient.connect(t, port);
    assert.equal(await leaver.request('hash big.bin'), 'ok');
    leaver.destroy();
    await eventually(() => /disconnect/.test(text()), 'the server saw the client leave');
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('hash big.bin', 30_000), await client.line(30_000)], ['ok', `sha256 ${sha256(data)}`]);
  });
});

/** A real folder store holding one file, closed when the test ends. */
async function storeWith(t: TestContext, name: string, bytes: Buffer): Promise<FsStore> {
  const dir = await scratchDir(t);
  await writeFile(path.join(dir, name), bytes);
  const store = await FsStore.open(dir);
  t.after(() => store.close());
  return store;
}

describe('HashCache', () => {
  it('two hashes of the same uncached file at once share one read', async (t) => {
    const store = await storeWith(t, 'f.bin', patternBytes(2 * 1024 * 1024));
    const cache = new HashCache();
    const name = fileName('f.bin');
    const [a, b] = await Promise.all([
      store.openRead(name).then((file) => cache.digest(name, file!, new AbortController().signal)),
      store.openRead(name).then((file) => cache.digest(name, file!, new AbortController().signal)),
    ]);
    assert.equal(a.hex, sha256(patternBytes(2 * 1024 * 1024)));
    assert.equal(b.hex, a.hex);
    assert.deepEqual([a.source, b.source].sort(), ['computed', 'shared']);
  });

  it('stops reading when every waiter has left, keeps nothing, and a later request starts afresh', async (t) => {
    const store = await storeWith(t, 'f.bin', patternBytes(8 * 1024 * 1024));
    const cache = new HashCache();
    const name = fileName('f.bin');
    const leave = new AbortController();
    const file = (await store.openRead(name))!;
    const leaving = cache.digest(name, file, leave.signal);
    leave.abort();
    await assert.rejects(leaving, HashAbandonedError);
    assert.equal(cache.get(name, file.version), undefined);
    const again = await cache.digest(name, (await store.openRead(name))!, new AbortController().signal);
    assert.equal(again.source, 'computed');
    assert.equal(again.hex, sha256(patternBytes(8 * 1024 * 1024)));
  });

  it('a client joining a running hash while the only other one leaves still gets the digest', async (t) => {
    const bytes = patternBytes(8 * 1024 * 1024, 4);
    const store = await storeWith(t, 'f.bin', bytes);
    const cache = new HashCache();
    const name = fileName('f.bin');
    const leave = new AbortController();
    const leaving = cache.digest(name, (await store.openRead(name))!, leave.signal);
    const joining = cache.digest(name, (await store.openRead(name))!, new AbortController().signal);
    // The first client leaves in the very turn the second one joins.
    leave.abort();
    await assert.rejects(leaving, HashAbandonedError);
    const joined = await joining;
    assert.equal(joined.hex, sha256(bytes));
    assert.equal(joined.source, 'shared');
  });

  it('is bounded: past its capacity the least recently used digest is forgotten', () => {
    const cache = new HashCache(2);
    cache.put('a', 'v1', 'A');
    cache.put('b', 'v1', 'B');
    assert.equal(cache.get('a', 'v1'), 'A');
    cache.put('c', 'v1', 'C');
    assert.deepEqual([cache.get('a', 'v1'), cache.get('b', 'v1'), cache.get('c', 'v1')], ['A', undefined, 'C']);
    assert.equal(cache.get('a', 'v2'), undefined);
  });
});
