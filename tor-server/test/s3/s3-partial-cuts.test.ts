import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { missingRanges, type ByteRange } from '../../src/protocol/ranges.js';
import { parseHaveLine } from '../../src/protocol/resumable.js';
import { LineClient, patternBytes, seededRandom } from '../helpers.js';
import { begin, pickMissing, put, status } from '../server/resumable-helpers.js';
import { NO_ENGINE, getObject, startS3Server } from './s3-helpers.js';

const MIB = 1024 * 1024;
// The S3 store's part size for files of the default largest size.
const PART = 8 * MIB;
// Commits hash and copy tens of MiB on a shared machine.
const COMMIT_MS = 60_000;

describe('resumable uploads on the S3 store cut inside and across parts', { skip: NO_ENGINE }, () => {
  it('have claims only what reached the disk, whatever the cut; the rest put again commits to the announced sha256', async (t) => {
    const { port, bucket } = await startS3Server(t);
    for (const seed of [1, 2]) {
      const next = seededRandom(seed);
      // Three parts, the last one short: cuts land inside parts, on their boundaries, and in batches still gathering.
      const data = patternBytes(3 * PART - 5 - seed, seed);
      const name = `cut-${seed}.bin`;
      let client = await LineClient.connect(t, port);
      const { id } = await begin(client, data.length, sha256(data), name);
      let have: ByteRange[] = [];
      for (let round = 0; round < 8; round++) {
        const picked = pickMissing(have, data.length, next);
        if (!picked) break;
        const [start, end] = picked;
        const cutAt = Math.floor(next() * (end - start));
        assert.equal(await client.request(`put ${id} ${start} ${end - start}`), Reply.OK);
        client.send(data.subarray(start, start + cutAt));
        client.destroy();
        client = await LineClient.connect(t, port);
        // `status details` waits for the cut put to end, so its ranges include what it kept.
        await eventually(async () => (await client.request(`status ${id} details`)) === Reply.OK, 'the cut put ended');
        const kept = parseHaveLine(await client.line())!;
        await client.line();
        const before = have.reduce((sum, [s, e]) => sum + e - s, 0);
        const after = kept.reduce((sum, [s, e]) => sum + e - s, 0);
        assert.ok(after >= before && after - before <= cutAt, `seed ${seed}: a put cut after ${cutAt} bytes kept ${after - before}`);
        have = kept;
      }
      for (const [s, e] of missingRanges(have, data.length)) assert.deepEqual(await put(client, id, s, data.subarray(s, e)), [Reply.OK, Reply.STORED], `seed ${seed}`);
      assert.equal(await status(client, id), `have 0-${data.length}`);
      // The commit checks the announced sha256 over every byte: a range recorded with bytes that never arrived fails it.
      assert.equal(await client.request(`commit ${id}`, COMMIT_MS), Reply.END, `seed ${seed}`);
      assert.equal(sha256((await getObject(bucket, name))!), sha256(data), `seed ${seed}`);
    }
  });
});
