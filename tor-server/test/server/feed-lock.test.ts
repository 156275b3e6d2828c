import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { FileChange } from '../../src/protocol/changes.js';
import { ChangeFeed } from '../../src/server/changes/feed.js';
import { FsStore } from '../../src/server/store/fs-store.js';
import { toFileName, type FileName, type Store, type StoredEntry, type Upload } from '../../src/server/store/store.js';
import { scratchDir, within } from 'test-support';
import { memoryLogger } from '../helpers.js';
import { describeEvent } from './watch-helpers.js';

function fileName(name: string): FileName {
  const checked = toFileName(name);
  if (checked.problem !== undefined) throw new Error(checked.problem);
  return checked.name;
}

/** A gate a slow disk step waits at until the test opens it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** A real folder store and a feed over `store` (the store itself, or something in front of it). */
async function feedOver(t: TestContext, files: Record<string, string>, front: (store: FsStore) => Store = (store) => store) {
  const dir = await scratchDir(t);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  const store = await FsStore.open(dir);
  t.after(() => store.close());
  await store.clearAbandonedUploads();
  const feed = await ChangeFeed.start(front(store), memoryLogger().logger);
  t.after(() => feed.close());
  const changes: FileChange[] = [];
  feed.subscribe(undefined, (change) => changes.push(change));
  return { store, feed, changes };
}

/** An upload of `text` as up.bin, written and ready to commit: the real one, for a test to wrap a step of. */
async function writtenUpload(store: FsStore, text: string): Promise<{ name: FileName; real: Upload }> {
  const name = fileName('up.bin');
  await store.reserve(name);
  const real = await store.beginUpload(name);
  await real.write(Buffer.from(text));
  assert.equal(await real.finish(), undefined);
  return { name, real };
}

/** The store in front of `store`, whose listings (while `gated()`) are taken at once and handed over after `handOver()`. */
function slowListing(store: FsStore, gated: () => boolean, handOver: (entries: StoredEntry[]) => Promise<StoredEntry[]>): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'list' && gated()) return async () => handOver(await target.list());
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('the feed lock holds only the quick steps', () => {
  it("an upload's fsync does not hold up a delete or a rename", async (t) => {
    const { store, feed, changes } = await feedOver(t, { 'a.txt': 'A', 'b.txt': 'B' });
    const { name, real } = await writtenUpload(store, 'uploaded');
    // The real upload, with a sync that lasts until the test opens the gate (commit syncs when flush was not called).
    const slowSync = gate();
    let synced = false;
    const slow: Upload = {
      write: (chunk) => real.write(chunk),
      finish: () => real.finish(),
      flush: async () => {
        await slowSync.wait;
        synced = true;
        await real.flush();
      },
      commit: async () => {
        if (!synced) await slowSync.wait;
        return real.commit();
      },
      abort: () => real.abort(),
    };
    const committing = feed.commitUpload(slow);
    assert.equal(await within(feed.remove(fileName('a.txt')), 5000, 'a delete during the fsync'), true);
    assert.ok(await within(feed.rename(fileName('b.txt'), fileName('c.txt')), 5000, 'a rename during the fsync'));
    slowSync.open();
    assert.equal((await committing).name, 'up.bin');
    store.release(name);
    assert.deepEqual(changes.map(describeEvent), ['removed a.txt', 'renamed b.txt -> c.txt', 'added up.bin 8']);
  });

  it("a rescan's listing does not hold up a rename, and the rename is not seen twice", async (t) => {
    const slowList = gate();
    let gated = false;
    const { feed, changes } = await feedOver(t, { 'a.txt': 'A' }, (store) =>
      slowListing(
        store,
        () => gated,
        async (entries) => {
          await slowList.wait;
          return entries;
        },
      ),
    );
    gated = true;
    const rescanning = feed.rescan();
    assert.ok(await within(feed.rename(fileName('a.txt'), fileName('b.txt')), 5000, 'a rename during the listing'));
    slowList.open();
    await within(rescanning, 5000, 'the rescan');
    assert.deepEqual(changes.map(describeEvent), ['renamed a.txt -> b.txt']);
  });

  it('a change recorded while a listed rescan waits for the lock is looked at again, not taken from the listing', async (t) => {
    const listed = gate();
    const handOver = gate();
    let gated = false;
    const { store, feed, changes } = await feedOver(t, { 'a.txt': 'A' }, (store) =>
      slowListing(
        store,
        () => gated,
        async (entries) => {
          listed.open();
          await handOver.wait;
          return entries;
        },
      ),
    );
    // An upload whose commit holds the lock until the test lets it go.
    const { name, real } = await writtenUpload(store, 'uploaded');
    const inCommit = gate();
    const slowCommit = gate();
    const committing = feed.commitUpload({
      write: (chunk) => real.write(chunk),
      finish: () => real.finish(),
      flush: () => real.flush(),
      commit: async () => {
        inCommit.open();
        await slowCommit.wait;
        return real.commit();
      },
      abort: () => real.abort(),
    });
    await within(inCommit.wait, 5000, 'the commit to hold the lock');
    gated = true;
    const rescanning = feed.rescan();
    await within(listed.wait, 5000, 'the listing');
    // Queued behind the commit, and ahead of the rescan's comparison: it runs after the listing saw a.txt.
    const removing = feed.remove(fileName('a.txt'));
    handOver.open();
    slowCommit.open();
    assert.equal((await committing).name, 'up.bin');
    assert.equal(await removing, true);
    await within(rescanning, 5000, 'the rescan');
    store.release(name);
    assert.deepEqual(changes.map(describeEvent), ['added up.bin 8', 'removed a.txt']);
  });
});

describe('feed listeners', () => {
  it('a listener that throws neither keeps the change from the others nor fails the delete that made it', async (t) => {
    const { feed, changes } = await feedOver(t, { 'a.txt': 'A' });
    feed.subscribe(undefined, () => {
      throw new Error('a broken watcher');
    });
    const after: FileChange[] = [];
    feed.subscribe(undefined, (change) => after.push(change));
    assert.equal(await feed.remove(fileName('a.txt')), true);
    assert.deepEqual(changes.map(describeEvent), ['removed a.txt']);
    assert.deepEqual(after.map(describeEvent), ['removed a.txt']);
  });
});
