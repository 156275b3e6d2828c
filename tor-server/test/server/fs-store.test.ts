import assert from 'node:assert/strict';
import fsSync from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { describe, it, type TestContext } from 'node:test';
import { scratchDir } from 'test-support';
import { FsStore, TEMP_DIR_NAME } from '../../src/server/store/fs-store.js';
import { StoreError, toFileName, type FileName } from '../../src/server/store/store.js';

async function openStore(t: TestContext): Promise<{ store: FsStore; dir: string }> {
  const dir = await scratchDir(t);
  const store = await FsStore.open(dir);
  t.after(() => store.close());
  await store.clearAbandonedUploads();
  return { store, dir: store.root };
}

function fileName(name: string): FileName {
  const checked = toFileName(name);
  assert.equal(checked.problem, undefined);
  return checked.name!;
}

describe('FsStore', () => {
  it('a list filter sees names before any per-file stat: a search of 50 files stats only its match', async (t) => {
    const { store, dir } = await openStore(t);
    for (let i = 0; i < 50; i++) await writeFile(path.join(dir, `file-${i}.txt`), String(i));
    // The store imports lstatSync by name: the mock reaches it once the built-in's exports are synced.
    const lstat = t.mock.method(fsSync, 'lstatSync');
    syncBuiltinESMExports();
    t.after(() => syncBuiltinESMExports());
    const entries = await store.list({ filter: (name) => name === 'file-7.txt' });
    t.mock.restoreAll();
    assert.deepEqual(entries.map((entry) => entry.name), ['file-7.txt']);
    assert.equal(lstat.mock.callCount(), 1);
  });

  it('stat gives one row, or undefined for a missing name', async (t) => {
    const { store, dir } = await openStore(t);
    await writeFile(path.join(dir, 'a.txt'), 'abc');
    assert.equal((await store.stat(fileName('a.txt')))?.size, 3);
    assert.equal(await store.stat(fileName('b.txt')), undefined);
  });

  it('openRead streams a byte range, and close after read does not close the stream\'s handle', async (t) => {
    const { store, dir } = await openStore(t);
    await writeFile(path.join(dir, 'a.txt'), 'hello world');
    const file = await store.openRead(fileName('a.txt'));
    assert.ok(file);
    assert.equal(file.size, 11);
    const stream = file.read(6, 5);
    await file.close();
    assert.equal(await text(stream), 'world');
    assert.equal(await store.openRead(fileName('missing')), undefined);
  });

  it('an upload is invisible until committed, and a commit never overwrites', async (t) => {
    const { store, dir } = await openStore(t);
    const name = fileName('up.bin');
    await store.reserve(name);
    await assert.rejects(store.reserve(name), (error: StoreError) => error.kind === 'exists');
    const upload = await store.beginUpload(name);
    await upload.write(Buffer.from('new'));
    assert.equal(await upload.finish(), undefined);
    assert.deepEqual(await store.list(), []);
    await writeFile(path.join(dir, 'up.bin'), 'old');
    await assert.rejects(upload.commit(), (error: StoreError) => error instanceof StoreError && error.kind === 'exists');
    await upload.abort();
    store.release(name);
    assert.equal(await readFile(path.join(dir, 'up.bin'), 'utf8'), 'old');
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
  });

  it('an aborted upload leaves nothing behind; a committed one is listed', async (t) => {
    const { store, dir } = await openStore(t);
    const aborted = await store.beginUpload(fileName('gone.bin'));
    await aborted.write(Buffer.from('x'));
    await aborted.abort();
    const kept = await store.beginUpload(fileName('kept.bin'));
    await kept.write(Buffer.from('kept'));
    assert.equal(await kept.finish(), undefined);
    await kept.commit();
    assert.deepEqual((await store.list()).map((entry) => [entry.name, entry.size]), [['kept.bin', 4]]);
    assert.deepEqual(await readdir(path.join(dir, TEMP_DIR_NAME)), []);
  });

  it('checkSpace refuses more than the disk has free', async (t) => {
    const { store } = await openStore(t);
    await assert.rejects(store.checkSpace(Number.MAX_SAFE_INTEGER), (error: StoreError) => error.kind === 'no-space' && /bytes asked, \d+ available$/.test(error.message));
    await store.checkSpace(0);
  });
});
