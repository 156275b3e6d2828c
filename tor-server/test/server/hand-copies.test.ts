import assert from 'node:assert/strict';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineClient, patternBytes, startServer } from '../helpers.js';
import { describeEvent, rawWatcher } from './watch-helpers.js';

/** A copy by hand in progress: this many writes, this far apart (longer together than the feed's quiet period). */
const WRITES = 20;
const WRITE_EVERY_MS = 100;
const CHUNK = 4096;

describe('a file copied in by hand', () => {
  it('growing for 2 s is announced once, with its final size, when it has settled', async (t) => {
    const { port, dir } = await startServer(t);
    const watcher = await rawWatcher(t, port);
    for (let i = 0; i < WRITES; i++) {
      await appendFile(path.join(dir, 'copy.bin'), patternBytes(CHUNK, i + 1));
      await sleep(WRITE_EVERY_MS);
    }
    assert.deepEqual((await watcher.events(1)).map(describeEvent), [`added copy.bin ${WRITES * CHUNK}`]);
    // Nothing else about copy.bin is on its way: the next event is the next change.
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('after.txt', Buffer.from('x')), ['ok', 'ok', 'end']);
    assert.deepEqual((await watcher.events(1)).map(describeEvent), ['added after.txt 1']);
  });
});
