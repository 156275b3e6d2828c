import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { scratchDir, sha256, within, WAIT_MS } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes } from '../helpers.js';
import { begin, put, status } from '../server/resumable-helpers.js';
import { NO_ENGINE, getObject, metadataOf, startS3Server } from './s3-helpers.js';

describe('resumable uploads on the S3 store', { skip: NO_ENGINE }, () => {
  it('survive a restart with their stored ranges, then commit into the bucket with the announced sha256', async (t) => {
    const dir = await scratchDir(t, 'tor-s3-work-');
    const data = patternBytes(12 * 1024 * 1024 + 5, 9);
    const first = await startS3Server(t, { dir });
    const client = await LineClient.connect(t, first.port);
    const { id } = await begin(client, data.length, sha256(data), 'resumed.bin');
    assert.deepEqual(await put(client, id, 0, data.subarray(0, 7 * 1024 * 1024)), [Reply.OK, Reply.STORED]);
    client.destroy();
    await within(first.server.close(0), WAIT_MS, 'the first server to stop');

    const second = await startS3Server(t, { dir, bucket: first.bucket });
    const again = await LineClient.connect(t, second.port);
    assert.equal(await status(again, id), `have 0-${7 * 1024 * 1024}`);
    assert.deepEqual(await put(again, id, 7 * 1024 * 1024, data.subarray(7 * 1024 * 1024)), [Reply.OK, Reply.STORED]);
    assert.deepEqual([await again.request(`commit ${id}`, 60_000)], [Reply.END]);
    assert.equal(sha256((await getObject(first.bucket, 'resumed.bin'))!), sha256(data));
    assert.equal((await metadataOf(first.bucket, 'resumed.bin'))['tor-sha256'], sha256(data));
    assert.equal(await again.request('show'), Reply.OK);
    assert.deepEqual((await again.listing()).map((row) => row.split('\t').slice(0, 2).join('\t')), [`resumed.bin\t${data.length}`]);
  });

  it('a commit without an announced sha256 stores the one it computed, for a small file and a multipart one', async (t) => {
    const { port, bucket } = await startS3Server(t);
    const client = await LineClient.connect(t, port);
    for (const [name, data] of [
      ['small.bin', patternBytes(1000, 12)],
      ['large.bin', patternBytes(9 * 1024 * 1024 + 7, 13)],
    ] as const) {
      const { id } = await begin(client, data.length, undefined, name);
      assert.deepEqual(await put(client, id, 0, data), [Reply.OK, Reply.STORED]);
      assert.deepEqual([await client.request(`commit ${id}`, 60_000)], [Reply.END]);
      assert.equal((await metadataOf(bucket, name))['tor-sha256'], sha256(data), name);
    }
  });

  it('a begin larger than the local work folder can hold is accepted (only parts on their way up wait there), as a seed upload of that size is', async (t) => {
    const dir = await scratchDir(t, 'tor-s3-work-');
    const { bavail, bsize } = await statfs(dir);
    const size = bavail * bsize + 1024 ** 3;
    const { port } = await startS3Server(t, { dir, maxFileSize: size * 2 });
    const client = await LineClient.connect(t, port);
    assert.equal(await client.request(`begin ${size} - huge.bin`), Reply.OK);
    assert.match(await client.line(), /^upload [0-9a-f]{32}$/);
    assert.equal(await client.line(), 'have none');
    assert.equal(await client.request('upload huge.bin'), Reply.OK);
    assert.equal(await client.request(String(size)), Reply.OK);
  });

});
