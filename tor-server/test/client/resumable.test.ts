import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { eventually, sha256 } from 'test-support';
import { TftcpReplyError, TftcpSizeMismatchError } from '../../src/client/errors.js';
import { TftcpChecksumMismatchError, TftcpIncompleteUploadError } from '../../src/client/resumable.js';
import { TftcpClient } from '../../src/client/tftcp-client.js';
import { ErrorKind } from '../../src/protocol/constants.js';
import { patternBytes, startServer, storedBytes } from '../helpers.js';

async function connect(t: TestContext, port: number): Promise<TftcpClient> {
  const client = await TftcpClient.connect({ host: '127.0.0.1', port });
  t.after(() => client.destroy());
  return client;
}

describe('TftcpClient resumable uploads', () => {
  it('begin, put (buffer and stream), status, commit', async (t) => {
    const { port, server } = await startServer(t);
    const data = patternBytes(100_000, 4);
    const client = await connect(t, port);
    const { id, have } = await client.begin('c.bin', data.length, sha256(data));
    assert.deepEqual(have, []);
    await client.put(id, 60_000, data.subarray(60_000));
    await assert.rejects(client.commit(id), (error: unknown) => error instanceof TftcpIncompleteUploadError && error.reply === 'Incomplete upload: missing 0-60000' && error.missing[0]![1] === 60_000);
    await client.put(id, 0, { length: 60_000, data: Readable.from([data.subarray(0, 30_000), data.subarray(30_000, 60_000)]) });
    assert.deepEqual(await client.status(id), [[0, 100_000]]);
    // Begun again by a client that lost the id: the same upload.
    assert.deepEqual(await client.begin('c.bin', data.length, sha256(data)), { id, have: [[0, 100_000]] });
    await client.commit(id);
    assert.deepEqual((await storedBytes(server, 'c.bin')), data);
  });

  it('typed refusals: checksum mismatch, unknown id, abort', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    const { id } = await client.begin('m.bin', 3, sha256('xyz'));
    await client.put(id, 0, Buffer.from('abc'));
    await assert.rejects(client.commit(id), TftcpChecksumMismatchError);
    await assert.rejects(client.status(id), (error: unknown) => error instanceof TftcpReplyError && error.kind === ErrorKind.UNKNOWN_UPLOAD);
    const other = await client.begin('n.bin', 3);
    await client.abort(other.id);
    await assert.rejects(client.put(other.id, 0, Buffer.from('abc')), (error: unknown) => error instanceof TftcpReplyError && error.kind === ErrorKind.UNKNOWN_UPLOAD);
    await assert.rejects(client.status('not an id\nshow'), (error: unknown) => error instanceof TftcpReplyError && error.kind === ErrorKind.UNKNOWN_UPLOAD);
  });

  it('a stream shorter than announced cuts the connection; the server keeps what it wrote', async (t) => {
    const { port } = await startServer(t);
    const client = await connect(t, port);
    const { id } = await client.begin('s.bin', 10);
    await assert.rejects(client.put(id, 0, { length: 10, data: Readable.from([Buffer.from('abcd')]) }), TftcpSizeMismatchError);
    const again = await connect(t, port);
    await eventually(async () => JSON.stringify(await again.status(id)) === '[[0,4]]', 'the cut put recorded as 0-4');
  });
});
