import assert from 'node:assert/strict';
import { mkdir, rename as fsRename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Reply } from '../../src/protocol/constants.js';
import { ChangeFeed } from '../../src/server/changes/feed.js';
import { WATCH_MAX_UNSENT_BYTES, eventLine, replayLines } from '../../src/server/commands/watch.js';
import { FsStore } from '../../src/server/store/fs-store.js';
import { WAIT_MS, eventually, scratchDir, within } from 'test-support';
import { FOLDER_ONLY, LineClient, memoryLogger, placeFile, startServer } from '../helpers.js';
import { describeEvent, rawWatcher } from './watch-helpers.js';

const WHEN = new Date('2026-01-02T03:04:05.678Z');

describe('watch', () => {
  it('starts with ok and watching <seq>, then streams every change made by clients, seqs rising by one', async (t) => {
    const { port } = await startServer(t, { openAccess: 'admin' });
    const watcher = await rawWatcher(t, port);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('abc')), ['ok', 'ok', 'end']);
    assert.deepEqual([await client.request('rename a.txt\tb c.txt'), await client.line()], ['ok', 'renamed']);
    assert.deepEqual([await client.request('delete b c.txt'), await client.line()], ['ok', 'deleted']);
    const [added, renamed, removed] = [await watcher.client.line(), await watcher.client.line(), await watcher.client.line()];
    const s = watcher.seq;
    assert.match(added, new RegExp(`^added ${s + 1}\ta\\.txt\t3\t\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$`));
    assert.equal(renamed, `renamed ${s + 2}\ta.txt\tb c.txt`);
    assert.equal(removed, `removed ${s + 3}\tb c.txt`);
  });

  it('refusals and failed commands make no events', async (t) => {
    const { port, server } = await startServer(t, { openAccess: 'admin' });
    await placeFile(server, 'a.txt', 'A');
    await placeFile(server, 'b.txt', 'B');
    // Known to the feed before anyone watches: their arrival is no event of this test.
    await server.feed.rescan();
    const watcher = await rawWatcher(t, port);
    const client = await LineClient.connect(t, port);
    assert.deepEqual([await client.request('rename a.txt\tb.txt'), await client.line()], ['ok', 'File already exists: b.txt']);
    assert.deepEqual([await client.request('delete nope.txt'), await client.line()], ['ok', 'Not found file']);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('x')), ['File already exists: a.txt']);
    // The next event is the next real change.
    assert.deepEqual([await client.request('delete a.txt'), await client.line()], ['ok', 'deleted']);
    assert.equal(await watcher.client.line(), `removed ${watcher.seq + 1}\ta.txt`);
  });

  it('exit ends the watch with exit and closes; any other line is answered as an unknown command between the events', async (t) => {
    const { port } = await startServer(t);
    const watcher = await rawWatcher(t, port);
    assert.equal(await watcher.client.request('show'), Reply.UNKNOWN);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('A')), ['ok', 'ok', 'end']);
    assert.match(await watcher.client.line(), /^added /);
    assert.equal(await watcher.client.request('exit'), Reply.EXIT);
    await watcher.client.closed();
  });

  it('watch <since> sends the changes missed after since, then live ones: nothing lost across a reconnect', async (t) => {
    const { port } = await startServer(t, { openAccess: 'admin' });
    const first = await rawWatcher(t, port);
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('A')), ['ok', 'ok', 'end']);
    const [seen] = await first.events(1);
    first.client.destroy();
    assert.deepEqual(await client.upload('b.txt', Buffer.from('BB')), ['ok', 'ok', 'end']);
    assert.deepEqual([await client.request('rename a.txt\tc.txt'), await client.line()], ['ok', 'renamed']);
    const again = await rawWatcher(t, port, seen!.seq);
    assert.equal(again.seq, seen!.seq + 2);
    assert.deepEqual((await again.events(2)).map((e) => [e.seq, describeEvent(e)]), [
      [seen!.seq + 1, 'added b.txt 2'],
      [seen!.seq + 2, 'renamed a.txt -> c.txt'],
    ]);
    assert.deepEqual([await client.request('delete b.txt'), await client.line()], ['ok', 'deleted']);
    assert.deepEqual((await again.events(1)).map((e) => [e.seq, describeEvent(e)]), [[seen!.seq + 3, 'removed b.txt']]);
    // Resuming at the newest seq replays nothing.
    const current = await rawWatcher(t, port, seen!.seq + 3);
    assert.equal(current.seq, seen!.seq + 3);
    assert.deepEqual([await client.request('delete c.txt'), await client.line()], ['ok', 'deleted']);
    assert.equal(await current.client.line(), `removed ${seen!.seq + 4}\tc.txt`);
  });

  it('a since from before this run, or from the future, gets resync after watching, then live changes', async (t) => {
    const { port } = await startServer(t);
    for (const since of ['0', '5', String(Number.MAX_SAFE_INTEGER)]) {
      const watcher = await LineClient.connect(t, port);
      assert.deepEqual([await watcher.request(`watch ${since}`), (await watcher.line()).split(' ')[0], await watcher.line()], ['ok', 'watching', 'resync'], since);
    }
  });

  it('a since from an earlier run of the server on the same folder gets resync, never a wrong replay', async (t) => {
    const dir = await scratchDir(t);
    const earlier = await startServer(t, { dir });
    const old = await rawWatcher(t, earlier.port);
    const client = await LineClient.connect(t, earlier.port);
    assert.deepEqual(await client.upload('a.txt', Buffer.from('A')), ['ok', 'ok', 'end']);
    const [last] = await old.events(1);
    await earlier.server.close(0);
    const later = await startServer(t, { dir });
    const watcher = await LineClient.connect(t, later.port);
    assert.equal(await watcher.request(`watch ${last!.seq}`), 'ok');
    const start = Number((await watcher.line()).split(' ')[1]);
    assert.ok(start > last!.seq, 'seqs of a later run start above the earlier run');
    assert.equal(await watcher.line(), 'resync');
  });

  it('sees operator changes on disk: files copied in, replaced, moved and removed by hand; hidden files make no event', { skip: FOLDER_ONLY }, async (t) => {
    const { port, dir, server } = await startServer(t);
    const watcher = await rawWatcher(t, port);
    await placeFile(server, '.hidden', 'secret');
    await mkdir(path.join(dir, 'a folder'));
    await placeFile(server, 'by hand.txt', 'hello');
    await utimes(path.join(dir, 'by hand.txt'), WHEN, WHEN);
    assert.deepEqual(await watcher.client.line(), `added ${watcher.seq + 1}\tby hand.txt\t5\t2026-01-02T03:04:05.678Z`);
    await placeFile(server, 'by hand.txt', 'hello world');
    await utimes(path.join(dir, 'by hand.txt'), WHEN, WHEN);
    assert.deepEqual(await watcher.client.line(), `added ${watcher.seq + 2}\tby hand.txt\t11\t2026-01-02T03:04:05.678Z`);
    await fsRename(path.join(dir, 'by hand.txt'), path.join(dir, 'moved.txt'));
    const moved = (await watcher.events(2)).map(describeEvent).sort();
    assert.deepEqual(moved, ['added moved.txt 11', 'removed by hand.txt']);
    await rm(path.join(dir, 'moved.txt'));
    assert.equal(await watcher.client.line(), `removed ${watcher.seq + 5}\tmoved.txt`);
  });

  it('a watcher that never reads is cut past the buffer limit; the server stays healthy', async (t) => {
    const { logger, text } = memoryLogger();
    const { port, server } = await startServer(t, { logger });
    const watcher = await rawWatcher(t, port);
    // Stop reading: every reply now piles up in the kernel's buffers, then in the server's.
    watcher.client.socket.pause();
    // Each junk line is answered with an unknown-command line on the watch: an unread watcher's output grows
    // by a little over 18 times what it sends, so this is bounded at far more than kernel buffers and the limit hold.
    const batch = 'x\n'.repeat(16 * 1024);
    const maxBatches = Math.ceil((64 * WATCH_MAX_UNSENT_BYTES) / (batch.length * 18));
    for (let i = 0; i < maxBatches && !watcher.client.socket.destroyed && !/watcher-cut/.test(text()); i++) {
      watcher.client.socket.write(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually(() => /watcher-cut/.test(text()), 'the server cut the watcher');
    await eventually(() => server.feed.listeners === 0, 'the cut watcher was unsubscribed');
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request('show'), 'ok');
    assert.deepEqual(await client.listing(), []);
  });

  it('watchers do not hold up a shutdown, and are not cut by the idle timeout', async (t) => {
    const { port, server } = await startServer(t, { idleTimeoutMs: 200 });
    const watcher = await rawWatcher(t, port);
    const idle = await LineClient.connect(t, port);
    assert.equal(await idle.request('show'), 'ok');
    await idle.listing();
    await idle.closed();
    assert.equal(watcher.client.ended, false);
    await within(server.close(60_000), WAIT_MS, 'a shutdown with a watcher connected');
    await watcher.client.closed();
  });
});

