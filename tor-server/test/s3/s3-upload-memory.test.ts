import assert from 'node:assert/strict';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { Reply } from '../../src/protocol/constants.js';
import { STREAMED_PART_BYTES } from '../../src/server/store/s3/s3-upload.js';
import { patternBytes } from '../helpers.js';
import { NO_ENGINE, engine, startS3Server } from './s3-helpers.js';

// Memory of a streamed seed upload. Its own file, so the
// process's peak RSS (VmHWM) is this upload's.

const MIB = 1024 * 1024;
// Three streamed parts: what the engine here can take and free again quickly.
const SIZE = 3 * STREAMED_PART_BYTES;
// What the larger upload may add to the peak RSS the first one left: less than one part.
const ALLOWED_GROWTH = STREAMED_PART_BYTES;

function statusKiB(field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(match![1]) * 1024;
}

describe('memory of a streamed seed upload', { skip: NO_ENGINE }, () => {
  it(`a ${SIZE / MIB} MiB upload through the S3 store keeps the RSS flat (no part held in memory)`, async (t) => {
    const { port, bucket } = await startS3Server(t);
    t.after(() => Promise.all(['warm.bin', 'flat.bin'].map((key) => engine!.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {}))));
    // A first upload of one part brings the heap to what any streamed upload uses (buffers, the
    // garbage the collector has not taken yet): the peak after it is the base. An upload three
    // times as large must not raise that peak by a part: memory does not grow with the file.
    assert.deepEqual(await uploadFrom(port, 'warm.bin', STREAMED_PART_BYTES), [Reply.OK, Reply.OK, Reply.END]);
    const before = statusKiB('VmHWM');
    assert.deepEqual(await uploadFrom(port, 'flat.bin', SIZE), [Reply.OK, Reply.OK, Reply.END]);
    const growth = statusKiB('VmHWM') - before;
    assert.ok(growth < ALLOWED_GROWTH, `peak RSS grew by ${(growth / MIB).toFixed(1)} MiB during a ${SIZE / MIB} MiB upload`);
    t.diagnostic(`peak RSS growth ${(growth / MIB).toFixed(1)} MiB`);
  });
});

/** Uploads `size` bytes as `name` over a raw socket, from one 1 MiB buffer written again and again with backpressure (the test holds no copy of the file); the three reply lines. */
async function uploadFrom(port: number, name: string, size: number): Promise<string[]> {
  const piece = patternBytes(MIB, 41);
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  const lines = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (answer.split('\n').length > n ? resolve() : setTimeout(check, 20));
      check();
    });
  socket.write(`upload ${name}\n`);
  await lines(1);
  socket.write(`${size}\n`);
  await lines(2);
  for (let sent = 0; sent < size; sent += MIB) {
    if (!socket.write(piece)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await lines(3);
  socket.destroy();
  return answer.split('\n').slice(0, 3);
}
