import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { parseHaveLine } from '../../src/protocol/resumable.js';
import { missingRanges, type ByteRange } from '../../src/protocol/ranges.js';
import { LineClient, patternBytes, seededRandom, startServer } from '../helpers.js';
import { rawWatcher } from './watch-helpers.js';
import { begin, pickMissing, put, status } from './resumable-helpers.js';

describe('resumable uploads cut at random points', () => {
  it('whatever the cuts, have only ever claims bytes that match the file, and the upload completes identical', async (t) => {
    const { port, dir } = await startServer(t);
    for (const seed of [1, 2, 3]) {
      const next = seededRandom(seed);
      const data = patternBytes(512 * 1024 + seed, seed);
      const name = `cut-${seed}.bin`;
      let client = await LineClient.connect(t, port);
      const { id } = await begin(client, data.length, sha256(data), name);
      let have: ByteRange[] = [];
      for (let round = 0; round < 40; round++) {
        const picked = pickMissing(have, data.length, next);
        if (!picked) break;
        const [start, end] = picked;
        const length = end - start;
        const cutAt = Math.floor(next() * (length + 1));
        if (next() < 0.5 || cutAt === length) {
          // A whole put of the range.
          assert.deepEqual(await put(client, id, start, data.subarray(start, end)), [Reply.OK, Reply.STORED], `seed ${seed}`);
        } else {
          assert.equal(await client.request(`put ${id} ${start} ${length}`), Reply.OK);
          client.send(data.subarray(start, start + cutAt));
          client.destroy();
          client = await LineClient.connect(t, port);
          // Once the server has seen the cut and released the range, a put of its first byte is taken again.
          await eventually(async () => {
            const reply = await client.request(`put ${id} ${start} 1`);
            if (reply !== Reply.OK) return false;
            client.send(data.subarray(start, start + 1));
            assert.equal(await client.line(), Reply.STORED);
            return true;
          }, 'the cut put ended');
        }
        have = parseHaveLine(await status(client, id))!;
        const partialData = await readFile(path.join(dir, '.tor-partials', `${id}.data`));
        for (const [s, e] of have) assert.ok(partialData.subarray(s, e).equals(data.subarray(s, e)), `seed ${seed}: have ${s}-${e} holds other bytes`);
      }
      if (missingRanges(have, data.length).length > 0) for (const [s, e] of missingRanges(have, data.length)) await put(client, id, s, data.subarray(s, e));
      assert.equal(await client.request(`commit ${id}`), Reply.END, `seed ${seed}`);
      assert.deepEqual(await readFile(path.join(dir, name)), data, `seed ${seed}`);
    }
  });

  it('a commit is an added event for watchers', async (t) => {
    const { port } = await startServer(t);
    const watcher = await rawWatcher(t, port);
    const client = await LineClient.connect(t, port);
    const { id } = await begin(client, 3, undefined, 'w.txt');
    await put(client, id, 0, Buffer.from('abc'));
    assert.equal(await client.request(`commit ${id}`), Reply.END);
    assert.match(await watcher.client.line(), new RegExp(`^added ${watcher.seq + 1}\tw\\.txt\t3\t`));
  });
});
