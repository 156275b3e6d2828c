import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { eventually } from 'test-support';
import { Reply } from '../../src/protocol/constants.js';
import { LineClient, patternBytes } from '../helpers.js';
import { NO_ENGINE, startS3Server } from './s3-helpers.js';

// More downloads at once than the SDK's default pool (50 connections) holds.
const DOWNLOADS = 56;
// Large enough that a paused reader leaves the engine's GET waiting (socket buffers hold far less).
const FILE_BYTES = 32 * 1024 * 1024;
const REPLY_MS = 60_000;

describe('S3 store connections', { skip: NO_ENGINE }, () => {
  it('many slow downloads at once leave lookups and uploads answering', async (t) => {
    const { port } = await startS3Server(t, { maxClientsPerAddress: DOWNLOADS + 8 });
    const client = await LineClient.connect(t, port);
    assert.deepEqual(await client.upload('big.bin', patternBytes(FILE_BYTES, 11), REPLY_MS), [Reply.OK, Reply.OK, Reply.END]);

    // Readers that take the first bytes, then stop reading: each download holds its GET open.
    let started = 0;
    for (let i = 0; i < DOWNLOADS; i++) {
      const reader = net.connect(port, '127.0.0.1');
      t.after(() => reader.destroy());
      reader.once('data', () => {
        reader.pause();
        started++;
      });
      reader.write('download big.bin\n');
    }
    await eventually(async () => started === DOWNLOADS, 'every download under way', REPLY_MS);

    assert.deepEqual([await client.request('stat big.bin', REPLY_MS), await client.line(REPLY_MS)].map((line) => line.split('\t')[0]), [Reply.OK, 'big.bin']);
    assert.deepEqual(await client.upload('small.txt', Buffer.from('still answering'), REPLY_MS), [Reply.OK, Reply.OK, Reply.END]);
  });
});