describe('event lines', () => {
  it('are formatted once per change, however many watchers send it', () => {
    const change = { type: 'removed' as const, seq: 5, name: 'a.txt' };
    assert.equal(eventLine(change), 'removed 5\ta.txt');
    // Changes are never modified; this one is, only to show the second call reuses the first line.
    change.name = 'b.txt';
    assert.equal(eventLine(change), 'removed 5\ta.txt');
    assert.equal(eventLine({ ...change }), 'removed 5\tb.txt');
  });
});

describe('replay to a resuming watcher', () => {
  it('sends the missed changes, or resync when they would fill half the unsent bound', () => {
    const removed = (seq: number, name: string) => ({ type: 'removed' as const, seq, name });
    assert.deepEqual(replayLines([removed(5, 'a'), removed(6, 'b')]), ['removed 5\ta', 'removed 6\tb']);
    assert.deepEqual(replayLines('resync'), ['resync']);
    assert.deepEqual(replayLines([removed(5, 'a'), removed(6, 'b')], 20), ['resync']);
    const long = Array.from({ length: 5000 }, (_, i) => removed(i, `${'x'.repeat(250)}${i}`));
    assert.deepEqual(replayLines(long), ['resync'], 'more than half of WATCH_MAX_UNSENT_BYTES');
    assert.ok(WATCH_MAX_UNSENT_BYTES / 2 < 5000 * 250);
  });
});

describe('ChangeFeed', () => {
  it('keeps a bounded ring: a since older than what it holds gets resync, a recent one the missed changes', async (t) => {
    const dir = await scratchDir(t);
    const store = await FsStore.open(dir);
    t.after(() => store.close());
    await store.clearAbandonedUploads();
    const feed = await ChangeFeed.start(store, memoryLogger().logger, { ringSize: 3 });
    t.after(() => feed.close());
    const start = feed.seq;
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      await writeFile(path.join(dir, `${name}.txt`), name);
      await feed.rescan();
    }
    assert.equal(feed.seq, start + 5);
    const old = feed.subscribe(start + 1, () => {});
    assert.equal(old.missed, 'resync');
    old.stop();
    const recent = feed.subscribe(start + 2, () => {});
    assert.deepEqual(recent.missed !== 'resync' && recent.missed.map(describeEvent), ['added c.txt 1', 'added d.txt 1', 'added e.txt 1']);
    recent.stop();
    const none = feed.subscribe(start + 5, () => {});
    assert.deepEqual(none.missed, []);
    none.stop();
  });
});
